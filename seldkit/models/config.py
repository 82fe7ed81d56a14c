"""Model sizes: configurations in ``reference_models/<model>-<size>.yaml`` (``base`` = the paper's)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from seldkit.errors import InputError
from seldkit.resources import shipped_dir


@dataclass(frozen=True)
class ModelConfig:
    model: str  # "spatialast" | "dspast"
    size: str
    dim: int = 768
    depth: int = 12
    heads: int = 12
    mlp_ratio: float = 4.0
    patch: int = 16
    frames: int = 1024  # feature maps resized to this many frames (the published front-end's 1024)
    mel_bins: int = 128
    n_classes: int = 355
    n_distance: int = 21
    n_azimuth: int = 360
    n_elevation: int = 180
    branch_dim: int = 256  # DSpAST: per-task projection
    feature_mode: str = "reference"
    drop_path: float = 0.1
    spec_time_mask: int = 192
    spec_freq_mask: int = 48
    patch_mask_time: float = 0.25
    patch_mask_freq: float = 0.25

    @property
    def grid(self) -> tuple[int, int]:
        return self.frames // self.patch, self.mel_bins // self.patch


def load_model_config(model: str, size: str = "base", **overrides: Any) -> ModelConfig:
    path = shipped_dir("reference_models") / f"{model}-{size}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in shipped_dir("reference_models").glob("*.yaml"))
        raise InputError(f"no model configuration {model}-{size} (known: {', '.join(known)})")
    import yaml

    values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    values.update(overrides)
    names = {field.name for field in fields(ModelConfig)}
    unknown = set(values) - names
    if unknown:
        raise InputError(f"unknown model settings {sorted(unknown)}", file=str(path))
    return ModelConfig(**values)
