"""Recognising which protocol a prediction/reference pair calls for when none is named."""

from __future__ import annotations

from pathlib import Path

from seldkit.errors import InputError

DEFAULT_CLIP_PROTOCOL = "clip"


def infer_protocol_name(predictions: Path, references: Path) -> str:
    """The protocol a pair of inputs calls for when none is named.

    Two folders are DCASE Task 3 (the year recognised from the files), question/answer files SpatialSoundQA,
    anything else clip-level CSV files.
    """
    if predictions.is_dir() and references.is_dir():
        from seldkit.io.dcase import detect_year

        return f"dcase{detect_year(predictions, references)}-task3"
    if predictions.is_dir() or references.is_dir():
        folder, other = (predictions, references) if predictions.is_dir() else (references, predictions)
        raise InputError(
            f"is a folder and {other} is not: give two folders (DCASE Task 3) or two files (clip-level "
            "CSV, SpatialSoundQA answers)",
            file=str(folder),
        )
    from seldkit.io.qa import looks_like_decode_file

    if references.suffix.lower() == ".json" or predictions.suffix.lower() == ".jsonl":
        return "spatialsoundqa"
    if looks_like_decode_file(predictions) and looks_like_decode_file(references):
        return "spatialsoundqa"
    return DEFAULT_CLIP_PROTOCOL
