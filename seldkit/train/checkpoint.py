"""Atomic checkpoints: written to a temporary file and renamed, so a crash never leaves a broken one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        torch.save(state, temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_checkpoint(path: Path) -> dict[str, Any]:
    return torch.load(path, map_location="cpu", weights_only=False)


def load_trained_model(path: Path) -> torch.nn.Module:
    """The model a ``train-reference`` checkpoint holds, rebuilt from its recorded configuration, in eval mode."""
    from seldkit.models import build
    from seldkit.models.config import ModelConfig

    state = load_checkpoint(path)
    model = build(ModelConfig(**state["model_config"]))
    model.load_state_dict(state["model"])
    return model.eval()
