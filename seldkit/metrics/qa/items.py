"""SpatialSoundQA questions as the scores take them: one text (a reference or an answer) per question key."""

from __future__ import annotations

from dataclasses import dataclass

QUESTION_TYPES = (
    "CLASSIFICATION",
    "DOA",
    "MIXUP_SINGLE_CLASSIFICATION",
    "MIXUP_SINGLE_DOA",
    "MIXUP_DIRECTION",
    "MIXUP_DISTANCE_BOTH",
    "MIXUP_NONBINARY_DIRECTION",
    "MIXUP_NONBINARY_DISTANCE",
    "MIXUP_NONBINARY_SOURCE",
)


@dataclass(frozen=True)
class QaItem:
    """One question's text (a reference or an answer) with where it came from."""

    key: str  # "{question_type}-{question_id}"
    question_type: str
    text: str
    source: str
    line: int  # line (answer files) or record number (question files), from 1
