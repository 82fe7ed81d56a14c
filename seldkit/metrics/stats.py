r"""Bootstrap confidence intervals for the clip metrics.

Percentile bootstrap over clips: draw :math:`B` resamples of the :math:`n` clips with replacement (seeded),
evaluate every metric on each, and report the :math:`\alpha/2` and :math:`1-\alpha/2` quantiles. A resample is
represented by its clip counts :math:`c_{bi}` (how often clip :math:`i` was drawn), so each metric becomes a
weighted one: ER20, MAE and DER are the products :math:`c\,x / n`, and average precision over all resamples
of a chunk comes from one sparse product (:class:`~seldkit.metrics.ranking.RankedScores`). No Python loop
runs per resample.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from seldkit.metrics.clip import ERROR_THRESHOLD_DEG, ClipMode, PerClipInputs
from seldkit.metrics.intervals import Intervals, per_class_percentile_bounds, percentile_bounds
from seldkit.metrics.ranking import RankedScores, mean_average_precision_of

# Resamples drawn and evaluated together. Block k is drawn from its own generator seeded (seed, k), so the
# draws do not depend on how the work is chunked.
RESAMPLE_BLOCK = 32


def resample_counts(n_items: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """[n_resamples, n_items] counts of a with-replacement draw of ``n_items`` from ``n_items``.

    >>> counts = resample_counts(5, 3, np.random.default_rng(0))
    >>> counts.shape, counts.sum(axis=1).tolist()
    ((3, 5), [5, 5, 5])
    """
    drawn = rng.integers(0, n_items, size=(n_resamples, n_items))
    offsets = (np.arange(n_resamples) * n_items)[:, None]
    return np.bincount((drawn + offsets).ravel(), minlength=n_resamples * n_items).reshape(n_resamples, n_items)


def resample_count_blocks(n_items: int, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """The bootstrap draws of ``seed``, as count blocks of at most :data:`RESAMPLE_BLOCK` resamples."""
    for block, first in enumerate(range(0, n_resamples, RESAMPLE_BLOCK)):
        rng = np.random.default_rng([seed, block])
        yield resample_counts(n_items, min(RESAMPLE_BLOCK, n_resamples - first), rng)


def bootstrap_clip_metrics(
    inputs: PerClipInputs,
    *,
    mode: ClipMode,
    n_resamples: int,
    seed: int = 0,
    level: float = 0.95,
    error_threshold_deg: float = ERROR_THRESHOLD_DEG,
    ranked: RankedScores | None = None,
) -> Intervals:
    """Percentile bootstrap intervals of mAP, ER20, MAE and DER (those the inputs allow), and of per-class AP.

    ``ranked`` may pass a ranking built with ``for_weights=True`` to avoid sorting again.
    """
    samples, per_class_samples = clip_metric_samples(
        inputs, mode=mode, n_resamples=n_resamples, seed=seed, error_threshold_deg=error_threshold_deg, ranked=ranked
    )
    per_class = None
    if per_class_samples is not None:
        stacked = np.nan_to_num(per_class_samples, nan=0.0) if mode == "reference" else per_class_samples
        per_class = {"AP": per_class_percentile_bounds(stacked, level=level)}
    return Intervals(
        method="percentile bootstrap over clips",
        level=level,
        bounds=percentile_bounds(samples, level=level),
        n_resamples=n_resamples,
        seed=seed,
        per_class=per_class,
    )


def clip_metric_samples(
    inputs: PerClipInputs,
    *,
    mode: ClipMode,
    n_resamples: int,
    seed: int = 0,
    error_threshold_deg: float = ERROR_THRESHOLD_DEG,
    ranked: RankedScores | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Every metric on each of the ``seed``'s ``n_resamples`` resamples of the clips.

    Returns ``{name: [R]}`` and the per-class AP ``[R, C]`` (None without class scores). The draws depend only on
    (n_clips, n_resamples, seed), so two systems scored on the same references get the same resamples (what a paired
    comparison needs).
    """
    if n_resamples < 1:
        raise ValueError("n_resamples must be at least 1")
    n = inputs.n_clips
    has_classes = inputs.scores is not None and inputs.targets is not None and inputs.scores.shape[1] > 0
    if has_classes and (ranked is None or ranked.segment_class is None):
        ranked = RankedScores.from_scores(inputs.scores, inputs.targets, for_weights=True)  # type: ignore[arg-type]

    samples: dict[str, list[np.ndarray]] = {}
    per_class_samples: list[np.ndarray] = []
    for block in resample_count_blocks(n, n_resamples, seed):
        counts = block.astype(np.float64)
        if has_classes:
            ap = ranked.average_precision(counts)  # type: ignore[union-attr]
            per_class_samples.append(ap)
            samples.setdefault("mAP", []).append(_map_of_resamples(ap, mode))
        if inputs.angles is not None:
            samples.setdefault("ER20", []).append(counts @ (inputs.angles > error_threshold_deg) / n)
            samples.setdefault("MAE", []).append(counts @ inputs.angles / n)
        if inputs.distance_wrong is not None:
            samples.setdefault("DER", []).append(counts @ inputs.distance_wrong.astype(np.float64) / n)
    joined = {name: np.concatenate(values) for name, values in samples.items()}
    return joined, (np.concatenate(per_class_samples) if per_class_samples else None)


def _map_of_resamples(ap: np.ndarray, mode: ClipMode) -> np.ndarray:
    return mean_average_precision_of(ap, classes="all" if mode == "reference" else "present")
