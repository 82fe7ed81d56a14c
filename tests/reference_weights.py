"""The deterministic weight rule of ``tests/fixtures/models/README.md`` (splitmix64 fills), for parity tests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from seldkit.models.layers import sincos_position_table

MODELS = Path(__file__).resolve().parent / "fixtures" / "models"


def fill(index: int, shape: list[int], center: float, half_width: float) -> np.ndarray:
    n = int(np.prod(shape)) if shape else 1
    c = (np.uint64(index) << np.uint64(32)) + np.arange(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = c + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return (center + half_width * (2.0 * u - 1.0)).astype(np.float32).reshape(shape)


def reference_state_dict(name: str) -> dict[str, torch.Tensor]:
    """Every tensor of the published state_dict, by the rule, each checked against its recorded sha256."""
    manifest = json.loads((MODELS / f"{name}_manifest.json").read_text())
    state = {}
    for entry in manifest["entries"]:
        shape, key = entry["shape"], entry["key"]
        if entry["rule"] == "fill":
            spec = entry["fill"]
            if spec["class"] == "zero":
                value = np.zeros(shape, dtype=np.int64)
            else:
                value = fill(entry["index"], shape, spec["center"], spec["half_width"])
        elif entry["rule"] == "sincos":
            value = sincos_position_table(8, 64, 768)
        else:  # constructor tensors: AdaCos s and pi (the STFT / mel tensors are not kept by seldkit)
            value = _constructor_value(key, shape)
        if value is not None:
            assert hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest() == entry["sha256"], key
            state[key] = torch.from_numpy(np.ascontiguousarray(value))
        else:
            state[key] = torch.zeros(shape)  # dropped by the key mapping
    return state


def _constructor_value(key: str, shape: list[int]) -> np.ndarray | None:
    if key.endswith(".pi"):
        return np.array([np.pi], dtype=np.float32)
    if key.endswith(".s"):
        classes = {"distance_head.s": 21, "azimuth_head.s": 360, "elevation_head.s": 180}[key]
        return np.array([np.sqrt(2) * np.log(classes - 1)], dtype=np.float32)
    return None
