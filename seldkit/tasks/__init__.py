"""Each scoring task — clip-level metrics, DCASE Task 3, SpatialSoundQA — as one object.

A :class:`~seldkit.tasks.base.Task` knows, for its task, what the inputs are (files or folders), which
command-line options and intervals apply, how to score, how to compare two systems, the terminal table, and the
report sections. ``seldkit score``, ``seldkit compare`` and ``seldkit report`` look the task up here instead of
branching on the task name; a new task is one new module registered in :data:`TASKS`.
"""

from __future__ import annotations

from pathlib import Path

from seldkit.errors import InputError
from seldkit.io.clip import ClipGroups
from seldkit.protocols import Protocol
from seldkit.scoring.compare import DEFAULT_RESAMPLES, ComparisonReport, comparison_report
from seldkit.tasks.base import Scored, Task
from seldkit.tasks.clip import ClipTask
from seldkit.tasks.dcase import DcaseTask
from seldkit.tasks.qa import QaTask

TASKS: dict[str, Task] = {task.name: task for task in (ClipTask(), DcaseTask(), QaTask())}

__all__ = ["TASKS", "Scored", "Task", "compare_systems", "task_for"]


def task_for(protocol: Protocol) -> Task:
    """The task object of ``protocol``; an error for protocols that are not scored (training protocols)."""
    task = TASKS.get(protocol.task)
    if task is None:
        raise InputError(
            f"protocol {protocol.name!r} is a {protocol.task} protocol; scores, comparisons and reports take an "
            f"evaluation protocol ({', '.join(TASKS)})"
        )
    return task


def compare_systems(
    system_a: str | Path,
    system_b: str | Path,
    references: str | Path,
    protocol: Protocol,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    groups: ClipGroups | None = None,
) -> ComparisonReport:
    """Paired comparison of ``system_b`` against ``system_a`` (differences are B - A) on every metric.

    ``groups`` (clip-level tasks) resamples clusters of clips instead of clips.
    """
    task = task_for(protocol)
    a, b, refs = Path(system_a), Path(system_b), Path(references)
    task.check_inputs(a, refs, protocol)
    if groups is not None and "group_by" not in task.options:
        raise InputError(
            f"--group-by applies to clip-level comparisons, not to {protocol.task} (its units are resampled already)"
        )
    comparison = task.compare(a, b, refs, protocol, n_resamples=n_resamples, groups=groups)
    report = comparison_report(a, b, refs, protocol, comparison)
    if groups is not None:
        report.inputs["groups"] = {"path": str(groups.path), "column": groups.column}
    return report
