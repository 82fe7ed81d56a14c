"""Figures of a training run: loss and training-accuracy curves per stage, DSpAST feature attention."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from seldkit.report.figures.style import COLOURS, NEUTRAL, new_figure, tidy


def training_curves(history: Sequence[Mapping[str, Any]]) -> Figure:
    """Per-epoch losses (log scale) and, when logged, training-batch accuracies, across all stages.

    Stage boundaries are marked and labelled.
    """
    epochs = np.arange(1, len(history) + 1)
    loss_names = sorted(
        {key for record in history for key in record if key.startswith("loss_") and key != "loss_total"}
    )
    accuracy_names = sorted({key for record in history for key in record if key.startswith("train_")})
    rows = 2 if accuracy_names else 1
    figure = new_figure(9.0, 3.2 * rows)
    axes_list = np.atleast_1d(figure.subplots(rows, 1, sharex=True))
    panels = [(axes_list[0], loss_names, True)]
    if accuracy_names:
        panels.append((axes_list[1], accuracy_names, False))
    for axes, names, log_scale in panels:
        for name, colour in zip(names, COLOURS):
            values = np.array([record.get(name, np.nan) for record in history], dtype=float)
            axes.plot(
                epochs,
                values,
                "o-",
                markersize=3,
                color=colour,
                label=name.removeprefix("loss_").removeprefix("train_"),
            )
        if log_scale:
            axes.set_yscale("log")
            axes.set_ylabel("mean training loss")
        else:
            axes.set_ylim(0, 1)
            axes.set_ylabel("training-batch accuracy")
        axes.legend(fontsize=8, loc="best")
        tidy(axes)
    stages = [record.get("stage", "") for record in history]
    top_axes = axes_list[0]
    for index, stage in enumerate(stages):
        if index == 0 or stage != stages[index - 1]:
            for axes in axes_list:
                axes.axvline(index + 0.5, color=NEUTRAL, linewidth=0.8, linestyle=":")
            top_axes.annotate(stage, (index + 0.6, 1.0), xycoords=("data", "axes fraction"), fontsize=8, va="top")
    axes_list[-1].set_xlabel("epoch (all stages)")
    top_axes.set_title("Training curves", fontsize=10)
    return figure


def feature_attention(gates: np.ndarray, branches: Sequence[str], features: Sequence[str]) -> Figure:
    """Bars of the average feature-attention weight per branch and input feature (the DSpAST paper's Figure 2).

    The rows of ``gates`` are the branches, its columns the input features.
    """
    figure = new_figure(8.0, 3.6)
    axes = figure.add_subplot()
    positions = np.arange(len(features))
    width = 0.8 / max(len(branches), 1)
    for index, (branch, colour) in enumerate(zip(branches, COLOURS)):
        axes.bar(
            positions + (index - (len(branches) - 1) / 2) * width, gates[index], width=width, color=colour, label=branch
        )
    axes.set_xticks(positions, list(features), fontsize=8)
    axes.set_ylim(0, 1)
    axes.set_ylabel("mean attention weight")
    axes.set_title("DSpAST feature attention per branch (test clips)", fontsize=10)
    axes.legend(fontsize=8, title="branch", title_fontsize=8)
    tidy(axes)
    return figure
