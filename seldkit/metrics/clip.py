r"""Clip-level spatial-encoder metrics: mAP, ER20°, MAE, DER (``metrics/clip.md``).

Two modes:

``reference``
    What the published SpatialAST / DSpAST evaluation computes. Directions become classes
    (:func:`~seldkit.metrics.spherical.reference_direction_classes`), the angle between classes uses the
    published law-of-cosines formula, distances become bins :math:`b = \operatorname{round}(2d)` (half to
    even) and a distance is wrong if :math:`|b_p - b_r| > 1`; mAP is the mean AP over *all* classes, a class
    without positives counting 0.
``continuous``
    The same metrics without classes: the exact great-circle angle, a distance is wrong if
    :math:`|d_p - d_r| > 0.5` m, and mAP over the classes with at least one positive.

In both modes :math:`\mathrm{ER20} = \frac1n \#\{\theta_i > 20°\}`, :math:`\mathrm{MAE} = \frac1n\sum_i\theta_i`
and :math:`\mathrm{DER} = \frac1n \#\{\text{distance wrong}\}`, over every clip, labelled or not.

Each metric is a pure function over arrays; :class:`ClipMetricAccumulator` collects chunks (batches, or the
shards of distributed workers) and gives exactly the one-shot result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from seldkit.metrics.ranking import RankedScores, mean_average_precision_of
from seldkit.metrics.spherical import great_circle_deg, reference_class_angle_deg, reference_direction_classes

ClipMode = Literal["reference", "continuous"]
CLIP_MODES: tuple[str, ...] = ("reference", "continuous")
ERROR_THRESHOLD_DEG = 20.0
DISTANCE_TOLERANCE_M = 0.5
DISTANCE_BIN_M = 0.5  # reference mode: the published models' distance classes


def angular_errors(
    predicted_azimuth: np.ndarray,
    predicted_elevation: np.ndarray,
    reference_azimuth: np.ndarray,
    reference_elevation: np.ndarray,
    *,
    mode: ClipMode,
) -> np.ndarray:
    """Per-clip angle in degrees between predicted and reference direction.

    >>> angular_errors(np.array([0.4]), np.array([0.0]), np.array([0.6]), np.array([0.0]), mode="reference")
    array([1.])
    >>> angular_errors(np.array([0.4]), np.array([0.0]), np.array([0.6]), np.array([0.0]), mode="continuous")
    array([0.2])
    """
    _check_mode(mode)
    if mode == "reference":
        predicted = reference_direction_classes(predicted_azimuth, predicted_elevation)
        reference = reference_direction_classes(reference_azimuth, reference_elevation)
        return reference_class_angle_deg(*predicted, *reference)
    return great_circle_deg(predicted_azimuth, predicted_elevation, reference_azimuth, reference_elevation)


def distance_wrong(
    predicted_distance: np.ndarray,
    reference_distance: np.ndarray,
    *,
    mode: ClipMode,
    tolerance_m: float = DISTANCE_TOLERANCE_M,
) -> np.ndarray:
    """Per-clip flag: is the predicted distance wrong (off by more than ``tolerance_m``)?

    In ``reference`` mode both distances are first binned like the published model outputs
    (bins of 0.5 m, ``round(2 d)`` half to even), so the default tolerance means "more than one bin apart".

    >>> distance_wrong(np.array([1.25, 1.3]), np.array([2.0, 2.0]), mode="reference")  # bins 2, 3 vs 4
    array([ True, False])
    >>> distance_wrong(np.array([1.5, 1.4]), np.array([2.0, 2.0]), mode="continuous")
    array([False,  True])
    """
    _check_mode(mode)
    predicted = np.asarray(predicted_distance, dtype=np.float64)
    reference = np.asarray(reference_distance, dtype=np.float64)
    if mode == "reference":
        # np.round rounds half to even, like Python's round() in the published label code.
        bins_apart = np.abs(np.round(predicted / DISTANCE_BIN_M) - np.round(reference / DISTANCE_BIN_M))
        return bins_apart * DISTANCE_BIN_M > tolerance_m
    return np.abs(predicted - reference) > tolerance_m


@dataclass(frozen=True)
class MeanAveragePrecision:
    """mAP with its per-class values (NaN = class not scored) and the number of classes it averages."""

    value: float
    per_class: np.ndarray
    n_classes_scored: int


def mean_average_precision(scores: np.ndarray, targets: np.ndarray, *, mode: ClipMode) -> MeanAveragePrecision:
    """MAP over classes; see the module docstring for how each mode treats classes without positives.

    >>> scores = np.array([[0.9, 0.2], [0.8, 0.4], [0.1, 0.4]])
    >>> targets = np.array([[1, 0], [0, 0], [1, 0]])
    >>> round(mean_average_precision(scores, targets, mode="reference").value, 12)  # (5/6 + 0) / 2
    0.416666666667
    >>> round(mean_average_precision(scores, targets, mode="continuous").value, 12)
    0.833333333333
    """
    _check_mode(mode)
    return _map_from_ap(RankedScores.from_scores(scores, targets).ap, mode)


def _map_from_ap(per_class: np.ndarray, mode: ClipMode) -> MeanAveragePrecision:
    if mode == "reference":
        value = mean_average_precision_of(per_class, classes="all")
        return MeanAveragePrecision(value, np.nan_to_num(per_class, nan=0.0), int(per_class.size))
    value = mean_average_precision_of(per_class, classes="present")
    return MeanAveragePrecision(value, per_class, int(np.count_nonzero(~np.isnan(per_class))))


@dataclass(frozen=True)
class ClipMetrics:
    """Results of one evaluation; a metric whose inputs were absent is None."""

    mode: str
    n_clips: int
    mAP: float | None = None
    per_class_AP: np.ndarray | None = None
    n_classes_scored: int | None = None
    ER20: float | None = None
    MAE: float | None = None
    DER: float | None = None

    def scalars(self) -> dict[str, float | int]:
        """The metrics present, as plain numbers (fractions in [0, 1], MAE in degrees)."""
        names = ("mAP", "ER20", "MAE", "DER", "n_classes_scored", "n_clips")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


@dataclass
class ClipMetricAccumulator:
    """Collects per-clip inputs chunk by chunk; :meth:`compute` equals the one-shot result exactly.

    Angular errors and distance flags are computed per chunk (they are per-clip quantities); scores and
    targets are kept because average precision needs the global ranking. ``merge`` joins the state of another
    accumulator (e.g. another process's shard) after this one's.

    >>> acc = ClipMetricAccumulator(mode="continuous")
    >>> acc.update(distance_pred=np.array([1.0]), distance_ref=np.array([2.0]))
    >>> acc.update(distance_pred=np.array([1.0]), distance_ref=np.array([1.2]))
    >>> acc.compute().DER
    0.5
    """

    mode: ClipMode
    error_threshold_deg: float = ERROR_THRESHOLD_DEG
    distance_tolerance_m: float = DISTANCE_TOLERANCE_M
    _n_clips: int = 0
    _scores: list[np.ndarray] = field(default_factory=list)
    _targets: list[np.ndarray] = field(default_factory=list)
    _angles: list[np.ndarray] = field(default_factory=list)
    _distance_wrong: list[np.ndarray] = field(default_factory=list)
    _parts: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        _check_mode(self.mode)

    def update(
        self,
        *,
        scores: np.ndarray | None = None,
        targets: np.ndarray | None = None,
        azimuth_pred: np.ndarray | None = None,
        elevation_pred: np.ndarray | None = None,
        azimuth_ref: np.ndarray | None = None,
        elevation_ref: np.ndarray | None = None,
        distance_pred: np.ndarray | None = None,
        distance_ref: np.ndarray | None = None,
    ) -> None:
        """Add a chunk of clips. Every chunk must provide the same kinds of inputs."""
        parts: set[str] = set()
        lengths: list[int] = []
        if scores is not None or targets is not None:
            if scores is None or targets is None:
                raise ValueError("scores and targets come together")
            scores = np.asarray(scores, dtype=np.float64)
            targets = np.asarray(targets, dtype=bool)
            if scores.shape != targets.shape or scores.ndim != 2:
                raise ValueError(f"scores {scores.shape} and targets {targets.shape} must be equal [n, C] shapes")
            self._scores.append(scores)
            self._targets.append(targets)
            parts.add("classes")
            lengths.append(len(scores))
        direction = (azimuth_pred, elevation_pred, azimuth_ref, elevation_ref)
        if any(value is not None for value in direction):
            if any(value is None for value in direction):
                raise ValueError("a direction needs azimuth and elevation of both prediction and reference")
            self._angles.append(angular_errors(*direction, mode=self.mode))  # type: ignore[arg-type]
            parts.add("direction")
            lengths.append(len(self._angles[-1]))
        if distance_pred is not None or distance_ref is not None:
            if distance_pred is None or distance_ref is None:
                raise ValueError("distance_pred and distance_ref come together")
            wrong = distance_wrong(distance_pred, distance_ref, mode=self.mode, tolerance_m=self.distance_tolerance_m)
            self._distance_wrong.append(wrong)
            parts.add("distance")
            lengths.append(len(self._distance_wrong[-1]))
        if not parts:
            raise ValueError("an update needs scores/targets, a direction or a distance")
        if len(set(lengths)) != 1:
            raise ValueError(f"inputs of one chunk differ in length: {lengths}")
        if self._n_clips and parts != self._parts:
            raise ValueError(f"this chunk has {sorted(parts)}, earlier chunks had {sorted(self._parts)}")
        self._parts = parts
        self._n_clips += lengths[0]

    def merge(self, other: ClipMetricAccumulator) -> ClipMetricAccumulator:
        """Append ``other``'s clips to this accumulator (in place) and return it."""
        settings = (self.mode, self.error_threshold_deg, self.distance_tolerance_m)
        other_settings = (other.mode, other.error_threshold_deg, other.distance_tolerance_m)
        if other_settings != settings:
            raise ValueError(f"cannot merge an accumulator with settings {other_settings} into {settings}")
        if self._n_clips and other._n_clips and other._parts != self._parts:
            raise ValueError(f"cannot merge {sorted(other._parts)} into {sorted(self._parts)}")
        self._scores += other._scores
        self._targets += other._targets
        self._angles += other._angles
        self._distance_wrong += other._distance_wrong
        self._parts = self._parts or other._parts
        self._n_clips += other._n_clips
        return self

    def per_clip(self) -> PerClipInputs:
        """The collected inputs, concatenated in arrival order."""
        return PerClipInputs(
            n_clips=self._n_clips,
            scores=_concatenate(self._scores),
            targets=_concatenate(self._targets),
            angles=_concatenate(self._angles),
            distance_wrong=_concatenate(self._distance_wrong),
        )

    def compute(self) -> ClipMetrics:
        """The metrics of all clips added; a ValueError when there are none."""
        if not self._n_clips:
            raise ValueError("no clips were added")
        return summarise(self.per_clip(), mode=self.mode, error_threshold_deg=self.error_threshold_deg)


@dataclass(frozen=True)
class PerClipInputs:
    """What the clip metrics reduce: scores/targets [n, C], angles [n] (degrees), distance flags [n]."""

    n_clips: int
    scores: np.ndarray | None
    targets: np.ndarray | None
    angles: np.ndarray | None
    distance_wrong: np.ndarray | None


def summarise(
    inputs: PerClipInputs,
    *,
    mode: ClipMode,
    error_threshold_deg: float = ERROR_THRESHOLD_DEG,
    ranked: RankedScores | None = None,
) -> ClipMetrics:
    """Reduce per-clip inputs to the metrics (``ranked``: a precomputed ranking of the same scores)."""
    values: dict[str, object] = {}
    if inputs.scores is not None and inputs.targets is not None and inputs.scores.shape[1] > 0:
        if ranked is None:
            ranked = RankedScores.from_scores(inputs.scores, inputs.targets)
        result = _map_from_ap(ranked.ap, mode)
        values.update(mAP=result.value, per_class_AP=result.per_class, n_classes_scored=result.n_classes_scored)
    if inputs.angles is not None:
        values.update(ER20=float(np.mean(inputs.angles > error_threshold_deg)), MAE=float(np.mean(inputs.angles)))
    if inputs.distance_wrong is not None:
        values.update(DER=float(np.mean(inputs.distance_wrong)))
    return ClipMetrics(mode=mode, n_clips=inputs.n_clips, **values)  # type: ignore[arg-type]


def clip_metrics(
    *,
    mode: ClipMode,
    error_threshold_deg: float = ERROR_THRESHOLD_DEG,
    distance_tolerance_m: float = DISTANCE_TOLERANCE_M,
    scores: np.ndarray | None = None,
    targets: np.ndarray | None = None,
    azimuth_pred: np.ndarray | None = None,
    elevation_pred: np.ndarray | None = None,
    azimuth_ref: np.ndarray | None = None,
    elevation_ref: np.ndarray | None = None,
    distance_pred: np.ndarray | None = None,
    distance_ref: np.ndarray | None = None,
) -> ClipMetrics:
    """All clip metrics the given inputs allow, in one call.

    >>> m = clip_metrics(mode="reference", azimuth_pred=np.array([0.0, 90.0]), elevation_pred=np.zeros(2),
    ...                  azimuth_ref=np.array([0.0, 0.0]), elevation_ref=np.zeros(2))
    >>> m.ER20, m.MAE
    (0.5, 45.0)
    """
    accumulator = ClipMetricAccumulator(
        mode=mode, error_threshold_deg=error_threshold_deg, distance_tolerance_m=distance_tolerance_m
    )
    accumulator.update(
        scores=scores,
        targets=targets,
        azimuth_pred=azimuth_pred,
        elevation_pred=elevation_pred,
        azimuth_ref=azimuth_ref,
        elevation_ref=elevation_ref,
        distance_pred=distance_pred,
        distance_ref=distance_ref,
    )
    return accumulator.compute()


def _concatenate(chunks: Iterable[np.ndarray]) -> np.ndarray | None:
    chunks = list(chunks)
    if not chunks:
        return None
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)


def _check_mode(mode: str) -> None:
    if mode not in CLIP_MODES:
        raise ValueError(f"unknown clip metric mode {mode!r}; expected one of {CLIP_MODES}")
