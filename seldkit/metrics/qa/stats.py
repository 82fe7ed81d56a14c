"""Bootstrap intervals for the SpatialSoundQA scores, stratified by question type.

Questions are resampled within each type (so every type keeps its size), all resamples of a block evaluated at once.
"""

from __future__ import annotations

import numpy as np

from seldkit.metrics.intervals import Intervals, percentile_bounds
from seldkit.metrics.qa.scoring import BINARY_TYPES, QaScores
from seldkit.metrics.qa.weighted import detection_metrics, e_column_metrics, localization_metrics
from seldkit.metrics.ranking import RankedScores
from seldkit.metrics.stats import resample_count_blocks


def bootstrap_qa(scores: QaScores, *, n_resamples: int, seed: int = 0, level: float = 0.95) -> Intervals:
    """Percentile intervals at ``level`` of every QA metric over ``n_resamples`` stratified resamples.

    Metric names are ``"<TYPE>.<metric>"`` and ``"E.<metric>"``. Non-finite resample values are left out; a metric
    without a finite one gets NaN bounds.
    """
    samples = qa_metric_samples(scores, n_resamples=n_resamples, seed=seed)
    return Intervals(
        method="percentile bootstrap over questions, stratified by question type",
        level=level,
        bounds=percentile_bounds(samples, level=level),
        n_resamples=n_resamples,
        seed=seed,
    )


def qa_point_values(scores: QaScores) -> dict[str, float]:
    """The scalar results under the names :func:`qa_metric_samples` uses (``"<TYPE>.<metric>"``, ``"E.<name>"``)."""
    names = ("mAP_all", "mAP_present", "direction_acc", "DER", "accuracy", "balanced_accuracy")
    values: dict[str, float] = {}
    for question_type, results in scores.results["per_type"].items():
        for name in names:
            if results.get(name) is not None:
                values[f"{question_type}.{name}"] = float(results[name])
    for name in ("E_avg", "E_balanced_avg"):
        if scores.results["E"].get(name) is not None:
            values[f"E.{name}"] = float(scores.results["E"][name])
    return values


def qa_metric_samples(scores: QaScores, *, n_resamples: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Every metric on each resample, questions drawn within their type.

    The draws depend only on the types, their sizes and ``seed``, so two systems answering the same questions get the
    same resamples.
    """
    samples: dict[str, np.ndarray] = {}
    for offset, (question_type, (values, targets)) in enumerate(sorted(scores.detection.items())):
        ranked = RankedScores.from_scores(values, targets, for_weights=True)
        counts = np.concatenate(list(resample_count_blocks(len(values), n_resamples, seed + 1000 * offset)))
        metrics, _ = detection_metrics(ranked, counts.astype(float))
        samples.update({f"{question_type}.{name}": value for name, value in metrics.items()})
    for offset, (question_type, outcome) in enumerate(sorted(scores.outcomes.items()), start=100):
        n = len(next(iter(outcome.values())))
        counts = np.concatenate(list(resample_count_blocks(n, n_resamples, seed + 1000 * offset))).astype(float)
        metrics = (
            localization_metrics(outcome, counts)
            if "direction_correct" in outcome
            else e_column_metrics(outcome, counts)
        )
        samples.update({f"{question_type}.{name}": value for name, value in metrics.items()})
    if all(f"{kind}.accuracy" in samples for kind in BINARY_TYPES):
        samples["E.E_avg"] = (samples[f"{BINARY_TYPES[0]}.accuracy"] + samples[f"{BINARY_TYPES[1]}.accuracy"]) / 2
        samples["E.E_balanced_avg"] = (
            samples[f"{BINARY_TYPES[0]}.balanced_accuracy"] + samples[f"{BINARY_TYPES[1]}.balanced_accuracy"]
        ) / 2
    return samples
