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


@dataclass(frozen=True)
class YearRules:
    year: int
    configs: tuple[MetricConfig, ...]  # the first is the challenge configuration
    empty_reference_ok: bool  # the official code evaluates zero frames instead of failing
    official_source: str
    distance_unit: str = "m"  # of DistE_CD: the unit the year's metric measures distances in

    @property
    def challenge_config(self) -> MetricConfig:
        return self.configs[0]

    def config(self, name: str) -> MetricConfig:
        for config in self.configs:
            if config.name == name:
                return config
        known = ", ".join(config.name for config in self.configs)
        raise KeyError(f"{self.year} has no configuration {name!r} (known: {known})")


def _segment(name: str, average: Average) -> MetricConfig:
    return MetricConfig(name, average, "segment", "spherical", "segment")


YEAR_RULES: dict[int, YearRules] = {
    2022: YearRules(
        2022, (_segment("macro", "macro"), _segment("micro", "micro")), False, "sharathadavanne/seld-dcase2022"
    ),
    2023: YearRules(
        2023, (_segment("macro", "macro"), _segment("micro", "micro")), False, "sharathadavanne/seld-dcase2023"
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
    ),
    2025: YearRules(
        2025,
        (
            MetricConfig("macro_audio", "macro", "frame", "folded-azimuth", "stereo", evaluate_distance=True),
            MetricConfig(
                "macro_av_onscreen", "macro", "frame", "folded-azimuth", "stereo", evaluate_distance=True,
                require_onscreen=True,
            ),
            MetricConfig("micro_audio", "micro", "frame", "folded-azimuth", "stereo", evaluate_distance=True),
        ),
        True,
        "partha2409/DCASE2025_seld_baseline",
        distance_unit="cm",
    ),
}
