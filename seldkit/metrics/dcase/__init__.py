"""DCASE Task 3 SELD metrics of the challenge years 2022-2025, reproducing each year's official scorer.

Shared machinery — the events of a file (:mod:`.events`), frame matching (:mod:`.matching`), accumulators
(:mod:`.counters`), metric formulas (:mod:`.scores`), angle measures (:mod:`.geometry`) — and the table of what
differs per year, file formats included (:mod:`.years`). :func:`~.evaluate.score_recordings` scores
recordings; :func:`~.evaluate.jackknife` adds
leave-one-recording-out intervals. See ``metrics/dcase.md`` for the definitions and documented deviations.
"""

from seldkit.metrics.dcase.evaluate import DcaseAccumulator, DcaseScore, jackknife, score_recordings
from seldkit.metrics.dcase.events import N_CLASSES, DcaseEvents
from seldkit.metrics.dcase.years import YEAR_RULES, FileFormat, MetricConfig, YearRules

__all__ = [
    "N_CLASSES",
    "YEAR_RULES",
    "DcaseEvents",
    "DcaseScore",
    "FileFormat",
    "DcaseAccumulator",
    "MetricConfig",
    "YearRules",
    "jackknife",
    "score_recordings",
]
