"""Figure of a paired comparison: each metric's difference B - A with its interval."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from seldkit.metrics.paired import Comparison
from seldkit.report.figures.style import COLOURS, NEUTRAL, new_figure

VERDICT_COLOURS = {"A": COLOURS[1], "B": COLOURS[0], "neither": NEUTRAL}


def paired_differences(comparison: Comparison) -> Figure:
    """One row per metric (each on its own scale): the difference B - A, its interval, and the zero line.

    Rows are coloured by which system the interval favours.
    """
    differences = comparison.differences
    figure = new_figure(7.0, 0.9 + 0.75 * max(len(differences), 1))
    axes_list = np.atleast_1d(figure.subplots(max(len(differences), 1), 1))
    for axes, difference in zip(axes_list, differences):
        colour = VERDICT_COLOURS[difference.better]
        axes.axvline(0.0, color="black", linewidth=0.8)
        if np.isfinite(difference.low):
            axes.plot([difference.low, difference.high], [0, 0], color=colour, linewidth=3, solid_capstyle="butt")
        axes.plot([difference.difference], [0], "o", color=colour)
        span = max(abs(difference.low), abs(difference.high), abs(difference.difference), 1e-12)
        if not np.isfinite(span):
            span = 1.0
        axes.set_xlim(-1.15 * span, 1.15 * span)
        axes.set_yticks([0], [difference.name], fontsize=9)
        arrow = "higher is better" if difference.higher_is_better else "lower is better"
        axes.set_title(
            f"{difference.name}: B - A = {difference.difference:+.4g}, p = {difference.p_value:.3g}, "
            f"better: {difference.better} ({arrow})",
            fontsize=8,
            loc="left",
        )
        axes.spines[["top", "right", "left"]].set_visible(False)
        axes.tick_params(axis="x", labelsize=7)
    figure.suptitle(
        f"Paired differences B - A, {comparison.level * 100:g} % intervals over {comparison.units}",
        fontsize=10,
    )
    return figure
