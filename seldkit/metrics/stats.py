r"""Bootstrap confidence intervals for the clip metrics.

Percentile bootstrap over clips: draw :math:`B` resamples of the :math:`n` clips with replacement (seeded),
evaluate every metric on each, and report the :math:`\alpha/2` and :math:`1-\alpha/2` quantiles. A resample is
represented by its clip counts :math:`c_{bi}` (how often clip :math:`i` was drawn), so each metric becomes a
weighted one: ER20, MAE and DER are the ratios :math:`c\,x / \sum_i c_i`, and average precision over all
resamples of a chunk comes from one sparse product (:class:`~seldkit.metrics.ranking.RankedScores`). No Python
loop runs per resample.

**Clustered** (``groups``): when clips share an independent unit (an impulse response, a room, a recording), the
units are resampled instead and every clip counts as often as its unit was drawn, :math:`c_{bi} = k_{b,g(i)}`.
Clips of one unit are correlated, so resampling them one by one gives intervals that are too narrow; resampling
the units keeps that correlation in every resample (the cluster bootstrap). The number of clips then varies from
resample to resample, hence the ratio form above.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

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


def clustered_count_blocks(groups: np.ndarray, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Clip counts [R, n] of resamples that draw the clusters, clip ``i`` belonging to cluster ``groups[i]``.

    ``groups`` holds cluster indices 0..G-1 (:func:`cluster_indices`); the draws are those of
    :func:`resample_count_blocks` over the G clusters, so two systems on the same clips and clusters are paired.

    >>> blocks = list(clustered_count_blocks(np.array([0, 0, 1]), 4, seed=0))
    >>> counts = blocks[0]
    >>> bool((counts[:, 0] == counts[:, 1]).all()), sorted(set((counts[:, 0] + counts[:, 2]).tolist()))
    (True, [2])
    """
    groups = np.asarray(groups)
    n_groups = int(groups.max()) + 1 if groups.size else 0
    for block in resample_count_blocks(n_groups, n_resamples, seed):
        yield block[:, groups]


def cluster_indices(labels: Sequence[object]) -> np.ndarray:
    """Cluster index 0..G-1 of each clip from its cluster label (first-seen order of the sorted labels).

    >>> cluster_indices(["room2", "room1", "room2"]).tolist()
    [1, 0, 1]
    """
    names = sorted({str(label) for label in labels})
    position = {name: index for index, name in enumerate(names)}
    return np.array([position[str(label)] for label in labels], dtype=np.int64)


def bootstrap_clip_metrics(
    inputs: PerClipInputs,
    *,
    mode: ClipMode,
    n_resamples: int,
    seed: int = 0,
    level: float = 0.95,
    error_threshold_deg: float = ERROR_THRESHOLD_DEG,
    ranked: RankedScores | None = None,
    groups: np.ndarray | None = None,
) -> Intervals:
    """Percentile bootstrap intervals of mAP, ER20, MAE and DER (those the inputs allow), and of per-class AP.

    ``ranked`` may pass a ranking built with ``for_weights=True`` to avoid sorting again. ``groups`` (a cluster
    index per clip) resamples the clusters instead of the clips.
    """
    samples, per_class_samples = clip_metric_samples(
        inputs,
        mode=mode,
        n_resamples=n_resamples,
        seed=seed,
        error_threshold_deg=error_threshold_deg,
        ranked=ranked,
        groups=groups,
    )
    per_class = None
    if per_class_samples is not None:
        stacked = np.nan_to_num(per_class_samples, nan=0.0) if mode == "reference" else per_class_samples
        per_class = {"AP": per_class_percentile_bounds(stacked, level=level)}
    return Intervals(
        method="percentile bootstrap over clips" if groups is None else "percentile bootstrap over clusters of clips",
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
    groups: np.ndarray | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Every metric on each of the ``seed``'s ``n_resamples`` resamples of the clips (or of their clusters).

    Returns ``{name: [R]}`` and the per-class AP ``[R, C]`` (None without class scores). The draws depend only on
    (n_clips, n_resamples, seed) — with ``groups``, a cluster index per clip, on (the clusters, n_resamples, seed) —
    so two systems scored on the same references get the same resamples (what a paired comparison needs).
    """
    if n_resamples < 1:
        raise ValueError("n_resamples must be at least 1")
    n = inputs.n_clips
    if groups is not None and np.shape(groups) != (n,):
        raise ValueError(f"groups must hold one cluster index per clip ({n}), not shape {np.shape(groups)}")
    has_classes = inputs.scores is not None and inputs.targets is not None and inputs.scores.shape[1] > 0
    if has_classes and (ranked is None or ranked.segment_class is None):
        ranked = RankedScores.from_scores(inputs.scores, inputs.targets, for_weights=True)  # type: ignore[arg-type]

    samples: dict[str, list[np.ndarray]] = {}
    per_class_samples: list[np.ndarray] = []
    blocks = (
        resample_count_blocks(n, n_resamples, seed)
        if groups is None
        else clustered_count_blocks(groups, n_resamples, seed)
    )
    for block in blocks:
        counts = block.astype(np.float64)
        drawn = counts.sum(axis=1)  # n for clip resamples; varies with the clusters drawn
        if has_classes:
            ap = ranked.average_precision(counts)  # type: ignore[union-attr]
            per_class_samples.append(ap)
            samples.setdefault("mAP", []).append(_map_of_resamples(ap, mode))
        if inputs.angles is not None:
            samples.setdefault("ER20", []).append(counts @ (inputs.angles > error_threshold_deg) / drawn)
            samples.setdefault("MAE", []).append(counts @ inputs.angles / drawn)
        if inputs.distance_wrong is not None:
            samples.setdefault("DER", []).append(counts @ inputs.distance_wrong.astype(np.float64) / drawn)
    joined = {name: np.concatenate(values) for name, values in samples.items()}
    return joined, (np.concatenate(per_class_samples) if per_class_samples else None)


def _map_of_resamples(ap: np.ndarray, mode: ClipMode) -> np.ndarray:
    return mean_average_precision_of(ap, classes="all" if mode == "reference" else "present")
