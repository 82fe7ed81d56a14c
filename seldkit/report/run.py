"""The report of a ``train-reference`` run folder.

Its scores beside the chance baseline, the per-clip figures, the training curves and, for DSpAST, the feature
attention.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from seldkit.errors import InputError
from seldkit.io.jsonfile import read_json_file
from seldkit.report.html import FigureItem, Note, Report, Section, Table
from seldkit.report.sections import clip_figures, clip_summary, comparison_section
from seldkit.train.run_folder import RunFolder


def run_report(run_dir: Path, compare_with: Path | None, n_resamples: int) -> Report:
    """The report of a finished run (a comparison with another run or predictions added by ``compare_with``)."""
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
    sections = [clip_summary(score, chance), *clip_figures(score)]
    sections.append(_training_section(folder, run))
    if compare_with is not None:
        other = compare_with / "predictions.csv" if (compare_with / "run.json").is_file() else compare_with
        from seldkit.tasks import compare_systems

        comparison = compare_systems(folder.predictions, other, folder.references, protocol, n_resamples=n_resamples)
        sections.append(comparison_section(comparison))
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
