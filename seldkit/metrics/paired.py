r"""Paired bootstrap comparison of two systems scored on the same references.

Both systems are evaluated on the *same* resamples of the evaluation units (clips, questions or recordings),
so what the two have in common (hard clips, easy clips) cancels in the difference. With :math:`\hat d = m_B -
m_A` the observed difference of a metric and :math:`d^*_1 \ldots d^*_R` its values on the resamples:

- interval: the percentile interval :math:`[q_{\alpha/2}(d^*),\ q_{1-\alpha/2}(d^*)]`;
- two-sided p-value of :math:`H_0: d = 0`, read off the same distribution so that it agrees with the interval:
  :math:`p = \min\left(1,\ 2\min\left(\frac{1 + \#\{d^* \le 0\}}{R + 1},\
  \frac{1 + \#\{d^* \ge 0\}}{R + 1}\right)\right)`
  (an interval that excludes 0 has :math:`p \lesssim \alpha`);
- verdict: the system whose side of 0 the whole interval lies on, after the metric's direction
  (:mod:`seldkit.metrics.metadata`: mAP higher is better; ER20, MAE, DER, DOAE, SELD lower), otherwise
  ``"neither"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from seldkit.metrics.metadata import metric_info

Verdict = Literal["A", "B", "neither"]


@dataclass(frozen=True)
class MetricDifference:
    """One metric of a paired comparison; ``difference = b - a``."""

    name: str
    a: float
    b: float
    difference: float
    low: float
    high: float
    p_value: float
    higher_is_better: bool
    better: Verdict

    def as_json(self) -> dict[str, object]:
        """The values, interval, p-value and verdict as the comparison JSON records them (under the metric's name)."""
        return {
            "a": self.a,
            "b": self.b,
            "difference": self.difference,
            "interval": {"low": self.low, "high": self.high},
            "p_value": self.p_value,
            "higher_is_better": self.higher_is_better,
            "better": self.better,
        }


@dataclass(frozen=True)
class Comparison:
    """The paired comparison of systems A and B on every metric of a protocol."""

    unit: str  # what was resampled: "clips", "questions", "recordings"
    n: int
    level: float
    n_resamples: int
    seed: int
    differences: tuple[MetricDifference, ...]
    n_seeds: int | None = None  # training seeds resampled with the units (seldkit.metrics.seeds); None: one system each

    @property
    def units(self) -> str:
        """What was resampled, with the counts: ``72 clusters of clips (reverb)``, ``3 seeds x 400 clips``."""
        counted = f"{self.n} {self.unit}"
        return counted if self.n_seeds is None else f"{self.n_seeds} seeds x {counted}"

    def __getitem__(self, name: str) -> MetricDifference:
        for difference in self.differences:
            if difference.name == name:
                return difference
        raise KeyError(name)

    def as_json(self) -> dict[str, object]:
        """The comparison as its JSON records it: method, level, resamples, seed, n (n_seeds), each metric's difference.

        ``seed`` is the bootstrap's seed; ``n_seeds``, present for runs of several training seeds, their number.
        """
        seeds = self.n_seeds is not None
        document: dict[str, object] = {
            "method": f"paired percentile bootstrap over {'seeds x ' if seeds else ''}{self.unit}",
            "difference": "B - A",
            "level": self.level,
            "n_resamples": self.n_resamples,
            "seed": self.seed,
            "n": self.n,
        }
        if seeds:
            document["n_seeds"] = self.n_seeds
        document["metrics"] = {difference.name: difference.as_json() for difference in self.differences}
        return document


def paired_difference(
    name: str, a: float, b: float, a_samples: np.ndarray, b_samples: np.ndarray, *, level: float = 0.95
) -> MetricDifference:
    """Summarise one metric's paired resamples (``a_samples[r]`` and ``b_samples[r]`` from resample r).

    Resamples where either value is undefined (NaN: e.g. a class without positives) are left out.

    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(0.50, 0.01, 2000)
    >>> result = paired_difference("mAP", 0.50, 0.55, a, a + rng.normal(0.05, 0.01, 2000))
    >>> round(result.difference, 2), result.better, result.p_value < 0.01, result.low > 0
    (0.05, 'B', True, True)
    """
    differences = np.asarray(b_samples, dtype=np.float64) - np.asarray(a_samples, dtype=np.float64)
    differences = differences[np.isfinite(differences)]
    observed = float(b) - float(a)
    direction = metric_info(name).higher_is_better
    if differences.size == 0 or not np.isfinite(observed):
        nan = float("nan")
        return MetricDifference(name, float(a), float(b), observed, nan, nan, nan, direction, "neither")
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = (float(value) for value in np.percentile(differences, [tail, 100.0 - tail]))
    count = differences.size
    at_most_zero = (1 + np.count_nonzero(differences <= 0)) / (count + 1)
    at_least_zero = (1 + np.count_nonzero(differences >= 0)) / (count + 1)
    p_value = float(min(1.0, 2.0 * min(at_most_zero, at_least_zero)))
    better: Verdict = "neither"
    if low > 0 or high < 0:
        b_is_larger = low > 0
        better = "B" if b_is_larger == direction else "A"
    return MetricDifference(name, float(a), float(b), observed, low, high, p_value, direction, better)


def compare_samples(
    points_a: Mapping[str, float],
    points_b: Mapping[str, float],
    samples_a: Mapping[str, np.ndarray],
    samples_b: Mapping[str, np.ndarray],
    *,
    unit: str,
    n: int,
    level: float,
    n_resamples: int,
    seed: int,
) -> Comparison:
    """A :class:`Comparison` of every metric that has a point value and resamples on both sides."""
    names = [name for name in points_a if name in points_b and name in samples_a and name in samples_b]
    differences = tuple(
        paired_difference(name, points_a[name], points_b[name], samples_a[name], samples_b[name], level=level)
        for name in names
        if points_a[name] is not None and points_b[name] is not None
    )
    return Comparison(unit=unit, n=n, level=level, n_resamples=n_resamples, seed=seed, differences=differences)
