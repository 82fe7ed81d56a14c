"""Scoring a set of recordings under one year's metric configuration, with optional jackknife intervals."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seldkit.errors import InputError
from seldkit.metrics.dcase.counters import (
    EPS,
    PairErrors,
    SeldCounters,
    TotalCounters,
    fold_spatial_false_positives,
    frame_level_counters,
    frame_sum_segment_counters,
    segment_level_counters,
)
from seldkit.metrics.dcase.events import DcaseEvents
from seldkit.metrics.dcase.geometry import (
    SphericalTerms,
    folded_azimuth_error_deg,
    polar_to_vector,
    vector_error_deg,
)
from seldkit.metrics.dcase.matching import EventSet, match_frames
from seldkit.metrics.dcase.scores import compute_scores
from seldkit.metrics.dcase.sed_doa import sed_doa_counters
from seldkit.metrics.dcase.years import YEAR_RULES, MetricConfig
from seldkit.metrics.intervals import Intervals

FRAMES_PER_BLOCK = 10  # 1 s of 100 ms label frames
JACKKNIFE_METHOD = "jackknife over recordings (leave one out), as the official code"


@dataclass(frozen=True)
class DcaseScore:
    """Metrics of one configuration over a set of recordings."""

    year: int
    config: MetricConfig
    metrics: dict[str, float]
    classwise: dict[str, np.ndarray] | None
    counters: SeldCounters  # per file, for jackknife and inspection
    n_files: int

    @property
    def totals(self) -> TotalCounters:
        """The counters summed over all recordings."""
        return self.counters.total()


def evaluation_limit(reference: DcaseEvents, config: MetricConfig, *, fixed_window: int | None = None) -> int:
    """First frame past the official evaluation window of a recording.

    2019-2021 (``fixed_window``) score a fixed 60 s whatever the reference holds. Later years: with F the largest
    reference frame index, frame level scores frames [0, F) — the last annotated frame is never scored —, segment
    level scores the 1 s blocks [0, ceil(F / 10)); a reference without events has an empty window.
    """
    if fixed_window is not None:
        return fixed_window
    if reference.n_events == 0:
        return 0
    last = int(reference.frame.max())
    if config.level == "segment":
        return FRAMES_PER_BLOCK * math.ceil(last / FRAMES_PER_BLOCK)
    return last


def score_recordings(
    references: Sequence[DcaseEvents],
    predictions: Sequence[DcaseEvents],
    *,
    year: int,
    config: MetricConfig | str | None = None,
    n_classes: int | None = None,
) -> DcaseScore:
    """Score recordings (reference i paired with prediction i) under ``config`` of ``year``.

    ``config`` defaults to the challenge configuration, ``n_classes`` to the year's. Counts are pooled over
    recordings before averaging, as the official code does. The same steps as :class:`DcaseAccumulator` given all
    recordings in one update.
    """
    resolved = _config(year, config)
    classes = YEAR_RULES[year].n_classes if n_classes is None else n_classes
    return _score(_counters(references, predictions, year, resolved, classes), year, resolved)


@dataclass
class DcaseAccumulator:
    """Recordings scored in batches (streaming, or one batch per process) and pooled.

    :meth:`update` counts a batch, :meth:`merge` joins another accumulator's files, :meth:`compute` gives the
    :class:`DcaseScore` that :func:`score_recordings` gives for all the recordings at once.

    >>> from seldkit.metrics.dcase.events import DcaseEvents
    >>> def events(frames, azimuths):
    ...     n = len(frames)
    ...     return DcaseEvents("f", np.array(frames), np.zeros(n, int), np.zeros(n, int), np.array(azimuths, float),
    ...                        np.zeros(n), None, None, None)
    >>> accumulator = DcaseAccumulator(year=2022)
    >>> accumulator.update([events([0, 5, 12], [10, 10, 10])], [events([0, 5], [12, 50])])
    >>> accumulator.update([events([3, 9], [-20, -20])], [events([3], [-20])])
    >>> whole = score_recordings([events([0, 5, 12], [10, 10, 10]), events([3, 9], [-20, -20])],
    ...                          [events([0, 5], [12, 50]), events([3], [-20])], year=2022)
    >>> accumulator.compute().metrics == whole.metrics
    True
    """

    year: int
    config: MetricConfig | str | None = None
    n_classes: int | None = None  # the year's by default
    counters: SeldCounters | None = None

    def update(self, references: Sequence[DcaseEvents], predictions: Sequence[DcaseEvents]) -> None:
        """Count a batch of recordings (reference i paired with prediction i)."""
        if not references and not predictions:
            return
        classes = YEAR_RULES[self.year].n_classes if self.n_classes is None else self.n_classes
        counted = _counters(references, predictions, self.year, _config(self.year, self.config), classes)
        self.counters = counted if self.counters is None else self.counters.merge(counted)

    def merge(self, other: DcaseAccumulator) -> DcaseAccumulator:
        """This accumulator's recordings followed by ``other``'s."""
        if (self.year, _config(self.year, self.config)) != (other.year, _config(other.year, other.config)):
            raise ValueError("accumulators of different years or configurations cannot be merged")
        if other.counters is None:
            return DcaseAccumulator(self.year, self.config, self.n_classes, self.counters)
        merged = other.counters if self.counters is None else self.counters.merge(other.counters)
        return DcaseAccumulator(self.year, self.config, self.n_classes, merged)

    def compute(self) -> DcaseScore:
        """The metrics of every recording counted so far."""
        if self.counters is None:
            raise ValueError("no recordings counted yet")
        return _score(self.counters, self.year, _config(self.year, self.config))


def _config(year: int, config: MetricConfig | str | None) -> MetricConfig:
    rules = YEAR_RULES[year]
    if config is None:
        return rules.challenge_config
    return rules.config(config) if isinstance(config, str) else config


def _counters(
    references: Sequence[DcaseEvents],
    predictions: Sequence[DcaseEvents],
    year: int,
    config: MetricConfig,
    n_classes: int,
) -> SeldCounters:
    """The update step: per-file counters of the recordings, under ``config`` of ``year``."""
    if len(references) != len(predictions):
        raise ValueError("references and predictions must pair up")
    window = YEAR_RULES[year].fixed_window
    limits = [evaluation_limit(reference, config, fixed_window=window) for reference in references]
    reference_set = EventSet.from_files(references, limits, n_classes=n_classes)
    prediction_set = EventSet.from_files(predictions, limits, n_classes=n_classes)
    if config.evaluate_distance:
        _require_distances(references, predictions, config, year)
    n_files = len(references)
    if config.level == "sed-doa":
        assert window is not None  # the 2019 metric is defined on its fixed window
        counters = sed_doa_counters(
            reference_set,
            prediction_set,
            n_files=n_files,
            n_classes=n_classes,
            n_frames=window,
            frames_per_block=config.frames_per_block,
        )
        counters.thresholds = config.thresholds()
        return counters

    cost = _cost_function(config, reference_set, prediction_set)
    matching = match_frames(
        reference_set, prediction_set, cost, n_classes=n_classes, track_ids=YEAR_RULES[year].counts_id_switches
    )
    if config.kind == "segment-2020":
        assert window is not None
        counters = frame_sum_segment_counters(
            matching,
            n_files=n_files,
            n_classes=n_classes,
            n_blocks=-(-window // config.frames_per_block),
            doa_threshold=config.doa_threshold,
            frames_per_block=config.frames_per_block,
        )
    elif config.level == "segment":
        counters = segment_level_counters(
            matching, n_files=n_files, n_classes=n_classes, doa_threshold=config.doa_threshold
        )
        if config.kind == "segment-2021":
            counters = fold_spatial_false_positives(counters)
    else:
        errors = _pair_errors(
            config, reference_set, prediction_set, matching.pair_ref, matching.pair_pred, matching.pair_cost
        )
        counters = frame_level_counters(
            matching,
            errors,
            n_files=n_files,
            n_classes=n_classes,
            doa_threshold=config.doa_threshold,
            relative_distance_threshold=config.relative_distance_threshold if config.evaluate_distance else None,
            distance_threshold=config.distance_threshold if config.evaluate_distance else None,
            require_onscreen=config.require_onscreen,
            count_id_switches=YEAR_RULES[year].counts_id_switches,
            count_error_rate=config.kind != "stereo",
        )
    counters.thresholds = config.thresholds()
    return counters


def _score(counters: SeldCounters, year: int, config: MetricConfig) -> DcaseScore:
    """The compute step: metrics of the pooled counters."""
    metrics, classwise = compute_scores(counters.total(), kind=config.kind, average=config.average)
    return DcaseScore(year, config, metrics, classwise, counters, counters.n_files)


def jackknife(score: DcaseScore, *, level: float = 0.95) -> Intervals:
    r"""Leave-one-recording-out jackknife intervals, computed as the official code does.

    With :math:`\theta` the full-set value and :math:`\theta_{(i)}` the value without recording i (n of them):
    bias :math:`b = (n-1)(\bar\theta_{(\cdot)} - \theta)`, standard error
    :math:`s = \sqrt{(n-1)\,\overline{(\theta_{(i)} - \bar\theta_{(\cdot)})^2}}`, and the interval
    :math:`\theta - b \pm t_{1-\alpha/2,\,n-1}\, s`. The point value seldkit reports stays :math:`\theta` (the
    official 2022-2024 code returns the last leave-one-out value instead).
    """
    from scipy import stats

    n = score.n_files
    if n < 2:
        raise InputError("jackknife intervals need at least two recordings")
    names = list(score.metrics)
    partial_scalars = np.empty((n, len(names)))
    partial_classwise: dict[str, list[np.ndarray]] = {}
    for left_out in range(n):
        keep = np.ones(n, dtype=bool)
        keep[left_out] = False
        metrics, classwise = compute_scores(
            score.counters.total(keep), kind=score.config.kind, average=score.config.average
        )
        partial_scalars[left_out] = [metrics[name] for name in names]
        for name, values in (classwise or {}).items():
            partial_classwise.setdefault(name, []).append(values)
    t_value = stats.t.ppf(1 - (1 - level) / 2, n - 1)

    def interval(full: np.ndarray, partial: np.ndarray) -> np.ndarray:
        mean = partial.mean(axis=0)
        bias = (n - 1) * (mean - full)
        spread = np.sqrt((n - 1) * np.mean((partial - mean) ** 2, axis=0))
        estimate = full - bias
        return np.stack([estimate - t_value * spread, estimate + t_value * spread], axis=-1)

    full_scalars = np.array([score.metrics[name] for name in names])
    scalar_bounds = interval(full_scalars, partial_scalars)
    bounds = {name: (float(low), float(high)) for name, (low, high) in zip(names, scalar_bounds)}
    classwise_bounds = None
    if score.classwise is not None:
        classwise_bounds = {
            name: interval(score.classwise[name], np.stack(partial_classwise[name])) for name in score.classwise
        }
    return Intervals(method=JACKKNIFE_METHOD, level=level, bounds=bounds, per_class=classwise_bounds)


def dcase_metric_samples(score: DcaseScore, *, n_resamples: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Every scalar metric on each bootstrap resample of the recordings.

    Counters are pooled with the resample's multiplicities, as the full set pools them. The draws depend only on
    (n_files, n_resamples, seed), so two systems scored on the same reference recordings get the same resamples.
    """
    from seldkit.metrics.stats import resample_count_blocks

    names = list(score.metrics)
    rows = []
    for block in resample_count_blocks(score.n_files, n_resamples, seed):
        for counts in block.astype(np.float64):
            metrics, _ = compute_scores(
                score.counters.weighted_total(counts), kind=score.config.kind, average=score.config.average
            )
            rows.append([metrics[name] for name in names])
    values = np.asarray(rows, dtype=np.float64).reshape(-1, len(names))
    return {name: values[:, index] for index, name in enumerate(names)}


