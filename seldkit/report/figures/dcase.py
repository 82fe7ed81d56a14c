"""Figures of DCASE Task 3 results: class-wise detection, localisation and distance scores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from seldkit.report.figures.style import COLOURS, new_figure, tidy

# (name prefix, axis label) in the order they are drawn; whichever the configuration reports.
PANELS = (
    ("F_", "F-score (location-aware)"),
    ("DOAE", "DOA error (degrees)"),
    ("LE", "localisation error (degrees)"),
    ("RDE", "relative distance error"),
    ("LR", "localisation recall"),
)


def classwise_scores(classwise: Mapping[str, np.ndarray], class_names: Sequence[str]) -> Figure:
    """One bar panel per class-wise score (F, DOA/localisation error, relative distance error), per class."""
    panels = []
    for prefix, label in PANELS:
        for name, values in classwise.items():
            if name.startswith(prefix):
                panels.append((name, label, np.asarray(values, dtype=float)))
                break
    panels = panels[:3]
    figure = new_figure(10.0, 2.6 * max(len(panels), 1))
    axes_list = np.atleast_1d(figure.subplots(max(len(panels), 1), 1, sharex=True))
    positions = np.arange(len(class_names))
    for axes, (name, label, values), colour in zip(axes_list, panels, COLOURS):
        shown = np.where(np.isfinite(values), values, 0.0)
        bars = axes.bar(positions, shown, color=colour)
        for bar, value in zip(bars, values):
            if not np.isfinite(value):
                axes.annotate("–", (bar.get_x() + bar.get_width() / 2, 0), ha="center", va="bottom", fontsize=8)
        axes.set_ylabel(label, fontsize=8)
        axes.set_title(name, fontsize=9, loc="left")
        tidy(axes)
    axes_list[-1].set_xticks(positions, list(class_names), rotation=45, ha="right", fontsize=8)
    return figure
