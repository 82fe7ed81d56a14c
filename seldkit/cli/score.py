"""``seldkit score PREDS [--ref REF] [--protocol NAME|FILE] [--data DIR] [--split NAME] [--json OUT] ...``.

Also ``--per-class``, ``--ci N|jackknife`` and the options of one task. PREDS/REF are clip-level CSV files (task
``clip``), DCASE Task 3 folders (task ``dcase``) or SpatialSoundQA answers (task ``qa``); without ``--protocol`` the
task, and for DCASE the challenge year, are recognised from the inputs.

Without ``--ref``, the references are those of a split of a training protocol's data set (``--protocol NAME`` of
a training protocol, else the protocol recorded in the predictions' sidecar ``PREDS.seldkit.json``, which
``seldkit predict`` and ``train-reference`` write): the built copy is found and verified, the references are built
as ``train-reference`` builds them, and the predictions are scored under the protocol's evaluation protocol
(:mod:`seldkit.scoring.dataset`).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seldkit.cli.options import ci_option

if TYPE_CHECKING:
    from seldkit.protocols import Protocol
    from seldkit.tasks import Task

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
        "--ref",
        metavar="REF",
        help="references: CSV, folder, questions .json or *_gt decode file; without it, the references of a "
        "training protocol's data set (see --protocol, --data, --split)",
    )
    parser.add_argument(
        "--protocol",
        metavar="NAME|FILE",
        help="a shipped protocol (clip, clip-continuous, bat-encoder, bat-encoder-continuous, dcase2019-task3 ... "
        "dcase2025-task3, spatialsoundqa) or a protocol YAML file; default: recognised from the inputs. Without "
        "--ref: a training protocol (synth-binaural-mini, ...), whose data set holds the references and whose "
        "evaluation protocol scores them; default: the one recorded in PREDS.seldkit.json",
    )
    dataset = parser.add_argument_group("without --ref: the references of a training protocol's data set")
    dataset.add_argument(
        "--data",
        metavar="DIR",
        type=Path,
        help="the data set folder (seldkit make-dataset --out DIR); default: the folder PREDS.seldkit.json records "
        "when it is there, else the cache folder make-dataset builds into",
    )
    dataset.add_argument(
        "--split", metavar="NAME", help="the split to score (default: the one PREDS.seldkit.json records, else test)"
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

    Options of another task (``--average`` for clip files, ``--ci jackknife`` outside DCASE, ...) are errors, as are
    ``--data`` and ``--split`` with ``--ref``. Without ``--ref``: :func:`run_against_dataset`.
    """
    from seldkit.cli.options import output_file
    from seldkit.errors import UsageError
    from seldkit.protocols import load_protocol
    from seldkit.scoring.detect import infer_protocol_name
    from seldkit.tasks import task_for

    if args.ref is None:
        return run_against_dataset(args)
    if args.data is not None or args.split is not None:
        flag = "--data" if args.data is not None else "--split"
        raise UsageError(
            f"{flag} is for scoring without --ref (it chooses the data set that holds the references); give "
            f"--ref REF or {flag}, not both"
        )
    predictions, references = Path(args.predictions), Path(args.ref)
    for path in (predictions, references):
        check_exists(path)
    output_file(args.json, what="results file")
    protocol = load_protocol(args.protocol or infer_protocol_name(predictions, references))
    task = task_for(protocol)
    task.check_inputs(predictions, references, protocol)
    check_task_options(args, task, protocol)
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


def run_against_dataset(args: argparse.Namespace) -> int:
    """``seldkit score PREDS`` without ``--ref``: score against a split of a training protocol's data set."""
    from seldkit.cli.options import output_file
    from seldkit.errors import InputError
    from seldkit.scoring.dataset import resolve_target, score_against_dataset
    from seldkit.tasks import task_for

    predictions = Path(args.predictions)
    check_exists(predictions)
    if predictions.is_dir():
        raise InputError(
            "is a folder: without --ref seldkit scores a clip-level predictions CSV against a training protocol's "
            "data set; give --ref REF for DCASE folders",
            file=str(predictions),
        )
    output_file(args.json, what="results file")
    target = resolve_target(predictions, protocol=args.protocol, data=args.data, split=args.split)
    task = task_for(target.evaluation)
    check_task_options(args, task, target.evaluation)
    scored = score_against_dataset(predictions, target, resamples=args.ci if isinstance(args.ci, int) else None)
    write_results_json(args.json, scored.results_json())
    print(target.description())
    print(task.table(scored.score, per_class=args.per_class))
    for note in task.notes(scored.score):
        print(f"note: {note}")
    return 0


def check_exists(path: Path) -> None:
    """An input that does not exist is an error naming it."""
    from seldkit.errors import InputError

    if not os.path.lexists(path):  # a broken or looping symlink exists: reading it names the problem
        raise InputError("not found", file=str(path))


def check_task_options(args: argparse.Namespace, task: Task, protocol: Protocol) -> None:
    """``--ci`` of the task's kind, and no option of another task (``--average`` for clip files, ...)."""
    from seldkit.errors import InputError

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


def write_results_json(path: Path | None, document: dict[str, Any]) -> None:
    """Write ``document`` to ``path`` atomically; nothing without a path."""
    if path is None:
        return
    from seldkit.results import write_json_atomic

    write_json_atomic(path, document)
