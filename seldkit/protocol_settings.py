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
    recipes: Mapping[str, Any]  # recipe name -> TrainConfig

    def recipe(self, model: str, *, name: str | None = None, protocol_name: str, file: Any = None) -> Any:
        """The recipe (:class:`~seldkit.train.config.TrainConfig`) ``name`` for ``model``, or the model's default.

        The default is the recipe named after the model, else the first recipe of that model in the protocol. No
        such recipe, or one for another model, is an error.
        """
        from seldkit.errors import InputError

        where = None if file is None else str(file)
        available = ", ".join(f"{key} ({value.model})" for key, value in self.recipes.items()) or "no training: section"
        if name is not None:
            if name not in self.recipes:
                raise InputError(f"protocol {protocol_name!r} has no recipe {name!r} (it has: {available})", file=where)
            if self.recipes[name].model != model:
                raise InputError(
                    f"recipe {name!r} of protocol {protocol_name!r} trains {self.recipes[name].model}, not {model}",
                    file=where,
                )
            return self.recipes[name]
        if model in self.recipes:
            return self.recipes[model]
        for value in self.recipes.values():
            if value.model == model:
                return value
        raise InputError(f"protocol {protocol_name!r} has no training recipe for {model} ({available})", file=where)


TaskSettings = Union[ClipSettings, DcaseSettings, QaSettings, TrainSettings]
