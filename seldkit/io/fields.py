"""Checked reading of one mapping of a YAML or JSON document (a protocol section, a recorded configuration).

Every value is read through a typed accessor that states what it accepts; a wrong value is an
:class:`~seldkit.errors.InputError` naming the file and the key path (``training.dspast.stages[1].lr``), never
a traceback or a silent conversion. Booleans are not numbers (YAML ``true`` must not become 1), numbers must be
finite, whole numbers must be written whole, and :meth:`Fields.finish` rejects every key no accessor asked for,
so a typo is an error rather than a default.

>>> fields = Fields({"epochs": 3, "lr": 0.001}, file="p.yaml", where="stage")
>>> fields.integer("epochs", minimum=1), fields.number("lr", minimum=0.0, exclusive_minimum=True)
(3, 0.001)
>>> fields.finish()
>>> Fields({"epochs": True}, file="p.yaml", where="stage").integer("epochs")
Traceback (most recent call last):
...
seldkit.errors.InputError: p.yaml: stage.epochs must be a whole number, not a boolean (true)
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from seldkit.errors import InputError

_REQUIRED: Any = object()


def describe(value: Any) -> str:
    """What a value is, in the words of the file it came from."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {shown!r}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


class Fields:
    """Typed access to the keys of one mapping; ``where`` is its key path in the document."""

    def __init__(self, mapping: Any, *, file: str | Path | None, where: str = "") -> None:
        self.file = None if file is None else str(file)
        self.where = where
        if not isinstance(mapping, Mapping):
            raise InputError(
                f"{where or 'the document'} must be a mapping (key: value), not {describe(mapping)}", file=self.file
            )
        for key in mapping:
            if not isinstance(key, str):
                raise InputError(f"{where or 'the document'} has a key that is not text: {key!r}", file=self.file)
        self.mapping: Mapping[str, Any] = mapping
        self._asked: set[str] = set()

    # -- plumbing ------------------------------------------------------------------------------------------
    def path(self, key: str) -> str:
        """The key path of ``key`` in the document (``stage.epochs``)."""
        return f"{self.where}.{key}" if self.where else key

    def error(self, key: str, problem: str) -> InputError:
        """An :class:`InputError` naming the file and the key path of ``key``, followed by ``problem``."""
        return InputError(f"{self.path(key)} {problem}", file=self.file)

    def has(self, key: str) -> bool:
        """Whether the mapping holds ``key``; the key counts as asked for (see :meth:`finish`)."""
        self._asked.add(key)
        return key in self.mapping

    def raw(self, key: str, default: Any = _REQUIRED) -> Any:
        """The value of ``key`` unchecked; ``default`` when the key is absent, an error when there is no default."""
        self._asked.add(key)
        if key in self.mapping:
            return self.mapping[key]
        if default is _REQUIRED:
            raise InputError(f"{self.path(key)} is missing", file=self.file)
        return default

    def finish(self) -> None:
        """Every key of the mapping was asked for; otherwise name the first unknown one."""
        unknown = [key for key in self.mapping if key not in self._asked]
        if unknown:
            allowed = ", ".join(sorted(self._asked)) or "none"
            raise InputError(f"unknown key {self.path(unknown[0])!r} (allowed here: {allowed})", file=self.file)

    # -- scalars -------------------------------------------------------------------------------------------
    def integer(
        self, key: str, default: Any = _REQUIRED, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        """A whole number (not a boolean) within ``minimum`` and ``maximum``; ``default`` when the key is absent."""
        value = self.raw(key, default)
        if value is default and default is not _REQUIRED:
            return value
        return self.check_integer(key, value, minimum=minimum, maximum=maximum)

    def check_integer(self, key: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
        """``value``, the value of ``key``, if it is a whole number (not a boolean) within the bounds."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a whole number, not {describe(value)}")
        _check_bounds(self, key, value, minimum, maximum, exclusive_minimum=False)
        return value

    def number(
        self,
        key: str,
        default: Any = _REQUIRED,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_minimum: bool = False,
        exclusive_maximum: bool = False,
        optional: bool = False,
    ) -> Any:
        """A finite number as float (``optional``: null is allowed and gives None)."""
        value = self.raw(key, default)
        if value is default and default is not _REQUIRED:
            return value
        if value is None and optional:
            return None
        return self.check_number(
            key,
            value,
            minimum=minimum,
            maximum=maximum,
            exclusive_minimum=exclusive_minimum,
            exclusive_maximum=exclusive_maximum,
        )

    def check_number(
        self,
        key: str,
        value: Any,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_minimum: bool = False,
        exclusive_maximum: bool = False,
    ) -> float:
        """``value``, the value of ``key``, as float if it is a finite number (not a boolean) within the bounds."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"must be a number, not {describe(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.error(key, f"must be a finite number, not {value!r}")
        try:
            number = float(value)
        except OverflowError:
            raise self.error(key, f"is too large ({describe(value)})") from None
        _check_bounds(
            self,
            key,
            number,
            minimum,
            maximum,
            exclusive_minimum=exclusive_minimum,
            exclusive_maximum=exclusive_maximum,
        )
        return number

    def boolean(self, key: str, default: Any = _REQUIRED) -> bool:
        """``true`` or ``false``; ``default`` when the key is absent (a default must be a boolean too)."""
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {describe(value)}")
        return value

    def string(
        self, key: str, default: Any = _REQUIRED, *, choices: Collection[str] | None = None, nonempty: bool = True
    ) -> str:
        """Text, one of ``choices`` when given, not blank when ``nonempty``; ``default`` when the key is absent."""
        value = self.raw(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"must be text, not {describe(value)}")
        if choices is not None and value not in choices:
            raise self.error(key, f"must be one of {', '.join(sorted(choices))}, not {value!r}")
        if nonempty and not value.strip():
            raise self.error(key, "must not be empty")
        return value

    # -- compound values -----------------------------------------------------------------------------------
    def numbers(
        self,
        key: str,
        default: Any = _REQUIRED,
        *,
        length: int,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> tuple[float, ...]:
        """A list of ``length`` finite numbers within ``minimum`` and ``maximum``, as a tuple of floats."""
        value = self.raw(key, default)
        if not isinstance(value, (list, tuple)) or len(value) != length:
            raise self.error(key, f"must be a list of {length} numbers, not {describe(value)}")
        return tuple(
            self.check_number(f"{key}[{index}]", item, minimum=minimum, maximum=maximum)
            for index, item in enumerate(value)
        )

    def interval(
        self,
        key: str,
        default: Any = _REQUIRED,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        positive: bool = False,
    ) -> tuple[float, float]:
        """``[low, high]`` with low <= high (``positive``: low > 0)."""
        low, high = self.numbers(key, default, length=2, minimum=minimum, maximum=maximum)
        if low > high:
            raise self.error(key, f"must be [low, high] with low <= high, not [{low:g}, {high:g}]")
        if positive and low <= 0:
            raise self.error(key, f"must hold positive numbers, not [{low:g}, {high:g}]")
        return low, high

    def intervals(
        self, key: str, *, count: int, minimum: float | None = None, maximum: float | None = None
    ) -> list[tuple[float, float]]:
        """``count`` ranges ``[[low, high], ...]`` (e.g. a room's extent along x, y and z)."""
        value = self.raw(key)
        if not isinstance(value, (list, tuple)) or len(value) != count:
            raise self.error(key, f"must be a list of {count} [low, high] ranges, not {describe(value)}")
        items = Fields({f"{key}[{index}]": item for index, item in enumerate(value)}, file=self.file, where=self.where)
        return [items.interval(f"{key}[{index}]", minimum=minimum, maximum=maximum) for index in range(count)]

    def section(self, key: str, *, optional: bool = False) -> Fields:
        """The mapping under ``key`` (``optional``: an absent or null key reads as an empty mapping)."""
        value = self.raw(key, {} if optional else _REQUIRED)
        if value is None and optional:
            value = {}
        return Fields(value, file=self.file, where=self.path(key))

    def sections(self, key: str) -> list[Fields]:
        """A non-empty list of mappings."""
        value = self.raw(key)
        if not isinstance(value, list) or not value:
            raise self.error(key, f"must be a non-empty list, not {describe(value)}")
        return [Fields(item, file=self.file, where=f"{self.path(key)}[{index}]") for index, item in enumerate(value)]

    def named_sections(self, key: str) -> dict[str, Fields]:
        """A non-empty mapping of names to mappings."""
        outer = self.section(key)
        if not outer.mapping:
            raise self.error(key, "must not be empty")
        return {name: outer.section(name) for name in outer.mapping}


def _check_bounds(
    fields: Fields,
    key: str,
    value: float,
    minimum: float | None,
    maximum: float | None,
    *,
    exclusive_minimum: bool,
    exclusive_maximum: bool = False,
) -> None:
    if minimum is not None and (value < minimum or (exclusive_minimum and value == minimum)):
        raise fields.error(key, f"must be {'>' if exclusive_minimum else '>='} {minimum:g}, not {value!r}")
    if maximum is not None and (value > maximum or (exclusive_maximum and value == maximum)):
        raise fields.error(key, f"must be {'<' if exclusive_maximum else '<='} {maximum:g}, not {value!r}")
