"""``seldkit score PREDS --ref REF [--protocol NAME|FILE] [--json OUT] [--per-class] [--ci N]``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seldkit.protocols import Protocol
    from seldkit.scoring.clip import ClipScore

DEFAULT_CLIP_PROTOCOL = "clip"


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "score",
        help="score predictions against references under a protocol",
        description="Score a system's outputs against references under a fixed protocol; print a table and "
        "optionally write a results JSON.",
    )
    parser.add_argument("predictions", metavar="PREDS", help="prediction file (clip-level CSV)")
    parser.add_argument("--ref", required=True, metavar="REF", help="reference file (clip-level CSV)")
    parser.add_argument(
        "--protocol",
        metavar="NAME|FILE",
        help="a shipped protocol name (e.g. bat-encoder, clip-continuous) or a protocol YAML file; "
        f"default for clip CSV files: {DEFAULT_CLIP_PROTOCOL}",
    )
    parser.add_argument("--json", metavar="OUT", type=Path, help="write the results JSON here")
    parser.add_argument("--per-class", action="store_true", help="also print the per-class table")
    parser.add_argument(
        "--ci", metavar="N", type=_positive_int, help="add percentile bootstrap intervals from N resamples"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from seldkit.protocols import load_protocol
    from seldkit.results import write_json_atomic
    from seldkit.scoring.clip import score_clip_files

    protocol = load_protocol(args.protocol or _infer_protocol(Path(args.predictions), Path(args.ref)))
    if protocol.task != "clip":
        from seldkit.errors import InputError

        raise InputError(f"protocol {protocol.name!r} (task {protocol.task!r}) cannot score these files yet")
    score = score_clip_files(args.predictions, args.ref, protocol, n_resamples=args.ci)
    if args.json is not None:
        try:
            write_json_atomic(args.json, score.results_json())
        except OSError as error:
            from seldkit.errors import InputError

            raise InputError(f"cannot write the results: {error.strerror or error}", file=str(args.json)) from None
    print(format_clip_table(score))
    if args.per_class:
        print()
        print(format_per_class_table(score))
    for note in (*score.evaluation.notes, *_interval_notes(score)):
        print(f"note: {note}")
    return 0


def _interval_notes(score: ClipScore) -> list[str]:
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


def _infer_protocol(predictions: Path, references: Path) -> str:
    from seldkit.errors import InputError

    for path in (predictions, references):
        if not path.exists():
            raise InputError("file not found", file=str(path))
    if predictions.is_dir() or references.is_dir():
        raise InputError(
            "folders (DCASE Task 3 output) are not supported by this version of seldkit; "
            "give clip-level CSV files"
        )
    if {predictions.suffix, references.suffix} & {".json", ".jsonl"}:
        raise InputError(
            "JSON answer files (SpatialSoundQA) are not supported by this version of seldkit; "
            "give clip-level CSV files"
        )
    return DEFAULT_CLIP_PROTOCOL


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


_ROWS = (  # metric key, label, scale, unit
    ("mAP", "mAP", 100.0, "%"),
    ("ER20", "ER20", 100.0, "%"),
    ("MAE", "MAE", 1.0, "°"),
    ("DER", "DER", 100.0, "%"),
)


def format_clip_table(score: ClipScore) -> str:
    """The human table: percentages like the papers, MAE in degrees."""
    metrics = score.metrics
    intervals = score.intervals
    header = _protocol_line(score.protocol, score.mode, metrics.n_clips, len(score.evaluation.class_ids))
    lines = [header]
    ci_title = f"{intervals.level:.0%} CI ({intervals.n_resamples} bootstrap resamples)" if intervals else ""
    lines.append(f"  {'metric':<8}{'value':>10}  {ci_title}".rstrip())
    for key, label, scale, unit in _ROWS:
        value = getattr(metrics, key)
        if value is None:
            continue
        row = f"  {label:<8}{_number(value, scale):>8} {unit}"
        if intervals is not None and key in intervals.bounds:
            low, high = intervals.bounds[key]
            row += f"  [{_number(low, scale)}, {_number(high, scale)}]"
        lines.append(row)
    if metrics.n_classes_scored is not None:
        lines.append(f"  mAP over {metrics.n_classes_scored} of {len(score.evaluation.class_ids)} classes")
    return "\n".join(lines)


def format_per_class_table(score: ClipScore) -> str:
    metrics = score.metrics
    if metrics.per_class_AP is None:
        return "(no class-score columns: no per-class table)"
    positives = score.n_positive()
    per_class_ci = score.intervals.per_class_AP if score.intervals is not None else None
    width = max(8, *(len(class_id) for class_id in score.evaluation.class_ids))
    lines = [f"  {'class':<{width}}  {'AP %':>7}  {'pos':>5}" + ("  CI" if per_class_ci is not None else "")]
    for index, class_id in enumerate(score.evaluation.class_ids):
        ap = metrics.per_class_AP[index]
        row = f"  {class_id:<{width}}  {_number(ap, 100.0):>7}  {int(positives[index]):>5}"
        if per_class_ci is not None:
            row += f"  [{_number(per_class_ci[index][0], 100.0)}, {_number(per_class_ci[index][1], 100.0)}]"
        name = score.class_name(class_id)
        if name:
            row += f"  {name}"
        lines.append(row)
    return "\n".join(lines)


def _protocol_line(protocol: Protocol, mode: str, n_clips: int, n_classes: int) -> str:
    return (
        f"protocol {protocol.name} ({mode} mode, sha256:{protocol.short_hash}) · "
        f"{n_clips} clips · {n_classes} classes"
    )


def _number(value: float, scale: float) -> str:
    if value != value:  # NaN: undefined (e.g. no positives)
        return "–"
    return f"{value * scale:.2f}"
