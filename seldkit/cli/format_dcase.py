"""The human tables of DCASE Task 3 scores (F, LR and accuracy in %, errors in degrees and distance units)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from seldkit.cli.format_common import number, protocol_line
from seldkit.metrics.metadata import metric_info

if TYPE_CHECKING:
    from seldkit.scoring.dcase import DcaseReport


def _display(name: str, year: int) -> tuple[float, str]:
    """(scale, unit) of a metric in the tables.

    Fractions in %, angles in degrees, distances in the year's unit, ratios (ER, RDE, SELD) as they are.
    """
    from seldkit.metrics.dcase.years import YEAR_RULES

    info = metric_info(name)
    return info.scale, info.symbol(YEAR_RULES[year].distance_unit)


def _reference_unit(kind: str) -> str:
    """What N_ref counts: 2019 and 2020 count each active class once per 1 s block, later years its instances."""
    return "reference (1 s block, class) pairs" if kind in ("sed-doa-2019", "segment-2020") else "reference events"


def format_dcase_table(report: DcaseReport) -> str:
    """The human table of a DCASE score: each metric, with its jackknife interval when computed."""
    score, intervals = report.score, report.intervals
    header = protocol_line(
        report.protocol,
        f"configuration {score.config.name}" + (", official-compatible" if report.protocol.dcase.compat else ""),
        f"{score.n_files} recordings",
        f"{int(score.totals.counts['Nref'].sum())} {_reference_unit(score.config.kind)} scored",
    )
    lines = [header]
    title = f"{intervals.level:.0%} CI (jackknife, {score.n_files} recordings)" if intervals else ""
    lines.append(f"  {'metric':<12}{'value':>10}  {title}".rstrip())
    for name, value in score.metrics.items():
        scale, unit = _display(name, score.year)
        row = f"  {name:<12}{number(value, scale, 3 if not unit else 2):>8} {unit:<2}"
        if intervals is not None and name in intervals.bounds:
            low, high = intervals.bounds[name]
            row += f"  [{number(low, scale, 3 if not unit else 2)}, {number(high, scale, 3 if not unit else 2)}]"
        lines.append(row.rstrip())
    if report.groups:
        lines.extend(["", *format_dcase_groups(report)])
    return "\n".join(lines)


def format_dcase_groups(report: DcaseReport) -> list[str]:
    """The official per-group breakdown (2019-2021): one row per group of recordings, every metric."""
    assert report.groups is not None
    names = list(report.score.metrics)
    year = report.score.year
    cells = []
    for name in names:
        scale, unit = _display(name, year)
        cells.append((name, scale, unit))
    heads = "".join(f"{name + (' ' + unit if unit else ''):>11}" for name, _, unit in cells)
    lines = [f"  {'group':<10}{'recordings':>11}{heads}"]
    for group, entries in report.groups.items():
        for key, entry in entries.items():
            values = "".join(
                f"{number(entry['metrics'][name], scale, 3 if not unit else 2):>11}" for name, scale, unit in cells
            )
            lines.append(f"  {group + ' ' + key:<10}{len(entry['files']):>11}{values}")
    return lines


def format_dcase_per_class(report: DcaseReport) -> str:
    """The class-wise table: each class-wise metric per class, with the class's reference count (Nref)."""
    classwise = report.score.classwise
    if classwise is None:
        return f"(configuration {report.score.config.name} averages over all classes: no per-class table)"
    names = list(classwise)
    year = report.score.year
    heads = []
    for name in names:
        _, unit = _display(name, year)
        heads.append(f"{name}{' ' + unit if unit else ''}")
    lines = ["  " + f"{'class':>5}" + "".join(f"{head:>14}" for head in heads)]
    n_ref = report.score.totals.counts["Nref"]
    for index in range(len(classwise[names[0]])):
        cells = []
        for name in names:
            scale, unit = _display(name, year)
            cells.append(f"{number(classwise[name][index], scale, 3 if not unit else 2):>14}")
        lines.append("  " + f"{index:>5}" + "".join(cells) + f"   ({int(n_ref[index])} ref.)")
    return "\n".join(lines)
