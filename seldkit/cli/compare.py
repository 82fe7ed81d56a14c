"""``seldkit compare A B --ref REF [--protocol NAME|FILE] [--group-by COLUMN --groups FILE] [--json OUT] ...``.

A and B are two systems' outputs on the same references, in any form ``seldkit score`` takes (clip CSVs, DCASE
folders, SpatialSoundQA answers), or two ``train-reference`` run folders (then their predictions, their shared
references and their evaluation protocol are used), or two folders of ``train-reference --seeds N`` runs (seed k of
A paired with seed k of B, the seeds resampled with the clips); every metric of the protocol is compared by a
paired bootstrap.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from seldkit.cli.options import MAX_RESAMPLES, resample_count


def register(commands: Any) -> None:
    """Add the ``compare`` command to the subcommand parsers ``commands``."""
    parser = commands.add_parser(
        "compare",
        help="paired bootstrap comparison of two systems on the same references",
        description="Is B really better than A? Scores both systems under one protocol and compares every metric "
        "by a paired bootstrap over clips, questions or recordings: difference B - A, interval, p-value, verdict.",
    )
    parser.add_argument(
        "system_a",
        metavar="A",
        help="first system's predictions (file, DCASE folder, run folder or folder of --seeds runs)",
    )
    parser.add_argument("system_b", metavar="B", help="second system's predictions, same form as A")
    parser.add_argument(
        "--ref", metavar="REF", help="the references both systems are scored against (not for run folders)"
    )
    parser.add_argument("--protocol", metavar="NAME|FILE", help="protocol (default: recognised from the inputs)")
    parser.add_argument("--json", metavar="OUT", type=Path, help="write the comparison JSON here")
    parser.add_argument(
        "--resamples",
        type=resample_count,
        default=1000,
        metavar="N",
        help=f"paired resamples (default 1000, at most {MAX_RESAMPLES:,})",
    )
    parser.add_argument(
        "--group-by",
        metavar="COLUMN",
        help="clip-level: resample the clusters of clips that share COLUMN of the --groups file (e.g. the impulse "
        "response or room) instead of single clips",
    )
    parser.add_argument(
        "--groups", metavar="FILE", type=Path, help="clip metadata CSV with clip_id and the --group-by column"
    )
    parser.add_argument("--embedder", choices=("minilm", "trigram256"), help="SpatialSoundQA: sentence embedder")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``seldkit compare``: print the comparison of A and B, and write its JSON with ``--json``; the exit code."""
    from seldkit.cli.format_compare import format_comparison
    from seldkit.cli.options import output_file
    from seldkit.cli.score import write_results_json
    from seldkit.errors import InputError
    from seldkit.protocols import Protocol, load_protocol
    from seldkit.scoring.detect import infer_protocol_name
    from seldkit.tasks import compare_systems, task_for
    from seldkit.train.seeds import is_seeds_folder

    output_file(args.json, what="comparison file")
    systems = [Path(args.system_a), Path(args.system_b)]
    for path in systems:
        if not os.path.lexists(path):  # a broken or looping symlink exists: reading it names the problem
            raise InputError("not found", file=str(path))
    if any(is_seeds_folder(path) for path in systems):
        report = _compare_seed_runs(systems, args)
        write_results_json(args.json, report.results_json())
        print(format_comparison(report))
        return 0
    runs = [(path / "run.json").is_file() for path in systems]
    if any(runs):
        if not all(runs) or args.ref or args.protocol:
            raise InputError(
                "run folders are compared with each other, on their own references and protocol: "
                "give two run folders and no --ref/--protocol",
                file=f"{systems[0]} / {systems[1]}",
            )
        paths, protocol_name = _run_inputs(systems)
        groups = _run_groups(systems, args)
    else:
        groups = _groups(args)
        if args.ref is None:
            raise InputError("give --ref REF: the references both systems are scored against")
        paths, protocol_name = [*systems, Path(args.ref)], args.protocol
        if not os.path.lexists(paths[2]):
            raise InputError("not found", file=str(paths[2]))
    if paths[0].is_dir() != paths[1].is_dir():
        raise InputError("A and B must have the same form (two files or two folders)", file=f"{paths[0]} / {paths[1]}")
    protocol = (
        protocol_name
        if isinstance(protocol_name, Protocol)
        else load_protocol(protocol_name or infer_protocol_name(paths[0], paths[2]))
    )
    task = task_for(protocol)
    if args.embedder and "embedder" not in task.options:
        raise InputError(f"--embedder does not apply to protocol {protocol.name!r} (task {protocol.task})")
    protocol = task.configure(protocol, {"embedder": args.embedder})  # recorded with the embedder's protocol hash
    report = compare_systems(paths[0], paths[1], paths[2], protocol, n_resamples=args.resamples, groups=groups)
    write_results_json(args.json, report.results_json())
    print(format_comparison(report))
    return 0


def _groups(args: argparse.Namespace) -> Any:
    """The clusters of ``--group-by`` / ``--groups`` (None without them); both or neither."""
    from seldkit.errors import InputError
    from seldkit.io.clip import ClipGroups

    if (args.group_by is None) != (args.groups is None):
        raise InputError("--group-by COLUMN and --groups FILE go together: the column, and the file that holds it")
    if args.group_by is None:
        return None
    if not os.path.lexists(args.groups):
        raise InputError("not found", file=str(args.groups))
    return ClipGroups(args.groups, args.group_by)


