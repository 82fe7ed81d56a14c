"""``seldkit report INPUT [--ref REF --protocol NAME] [--compare OTHER] --out report.html``.

INPUT is a ``train-reference`` run folder, a results JSON, or predictions (file or DCASE folder) scored on the
fly against ``--ref`` exactly as ``seldkit score`` would. The report is one self-contained HTML file with the
figures embedded, plus the same figures as PNGs in ``<name>_figures/`` beside it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from seldkit.cli.options import MAX_RESAMPLES, resample_count


def register(commands: Any) -> None:
    """Add the ``report`` command to the subcommand parsers ``commands``."""
    parser = commands.add_parser(
        "report",
        help="an HTML report with figures: per-class AP, angular/distance errors, training curves, comparisons",
        description="Make an HTML report (figures embedded, PNGs beside it) from a train-reference run folder, a "
        "results JSON, or predictions scored against --ref.",
    )
    parser.add_argument("source", metavar="INPUT", type=Path, help="run folder, results JSON, or predictions")
    parser.add_argument("--ref", type=Path, metavar="REF", help="references, when INPUT is predictions")
    parser.add_argument(
        "--protocol", metavar="NAME|FILE", help="protocol for predictions (default: recognised from the inputs)"
    )
    parser.add_argument("--compare", type=Path, metavar="OTHER", help="add a paired comparison with another system (B)")
    parser.add_argument("--out", type=Path, required=True, metavar="HTML", help="the report file to write")
    parser.add_argument(
        "--resamples",
        type=resample_count,
        default=1000,
        metavar="N",
        help=f"bootstrap resamples for intervals (default 1000, at most {MAX_RESAMPLES:,})",
    )
    parser.add_argument("--embedder", choices=("minilm", "trigram256"), help="SpatialSoundQA: sentence embedder")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``seldkit report``: write the HTML report and its PNG figures, print the notes; the exit code."""
    from seldkit.errors import InputError
    from seldkit.report.build import build_report
    from seldkit.report.html import check_report_paths, figures_folder, write_report

    if args.out.suffix.lower() not in (".html", ".htm"):
        raise InputError("the report is an HTML file: give --out a name ending in .html", file=str(args.out))
    if args.compare is not None and not args.compare.exists():
        raise InputError("not found", file=str(args.compare))
    check_report_paths(args.out)
    report = build_report(
        args.source,
        references=args.ref,
        protocol=args.protocol,
        compare_with=args.compare,
        n_resamples=args.resamples,
        embedder=args.embedder,
    )
    images = write_report(report, args.out)
    print(f"wrote {args.out} ({len(images)} figures, also as PNGs in {figures_folder(args.out)}/)")
    for note in report.notes:
        print(f"note: {note}")
    return 0
