"""What differs between the challenge years: windows, angle measures, accumulation rules, configurations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from seldkit.metrics.dcase.scores import Average, ScoreKind

# segment: 1 s blocks of location-aware detection (2020-2023); frame: 100 ms frames (2024, 2025); sed-doa: the
# 2019 metric, detection in 1 s blocks and localisation per frame, on a 10 degree grid, scored separately.
Level = Literal["segment", "frame", "sed-doa"]
# spherical: law of cosines on azimuth/elevation; vector: angle between unit vectors made from azimuth/elevation;
# cartesian: reference unit vectors against predicted vectors as written (2020/2021 `use_polar_format=False`);
# folded-azimuth: the 2025 stereo azimuth difference.
AngleMeasure = Literal["spherical", "vector", "cartesian", "folded-azimuth"]


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
    frames_per_block: int = 10  # label frames in a 1 s block (50 at the 20 ms frames of 2019)

    def thresholds(self) -> dict[str, float]:
        """The threshold values the official accumulators record (their names differ by level)."""
        if self.level == "sed-doa":
            return {"block_size": float(self.frames_per_block)}
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
# 2019: references are event lists (read by seldkit.io.dcase.read_event_list), predictions one row per 20 ms frame.
EVENT_LIST = ("sound_event_recording", "start_time", "end_time", "ele", "azi", "dist")
_GRID_PREDICTION = ("frame", "class", "azimuth", "elevation")


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
    # The field counts the official loader reads; under --dcase-compat lines with any other count are dropped
    # silently, as it does (empty: every line is read).
    compat_loader_counts: frozenset[int] = frozenset()
    event_list_reference: bool = False  # 2019: header, then class name, onset (s), offset (s), ele, azi, dist
    integer_directions: bool = False  # 2019 predictions: azimuth and elevation are read with int()
    compat_extra_columns_ignored: bool = False  # 2019: the loader reads the first 4 fields of any longer line
    compat_negative_indices_wrap: bool = False  # 2019: NumPy negative indexing (frame -1 -> 2999, class -1 -> 10)
    # 2021 `polar`: a 5-column (polar) prediction row is converted as if Cartesian: x = azimuth, y = elevation,
    # z = track index.
    compat_polar_prediction_misread: bool = False


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
    n_classes: int = 13
    frames_per_second: int = 10
    # Frames scored per recording whatever the reference holds (2019-2021: 60 s); None: the window ends with the
    # reference's last event (2022-2025, see seldkit.metrics.dcase.evaluate.evaluation_limit).
    fixed_window: int | None = None
    # Per-group breakdown of the official script: (group name, character of the file name holding its digit).
    groups: tuple[tuple[str, int], ...] = ()
    naming_scheme: str = ""  # the dataset's file names, which the per-group breakdown reads
    scalar_counters: bool = False  # the official accumulators are pooled over classes (micro only)
    # The official script refuses to score when a reference has no prediction (2019); other years skip it.
    refuses_missing_predictions: bool = False
    class_names: tuple[str, ...] = ()  # reference class names in index order (2019 event lists)

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


def _fixed_window_segment(name: str, angle: AngleMeasure, kind: ScoreKind) -> MetricConfig:
    return MetricConfig(name, "micro", "segment", angle, kind)


_CLASSES_2019 = (
    "knock",
    "drawer",
    "clearthroat",
    "phone",
    "keysDrop",
    "speech",
    "keyboard",
    "pageturn",
    "cough",
    "doorslam",
    "laughter",
)

YEAR_RULES: dict[int, YearRules] = {
    2019: YearRules(
        2019,
        (MetricConfig("default", "micro", "sed-doa", "spherical", "sed-doa-2019", frames_per_block=50),),
        True,
        "sharathadavanne/seld-dcase2019",
        FileFormat(
            {6: EVENT_LIST},
            {4: _GRID_PREDICTION},
            event_list_reference=True,
            integer_directions=True,
            compat_extra_columns_ignored=True,
            compat_negative_indices_wrap=True,
        ),
        n_classes=11,
        frames_per_second=50,
        fixed_window=3000,
        groups=(("split", 5), ("ov", 13), ("ir", 9)),
        naming_scheme="splitS_irI_ovO_N.csv",
        scalar_counters=True,
        refuses_missing_predictions=True,
        class_names=_CLASSES_2019,
    ),
    2020: YearRules(
        2020,
        (
            _fixed_window_segment("polar", "spherical", "segment-2020"),
            _fixed_window_segment("cartesian", "cartesian", "segment-2020"),
        ),
        True,
        "sharathadavanne/seld-dcase2020",
        FileFormat({5: _POLAR}, {6: _CARTESIAN}, compat_loader_counts=frozenset({5, 6})),
        n_classes=14,
        fixed_window=600,
        # "ir" is what the official script calls it; in DCASE2020 names character 4 is the fold digit.
        groups=(("ov", 21), ("ir", 4)),
        naming_scheme="foldF_roomR_mixMMM_ovO.csv",
        scalar_counters=True,
    ),
    2021: YearRules(
        2021,
        (
            _fixed_window_segment("polar", "spherical", "segment-2021"),
            _fixed_window_segment("cartesian", "cartesian", "segment-2021"),
        ),
        True,
        "sharathadavanne/seld-dcase2021",
        FileFormat(
            {5: _POLAR},
            {6: _CARTESIAN},
            compat_loader_counts=frozenset({5, 6}),
            compat_polar_prediction_misread=True,
        ),
        n_classes=12,
        fixed_window=600,
        groups=(("room", 10),),
        naming_scheme="foldF_roomR_mixMMM.csv",
        scalar_counters=True,
    ),
    2022: YearRules(
        2022,
        (_segment("macro", "macro"), _segment("micro", "micro")),
        False,
        "sharathadavanne/seld-dcase2022",
        FileFormat(
            {5: _POLAR},
            {6: _CARTESIAN},
            ignored_columns=frozenset({"distance"}),
            compat_loader_counts=frozenset({5, 6}),
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
