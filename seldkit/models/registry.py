"""Models by name, sizes from ``reference_models/``, and loading of published checkpoints."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from seldkit.errors import InputError
from seldkit.models.config import ModelConfig, load_model_config

MODELS = ("spatialast", "dspast")
# Published tensors seldkit does not keep: the conv-DFT STFT and mel matrix (computed by the front-end),
# and AdaCos' constant pi.
_DROPPED_SUFFIXES = (".pi",)
_DROPPED_PREFIXES = ("spectrogram_extractor.", "logmel_extractor.")
_ENCODER_PREFIXES = ("pos_embed", "cls_tokens", "patch_embed.", "blocks.")


def create_model(name: str, size: str = "base", **overrides: Any) -> nn.Module:
    """A new reference model ``name`` of size ``size``, with ``overrides`` of its configuration."""
    config = load_model_config(name, size, **overrides)
    return build(config)


def build(config: ModelConfig) -> nn.Module:
    """A new reference model built from ``config``."""
    if config.model == "spatialast":
        from seldkit.models.spatial_ast import SpatialAST

        return SpatialAST(config)
    if config.model == "dspast":
        from seldkit.models.dspast import DSpAST

        return DSpAST(config)
    raise InputError(f"unknown model {config.model!r} (known: {', '.join(MODELS)})")


def count_trainable(model: nn.Module) -> int:
    """The number of trainable parameter values of ``model``."""
    return sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)


def seldkit_key(reference_key: str) -> str:
    """A published tensor name -> seldkit's (the encoder's shared parts live under ``encoder.``)."""
    return f"encoder.{reference_key}" if reference_key.startswith(_ENCODER_PREFIXES) else reference_key


def reference_key(name: str) -> str:
    """A seldkit parameter or buffer name -> the published model's name for it (the inverse of :func:`seldkit_key`).

    >>> reference_key("encoder.blocks.3.attn.qkv.weight"), reference_key("distance_head.W")
    ('blocks.3.attn.qkv.weight', 'distance_head.W')
    """
    inner = name.removeprefix("encoder.")
    return inner if inner != name and seldkit_key(inner) == name else name


def map_reference_keys(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Published key names -> seldkit's (see :func:`seldkit_key`); tensors seldkit does not keep are left out."""
    mapped = {}
    for key, value in state_dict.items():
        if key.startswith(_DROPPED_PREFIXES) or key.endswith(_DROPPED_SUFFIXES):
            continue
        mapped[seldkit_key(key)] = value
    return mapped


def from_reference_state_dict(name: str, state_dict: Mapping[str, torch.Tensor], size: str = "base") -> nn.Module:
    """A seldkit model holding the weights of a checkpoint saved by the published code, in eval mode."""
    model = create_model(name, size)
    model.load_state_dict(map_reference_keys(state_dict), strict=True)
    return model.eval()


def load_audiomae_encoder(model: nn.Module, state_dict: Any, *, file: str | Path | None = None) -> list[str]:
    """Initialise the shared encoder from an AudioMAE checkpoint as the published fine-tuning does.

    ``pos_embed``, ``patch_embed.proj.*`` and ``blocks.*`` are loaded (shapes must match); everything else
    (decoder, ``cls_token``, ``norm``, ``mask_token``) is ignored. Returns the keys loaded.

    A file without those tensors is an error, not a silent no-op: training would start from scratch while the
    user believes it starts from AudioMAE.
    """
    source = None if file is None else str(file)
    weights = state_dict.get("model", state_dict) if isinstance(state_dict, Mapping) else None
    if not isinstance(weights, Mapping):
        raise InputError(
            "not an AudioMAE checkpoint: expected a mapping of tensor names (or one under 'model')", file=source
        )
    wanted = {
        key: value
        for key, value in weights.items()
        if isinstance(key, str) and key.startswith(("pos_embed", "patch_embed.proj.", "blocks."))
    }
    if not wanted:
        raise InputError(
            "no AudioMAE encoder tensors in this checkpoint (pos_embed, patch_embed.proj.*, blocks.*): "
            "nothing to initialise from",
            file=source,
        )
    target = model.state_dict()
    missing = sorted(
        key[len("encoder.") :]
        for key in target
        if key.startswith(("encoder.pos_embed", "encoder.patch_embed.proj.", "encoder.blocks."))
        and key[len("encoder.") :] not in wanted
    )
    if missing:
        raise InputError(
            f"the AudioMAE checkpoint lacks encoder tensor {missing[0]} ({len(missing)} missing)", file=source
        )
    mapped = {f"encoder.{key}": value for key, value in wanted.items()}
    for key, value in mapped.items():
        if not isinstance(value, torch.Tensor):
            raise InputError(f"AudioMAE entry {key[len('encoder.') :]} is not a tensor", file=source)
        if key not in target or target[key].shape != value.shape:
            raise InputError(
                f"AudioMAE tensor {key[len('encoder.') :]} does not fit this model ({tuple(value.shape)})", file=source
            )
    model.load_state_dict(mapped, strict=False)
    return sorted(wanted)
