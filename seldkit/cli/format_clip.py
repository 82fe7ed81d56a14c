"""The human tables of clip-level scores (percentages like the papers, MAE in degrees)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from seldkit.cli.format_common import number, protocol_line
from seldkit.metrics.metadata import CLIP_METRICS, metric_info

if TYPE_CHECKING:
    from seldkit.scoring.clip import ClipScore


def format_clip_table(score: ClipScore) -> str:
    """The human table: percentages like the papers, MAE in degrees."""
    metrics = score.metrics
    intervals = score.intervals
    header = protocol_line(
        score.protocol, f"{score.mode} mode", f"{metrics.n_clips} clips", f"{len(score.evaluation.class_ids)} classes"
    )
    lines = [header]
    ci_title = f"{intervals.level:.0%} CI ({intervals.n_resamples} bootstrap resamples)" if intervals else ""
    lines.append(f"  {'metric':<8}{'value':>10}  {ci_title}".rstrip())
    for key in CLIP_METRICS:
        value = getattr(metrics, key)
        if value is None:
            continue
        info = metric_info(key)
        row = f"  {info.label:<8}{number(value, info.scale):>8} {info.symbol()}"
        if intervals is not None and key in intervals.bounds:
            low, high = intervals.bounds[key]
            row += f"  [{number(low, info.scale)}, {number(high, info.scale)}]"
        lines.append(row)
    if metrics.n_classes_scored is not None:
        lines.append(f"  mAP over {metrics.n_classes_scored} of {len(score.evaluation.class_ids)} classes")
    return "\n".join(lines)


def format_per_class_table(score: ClipScore) -> str:
    """The per-class table: AP in % (with its interval), positives and display name of each class."""
    metrics = score.metrics
    if metrics.per_class_AP is None:
        return "(no class-score columns: no per-class table)"
    positives = score.n_positive()
    per_class_ap = metrics.per_class_AP
    per_class_ci = score.per_class_ap_intervals()
    width = max(8, *(len(class_id) for class_id in score.evaluation.class_ids))
    lines = [f"  {'class':<{width}}  {'AP %':>7}  {'pos':>5}" + ("  CI" if per_class_ci is not None else "")]
    for index, class_id in enumerate(score.evaluation.class_ids):
        ap = per_class_ap[index]
        row = f"  {class_id:<{width}}  {number(ap, 100.0):>7}  {int(positives[index]):>5}"
        if per_class_ci is not None:
            row += f"  [{number(per_class_ci[index][0], 100.0)}, {number(per_class_ci[index][1], 100.0)}]"
        name = score.class_name(class_id)
        if name:
            row += f"  {name}"
        lines.append(row)
    return "\n".join(lines)
