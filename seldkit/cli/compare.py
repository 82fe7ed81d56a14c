"""``seldkit compare A B --ref REF [--protocol NAME|FILE] [--json OUT] [--resamples N]``.

A and B are two systems' outputs on the same references, in any form ``seldkit score`` takes (clip CSVs, DCASE
folders, SpatialSoundQA answers); every metric of the protocol is compared by a paired bootstrap.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "compare",
        help="paired bootstrap comparison of two systems on the same references",
        description="Is B really better than A? Scores both systems under one protocol and compares every metric "
        "by a paired bootstrap over clips, questions or recordings: difference B - A, interval, p-value, verdict.",
    )
    parser.add_argument("system_a", metavar="A", help="first system's predictions (file or DCASE folder)")
    parser.add_argument("system_b", metavar="B", help="second system's predictions, same form as A")
    parser.add_argument("--ref", required=True, metavar="REF", help="the references both systems are scored against")
    parser.add_argument("--protocol", metavar="NAME|FILE", help="protocol (default: recognised from the inputs)")
    parser.add_argument("--json", metavar="OUT", type=Path, help="write the comparison JSON here")
    parser.add_argument("--resamples", type=_positive, default=1000, metavar="N", help="paired resamples (default 1000)")
    parser.add_argument("--embedder", choices=("minilm", "trigram256"), help="SpatialSoundQA: sentence embedder")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from seldkit.cli.format_compare import format_comparison
    from seldkit.cli.score import write_results_json
    from seldkit.scoring.detect import infer_protocol_name
    from seldkit.errors import InputError
    from seldkit.protocols import load_protocol
    from seldkit.scoring.compare import compare_systems

    paths = [Path(args.system_a), Path(args.system_b), Path(args.ref)]
    for path in paths:
        if not path.exists():
            raise InputError("not found", file=str(path))
    if paths[0].is_dir() != paths[1].is_dir():
        raise InputError("A and B must have the same form (two files or two folders)", file=f"{paths[0]} / {paths[1]}")
    protocol = load_protocol(args.protocol or infer_protocol_name(paths[0], paths[2]))
    if args.embedder and protocol.task != "qa":
        raise InputError(f"--embedder does not apply to protocol {protocol.name!r} (task {protocol.task})")
    report = compare_systems(*paths, protocol, n_resamples=args.resamples, embedder=args.embedder)
    write_results_json(args.json, report.results_json())
    print(format_comparison(report))
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value
