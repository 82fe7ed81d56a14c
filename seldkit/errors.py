"""Errors that seldkit reports to the user as one line (exit code 2), never as a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class InputError(Exception):
    """Bad input or usage: the message names the file, and where it can, the row and column.

    ``row`` counts data rows from 1 (the header is row 0); ``line`` is the physical line in the file,
    which differs from ``row + 1`` only where quoted fields span lines.
    """

    problem: str
    file: str | Path | None = None
    row: int | None = None
    column: str | None = None
    line: int | None = None
    # A machine-readable kind (e.g. "duplicate_key") and its fields, for callers and regression suites.
    code: str | None = None
    details: dict[str, object] | None = None

    def __post_init__(self) -> None:
        super().__init__(self.problem)

    def __str__(self) -> str:
        where: list[str] = []
        if self.file is not None:
            where.append(str(self.file))
        if self.row is not None:
            if self.row == 0:
                where.append("header (line 1)")
            else:
                line = self.line if self.line is not None else self.row + 1
                where.append(f"row {self.row} (line {line})")
        elif self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.problem}" if where else self.problem


class UsageError(InputError):
    """A command-line usage problem (also exit code 2)."""
