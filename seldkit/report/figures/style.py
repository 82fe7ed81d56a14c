"""Shared look of the report figures."""

from __future__ import annotations

from matplotlib.figure import Figure

COLOURS = ("#3465a4", "#cc6633", "#4e9a06", "#75507b", "#c4a000", "#555753")
NEUTRAL = "#888a85"


def new_figure(width: float, height: float) -> Figure:
    """A figure not attached to pyplot, so building reports leaves no global state behind."""
    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return figure


def tidy(axes) -> None:
    """Hide the top and right spines of ``axes`` and add a light horizontal grid."""
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", alpha=0.3)
