"""``seldkit score PREDS --ref REF [--protocol NAME|FILE] [--json OUT] [--per-class] [--ci N|jackknife]``.

PREDS/REF are clip-level CSV files (tasks ``clip``) or DCASE Task 3 folders (task ``dcase``); without
``--protocol`` the task, and for DCASE the challenge year, are recognised from the inputs.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from seldkit.cli.options import ci_option


def register(commands: Any) -> None:
    """Add the ``score`` command to the subcommand parsers ``commands``."""
    parser = commands.add_parser(
        "score",
        help="score predictions against references under a protocol",
        description="Score a system's outputs against references under a fixed protocol; print a table and "
        "optionally write a results JSON.",
    )
    parser.add_argument(
        "predictions",
        metavar="PREDS",
        help="predictions: clip CSV, DCASE Task 3 folder, SpatialSoundQA answers (.jsonl or a *_pred decode file)",
    )
    parser.add_argument(
        "--ref", required=True, metavar="REF", help="references: CSV, folder, questions .json or *_gt decode file"
    )
    parser.add_argument(
        "--protocol",
        metavar="NAME|FILE",
        help="a shipped protocol (clip, clip-continuous, bat-encoder, bat-encoder-continuous, dcase2022-task3 ... "
        "dcase2025-task3, spatialsoundqa) or a protocol YAML file; default: recognised from the inputs",
    )
    parser.add_argument("--json", metavar="OUT", type=Path, help="write the results JSON here")
    parser.add_argument("--per-class", action="store_true", help="also print the per-class table")
    parser.add_argument(
        "--ci",
        metavar="N|jackknife",
        type=ci_option,
        help="intervals: N bootstrap resamples (clip metrics, QA) or 'jackknife' over recordings (DCASE)",
    )
    qa = parser.add_argument_group("SpatialSoundQA")
    qa.add_argument(
        "--embedder",
        choices=("minilm", "trigram256"),
        help="sentence embedder for detection answers (default: all-MiniLM-L6-v2, needs the qa extra)",
    )
    dcase = parser.add_argument_group("DCASE Task 3")
    dcase.add_argument("--average", choices=("macro", "micro"), help="class averaging (default: the challenge's)")
    dcase.add_argument("--config", metavar="NAME", help="another metric configuration of the year's official scorer")
    dcase.add_argument(
        "--dcase-compat",
        action="store_true",
        help="reproduce the official code's silent skips (reference files without prediction, rows with class "
        "indices outside 0..12, the 2025 header skip) instead of seldkit's strict defaults",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``seldkit score`` with the scorer of the protocol's task; the exit code.

    Options of another task (``--average`` for clip files, ``--ci jackknife`` outside DCASE, ...) are errors.
    """
    from seldkit.cli.options import output_file
    from seldkit.errors import InputError
    from seldkit.protocols import load_protocol
    from seldkit.scoring.detect import infer_protocol_name

    predictions, references = Path(args.predictions), Path(args.ref)
    for path in (predictions, references):
        if not os.path.lexists(path):  # a broken or looping symlink exists: reading it names the problem
            raise InputError("not found", file=str(path))
    output_file(args.json, what="results file")
    protocol = load_protocol(args.protocol or infer_protocol_name(predictions, references))
    if protocol.task == "clip":
        if predictions.is_dir() or references.is_dir():
            raise InputError(
                f"is a folder; protocol {protocol.name!r} scores clip-level CSV files",
                file=str(predictions if predictions.is_dir() else references),
            )
        if args.ci == "jackknife":
            raise InputError("--ci jackknife is for DCASE folders; clip metrics take --ci N (bootstrap resamples)")
        _reject_options(args, protocol, "average", "config", "dcase_compat", "embedder")
        return _score_clip(args, protocol)
    if protocol.task == "dcase":
        if not (predictions.is_dir() and references.is_dir()):
            raise InputError(
                f"is not a folder; protocol {protocol.name!r} scores a prediction folder against a reference folder",
                file=str(references if predictions.is_dir() else predictions),
            )
        if isinstance(args.ci, int):
            raise InputError("DCASE intervals are jackknife intervals over recordings: use --ci jackknife")
        _reject_options(args, protocol, "embedder")
        return _score_dcase(args, protocol)
    if protocol.task == "qa":
        if predictions.is_dir() or references.is_dir():
            raise InputError(
                f"is a folder; protocol {protocol.name!r} scores answer files",
                file=str(predictions if predictions.is_dir() else references),
            )
        if args.ci == "jackknife":
            raise InputError("--ci jackknife is for DCASE folders; QA scores take --ci N (bootstrap resamples)")
        _reject_options(args, protocol, "average", "config", "dcase_compat")
        return _score_qa(args, protocol)
    raise InputError(f"protocol {protocol.name!r} (task {protocol.task!r}) cannot be scored by this version")


