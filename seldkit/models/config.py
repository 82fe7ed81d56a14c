"""Model sizes: configurations in ``reference_models/<model>-<size>.yaml`` (``base`` = the paper's)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any, get_type_hints

from seldkit.errors import InputError
from seldkit.resources import shipped_dir


@dataclass(frozen=True)
class ModelConfig:
    """A reference model's configuration: architecture, output sizes, front-end mode, masking and drop path."""

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
        """The patch grid of a feature map: (time patches, frequency patches)."""
        return self.frames // self.patch, self.mel_bins // self.patch


# Sizes of the output heads: fixed by the targets (the 355 AudioSet classes of the binaural evaluation, 0.5 m
# distance bins up to 10 m, one-degree azimuth and elevation classes), not by the model size.
FIXED_OUTPUTS = {"n_classes": 355, "n_distance": 21, "n_azimuth": 360, "n_elevation": 180}
MODELS = ("spatialast", "dspast")
FEATURE_MODES = ("reference", "clean", "scaled")
_FRACTIONS = {"drop_path", "patch_mask_time", "patch_mask_freq"}
_MAY_BE_ZERO = {"spec_time_mask", "spec_freq_mask"}


def config_of(model: Any) -> ModelConfig:
    """The :class:`ModelConfig` a reference model was built from."""
    config = getattr(model, "config", None)
    if not isinstance(config, ModelConfig):
        raise TypeError(f"{type(model).__name__} is not a seldkit reference model (no ModelConfig)")
    return config


def load_model_config(model: str, size: str = "base", **overrides: Any) -> ModelConfig:
    """The configuration ``reference_models/<model>-<size>.yaml`` with ``overrides`` applied; every value is checked.

    ``overrides`` come, for example, from a protocol's ``model:`` section.
    """
    from seldkit.io.yamlfile import read_yaml_file

    path = shipped_dir("reference_models") / f"{model}-{size}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in shipped_dir("reference_models").glob("*.yaml"))
        raise InputError(f"no model configuration {model}-{size} (known: {', '.join(known)})")
    values = read_yaml_file(path, what="model configuration") or {}
    if not isinstance(values, dict):
        raise InputError("a model configuration is a mapping", file=str(path))
    return model_config_from_mapping({**values, **overrides}, file=path)


def model_config_from_mapping(values: Any, *, file: str | Path | None, where: str = "") -> ModelConfig:
    """A :class:`ModelConfig` from a mapping read from a file, every key and value checked.

    The file is a configuration, a protocol or a checkpoint; a bad key or value is an :class:`InputError` naming the
    file and key.
    """
    from seldkit.io.fields import Fields

    fields = Fields(values, file=file, where=where)
    hints = get_type_hints(ModelConfig)
    settings: dict[str, Any] = {"model": fields.string("model", choices=MODELS), "size": fields.string("size")}
    for field in dataclass_fields(ModelConfig):
        name = field.name
        if name in settings or not fields.has(name):
            continue
        kind = hints[name]
        if kind is int:
            settings[name] = fields.integer(name, minimum=0 if name in _MAY_BE_ZERO else 1)
        elif kind is float:
            settings[name] = fields.number(
                name,
                minimum=0.0,
                maximum=1.0 if name in _FRACTIONS else None,
                exclusive_maximum=name in _FRACTIONS,
                exclusive_minimum=name not in _FRACTIONS,
            )
        else:
            settings[name] = fields.string(name, choices=FEATURE_MODES if name == "feature_mode" else None)
        if name in FIXED_OUTPUTS and settings[name] != FIXED_OUTPUTS[name]:
            raise fields.error(name, f"must be {FIXED_OUTPUTS[name]} (fixed by the targets), not {settings[name]}")
    fields.finish()
    config = ModelConfig(**settings)
    for multiple, of in (("dim", "heads"), ("frames", "patch"), ("mel_bins", "patch")):
        if getattr(config, multiple) % getattr(config, of):
            raise fields.error(
                multiple, f"({getattr(config, multiple)}) must be a multiple of {of} ({getattr(config, of)})"
            )
    return config
