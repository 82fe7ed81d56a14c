"""A tiny training protocol (the mini generator on a few clips, a one-block model) for trainer tests."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from seldkit.protocols import load_protocol
from seldkit.resources import shipped_dir


def tiny_training_protocol(folder: Path, *, epochs: tuple[int, int] = (1, 2), clips: int = 16) -> Path:
    raw = load_protocol("synth-binaural-mini").raw
    data = json.loads(json.dumps(raw["data"]))
    assets = shipped_dir("protocols")
    data["sounds"] = str(assets / "assets" / "sounds")
    data["clip_seconds"], data["rir_seconds"] = 0.5, 0.1
    for split in data["splits"].values():
        split["hrtf"] = str(assets / split["hrtf"])
        split.update(rooms=1, positions_per_room=6, clips=clips)
    stages = [
        {
            "name": "first",
            "epochs": epochs[0],
            "warmup_epochs": 1,
            "lr": 1e-3,
            "loss_weights": [1, 0, 0],
            "weighted_sampling": True,
            "mixup": 0.5,
        },
        {
            "name": "second",
            "epochs": epochs[1],
            "warmup_epochs": 0,
            "lr": 5e-4,
            "loss_weights": [100, 2, 1],
            "mixup": 0.5,
        },
    ]
    protocol = {
        "name": "tiny-training",
        "task": "train",
        "data": data,
        "model": {
            "size": "mini",
            "dim": 32,
            "depth": 1,
            "heads": 2,
            "frames": 64,
            "branch_dim": 16,
            "spec_time_mask": 8,
            "spec_freq_mask": 8,
        },
        "training": {
            "batch_size": 4,
            "seed": 3,
            "label_mode": "clean",
            "evaluation_protocol": "bat-encoder-continuous",
            "dspast": {"stages": stages},
            "spatialast": {"stages": json.loads(json.dumps(stages))},
        },
    }
    path = folder / "tiny-training.yaml"
    path.write_text(yaml.safe_dump(protocol))
    return path
