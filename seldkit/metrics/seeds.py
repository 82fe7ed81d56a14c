r"""Several training seeds of a system: their summary, and a paired bootstrap over seeds and clips together.

A trained model's score varies with its training seed (initialisation, data order, augmentation) as well as with
the test clips. With :math:`S` seeds of each of two systems A and B, all tested on the same clips, seed :math:`k`
of A is paired with seed :math:`k` of B and the comparison resamples both levels (a two-stage bootstrap):

1. draw :math:`S` seeds with replacement: :math:`w_{rk}` counts how often seed :math:`k` was drawn in replicate
   :math:`r` (:func:`seed_draw_counts`); the same draw for A and B;
2. draw the clips (or their clusters) with replacement: the same draw for every seed and both systems, since all
   were tested on the same clips;
3. the replicate's value of a metric for a system is the mean over the drawn seeds of the metric on the drawn clips,
   :math:`m^*_r = \sum_k w_{rk}\, m_k(\text{clips}_r) / S` (:func:`combine_seed_samples`).

The point estimate is the mean over the seeds, :math:`\bar m = \sum_k m_k / S`, so the difference B - A is the mean
of the per-seed differences. Drawing the seeds is what makes a seed-to-seed spread widen the interval: with one
seed, or seeds that agree, it is the clip-level (or cluster-level) interval.

The clip draws of step 2 come from :func:`seldkit.metrics.stats.clip_metric_samples`, whose draws depend only on
the number of clips (with clusters: the cluster of each clip), the number of resamples and the bootstrap seed, not
on the predictions; :func:`seed_clip_metric_samples` calls it with the same of each for every seed, which is what
makes the clip draws shared. The seed draws come from a generator of their own (:data:`SEED_STREAM`), so they are
independent of the clip draws.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from seldkit.metrics.clip import ERROR_THRESHOLD_DEG, ClipMode, PerClipInputs
from seldkit.metrics.stats import clip_metric_samples, resample_counts

# The seed draws' generator is keyed (seed, 0, SEED_STREAM); the clip draws' blocks are keyed (seed, block), which
# numpy's seeding pads with zeros, so the two never share a stream.
SEED_STREAM = 0x5EED


def summarise_seeds(values: Sequence[float | None]) -> dict[str, float | int | None]:
    """Mean, sample standard deviation (n - 1), min, max and n of a metric over seeds; undefined values left out.

    The standard deviation needs two values (None with fewer); every statistic is None without any.

    >>> summarise_seeds([2.0, 6.0, None, 4.0])
    {'mean': 4.0, 'sd': 2.0, 'min': 2.0, 'max': 6.0, 'n': 3}
    """
    defined = [float(value) for value in values if value is not None and math.isfinite(value)]
    n = len(defined)
    if n == 0:
        return {"mean": None, "sd": None, "min": None, "max": None, "n": 0}
    return {
        "mean": float(np.mean(defined)),
        "sd": float(np.std(defined, ddof=1)) if n > 1 else None,
        "min": min(defined),
        "max": max(defined),
        "n": n,
    }


def mean_over_seeds(points: Sequence[Mapping[str, float | None]]) -> dict[str, float]:
    """Each metric's mean over the seeds' point values, for the metrics every seed has (the point estimate).

    >>> mean_over_seeds([{"MAE": 10.0, "mAP": 0.5}, {"MAE": 14.0}])
    {'MAE': 12.0}
    """
    names = [name for name in points[0] if all(point.get(name) is not None for point in points)]
    return {name: float(np.mean([float(point[name]) for point in points])) for name in names}  # type: ignore[arg-type]


def seed_draw_counts(n_seeds: int, n_resamples: int, seed: int) -> np.ndarray:
    """[n_resamples, n_seeds] counts of each replicate's draw of ``n_seeds`` seeds with replacement (step 1).

    Computed once and applied to both systems of a comparison, which pairs them at the seed level.

    >>> counts = seed_draw_counts(3, 4, seed=0)
    >>> counts.shape, counts.sum(axis=1).tolist()
    ((4, 3), [3, 3, 3, 3])
    """
    if n_seeds < 1 or n_resamples < 1:
        raise ValueError("n_seeds and n_resamples must be at least 1")
    return resample_counts(n_seeds, n_resamples, np.random.default_rng([seed, 0, SEED_STREAM]))


def combine_seed_samples(
    per_seed: Sequence[Mapping[str, np.ndarray]], seed_counts: np.ndarray
) -> dict[str, np.ndarray]:
    r"""Replicate values of a system over seeds: :math:`\sum_k w_{rk}\, x_{kr} / S` for each metric (step 3).

    ``per_seed[k][name][r]`` is seed k's value of a metric on replicate r's clips (the same clips for every seed);
    ``seed_counts`` is :func:`seed_draw_counts`' ``[R, S]``. Seeds not drawn in a replicate do not enter it (an
    undefined value of theirs does not make it undefined); metrics some seed lacks are left out.

    >>> combine_seed_samples([{"MAE": np.array([1.0, 2.0])}, {"MAE": np.array([3.0, 4.0])}],
    ...                      np.array([[2, 0], [1, 1]]))["MAE"].tolist()
    [1.0, 3.0]
    """
    counts = np.asarray(seed_counts, dtype=np.float64)
    n_seeds = len(per_seed)
    if counts.ndim != 2 or counts.shape[1] != n_seeds:
        raise ValueError(f"seed_counts must be [resamples, {n_seeds}], not shape {counts.shape}")
    names = [name for name in per_seed[0] if all(name in samples for samples in per_seed)]
    combined = {}
    for name in names:
        values = np.stack([np.asarray(samples[name], dtype=np.float64) for samples in per_seed], axis=1)  # [R, S]
        if values.shape != counts.shape:
            raise ValueError(f"{name}: the seeds' resamples are {values.shape}, the seed draws {counts.shape}")
        weighted = np.where(counts > 0, counts * values, 0.0)
        combined[name] = weighted.sum(axis=1) / n_seeds
    return combined


def seed_clip_metric_samples(
    per_seed: Sequence[PerClipInputs],
    seed_counts: np.ndarray,
    *,
    mode: ClipMode,
    n_resamples: int,
    seed: int = 0,
    error_threshold_deg: float = ERROR_THRESHOLD_DEG,
    groups: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """A system's replicate values over its seeds and the clips (or clusters of clips, ``groups``).

    ``per_seed[k]`` is seed k's per-clip inputs on the same clips, in the same order, as every other seed's. Each
    seed's metrics are evaluated on the bootstrap ``seed``'s resamples of the clips, which are the same for every
    seed because :func:`~seldkit.metrics.stats.clip_metric_samples` draws them from (the number of clips or their
    clusters, ``n_resamples``, ``seed``) alone; the seeds are then combined by ``seed_counts``
    (:func:`combine_seed_samples`).
    """
    if not per_seed:
        raise ValueError("at least one seed is needed")
    n_clips = {inputs.n_clips for inputs in per_seed}
    if len(n_clips) != 1:
        raise ValueError(f"the seeds were evaluated on different numbers of clips ({sorted(n_clips)})")
    samples = [
        clip_metric_samples(
            inputs,
            mode=mode,
            n_resamples=n_resamples,
            seed=seed,
            error_threshold_deg=error_threshold_deg,
            groups=groups,
        )[0]
        for inputs in per_seed
    ]
    return combine_seed_samples(samples, seed_counts)
