"""Checkpoints: written atomically, read without unpickling.

A PyTorch checkpoint is a pickle, and a full unpickling runs whatever code a crafted pickle names. seldkit
reads every checkpoint with ``weights_only=True``, which builds only tensors and plain values (numbers,
strings, lists, dicts). seldkit's own checkpoints hold nothing else. Checkpoints saved by the
published code (AudioMAE pre-training, SpatialAST / DSpAST fine-tuning) also carry their training arguments as
an ``argparse.Namespace`` and NumPy scalars; :data:`PUBLISHED_GLOBALS` allows exactly those classes, by name,
for files given as published checkpoints (``train-reference --init``).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from seldkit.errors import InputError
from seldkit.io.atomic import atomic_output

if TYPE_CHECKING:
    from seldkit.io.sidecar import PredictionsSidecar


def _numpy_globals() -> list[Any]:
    multiarray = importlib.import_module("numpy._core.multiarray" if hasattr(np, "_core") else "numpy.core.multiarray")
    classes = [np.dtype, np.ndarray]
    classes += [
        type(np.dtype(code))
        for code in ("bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32", "float64")
    ]
    functions = [multiarray.scalar, multiarray._reconstruct]
    # Files pickled under NumPy 1 name these functions ``numpy.core.multiarray.*``, under NumPy 2
    # ``numpy._core.multiarray.*``: allow both spellings of the same two functions.
    spelled = [
        (function, f"numpy.{module}.multiarray.{function.__name__}")
        for function in functions
        for module in ("core", "_core")
    ]
    return [*classes, *spelled]


PUBLISHED_GLOBALS: list[Any] = [argparse.Namespace, *_numpy_globals()]
# The checkpoint entry that records the run's protocols and data (:class:`Provenance`); absent from older ones.
PROVENANCE_KEY = "provenance"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """``torch.save`` to a temporary beside ``path``, renamed over it: a crash never leaves a broken one."""
    with atomic_output(path) as temporary:
        torch.save(state, temporary)


def load_torch_file(path: Path, *, published: bool = False) -> Any:
    """The content of a checkpoint file, read with ``weights_only=True``.

    ``published``: also the classes of :data:`PUBLISHED_GLOBALS`. Anything unreadable or holding other objects is an
    :class:`InputError`.
    """
    if not path.is_file():
        raise InputError(
            "checkpoint not found" if not path.exists() else "a checkpoint is a file, not a folder", file=str(path)
        )
    try:
        if published:
            with torch.serialization.safe_globals(PUBLISHED_GLOBALS):
                return torch.load(path, map_location="cpu", weights_only=True)
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch.load raises many types for hostile bytes; each is bad input here
        text = str(error)
        # The weights-only unpickler names a refused class or function ("Unsupported global: GLOBAL os.system",
        # "...allowlisted via add_safe_globals"); other failures (bad opcodes, broken archives) are damage.
        if "global" in text.lower() or "allowlist" in text.lower():
            name = _named_global(text)
            raise InputError(
                f"refused: the checkpoint holds a Python object{f' ({name})' if name else ''} besides tensors and "
                "plain "
                "values; loading it could run code, so seldkit does not",
                file=str(path),
            ) from None
        first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
        raise InputError(
            f"not a readable PyTorch checkpoint (truncated, corrupt or another format): {first[:200]}", file=str(path)
        ) from None


def _named_global(message: str) -> str:
    for line in message.splitlines():
        if "GLOBAL" in line:
            words = line.split()
            position = words.index("GLOBAL") if "GLOBAL" in words else -1
            if 0 <= position < len(words) - 1:
                return words[position + 1]
    return ""


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A seldkit training checkpoint: a mapping with the model's weights and configuration."""
    state = load_torch_file(path)
    if (
        not isinstance(state, dict)
        or not isinstance(state.get("model"), Mapping)
        or not isinstance(state.get("model_config"), Mapping)
    ):
        raise InputError(
            "not a seldkit train-reference checkpoint (needs 'model' weights and 'model_config')", file=str(path)
        )
    return state


def load_weights(model: torch.nn.Module, weights: Mapping[str, Any], path: Path) -> None:
    """Load ``weights`` into ``model``; missing, extra or misshapen tensors are an :class:`InputError`."""
    if not all(isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in weights.items()):
        raise InputError("the checkpoint's weights are not a mapping of names to tensors", file=str(path))
    try:
        model.load_state_dict(weights)
    except RuntimeError as error:
        detail = " ".join(str(error).split())
        raise InputError(f"the checkpoint's weights do not fit its model: {detail[:300]}", file=str(path)) from None


def load_trained_model(path: Path) -> torch.nn.Module:
    """The model a ``train-reference`` checkpoint holds, rebuilt from its recorded configuration, in eval mode."""
    return trained_model(load_checkpoint(path), path)


def trained_model(state: Mapping[str, Any], path: Path) -> torch.nn.Module:
    """The model of the checkpoint ``state`` (read from ``path``), rebuilt from its configuration, in eval mode."""
    from seldkit.models import build
    from seldkit.models.config import model_config_from_mapping

    model = build(model_config_from_mapping(state["model_config"], file=path, where="model_config"))
    load_weights(model, state["model"], path)
    return model.eval()


@dataclass(frozen=True)
class Provenance:
    """What a checkpoint records about its run: the training protocol, recipe, evaluation protocol and data.

    ``training_protocol`` is the protocol's summary (:meth:`seldkit.protocols.Protocol.summary`);
    ``data_fingerprint`` that of the data set it trained on (None for a copy of the published data, which has none).
    """

    training_protocol: dict[str, str]
    recipe: str
    evaluation_protocol: str
    data_fingerprint: str | None

    def sidecar(self, split: str, folder: Path | None) -> PredictionsSidecar:
        """The sidecar of this run's predictions for ``split`` of the data set in ``folder`` (None: published data)."""
        from seldkit.io.sidecar import PredictionsSidecar

        where = None if folder is None else str(folder.absolute())
        return PredictionsSidecar(
            split, dict(self.training_protocol), self.evaluation_protocol, self.data_fingerprint, where
        )

    def as_state(self) -> dict[str, Any]:
        """The checkpoint entry (plain values only: checkpoints are read with ``weights_only``)."""
        return {
            "training_protocol": dict(self.training_protocol),
            "recipe": self.recipe,
            "evaluation_protocol": self.evaluation_protocol,
            "data_fingerprint": self.data_fingerprint,
        }


def checkpoint_provenance(state: Mapping[str, Any], path: Path) -> Provenance | None:
    """The checkpoint's :class:`Provenance`; None for checkpoints written before seldkit recorded it.

    A malformed entry is an :class:`InputError` naming the checkpoint and the field.
    """
    from seldkit.io.fields import Fields
    from seldkit.protocols import read_protocol_summary

    if state.get(PROVENANCE_KEY) is None:
        return None
    fields = Fields(state[PROVENANCE_KEY], file=path, where=PROVENANCE_KEY)
    summary = read_protocol_summary(fields.section("training_protocol"), task="train")
    recipe, evaluation = fields.string("recipe"), fields.string("evaluation_protocol")
    fingerprint = None if fields.raw("data_fingerprint", None) is None else fields.string("data_fingerprint")
    fields.finish()
    return Provenance(summary, recipe, evaluation, fingerprint)
