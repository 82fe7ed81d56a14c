"""``seldkit make-dataset --protocol NAME --out DIR [--set KEY=VALUE ...]``: build a training protocol's data."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    """Add the ``make-dataset`` command to the subcommand parsers ``commands``."""
    parser = commands.add_parser(
        "make-dataset",
        help="generate (or check) the data set of a training protocol",
        description="Generate the data set of a training protocol in the published layout. Re-running reuses "
        "an existing copy after verifying its checksums.",
    )
    parser.add_argument(
        "--protocol", default="synth-binaural-mini", metavar="NAME|FILE", help="default: synth-binaural-mini"
    )
    parser.add_argument("--out", type=Path, metavar="DIR", help="default: $SELDKIT_CACHE/datasets/<protocol>")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a data parameter of the protocol (published-layout protocols: paths to your copy of the data, "
        "see docs/formats.md)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``seldkit make-dataset``: build (or verify) the protocol's data set, print what it holds; the exit code."""
    import sys
    import time

    from seldkit.data.build import build_dataset, default_dataset_dir
    from seldkit.protocols import load_protocol

    protocol = load_protocol(args.protocol)
    out = args.out or default_dataset_dir(protocol)
    start = time.perf_counter()
    info, reused = build_dataset(protocol, out, settings=parse_settings(args.set), progress=not args.quiet)
    seconds = time.perf_counter() - start
    splits = ", ".join(f"{name} {count}" for name, count in info["splits"].items())
    if info.get("warning"):  # a partial copy of the published data
        print(f"seldkit make-dataset: warning: {info['warning']}", file=sys.stderr)
    verb = "verified existing" if reused else "built"
    print(
        f"{verb} {protocol.name} (sha256:{protocol.short_hash}) in {out}: {splits} clips, "
        f"{len(info['classes'])} classes, {seconds:.1f} s"
    )
    return 0


def parse_settings(items: list[str]) -> dict[str, str]:
    """The ``--set KEY=VALUE`` options as a mapping (a later KEY wins); an :class:`InputError` for any other form."""
    from seldkit.errors import InputError

    settings = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise InputError(f"--set takes KEY=VALUE, not {item!r}")
        settings[key] = value
    return settings
