"""Choosing a report's sections from its input.

The input is a ``train-reference`` run folder, a results JSON, or a prediction file/folder scored on the fly
exactly as ``seldkit score`` scores it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seldkit.errors import InputError
from seldkit.io.jsonfile import read_json_file
from seldkit.metrics.metadata import CLIP_METRICS, metric_info
from seldkit.report.html import FigureItem, Note, Report, Section, Table

if TYPE_CHECKING:
    from seldkit.protocols import Protocol
    from seldkit.scoring.clip import ClipScore
    from seldkit.train.run_folder import RunFolder

DEFAULT_RESAMPLES = 1000

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


def build_report(
    source: Path,
    *,
    references: Path | None = None,
    protocol: str | None = None,
    compare_with: Path | None = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    embedder: str | None = None,
) -> Report:
    """The report on ``source`` (see the module docstring).

    ``compare_with`` adds a paired comparison (``source`` = A, ``compare_with`` = B) on the same references.

    Labels come from the inputs (class ids, stage names) and are drawn as plain text: matplotlib's mathtext
    is off, so a ``$`` in a class id is a dollar sign, not a formula that fails to parse.
    """
    import matplotlib

    with matplotlib.rc_context({"text.parse_math": False}):
        return _build_report(
            source,
            references=references,
            protocol=protocol,
            compare_with=compare_with,
            n_resamples=n_resamples,
            embedder=embedder,
        )


def _build_report(
    source: Path,
    *,
    references: Path | None,
    protocol: str | None,
    compare_with: Path | None,
    n_resamples: int,
    embedder: str | None,
) -> Report:
    if not os.path.lexists(source):
        raise InputError("not found", file=str(source))
    if source.is_dir() and (source / "run.json").is_file():
        if references is not None or protocol is not None:
            raise InputError(
                "a run folder is scored under its own protocol against its own references: "
                "leave out --ref and --protocol",
                file=str(source),
            )
        return _run_report(source, compare_with, n_resamples)
    if references is None:
        if source.is_file() and source.suffix.lower() == ".json":
            if compare_with is not None:
                raise InputError("--compare needs predictions, not a results JSON", file=str(source))
            return _results_report(source)
        raise InputError(
            "give --ref REF to score these predictions (or pass a run folder or a results JSON)", file=str(source)
        )
    return _predictions_report(source, references, protocol, compare_with, n_resamples, embedder)


# -- run folders -------------------------------------------------------------------------------------------
def _run_report(run_dir: Path, compare_with: Path | None, n_resamples: int) -> Report:
    from seldkit.protocols import protocol_from_summary
    from seldkit.scoring.clip import score_clip_files
    from seldkit.train.run_folder import RunFolder

    folder = RunFolder(run_dir)
    run = folder.read_description()
    if not folder.results.is_file():
        raise InputError(
            "this run has not finished (no results.json): run the same train-reference command again to continue it",
            file=str(run_dir),
        )
    results = read_json_file(folder.results)
    if not isinstance(results, dict):
        raise InputError("not a seldkit results JSON (a mapping with protocol and metrics)", file=str(folder.results))
    protocol = protocol_from_summary(results.get("protocol"), file=folder.results)
    score = score_clip_files(folder.predictions, folder.references, protocol, n_resamples=n_resamples)
    training: dict[str, Any] = results["training"] if isinstance(results.get("training"), dict) else {}
    seconds = training.get("seconds")
    lines = (
        f"run folder: {run_dir}",
        f"model: {training.get('model', run['model'])} ({training.get('size', run['size'])}), "
        f"{training.get('epochs', '?')} epochs in "
        f"{f'{seconds:.0f}' if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) else '?'} s "
        f"on {training.get('device', '?')}",
        f"training protocol: {run['protocol']['name']} ({run['protocol']['hash'][:19]})",
        f"scored under {protocol.name} (sha256:{protocol.short_hash}) on {score.metrics.n_clips} test clips",
    )
    chance = (results.get("chance") or {}).get("metrics") if isinstance(results.get("chance"), dict) else None
    if chance is not None and not _is_metric_mapping(chance):
        raise InputError("chance.metrics must map metric names to numbers", file=str(folder.results))
    sections = [_clip_summary(score, chance), *_clip_figures(score)]
    sections.append(_training_section(folder, run))
    if compare_with is not None:
        other = compare_with / "predictions.csv" if (compare_with / "run.json").is_file() else compare_with
        sections.append(_comparison_section(folder.predictions, other, folder.references, protocol, n_resamples))
    return Report(f"seldkit report: {run['model']} run", lines, sections)


def _is_metric_mapping(value: Any) -> bool:
    return isinstance(value, dict) and all(
        item is None or (isinstance(item, (int, float)) and not isinstance(item, bool)) for item in value.values()
    )


def _training_section(folder: RunFolder, run: Mapping[str, Any]) -> Section:
    from seldkit.report.figures.training import training_curves

    section = Section("Training")
    history = _read_history(folder.log)
    stages = _recorded_stages(run, folder.description)
    if stages:
        section.items.append(
            Table(
                ("stage", "epochs", "lr", "loss weights (events, distance, direction)", "weighted sampling", "mixup"),
                tuple(
                    (
                        stage["name"],
                        str(stage["epochs"]),
                        f"{stage['lr']:g}",
                        ", ".join(f"{w:g}" for w in stage["loss_weights"]),
                        "yes" if stage["weighted_sampling"] else "no",
                        f"{stage['mixup']:g}",
                    )
                    for stage in stages
                ),
            )
        )
    if history:
        section.items.append(
            FigureItem(
                "training_curves",
                "Mean training losses per epoch (log scale) and, where "
                "logged, training-batch accuracies; dotted lines mark the curriculum stages.",
                training_curves(history),
            )
        )
    if run.get("model") == "dspast":
        section.items.extend(_attention_items(folder, run))
    return section


def _recorded_stages(run: Mapping[str, Any], path: Path) -> list[dict[str, Any]]:
    """The curriculum stages ``run.json`` records, checked (they are drawn into the report)."""
    from seldkit.io.fields import Fields

    stages = run.get("stages", [])
    if not isinstance(stages, list):
        raise InputError("stages must be a list", file=str(path))
    checked = []
    for index, stage in enumerate(stages):
        fields = Fields(stage, file=path, where=f"stages[{index}]")
        checked.append(
            {
                "name": fields.string("name"),
                "epochs": fields.integer("epochs", minimum=0),
                "lr": fields.number("lr"),
                "loss_weights": fields.numbers("loss_weights", length=3),
                "weighted_sampling": fields.boolean("weighted_sampling", False),
                "mixup": fields.number("mixup", 0.0),
            }
        )
    return checked


def _attention_items(folder: RunFolder, run: Mapping[str, Any]) -> list[FigureItem | Note]:
    from seldkit.data.build import default_dataset_dir
    from seldkit.protocols import protocol_from_summary
    from seldkit.report.attention import average_feature_gates
    from seldkit.report.figures.training import feature_attention

    recorded = run["protocol"]
    try:  # a shipped protocol by name, a protocol file by its recorded path; its content as recorded
        training_protocol = protocol_from_summary(recorded, file=folder.description)
    except InputError as error:
        return [
            Note(
                f"Feature attention not computed: the training protocol {recorded['name']!r} is not available here "
                f"as it was ({error.problem})."
            )
        ]
    data_dir = default_dataset_dir(training_protocol)
    if not (data_dir / "dataset.json").is_file() or not folder.checkpoint.is_file():
        return [
            Note(
                f"Feature attention not computed: the run's data set ({data_dir}) or checkpoint is not on this "
                f"machine (seldkit make-dataset --protocol {training_protocol.name} builds it)."
            )
        ]
    gates, branches, features, count = average_feature_gates(folder.checkpoint, data_dir)
    caption = (
        "Average feature-attention weight of each DSpAST branch per input feature, over the first "
        f"{count} test clips (the analysis of the DSpAST paper's Figure 2)."
    )
    return [FigureItem("feature_attention", caption, feature_attention(gates, branches, features))]


# -- predictions scored on the fly -------------------------------------------------------------------------
def _predictions_report(
    source: Path,
    references: Path,
    protocol_name: str | None,
    compare_with: Path | None,
    n_resamples: int,
    embedder: str | None,
) -> Report:
    from seldkit.protocols import load_protocol, with_settings
    from seldkit.scoring.detect import infer_protocol_name

    if not os.path.lexists(references):
        raise InputError("not found", file=str(references))
    protocol = load_protocol(protocol_name or infer_protocol_name(source, references))
    lines = [f"predictions: {source}", f"references: {references}"]
    if protocol.task == "clip":
        from seldkit.scoring.clip import score_clip_files

        score = score_clip_files(source, references, protocol, n_resamples=n_resamples)
        lines.append(f"scored under {protocol.name} (sha256:{protocol.short_hash}) on {score.metrics.n_clips} clips")
        sections = [_clip_summary(score, None), *_clip_figures(score)]
    elif protocol.task == "dcase":
        from seldkit.scoring.dcase import score_dcase_folders

        if not (source.is_dir() and references.is_dir()):
            raise InputError(
                f"is not a folder; protocol {protocol.name!r} scores a prediction folder against a reference folder",
                file=str(references if source.is_dir() else source),
            )
        report = score_dcase_folders(source, references, protocol)
        if report.score.n_files >= 2:  # leave-one-out intervals need two recordings
            from dataclasses import replace

            from seldkit.metrics.dcase.evaluate import jackknife

            report = replace(report, intervals=jackknife(report.score, level=0.95))
        lines.append(
            f"scored under {protocol.name} (sha256:{protocol.short_hash}, configuration "
            f"{report.score.config.name}) on {report.score.n_files} recordings"
        )
        sections = _dcase_sections(report.results_json())
    elif protocol.task == "qa":
        from seldkit.scoring.qa import score_qa_files

        if embedder:
            protocol = with_settings(protocol, embedder=embedder)
        qa_report = score_qa_files(source, references, protocol, n_resamples=n_resamples)
        lines.append(
            f"scored under {protocol.name} (sha256:{protocol.short_hash}) on {qa_report.scores.results['n']} questions"
        )
        sections = _qa_sections(qa_report.results_json())
    else:
        raise InputError(f"protocol {protocol.name!r} (task {protocol.task!r}) has no report in this version")
    if compare_with is not None:
        sections.append(_comparison_section(source, compare_with, references, protocol, n_resamples))
    return Report(f"seldkit report: {source.name}", tuple(lines), sections)


# -- results JSON ------------------------------------------------------------------------------------------
def _results_report(path: Path) -> Report:
    document = read_json_file(path)
    try:
        task, name = document["protocol"]["task"], document["protocol"]["name"]
        if not isinstance(document["metrics"], dict) or not isinstance(task, str) or not isinstance(name, str):
            raise TypeError("metrics")
    except (KeyError, TypeError):
        raise InputError("not a seldkit results JSON (no protocol/metrics)", file=str(path)) from None
    if task not in ("clip", "dcase", "qa"):
        raise InputError(f"no report for results of task {task!r}", file=str(path))
    try:
        return _results_sections(document, path, task, name)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        # The document's structure is checked by reading it: whatever does not have the shape seldkit writes
        # is reported with the field that failed, not as a traceback.
        detail = f"field {error.args[0]!r}" if isinstance(error, KeyError) else " ".join(str(error).split())[:160]
        raise InputError(f"not a seldkit results JSON of task {task} ({detail})", file=str(path)) from None


def _results_sections(document: dict[str, Any], path: Path, task: str, name: str) -> Report:
    protocol = document["protocol"]
    hash_text = protocol.get("hash", "") if isinstance(protocol.get("hash", ""), str) else ""
    lines = (f"results: {path}", f"protocol: {name} ({hash_text[:19]}), n = {document.get('n')}")
    if task == "clip":
        sections = [_clip_summary_from_json(document)]
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
            sections.append(Section("Sound events", [_per_class_item(ap, names, intervals)]))
        sections[0].items.append(
            Note(
                "Per-clip figures (angular and distance errors) need the predictions: run "
                "seldkit report PREDS --ref REF --protocol NAME."
            )
        )
    elif task == "dcase":
        sections = _dcase_sections(document)
    else:
        sections = _qa_sections(document)
    return Report(f"seldkit report: {path.name}", lines, sections)


# -- sections ----------------------------------------------------------------------------------------------
def _clip_summary(score: ClipScore, chance: Mapping[str, Any] | None) -> Section:
    intervals = score.intervals
    bounds = intervals.bounds if intervals is not None else {}
    label = f"{intervals.level * 100:g} % interval" if intervals is not None else "interval"
    section = _clip_scores_section(score.metrics.scalars(), bounds, chance, label)
    if intervals is not None:
        section.items.append(
            f"Intervals: percentile bootstrap over clips, {intervals.n_resamples} resamples, seed {intervals.seed}."
        )
    return section


def _clip_summary_from_json(document: Mapping[str, Any]) -> Section:
    listed = (document.get("intervals") or {}).get("metrics", {})
    bounds = {name: (entry.get("low"), entry.get("high")) for name, entry in listed.items()}
    return _clip_scores_section(document["metrics"], bounds, (document.get("chance") or {}).get("metrics"), "interval")


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


def _clip_figures(score: ClipScore) -> list[Section]:
    from seldkit.report.figures import clip as figures

    sections = []
    per_clip, evaluation = score.per_clip, score.evaluation
    if score.metrics.per_class_AP is not None:
        known = _audioset_names()
        names = [score.class_name(class_id) or known.get(class_id, class_id) for class_id in evaluation.class_ids]
        intervals = score.intervals.per_class_AP if score.intervals is not None else None
        # reference mode scores a class without positives as AP 0; the figure shows the classes that occur
        ap = np.where(score.n_positive() > 0, score.metrics.per_class_AP, np.nan)
        sections.append(Section("Sound events", [_per_class_item(ap, names, intervals)]))
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
                        "Mean angular error per 15° sector of the reference azimuth (front up, left = +90°).",
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


def _per_class_item(ap: np.ndarray, names: list[str], intervals: np.ndarray | None) -> FigureItem:
    from seldkit.report.figures.clip import per_class_ap

    caption = "Average precision per sound class, best first" + (
        ", with bootstrap intervals." if intervals is not None else "."
    )
    return FigureItem("per_class_ap", caption, per_class_ap(np.asarray(ap, dtype=float), names, intervals=intervals))


def _dcase_sections(document: Mapping[str, Any]) -> list[Section]:
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


def _qa_sections(document: Mapping[str, Any]) -> list[Section]:
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


def _comparison_section(a: Path, b: Path, references: Path, protocol: Protocol, n_resamples: int) -> Section:
    from seldkit.report.figures.comparison import paired_differences
    from seldkit.scoring.compare import compare_systems

    comparison = compare_systems(a, b, references, protocol, n_resamples=n_resamples).comparison
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
            f"A = {a}; B = {b}; paired bootstrap over {comparison.n} {comparison.unit}, "
            f"{comparison.n_resamples} resamples.",
            Table(("metric", "A", "B", "B - A", f"{comparison.level * 100:g} % interval", "p", "better"), rows),
            FigureItem(
                "comparison",
                "Differences B - A with their intervals, one row per metric on its own scale; "
                "coloured by the system the interval favours.",
                paired_differences(comparison),
            ),
        ],
    )


# -- helpers -----------------------------------------------------------------------------------------------
def _read_history(path: Path) -> list[dict[str, Any]]:
    """The per-epoch records of ``log.jsonl``; none when the file is absent.

    One JSON object per line, numbers (or null) for the logged losses and accuracies, text for the stage.
    """
    if not path.is_file():
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read the training log: {error}", file=str(path)) from None
    records = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            raise InputError("not a JSON line", file=str(path), line=line_number) from None
        if not isinstance(record, dict) or not isinstance(record.get("stage", ""), str):
            raise InputError("a log line is a JSON object with a text 'stage'", file=str(path), line=line_number)
        for key, value in record.items():
            if key.startswith(("loss_", "train_")) and not (
                value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
            ):
                raise InputError(f"{key} must be a number", file=str(path), line=line_number)
        records.append(record)
    return records


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _plain(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    return f"{value:.4g}" if isinstance(value, float) else str(value)