def _run_groups(runs: list[Path], args: argparse.Namespace) -> Any:
    """Two (or more: seeds') runs' clusters of test clips; None for clip-level resampling.

    The column is ``--group-by``, else the grouping the training protocol declares (recorded in run.json); the
    labels come from ``--groups``, else the runs' ``clips.csv`` (which must be the same for all).
    """
    from seldkit.errors import InputError
    from seldkit.io.clip import ClipGroups
    from seldkit.train.run_folder import RunFolder

    if args.groups is not None:
        return _groups(args)
    folders = [RunFolder(run) for run in runs]
    column = args.group_by or folders[0].read_description().get("group_by")
    if column is None:
        return None
    if not isinstance(column, str):
        raise InputError("group_by must be a column name", file=str(folders[0].description))
    for folder in folders:
        if not folder.clips.is_file():
            raise InputError(
                f"this run has no clips.csv to group its clips by {column!r} (a run of an earlier seldkit); give "
                "--groups FILE",
                file=str(folder.path),
            )
    first = folders[0].clips.read_bytes()
    for folder in folders[1:]:
        if folder.clips.read_bytes() != first:
            which = "the two runs'" if len(folders) == 2 else "the runs'"
            raise InputError(f"{which} test clips differ (clips.csv)", file=f"{runs[0]} / {folder.path}")
    return ClipGroups(folders[0].clips, column)


def _run_inputs(runs: list[Path]) -> tuple[list[Path], Any]:
    """Predictions of two finished runs, the references they share, and the protocol they were scored under."""
    from seldkit.errors import InputError
    from seldkit.io.jsonfile import read_json_file
    from seldkit.protocols import protocol_from_summary
    from seldkit.train.run_folder import RunFolder

    folders = [RunFolder(run) for run in runs]
    protocols = []
    for folder in folders:
        folder.read_description()
        for path in (folder.predictions, folder.references, folder.results):
            if not path.is_file():
                raise InputError(
                    f"this run has no {path.name} (not finished? run the same train-reference command "
                    "again to continue it)",
                    file=str(folder.path),
                )
        results = read_json_file(folder.results)
        protocols.append(
            protocol_from_summary(results.get("protocol") if isinstance(results, dict) else None, file=folder.results)
        )
    if folders[0].references.read_bytes() != folders[1].references.read_bytes():
        raise InputError("the two runs were tested on different references", file=f"{runs[0]} / {runs[1]}")
    if protocols[0].hash != protocols[1].hash:
        raise InputError("the two runs were scored under different protocols", file=f"{runs[0]} / {runs[1]}")
    return [folders[0].predictions, folders[1].predictions, folders[0].references], protocols[0]


def _compare_seed_runs(systems: list[Path], args: argparse.Namespace) -> Any:
    """Compare two folders of several seeds' runs (``train-reference --seeds N``), seed k of A with seed k of B.

    Both need the same number of seeds, tested on the same references (and clips.csv when grouping); a folder of
    seeds against anything else is refused. Returns the :class:`~seldkit.scoring.compare.ComparisonReport`.
    """
    from seldkit.errors import InputError
    from seldkit.scoring.compare import compare_clip_seeds, comparison_report
    from seldkit.tasks import task_for
    from seldkit.train.seeds import SeedsFolder, is_seeds_folder

    where = f"{systems[0]} / {systems[1]}"
    if not all(is_seeds_folder(path) for path in systems):
        raise InputError(
            "one of A and B holds the runs of several seeds (seeds.json) and the other does not: compare two such "
            "folders, or two single runs (e.g. a seed's folder, DIR/seed0)",
            file=where,
        )
    if args.ref or args.protocol or args.embedder:
        raise InputError(
            "folders of seeds' runs are compared on their own references and protocol: give no "
            "--ref/--protocol/--embedder",
            file=where,
        )
    folders = [SeedsFolder(path) for path in systems]
    counts = [len(folder.read_description()["seeds"]) for folder in folders]
    if counts[0] != counts[1]:
        raise InputError(
            f"A has {counts[0]} seeds and B {counts[1]}: the seeds are paired one by one, so both need as many",
            file=where,
        )
    runs = [[folder.run(index).path for folder in folders] for index in range(counts[0])]
    inputs = [_run_inputs(pair) for pair in runs]  # each seed finished; A's and B's references the same
    (_, _, references), protocol = inputs[0]
    reference_bytes = references.read_bytes()
    for pair, (paths, pair_protocol) in zip(runs[1:], inputs[1:]):
        where_seed = f"{runs[0][0]} / {pair[0]}"
        if paths[2].read_bytes() != reference_bytes:
            raise InputError("the seeds' runs were tested on different references (references.csv)", file=where_seed)
        if pair_protocol.hash != protocol.hash:
            raise InputError("the seeds' runs were scored under different protocols", file=where_seed)
    pairs = [(paths[0], paths[1]) for paths, _ in inputs]
    if task_for(protocol).name != "clip":
        raise InputError(f"runs scored under a {protocol.task} protocol cannot be compared seed by seed", file=where)
    groups = _run_groups([path for pair in runs for path in pair], args)
    bootstrap = protocol.clip.bootstrap
    comparison = compare_clip_seeds(
        pairs, references, protocol, args.resamples, bootstrap.seed, bootstrap.level, groups=groups
    )
    report = comparison_report(systems[0], systems[1], references, protocol, comparison)
    report.inputs["seeds"] = {
        "n": counts[0],
        "a": [str(pair[0]) for pair in runs],
        "b": [str(pair[1]) for pair in runs],
    }
    if groups is not None:
        report.inputs["groups"] = {"path": str(groups.path), "column": groups.column}
    return report