def _score_qa(args: argparse.Namespace, protocol) -> int:
    from seldkit.cli.format_qa import format_qa_table
    from seldkit.protocols import with_settings
    from seldkit.scoring.qa import score_qa_files

    if args.embedder:
        protocol = with_settings(protocol, embedder=args.embedder)
    report = score_qa_files(args.predictions, args.ref, protocol, n_resamples=args.ci)
    write_results_json(args.json, report.results_json())
    print(format_qa_table(report))
    return 0


def _score_clip(args: argparse.Namespace, protocol) -> int:
    from seldkit.cli.format_clip import format_clip_table, format_per_class_table
    from seldkit.scoring.clip import score_clip_files

    score = score_clip_files(args.predictions, args.ref, protocol, n_resamples=args.ci)
    write_results_json(args.json, score.results_json())
    print(format_clip_table(score))
    if args.per_class:
        print()
        print(format_per_class_table(score))
    for note in (*score.evaluation.notes, *_interval_notes(score)):
        print(f"note: {note}")
    return 0


def _score_dcase(args: argparse.Namespace, protocol) -> int:
    from seldkit.cli.format_dcase import format_dcase_per_class, format_dcase_table
    from seldkit.errors import InputError
    from seldkit.metrics.dcase.years import YEAR_RULES
    from seldkit.protocols import with_settings
    from seldkit.scoring.dcase import score_dcase_folders

    settings: dict[str, Any] = {}
    rules = YEAR_RULES[protocol.dcase.year]
    if args.config:
        if args.config not in {config.name for config in rules.configs}:
            known = ", ".join(config.name for config in rules.configs)
            raise InputError(f"{rules.year} has no configuration {args.config!r} (known: {known})")
        settings["configuration"] = args.config
    if args.average:
        current = settings.get("configuration", protocol.dcase.configuration)
        variant = rules.with_average(current, args.average)
        if variant is None:
            raise InputError(f"{rules.year} has no {args.average}-averaged variant of configuration {current!r}")
        settings["configuration"] = variant.name
    if args.dcase_compat:
        settings["compat"] = True
    if settings:
        protocol = with_settings(protocol, **settings)
    report = score_dcase_folders(args.predictions, args.ref, protocol, with_jackknife=args.ci == "jackknife")
    write_results_json(args.json, report.results_json())
    print(format_dcase_table(report))
    if args.per_class:
        print()
        print(format_dcase_per_class(report))
    for note in report.notes:
        print(f"note: {note}")
    return 0


def _reject_options(args: argparse.Namespace, protocol, *names: str) -> None:
    from seldkit.errors import InputError

    given = [f"--{name.replace('_', '-')}" for name in names if getattr(args, name)]
    if given:
        raise InputError(f"{', '.join(given)} does not apply to protocol {protocol.name!r} (task {protocol.task})")


def write_results_json(path: Path | None, document: dict[str, Any]) -> None:
    """Write ``document`` to ``path`` atomically; nothing without a path."""
    if path is None:
        return
    from seldkit.results import write_json_atomic

    write_json_atomic(path, document)


def _interval_notes(score) -> list[str]:
    """Explain an interval that excludes its point value (it happens, and looks like a bug when unexplained)."""
    intervals = score.intervals
    if intervals is None or "mAP" not in intervals.bounds or score.metrics.mAP is None:
        return []
    low, high = intervals.bounds["mAP"]
    if low <= score.metrics.mAP <= high or score.mode != "reference":
        return []
    return [
        "the mAP interval excludes the point value: reference mode counts a class without positives as AP 0, "
        "so resamples that miss a rare class's only positives pull mAP down (see continuous mode)"
    ]
