"""Figures of clip-level results: per-class AP, angular errors, error by azimuth, distance errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
from matplotlib.figure import Figure
from matplotlib.projections.polar import PolarAxes

from seldkit.report.figures.style import COLOURS, NEUTRAL, new_figure, tidy

MAX_CLASS_BARS = 60  # beyond this, the best and the worst half of it are shown


def per_class_ap(ap: np.ndarray, names: Sequence[str], *, intervals: np.ndarray | None = None) -> Figure:
    """Horizontal bars of per-class AP, best first, with bootstrap intervals where given (``[C, 2]``).

    Classes without an AP (no positives) are left out; with more than :data:`MAX_CLASS_BARS` classes the best
    and the worst :data:`MAX_CLASS_BARS` / 2 are shown.
    """
    scored = np.flatnonzero(np.isfinite(ap))
    order = scored[np.argsort(-ap[scored], kind="stable")]
    title = f"Per-class average precision ({order.size} classes with positives)"
    if order.size > MAX_CLASS_BARS:
        half = MAX_CLASS_BARS // 2
        order = np.concatenate([order[:half], order[-half:]])
        title += f": best {half} and worst {half}"
    figure = new_figure(8.0, 1.2 + 0.19 * max(order.size, 1))
    axes = figure.add_subplot()
    positions = np.arange(order.size)
    axes.barh(positions, ap[order], color=COLOURS[0], height=0.7)
    if intervals is not None:
        low, high = intervals[order, 0], intervals[order, 1]
        valid = np.isfinite(low) & np.isfinite(high)
        centre = ap[order]
        axes.errorbar(
            centre[valid],
            positions[valid],
            xerr=np.abs(np.stack([centre[valid] - low[valid], high[valid] - centre[valid]])),
            fmt="none",
            ecolor="black",
            elinewidth=0.8,
            capsize=2,
        )
    axes.set_yticks(positions, [str(names[index])[:40] for index in order], fontsize=7)
    axes.invert_yaxis()
    axes.set_xlim(0, 1.0)
    axes.set_xlabel("AP")
    axes.set_title(title, fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="x", alpha=0.3)
    return figure


def angular_errors(angles_deg: np.ndarray, *, threshold_deg: float = 20.0) -> Figure:
    """Distribution of the great-circle errors (histogram) and its cumulative curve with the threshold line."""
    figure = new_figure(9.0, 3.4)
    histogram, cumulative = figure.subplots(1, 2)
    histogram.hist(angles_deg, bins=np.arange(0.0, 185.0, 5.0), color=COLOURS[0])
    histogram.axvline(threshold_deg, color=COLOURS[1], linestyle="--", linewidth=1)
    histogram.set_xlabel("angular error (degrees)")
    histogram.set_ylabel("clips")
    histogram.set_title("Angular error", fontsize=10)
    tidy(histogram)
    ordered = np.sort(angles_deg)
    fraction = np.arange(1, ordered.size + 1) / max(ordered.size, 1)
    cumulative.step(ordered, fraction, where="post", color=COLOURS[0])
    within = float(np.mean(angles_deg <= threshold_deg)) if ordered.size else float("nan")
    cumulative.axvline(threshold_deg, color=COLOURS[1], linestyle="--", linewidth=1)
    cumulative.annotate(
        f"{within * 100:.1f} % within {threshold_deg:g}°",
        (threshold_deg, within),
        xytext=(8, -14),
        textcoords="offset points",
        fontsize=8,
        color=COLOURS[1],
    )
    cumulative.set_xlim(0, 180)
    cumulative.set_ylim(0, 1)
    cumulative.set_xlabel("angular error (degrees)")
    cumulative.set_ylabel("fraction of clips")
    cumulative.set_title("Cumulative", fontsize=10)
    tidy(cumulative)
    return figure


def error_by_azimuth(azimuth_ref_deg: np.ndarray, angles_deg: np.ndarray, *, bins: int = 24) -> Figure:
    """Mean angular error per reference-azimuth sector on a polar plot, seen from above with the front up.

    Azimuths follow the clip-file convention (docs/coordinates.md): 0° = right, 90° = front, 180° = left.
    """
    edges = np.linspace(0.0, 360.0, bins + 1)
    sector = np.clip(np.digitize(np.mod(azimuth_ref_deg, 360.0), edges) - 1, 0, bins - 1)
    counts = np.bincount(sector, minlength=bins)
    totals = np.bincount(sector, weights=angles_deg, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)
    figure = new_figure(4.8, 4.8)
    axes = cast(PolarAxes, figure.add_subplot(projection="polar"))
    axes.set_theta_zero_location("E")  # 0° = right, drawn on the right; 90° = front then points up
    axes.set_theta_direction(1)  # counter-clockwise seen from above
    width = 2 * np.pi / bins
    centres = np.radians(edges[:-1]) + width / 2
    axes.bar(centres, np.nan_to_num(mean), width=width * 0.9, color=COLOURS[0], alpha=0.8)
    axes.set_xticks(np.radians([0, 90, 180, 270]), ["right 0°", "front 90°", "left 180°", "back 270°"], fontsize=8)
    axes.set_title("Mean angular error (degrees) by source azimuth", fontsize=10)
    return figure


def distance_errors(
    distance_ref_m: np.ndarray,
    distance_pred_m: np.ndarray,
    wrong: np.ndarray,
    *,
    wrong_label: str = "DER",
    bin_m: float = 0.5,
) -> Figure:
    """Distance errors: confusion of distance bins, and per reference bin the mean error and the share of clips wrong.

    Confusion matrix of distance bins (rows: reference, normalised per row) and, per reference bin, the
    mean absolute error and the share of clips the metric counts as wrong (``wrong``, per clip, as the DER of
    the protocol's mode decides it: so the figure agrees with the table in either mode).
    """
    top = max(float(np.max(distance_ref_m, initial=0)), float(np.max(distance_pred_m, initial=0)))
    n_bins = int(np.floor(top / bin_m)) + 1
    reference_bin = np.floor(distance_ref_m / bin_m).astype(int)
    predicted_bin = np.clip(np.floor(distance_pred_m / bin_m).astype(int), 0, n_bins - 1)
    matrix = np.zeros((n_bins, n_bins))
    np.add.at(matrix, (reference_bin, predicted_bin), 1.0)
    row_totals = matrix.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        normalised = np.where(row_totals > 0, matrix / np.maximum(row_totals, 1), np.nan)
    figure = new_figure(10.0, 4.0)
    confusion, errors = figure.subplots(1, 2, width_ratios=(1.1, 1))
    image = confusion.imshow(
        normalised,
        origin="lower",
        cmap="Blues",
        vmin=0,
        vmax=1,
        extent=(0, n_bins * bin_m, 0, n_bins * bin_m),
        aspect="auto",
    )
    confusion.plot([0, n_bins * bin_m], [0, n_bins * bin_m], color=NEUTRAL, linewidth=0.8, linestyle=":")
    confusion.set_xlabel("predicted distance (m)")
    confusion.set_ylabel("reference distance (m)")
    confusion.set_title(f"Distance confusion ({bin_m:g} m bins, rows sum to 1)", fontsize=10)
    figure.colorbar(image, ax=confusion, shrink=0.8)

    absolute = np.abs(distance_pred_m - distance_ref_m)
    counts = np.bincount(reference_bin, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_error = np.bincount(reference_bin, weights=absolute, minlength=n_bins) / counts
        beyond = np.bincount(reference_bin, weights=np.asarray(wrong, dtype=float), minlength=n_bins) / counts
    centres = (np.arange(n_bins) + 0.5) * bin_m
    present = counts > 0
    errors.bar(centres[present], mean_error[present], width=bin_m * 0.8, color=COLOURS[0], label="mean |error| (m)")
    errors.set_xlabel("reference distance (m)")
    errors.set_ylabel("mean absolute error (m)")
    rate = errors.twinx()
    rate.plot(centres[present], beyond[present], "o-", color=COLOURS[1], label=wrong_label)
    rate.set_ylim(0, 1)
    rate.set_ylabel("share counted wrong (DER)")
    errors.set_title("Distance error by reference distance", fontsize=10)
    errors.spines[["top"]].set_visible(False)
    handles = errors.get_legend_handles_labels()[0] + rate.get_legend_handles_labels()[0]
    errors.legend(handles, [handle.get_label() for handle in handles], fontsize=8, loc="upper left")
    return figure
