"""Figures of SpatialSoundQA results: the per-type scores of the paper's Table 3 as bars."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from seldkit.report.figures.style import COLOURS, new_figure, tidy

# Column letters of the paper's Table 3 and the scores drawn for each question type.
TYPE_COLUMNS = {
    "CLASSIFICATION": ("A", ("mAP_all",)),
    "DOA": ("B", ("direction_acc", "DER")),
    "MIXUP_SINGLE_CLASSIFICATION": ("C", ("mAP_all",)),
    "MIXUP_SINGLE_DOA": ("D", ("direction_acc", "DER")),
    "MIXUP_DIRECTION": ("E", ("accuracy",)),
    "MIXUP_DISTANCE_BOTH": ("E", ("accuracy",)),
    "MIXUP_NONBINARY_DIRECTION": ("E", ("accuracy",)),
    "MIXUP_NONBINARY_DISTANCE": ("E", ("accuracy",)),
    "MIXUP_NONBINARY_SOURCE": ("E", ("accuracy",)),
}


def per_type_scores(
    per_type: Mapping[str, Mapping[str, float]], intervals: Mapping[str, tuple[float, float]] | None = None
) -> Figure:
    """Bars of each question type's scores (in %), labelled with Table 3's column.

    Bootstrap intervals (``intervals["<TYPE>.<metric>"]``) are drawn where given.
    """
    labels: list[str] = []
    colours: list[str] = []
    values: list[float] = []
    lows: list[float] = []
    highs: list[float] = []
    for question_type, (column, metrics) in TYPE_COLUMNS.items():
        results = per_type.get(question_type)
        if not results:
            continue
        for index, metric in enumerate(metrics):
            value = results.get(metric)
            if value is None:
                continue
            labels.append(f"{column}: {question_type.lower()}\n{metric}")
            values.append(100.0 * float(value))
            low, high = (intervals or {}).get(f"{question_type}.{metric}", (np.nan, np.nan))
            lows.append(100.0 * low)
            highs.append(100.0 * high)
            colours.append(COLOURS[index])
    figure = new_figure(max(6.0, 0.9 * len(labels) + 2), 4.2)
    axes = figure.add_subplot()
    positions = np.arange(len(labels))
    axes.bar(positions, values, color=colours)
    centre, low_bound, high_bound = np.array(values), np.array(lows), np.array(highs)
    valid = np.isfinite(low_bound) & np.isfinite(high_bound)
    if valid.any():
        axes.errorbar(
            positions[valid],
            centre[valid],
            yerr=np.abs(np.stack([centre[valid] - low_bound[valid], high_bound[valid] - centre[valid]])),
            fmt="none",
            ecolor="black",
            elinewidth=0.8,
            capsize=3,
        )
    for position, value in zip(positions, values):
        axes.annotate(
            f"{value:.1f}", (position, value), xytext=(0, 2), textcoords="offset points", ha="center", fontsize=7
        )
    axes.set_xticks(positions, labels, rotation=40, ha="right", fontsize=7)
    axes.set_ylabel("%")
    axes.set_ylim(0, 105)
    axes.set_title(
        "SpatialSoundQA scores by question type (columns of the paper's Table 3; DER: lower is better)", fontsize=9
    )
    tidy(axes)
    return figure
