"""DCASE Task 3 SELD metrics of the challenge years 2022-2025, reproducing each year's official scorer.

Shared machinery — frame matching (:mod:`.matching`), accumulators (:mod:`.counters`), metric formulas
(:mod:`.scores`), angle measures (:mod:`.geometry`) — and the small table of what differs per year
(:mod:`.years`). :func:`~.evaluate.score_recordings` scores recordings; :func:`~.evaluate.jackknife` adds
leave-one-recording-out intervals. See ``metrics/dcase.md`` for the definitions and documented deviations.
"""

from seldkit.metrics.dcase.evaluate import DcaseScore, JackknifeIntervals, jackknife, score_recordings
from seldkit.metrics.dcase.years import YEAR_RULES, MetricConfig

__all__ = ["YEAR_RULES", "DcaseScore", "JackknifeIntervals", "MetricConfig", "jackknife", "score_recordings"]
