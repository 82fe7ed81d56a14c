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

# The options that belong to one task (a task's ``options`` lists those it takes).
TASK_OPTIONS = ("embedder", "average", "config", "dcase_compat")


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
        help="a shipped protocol (clip, clip-continuous, bat-encoder, bat-encoder-continuous, dcase2019-task3 ... "
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
        help="reproduce the official code's silent skips and misreadings (reference files without prediction, rows "
        "with class indices outside the year's, lines of another column count, the 2025 header skip, the 2019 "
        "negative indices) instead of seldkit's strict defaults",
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
    from seldkit.tasks import task_for

    predictions, references = Path(args.predictions), Path(args.ref)
    for path in (predictions, references):
        if not os.path.lexists(path):  # a broken or looping symlink exists: reading it names the problem
            raise InputError("not found", file=str(path))
    output_file(args.json, what="results file")
    protocol = load_protocol(args.protocol or infer_protocol_name(predictions, references))
    task = task_for(protocol)
    task.check_inputs(predictions, references, protocol)
    if args.ci is not None and (args.ci == "jackknife") != (task.interval == "jackknife"):
        if task.interval == "jackknife":
            raise InputError("DCASE intervals are jackknife intervals over recordings: use --ci jackknife")
        raise InputError(
            f"--ci jackknife is for DCASE folders; {protocol.task} scores take --ci N (bootstrap resamples)"
        )
    given = [name for name in TASK_OPTIONS if getattr(args, name) and name not in task.options]
    if given:
        options = ", ".join(f"--{name.replace('_', '-')}" for name in given)
        raise InputError(f"{options} does not apply to protocol {protocol.name!r} (task {protocol.task})")
    protocol = task.configure(protocol, {name: getattr(args, name) for name in TASK_OPTIONS})
    scored = task.score(
        predictions,
        references,
        protocol,
        resamples=args.ci if isinstance(args.ci, int) else None,
        jackknife=args.ci == "jackknife",
    )
    write_results_json(args.json, scored.results_json())
    print(task.table(scored, per_class=args.per_class))
    for note in task.notes(scored):
        print(f"note: {note}")
    return 0


def write_results_json(path: Path | None, document: dict[str, Any]) -> None:
    """Write ``document`` to ``path`` atomically; nothing without a path."""
    if path is None:
        return
    from seldkit.results import write_json_atomic

    write_json_atomic(path, document)
