"""The table ``seldkit compare`` prints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from seldkit.cli.format_common import protocol_line

if TYPE_CHECKING:
    from seldkit.scoring.compare import ComparisonReport


def format_comparison(report: ComparisonReport) -> str:
    """The comparison table: per metric A, B, B - A with its interval, the p-value, and the system it favours."""
    comparison = report.comparison
    percent = f"{comparison.level * 100:g} %"
    lines = [
        protocol_line(report.protocol, f"{comparison.n_resamples} paired resamples", comparison.units),
        f"A = {report.inputs['a']['path']}",
        f"B = {report.inputs['b']['path']}",
    ]
    width = max([len("metric"), *(len(difference.name) for difference in comparison.differences)])
    lines.append(f"  {'metric':<{width}} {'A':>9} {'B':>9} {'B - A':>9}  {percent + ' interval':<22} {'p':>6}  better")
    for difference in comparison.differences:
        interval = f"[{_signed(difference.low)}, {_signed(difference.high)}]"
        direction = "↑" if difference.higher_is_better else "↓"
        lines.append(
            f"  {difference.name:<{width}} {_plain(difference.a):>9} {_plain(difference.b):>9} "
            f"{_signed(difference.difference):>9}  {interval:<22} {_p(difference.p_value):>6}  "
            f"{difference.better} ({direction})"
        )
    lines.append("better: the system the whole interval favours (↑ higher is better, ↓ lower is better), else neither")
    return "\n".join(lines)


def _plain(value: float) -> str:
    return "–" if value != value else f"{value:.4f}"


def _signed(value: float) -> str:
    return "–" if value != value else f"{value:+.4f}"


def _p(value: float) -> str:
    if value != value:
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"
