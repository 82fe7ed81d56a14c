"""Timing helpers and the record of seldkit-vs-baseline ratios that ``conftest.py`` prints."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RATIOS: list[tuple[str, float, float]] = []  # (comparison, seldkit seconds, baseline seconds)
TIMINGS: list[tuple[str, float]] = []  # absolute numbers asked for by a target (no baseline)


def best_time(function: Callable[[], object], rounds: int) -> float:
    """Minimum wall time over ``rounds`` calls: the least disturbed measurement."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def record_ratio(name: str, seldkit_seconds: float, baseline_seconds: float) -> None:
    RATIOS.append((name, seldkit_seconds, baseline_seconds))


def record_timing(name: str, seconds: float) -> None:
    TIMINGS.append((name, seconds))


def audioset_mids() -> list[str]:
    path = REPO / "protocols" / "assets" / "audioset" / "spatial_subset_mids.txt"
    return path.read_text(encoding="utf-8").split()