def _require_distances(
    references: Sequence[DcaseEvents], predictions: Sequence[DcaseEvents], config: MetricConfig, year: int
) -> None:
    for side, events_list in (("reference", references), ("prediction", predictions)):
        for events in events_list:
            if events.distance is None and events.n_events:
                raise InputError(
                    f"this {side} file has no distance column, which the {year} configuration "
                    f"{config.name!r} needs (choose a configuration without distance)",
                    file=events.source,
                )


def _cost_function(config: MetricConfig, reference: EventSet, prediction: EventSet):
    if config.angle == "spherical":
        reference_terms = SphericalTerms.of(reference.azimuth, reference.elevation)
        prediction_terms = SphericalTerms.of(prediction.azimuth, prediction.elevation)
        return lambda r, p: reference_terms.take(r).angle_to(prediction_terms.take(p))
    if config.angle == "cartesian":
        # 2020/2021 use_polar_format=False: reference directions become unit vectors, predicted vectors are used
        # as written (their length never matters, a zero vector is 90 degrees from everything).
        reference_vectors = polar_to_vector(reference.azimuth, reference.elevation)
        if prediction.vector is None and prediction.size:
            raise InputError("the cartesian configuration needs Cartesian predictions (frame,class,track,x,y,z)")
        prediction_vectors = prediction.vector if prediction.vector is not None else np.zeros((0, 3))
        return lambda r, p: vector_error_deg(reference_vectors[r], prediction_vectors[p])
    if config.angle == "vector":
        # The official 2024 loader turns Cartesian predictions into azimuth/elevation and every direction back
        # into a unit vector, so a prediction's vector length never matters.
        reference_vectors = polar_to_vector(reference.azimuth, reference.elevation)
        prediction_vectors = polar_to_vector(prediction.azimuth, prediction.elevation)
        return lambda r, p: vector_error_deg(reference_vectors[r], prediction_vectors[p])
    return lambda r, p: folded_azimuth_error_deg(reference.azimuth[r], prediction.azimuth[p])


def _pair_errors(
    config: MetricConfig,
    reference: EventSet,
    prediction: EventSet,
    pair_ref: np.ndarray,
    pair_pred: np.ndarray,
    angle: np.ndarray,
) -> PairErrors:
    distance = relative = onscreen = None
    if reference.distance is not None and prediction.distance is not None:
        distance = np.abs(reference.distance[pair_ref] - prediction.distance[pair_pred])
        relative = distance / (reference.distance[pair_ref] + EPS)
    if reference.onscreen is not None and prediction.onscreen is not None:
        onscreen = reference.onscreen[pair_ref] == prediction.onscreen[pair_pred]
    return PairErrors(angle=angle, distance=distance, relative_distance=relative, onscreen_correct=onscreen)
