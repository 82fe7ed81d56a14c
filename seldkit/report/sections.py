"""Report sections: the tables and figures of clip-level, DCASE and SpatialSoundQA scores and of comparisons.

Each builder takes scores (or a results JSON) and returns :class:`~seldkit.report.html.Section` objects; the
figures come from :mod:`seldkit.report.figures`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from seldkit.metrics.metadata import CLIP_METRICS, metric_info
from seldkit.report.html import FigureItem, Note, Section, Table

if TYPE_CHECKING:
    from seldkit.scoring.clip import ClipScore
    from seldkit.scoring.compare import ComparisonReport

# The 13 sound classes of STARSS22/23 (DCASE 2022-2025 Task 3), in class-index order.
DCASE_CLASS_NAMES = (
    "femaleSpeech",
    "maleSpeech",
    "clapping",
    "telephone",
    "laughter",
    "domesticSounds",
    "footsteps",
    "doorCupboard",
    "music",
    "musicalInstrument",
    "waterTap",
    "bell",
    "knock",
)


def clip_summary(score: ClipScore, chance: Mapping[str, Any] | None) -> Section:
    """The clip metrics table (with their intervals, and the chance baseline where there is one)."""
    intervals = score.intervals
    bounds = intervals.bounds if intervals is not None else {}
    label = f"{intervals.level * 100:g} % interval" if intervals is not None else "interval"
    section = _clip_scores_section(score.metrics.scalars(), bounds, chance, label)
    diagnostics = score.direction_diagnostics()
    if diagnostics is not None:
        section.items.append(_diagnostics_line(diagnostics.lateral_MAE, diagnostics.folded_MAE))
    if intervals is not None:
        section.items.append(
            f"Intervals: percentile bootstrap over clips, {intervals.n_resamples} resamples, seed {intervals.seed}."
        )
    return section


def clip_summary_from_json(document: Mapping[str, Any]) -> Section:
    """The clip metrics table of a results JSON."""
    listed = (document.get("intervals") or {}).get("metrics", {})
    bounds = {name: (entry.get("low"), entry.get("high")) for name, entry in listed.items()}
    section = _clip_scores_section(
        document["metrics"], bounds, (document.get("chance") or {}).get("metrics"), "interval"
    )
    diagnostics = document.get("diagnostics")
    if isinstance(diagnostics, Mapping) and all(
        isinstance(diagnostics.get(key), (int, float)) for key in ("lateral_MAE", "folded_MAE")
    ):
        section.items.append(_diagnostics_line(float(diagnostics["lateral_MAE"]), float(diagnostics["folded_MAE"])))
    return section


def _diagnostics_line(lateral: float, folded: float) -> str:
    return (
        f"Direction diagnostics: lateral-angle error {lateral:.2f}° (left/right only), front/back-folded error "
        f"{folded:.2f}° (front/back confusions forgiven); see metrics/clip.md."
    )


def _clip_scores_section(
    metrics: Mapping[str, Any],
    bounds: Mapping[str, tuple[Any, Any]],
    chance: Mapping[str, Any] | None,
    interval_label: str,
) -> Section:
    header = ["metric", "value"] + ([interval_label] if bounds else []) + (["chance"] if chance else [])
    rows = []
    for name in CLIP_METRICS:
        if metrics.get(name) is None:
            continue
        info = metric_info(name)
        row = [info.label, info.display(metrics[name])]
        if bounds:
            low, high = bounds.get(name, (None, None))
            row.append(f"{info.display(low)} – {info.display(high)}")
        if chance:
            row.append(info.display(chance.get(name)))
        rows.append(tuple(row))
    return Section("Scores", [Table(tuple(header), tuple(rows))])


def clip_figures(score: ClipScore) -> list[Section]:
    """Per-class AP, angular errors and distance errors of clip-level scores, as far as the inputs allow."""
    from seldkit.report.figures import clip as figures

    sections = []
    per_clip, evaluation = score.per_clip, score.evaluation
    if score.metrics.per_class_AP is not None:
        known = _audioset_names()
        names = [score.class_name(class_id) or known.get(class_id, class_id) for class_id in evaluation.class_ids]
        intervals = score.per_class_ap_intervals()
        # reference mode scores a class without positives as AP 0; the figure shows the classes that occur
        ap = np.where(score.n_positive() > 0, score.metrics.per_class_AP, np.nan)
        sections.append(Section("Sound events", [per_class_item(ap, names, intervals)]))
    settings = score.protocol.clip
    if per_clip is not None and per_clip.angles is not None:
        threshold = settings.error_threshold_deg
        sections.append(
            Section(
                "Direction",
                [
                    FigureItem(
                        "angular_error",
                        f"Great-circle error between predicted and reference direction per clip; the "
                        f"dashed line is the {threshold:g}° threshold of ER{threshold:g}.",
                        figures.angular_errors(per_clip.angles, threshold_deg=threshold),
                    ),
                    FigureItem(
                        "error_by_azimuth",
                        "Mean angular error per 15° sector of the reference azimuth, seen from above with the "
                        "front up (0° = right, 90° = front, 180° = left).",
                        figures.error_by_azimuth(evaluation.reference["azimuth"], per_clip.angles),
                    ),
                ],
            )
        )
    if per_clip is not None and per_clip.distance_wrong is not None:
        rule = (
            f"errors beyond {settings.distance_tolerance_m:g} m"
            if settings.mode == "continuous"
            else "distance classes (0.5 m, rounded) more than one class apart"
        )
        sections.append(
            Section(
                "Distance",
                [
                    FigureItem(
                        "distance_errors",
                        f"Distance confusion (0.5 m bins) and error by reference distance; DER counts {rule}.",
                        figures.distance_errors(
                            evaluation.reference["distance"], evaluation.predicted["distance"], per_clip.distance_wrong
                        ),
                    )
                ],
            )
        )
    return sections


def _audioset_names() -> dict[str, str]:
    """Display names of the AudioSet ids (the 355 classes of the encoder protocols).

    They name the classes for protocols whose class set comes from the prediction file.
    """
    from seldkit.protocols import audioset_classes

    return dict(audioset_classes().names)


def per_class_item(ap: np.ndarray, names: list[str], intervals: np.ndarray | None) -> FigureItem:
    """The per-class AP figure (best first, with intervals where given)."""
    from seldkit.report.figures.clip import per_class_ap

    caption = "Average precision per sound class, best first" + (
        ", with bootstrap intervals." if intervals is not None else "."
    )
    return FigureItem("per_class_ap", caption, per_class_ap(np.asarray(ap, dtype=float), names, intervals=intervals))


def dcase_sections(document: Mapping[str, Any]) -> list[Section]:
    """The DCASE metrics table (with jackknife intervals where computed) and the class-wise figure."""
    from seldkit.report.figures.dcase import classwise_scores

    metrics = document["metrics"]
    intervals = (document.get("intervals") or {}).get("metrics", {})
    header = ("metric", "value") + (("interval (jackknife)",) if intervals else ())
    rows = tuple(
        (name, _plain(value))
        + (
            (f"{_plain(intervals[name]['low'])} – {_plain(intervals[name]['high'])}",)
            if name in intervals
            else (("",) if intervals else ())
        )
        for name, value in metrics.items()
    )
    sections = [Section("Scores", [Table(header, rows)])]
    groups = document.get("groups")
    if groups:  # the official per-group breakdown of 2019-2021
        names = list(metrics)
        group_rows = tuple(
            (f"{group} {key}", str(len(entry["files"])), *(_plain(entry["metrics"].get(name)) for name in names))
            for group, entries in groups.items()
            for key, entry in entries.items()
        )
        sections.append(Section("Per group", [Table(("group", "recordings", *names), group_rows)]))
    per_class = document.get("per_class")
    if per_class:
        indices = sorted(per_class, key=int)
        names = sorted({key for entry in per_class.values() for key in entry if key != "intervals"})
        classwise = {name: np.array([_number(per_class[index].get(name)) for index in indices]) for name in names}
        labels = [DCASE_CLASS_NAMES[int(index)] if int(index) < len(DCASE_CLASS_NAMES) else index for index in indices]
        sections.append(
            Section(
                "Class-wise",
                [
                    FigureItem(
                        "dcase_classwise",
                        "Class-wise location-aware F-score, localisation error and relative distance error "
                        "(where the configuration has them); a dash marks a class without a defined value.",
                        classwise_scores(classwise, labels),
                    )
                ],
            )
        )
    return sections


def qa_sections(document: Mapping[str, Any]) -> list[Section]:
    """The SpatialSoundQA scores per question type: a table and a figure."""
    from seldkit.report.figures.qa import per_type_scores

    per_type = document["metrics"]["per_type"]
    bounds = {
        name: (entry["low"], entry["high"])
        for name, entry in ((document.get("intervals") or {}).get("metrics", {})).items()
    }
    rows = []
    for question_type, results in per_type.items():
        for name, value in results.items():
            if isinstance(value, float):
                interval = bounds.get(f"{question_type}.{name}")
                rows.append(
                    (
                        question_type,
                        name,
                        _plain(value),
                        f"{_plain(interval[0])} – {_plain(interval[1])}" if interval else "",
                    )
                )
    for name, value in document["metrics"].get("E", {}).items():
        if value is not None:
            interval = bounds.get(f"E.{name}")
            rows.append(
                ("E", name, _plain(value), f"{_plain(interval[0])} – {_plain(interval[1])}" if interval else "")
            )
    return [
        Section("Scores", [Table(("question type", "metric", "value", "interval"), tuple(rows))]),
        Section(
            "By question type",
            [
                FigureItem(
                    "qa_per_type",
                    "Scores per question type (the paper's Table 3 "
                    "columns A-E), with bootstrap intervals where computed.",
                    per_type_scores(per_type, bounds),
                )
            ],
        ),
    ]


def comparison_section(report: ComparisonReport) -> Section:
    """The paired comparison of two systems: a table of the differences and their figure."""
    from seldkit.report.figures.comparison import paired_differences

    comparison = report.comparison
    a, b = report.inputs["a"]["path"], report.inputs["b"]["path"]
    rows = tuple(
        (
            difference.name,
            _plain(difference.a),
            _plain(difference.b),
            f"{difference.difference:+.4g}",
            f"{difference.low:+.4g} – {difference.high:+.4g}",
            f"{difference.p_value:.3g}",
            difference.better,
        )
        for difference in comparison.differences
    )
    return Section(
        "Comparison",
        [
            f"A = {a}; B = {b}; paired bootstrap over {comparison.units}, {comparison.n_resamples} resamples.",
            Table(("metric", "A", "B", "B - A", f"{comparison.level * 100:g} % interval", "p", "better"), rows),
            FigureItem(
                "comparison",
                "Differences B - A with their intervals, one row per metric on its own scale; "
                "coloured by the system the interval favours.",
                paired_differences(comparison),
            ),
        ],
    )


def clip_sections_from_json(document: Mapping[str, Any]) -> list[Section]:
    """The sections of a clip-level results JSON: the scores and, where recorded, per-class AP."""
    sections = [clip_summary_from_json(document)]
    per_class = document.get("per_class") or {}
    if per_class:
        ids = list(per_class)
        ap = np.array(
            [
                _number(per_class[class_id].get("AP")) if per_class[class_id].get("n_positive", 1) else np.nan
                for class_id in ids
            ]
        )
        intervals = None
        if any("AP_interval" in entry for entry in per_class.values()):
            intervals = np.array(
                [per_class[class_id].get("AP_interval", [np.nan, np.nan]) for class_id in ids], dtype=float
            )
            if intervals.shape != (len(ids), 2):
                raise ValueError("per_class AP_interval must be [low, high]")
        names = [str(per_class[class_id].get("name", class_id)) for class_id in ids]
        sections.append(Section("Sound events", [per_class_item(ap, names, intervals)]))
    sections[0].items.append(
        Note(
            "Per-clip figures (angular and distance errors) need the predictions: run "
            "seldkit report PREDS --ref REF --protocol NAME."
        )
    )
    return sections


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _plain(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    return f"{value:.4g}" if isinstance(value, float) else str(value)
