r"""Confidence intervals of metrics: one type for bootstrap and jackknife intervals, and percentile bounds.

A percentile bootstrap interval at level :math:`1 - \alpha` is :math:`[q_{\alpha/2}, q_{1-\alpha/2}]` of a
metric's values over the resamples (non-finite values left out: a resample may miss every positive of a
class); the jackknife intervals of DCASE are computed as the official code does
(:func:`seldkit.metrics.dcase.evaluate.jackknife`).

>>> bounds = percentile_bounds({"MAE": np.array([1.0, 2.0, 3.0, np.nan])}, level=0.5)
>>> bounds["MAE"]
(1.5, 2.5)
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Intervals:
    """Intervals at ``level`` by metric name, how they were computed, and, where computed, per class.

    ``per_class`` maps a metric name to a ``[C, 2]`` array of (low, high) per class, NaN where undefined; the
    bootstrap fields ``n_resamples`` and ``seed`` are None for jackknife intervals.
    """

    method: str
    level: float
    bounds: dict[str, tuple[float, float]]
    n_resamples: int | None = None
    seed: int | None = None
    per_class: dict[str, np.ndarray] | None = None

    def as_json(self) -> dict[str, object]:
        """The intervals of the scalar metrics as a results JSON records them, with the method."""
        document: dict[str, object] = {"method": self.method, "level": self.level}
        if self.n_resamples is not None:
            document["n_resamples"] = self.n_resamples
            document["seed"] = self.seed
        document["metrics"] = {name: {"low": low, "high": high} for name, (low, high) in self.bounds.items()}
        return document


def percentile_bounds(samples: Mapping[str, np.ndarray], *, level: float) -> dict[str, tuple[float, float]]:
    """Percentile interval of each metric's resample values (finite ones; NaN bounds when there is none)."""
    tail = (1.0 - level) / 2.0 * 100.0
    bounds = {}
    for name, values in samples.items():
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            bounds[name] = (float("nan"), float("nan"))
            continue
        low, high = np.percentile(finite, [tail, 100.0 - tail])
        bounds[name] = (float(low), float(high))
    return bounds


def per_class_percentile_bounds(samples: np.ndarray, *, level: float) -> np.ndarray:
    """``[C, 2]`` percentile intervals of per-class values ``[R, C]`` over the resamples (NaN left out)."""
    tail = (1.0 - level) / 2.0 * 100.0
    with warnings.catch_warnings():  # all-NaN columns: classes never positive in any resample
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanpercentile(samples, [tail, 100.0 - tail], axis=0).T
