"""Normalisation and parse rules for SpatialSoundQA answers (``metrics/qa.md``).

Every rule works on the normalised text: lower case, whitespace runs collapsed to one space, trimmed.
Words are matched with regular-expression word boundaries, so ``front-left`` holds both words and
``left_front`` neither. Distances are decimals, compared exactly (1.1 m vs 0.6 m is 0.5 m apart, which is
right, although ``abs(1.1 - 0.6) > 0.5`` in float64).
"""

from __future__ import annotations

import re
from decimal import Decimal

DIRECTION_AXES: tuple[tuple[str, str], ...] = (("left", "right"), ("front", "behind"), ("above", "below"))
_AXIS_PATTERNS = tuple(re.compile(rf"\b({first}|{second})\b") for first, second in DIRECTION_AXES)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_DISTANCE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:meters|meter|metres|metre|m)\b")
_YES_NO = re.compile(r"\b(yes|no)\b")
DISTANCE_TOLERANCE_M = Decimal("0.5")
LABEL_SEPARATOR = "; "


def normalise(text: str) -> str:
    r"""Lower case, whitespace runs to one space, trimmed.

    >>> normalise("  Left,\tFRONT\n above ")
    'left, front above'
    """
    return " ".join(text.lower().split())


def direction_words(text: str) -> tuple[frozenset[str], ...]:
    """The distinct direction words of each axis found in normalised ``text``."""
    return tuple(frozenset(pattern.findall(text)) for pattern in _AXIS_PATTERNS)


def parse_direction(text: str) -> tuple[str, str, str] | None:
    """The (left|right, front|behind, above|below) triple, or None unless every axis has one distinct word.

    >>> parse_direction("front-left, above")
    ('left', 'front', 'above')
    >>> parse_direction("left or right, front, above") is None
    True
    """
    words = direction_words(text)
    if any(len(axis) != 1 for axis in words):
        return None
    return tuple(next(iter(axis)) for axis in words)  # type: ignore[return-value]


def parse_partial_direction(text: str) -> tuple[str | None, ...] | None:
    """Per axis the one word given, or None for an axis not mentioned.

    None if an axis has both words or no axis is mentioned (the non-binary direction column).

    >>> parse_partial_direction("to the left")
    ('left', None, None)
    """
    words = direction_words(text)
    if any(len(axis) > 1 for axis in words) or not any(words):
        return None
    return tuple(next(iter(axis)) if axis else None for axis in words)


def parse_distance(text: str) -> Decimal | None:
    """The number before a metre unit; None without one, or when the text holds several distinct numbers.

    >>> parse_distance("about 2.5m (2.5 meters)")
    Decimal('2.5')
    >>> parse_distance("2 or 3 m") is None, parse_distance("250 cm") is None
    (True, True)
    """
    numbers = {Decimal(number) for number in _NUMBER.findall(text)}
    if len(numbers) != 1:
        return None
    match = _DISTANCE.search(text)
    return Decimal(match.group(1)) if match else None


def distance_correct(predicted: Decimal, reference: Decimal) -> bool:
    """Within 0.5 m, in exact decimal arithmetic (0.5 m counts as correct)."""
    return abs(predicted - reference) <= DISTANCE_TOLERANCE_M


def parse_yes_no(text: str) -> str | None:
    """'yes' or 'no' when exactly one of the two words occurs (repeats allowed), else None.

    >>> parse_yes_no("yes, yes."), parse_yes_no("yes and no"), parse_yes_no("yeah")
    ('yes', None, None)
    """
    words = set(_YES_NO.findall(text))
    return next(iter(words)) if len(words) == 1 else None


def parse_sources(text: str) -> frozenset[str] | None:
    """The set of labels of a ``"; "``-separated list; None for the empty answer."""
    if not text:
        return None
    return frozenset(text.split(LABEL_SEPARATOR))
