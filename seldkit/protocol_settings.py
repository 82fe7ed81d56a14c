"""The settings of a protocol, one frozen dataclass per task, parsed and checked once when the protocol loads.

Code that scores, resamples or trains reads these typed fields, never the protocol's raw mapping; the parser in
:mod:`seldkit.protocols` is the one place that knows the YAML keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union

ClipMode = Literal["reference", "continuous"]


@dataclass(frozen=True)
class BootstrapSettings:
    """Percentile bootstrap intervals: their level and the seed of the resamples."""

    level: float = 0.95
    seed: int = 0


@dataclass(frozen=True)
class ClipSettings:
    """Clip-level encoder metrics (``metrics/clip.md``)."""

    mode: ClipMode
    error_threshold_deg: float
    distance_tolerance_m: float
    bootstrap: BootstrapSettings


@dataclass(frozen=True)
class DcaseSettings:
    """A DCASE Task 3 year's official metric: the year, one of its configurations, official-compatible reading."""

    year: int
    configuration: str
    compat: bool
    bootstrap: BootstrapSettings = BootstrapSettings()  # resamples of recordings in a paired comparison


@dataclass(frozen=True)
class QaSettings:
    """SpatialSoundQA scoring: the sentence embedder of detection answers and the bootstrap."""

    embedder: str
    bootstrap: BootstrapSettings


@dataclass(frozen=True)
class TrainSettings:
    """A training protocol: its data section and the recipe of each model it trains.

    The data section is checked and kept as written (the generator reads it); each recipe is a
    :class:`seldkit.train.config.TrainConfig`, the model size included.
    """

    generator: str
    data: Mapping[str, Any]
    assets: Mapping[str, str]
    recipes: Mapping[str, Any]  # model name -> TrainConfig

    def recipe(self, model: str, *, protocol_name: str, file: Any = None) -> Any:
        """The recipe (:class:`~seldkit.train.config.TrainConfig`) for ``model``; an error when there is none."""
        from seldkit.errors import InputError

        if model not in self.recipes:
            detail = (
                "no training: section" if not self.recipes else f"recipes for {', '.join(sorted(self.recipes))} only"
            )
            raise InputError(
                f"protocol {protocol_name!r} has no training recipe for {model} ({detail})",
                file=None if file is None else str(file),
            )
        return self.recipes[model]


TaskSettings = Union[ClipSettings, DcaseSettings, QaSettings, TrainSettings]
