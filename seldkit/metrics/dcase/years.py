"""What differs between the challenge years: windows, angle measures, accumulation rules, configurations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from seldkit.metrics.dcase.scores import Average, ScoreKind

Level = Literal["segment", "frame"]
AngleMeasure = Literal["spherical", "vector", "folded-azimuth"]


@dataclass(frozen=True)
class MetricConfig:
    """One metric configuration of a year's official scorer."""

    name: str
    average: Average
    level: Level
    angle: AngleMeasure
    kind: ScoreKind
    evaluate_distance: bool = False
    require_onscreen: bool = False
    doa_threshold: float = 20.0
    relative_distance_threshold: float = 1.0
    distance_threshold: float = float("inf")

    def thresholds(self) -> dict[str, float]:
        """The threshold values the official accumulators record (their names differ by level)."""
        if self.level == "segment":
            return {"spatial_T": self.doa_threshold}
        return {
            "ang_T": self.doa_threshold,
            "dist_T": self.distance_threshold,
            "reldist_T": self.relative_distance_threshold,
        }


_POLAR = ("frame", "class", "source", "azimuth", "elevation")
_CARTESIAN = ("frame", "class", "track", "x", "y", "z")
_STEREO = ("frame", "class", "source", "azimuth", "distance", "onscreen")


@dataclass(frozen=True)
class FileFormat:
    """A year's label and output files: the layouts (by column count) and how the official loader reads them."""

    reference_layouts: dict[int, tuple[str, ...]]
    prediction_layouts: dict[int, tuple[str, ...]]
    header: bool = False  # the files start with a header line (the official loader drops line 1 unread)
    has_distance: bool = False  # distances enter the metric
    stereo: bool = False  # azimuth only, with an onscreen flag
    # Divide a reference file's distance column by this to get the unit of the metric (cm -> m in 2024, as
    # the official loader does it: a division, which rounds differently from a multiplication by 0.01).
    reference_distance_divisor: float = 1.0
    ignored_columns: frozenset[str] = frozenset()  # read and validated, then dropped (the metric ignores them)
    degrees_by_constant: bool = False  # radians to degrees as x * (180 / pi); earlier loaders: (x * 180) / pi
    compat_skips_other_column_counts: bool = False  # the official loader silently drops such lines


@dataclass(frozen=True)
class YearRules:
    """What a year's official scorer does: its metric configurations, file format, and the rules that differ."""

    year: int
    configs: tuple[MetricConfig, ...]  # the first is the challenge configuration
    empty_reference_ok: bool  # the official code evaluates zero frames instead of failing
    official_source: str
    file_format: FileFormat
    distance_unit: str = "m"  # of DistE_CD: the unit the year's metric measures distances in
    counts_id_switches: bool = False  # the error rate counts track identity switches (2024)

    @property
    def challenge_config(self) -> MetricConfig:
        """The configuration the challenge ranks by (the first)."""
        return self.configs[0]

    def config(self, name: str) -> MetricConfig:
        """The configuration called ``name``; a KeyError naming the known ones otherwise."""
        for config in self.configs:
            if config.name == name:
                return config
        known = ", ".join(config.name for config in self.configs)
        raise KeyError(f"{self.year} has no configuration {name!r} (known: {known})")

    def with_average(self, name: str, average: Average) -> MetricConfig | None:
        """The configuration like ``name`` (same kind of score, same onscreen rule) with ``average``."""
        current = self.config(name)
        return next(
            (
                config
                for config in self.configs
                if config.average == average
                and config.kind == current.kind
                and config.require_onscreen == current.require_onscreen
            ),
            None,
        )


def _segment(name: str, average: Average) -> MetricConfig:
    return MetricConfig(name, average, "segment", "spherical", "segment")


YEAR_RULES: dict[int, YearRules] = {
    2022: YearRules(
        2022,
        (_segment("macro", "macro"), _segment("micro", "micro")),
        False,
        "sharathadavanne/seld-dcase2022",
        FileFormat(
            {5: _POLAR}, {6: _CARTESIAN}, ignored_columns=frozenset({"distance"}), compat_skips_other_column_counts=True
        ),
    ),
    2023: YearRules(
        2023,
        (_segment("macro", "macro"), _segment("micro", "micro")),
        False,
        "sharathadavanne/seld-dcase2023",
        FileFormat(
            {5: _POLAR, 6: (*_POLAR, "distance")},
            {7: (*_CARTESIAN, "distance")},
            ignored_columns=frozenset({"distance"}),
        ),
    ),
    2024: YearRules(
        2024,
        (
            MetricConfig("macro", "macro", "frame", "vector", "frame-distance", evaluate_distance=True),
            MetricConfig("micro", "micro", "frame", "vector", "frame-distance", evaluate_distance=True),
            MetricConfig("macro_nodist", "macro", "frame", "vector", "frame-nodist"),
            MetricConfig("macro_segment_nodist", "macro", "segment", "vector", "segment-nodist-2024"),
        ),
        False,
        "partha2409/DCASE2024_seld_baseline",
        FileFormat(
            {6: (*_POLAR, "distance"), 5: _POLAR},
            {
                7: (*_CARTESIAN, "distance"),
                6: ("frame", "class", "track", "azimuth", "elevation", "distance"),
                4: ("frame", "class", "azimuth", "elevation"),
            },
            has_distance=True,
            reference_distance_divisor=100.0,
            degrees_by_constant=True,
        ),
        counts_id_switches=True,
    ),
    2025: YearRules(
        2025,
        (
            MetricConfig("macro_audio", "macro", "frame", "folded-azimuth", "stereo", evaluate_distance=True),
            MetricConfig(
                "macro_av_onscreen",
                "macro",
                "frame",
                "folded-azimuth",
                "stereo",
                evaluate_distance=True,
                require_onscreen=True,
            ),
            MetricConfig("micro_audio", "micro", "frame", "folded-azimuth", "stereo", evaluate_distance=True),
        ),
        True,
        "partha2409/DCASE2025_seld_baseline",
        FileFormat({6: _STEREO}, {6: _STEREO}, header=True, has_distance=True, stereo=True),
        distance_unit="cm",
    ),
}
