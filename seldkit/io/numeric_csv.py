"""Strict reading of small all-numeric CSV files (DCASE Task 3 label and output files).

The column layout is recognised from the number of fields (the DCASE formats differ by column count), an
optional header line is checked against the expected names, and every value must be a finite number; integer
columns must hold integers. Parsing is one NumPy conversion of all fields, so many files read fast.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NoReturn

import numpy as np

from seldkit.errors import InputError
from seldkit.io.csvtable import (
    check_structure_plain,
    number_problem,
    read_text_bytes,
    strip_trailing_blank_lines,
)

HeaderRule = Literal["none", "optional", "skip-first-line"]
COLUMN_COUNT = "column_count"  # error code: the first row has a column count no layout of the format has


@dataclass(frozen=True)
class NumericTable:
    """Rows of one file: ``values[i, j]`` is column ``names[j]`` of data row ``i + 1``."""

    source: str
    names: tuple[str, ...]
    values: np.ndarray  # [n_rows, n_columns] float64
    first_line: int  # physical line of data row 1
    # Physical line of each data row where lines were dropped (``keep_field_counts``); else consecutive lines.
    row_lines: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        """The number of data rows."""
        return int(self.values.shape[0])

    def column(self, name: str) -> np.ndarray:
        """The values of column ``name``, one per data row."""
        return self.values[:, self.names.index(name)]

    def error(self, problem: str, *, row: int, column: str | None = None) -> InputError:
        """An :class:`InputError` at data row ``row`` (and ``column``) of the file, with its physical line."""
        line = int(self.row_lines[row - 1]) if self.row_lines is not None else self.first_line + row - 1
        return InputError(problem, file=self.source, row=row, column=column, line=line)


def read_numeric_csv(
    path: str | Path,
    *,
    layouts: Mapping[int, tuple[str, ...]],
    header: HeaderRule = "none",
    integer_columns: Collection[str] = (),
    keep_field_counts: Collection[int] = (),
) -> NumericTable:
    """Read ``path``; ``layouts`` maps each accepted field count to its column names.

    ``header``: ``"none"`` (every line is data), ``"optional"`` (a first line that is not all numbers must be
    the names of the layout), ``"skip-first-line"`` (drop the first line unread, whatever it holds). An empty
    file, or one with only a header, gives zero rows with the names of the single layout (or no names if there
    are several). ``keep_field_counts`` (official-compatible reading): lines with any other number of fields are
    dropped unread, except that their first field must be an integer (the official loaders parse it first).
    """
    source = str(path)
    data = read_text_bytes(path)
    first_line = 1
    header_names: list[str] | None = None
    if header != "none":
        end = data.find(b"\n")
        first = data if end < 0 else data[:end]
        first_fields = [field.strip() for field in first.decode("utf-8").rstrip("\r").split(",")]
        if header == "skip-first-line" or not _all_numbers(first_fields):
            data = b"" if end < 0 else data[end + 1 :]
            first_line = 2
            if header == "optional":
                header_names = first_fields
    body = strip_trailing_blank_lines(data.replace(b"\r\n", b"\n"))
    default_names = next(iter(layouts.values())) if len(layouts) == 1 else ()
    row_lines = None
    if keep_field_counts and body:
        body, row_lines = _drop_other_field_counts(body, keep_field_counts, source, first_line)

    if header_names is not None and header_names != [""]:
        names = layouts.get(len(header_names))
        if names is None or tuple(header_names) != names:
            expected = " or ".join(",".join(option) for option in layouts.values())
            raise InputError(f"header {','.join(header_names)!r} is not {expected!r}", file=source, row=0)
    if not body:
        return NumericTable(source, default_names, np.zeros((0, len(default_names))), first_line)
    if row_lines is not None:
        first_line = int(row_lines[0])

    first_row_end = body.find(b"\n")
    n_fields = (body if first_row_end < 0 else body[:first_row_end]).count(b",") + 1
    names = layouts.get(n_fields)
    if names is None:
        accepted = ", ".join(str(count) for count in sorted(layouts))
        raise InputError(
            f"row has {n_fields} fields; this format has {accepted}",
            file=source,
            row=1,
            line=first_line,
            code=COLUMN_COUNT,
        )
    if header_names is not None and len(header_names) != n_fields:
        raise InputError(
            f"row has {n_fields} fields, the header has {len(header_names)}", file=source, row=1, line=first_line
        )
    try:
        check_structure_plain(body, n_fields, source, first_line=first_line)
    except InputError as error:
        if row_lines is not None and error.row is not None:
            error.line = int(row_lines[error.row - 1])
        raise

    flat = body.replace(b"\n", b",")
    try:
        # NumPy's C parser reads the whole file in one call and fails on anything that is not a number (NumPy 1.x
        # instead stops there with a DeprecationWarning: the size check below finds the bad value either way).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            values = np.fromstring(flat.decode("utf-8"), dtype=np.float64, sep=",")
    except ValueError:
        values = None
    table = NumericTable(source, names, np.zeros((0, n_fields)), first_line, row_lines)
    if values is None or values.size != flat.count(b",") + 1 or not np.isfinite(values).all():
        _raise_first_bad_value(table, np.array(flat.split(b",")), n_fields)
    assert values is not None  # _raise_first_bad_value always raises
    values = values.reshape(-1, n_fields)
    table = NumericTable(source, names, values, first_line, row_lines)
    for name in integer_columns:
        if name in names:
            column = table.column(name)
            bad = np.flatnonzero(column != np.round(column))
            if bad.size:
                row = int(bad[0]) + 1
                raise table.error(f"{column[bad[0]]:g} is not an integer", row=row, column=name)
    return table


def _drop_other_field_counts(
    body: bytes, counts: Collection[int], source: str, first_line: int
) -> tuple[bytes, np.ndarray | None]:
    """``body`` without its lines of another field count, and the physical line of each kept line (None if all kept).

    A dropped line still needs an integer first field: the official loaders parse it before they look at the count.
    """
    lines = body.split(b"\n")
    kept = [index for index, line in enumerate(lines) if line.count(b",") + 1 in counts]
    if len(kept) == len(lines):
        return body, None
    kept_set = set(kept)
    for index, line in enumerate(lines):
        if index not in kept_set:
            first = line.split(b",", 1)[0].strip().decode("utf-8")
            problem = number_problem(first)
            if problem is not None or float(first) != round(float(first)):
                problem = problem or f"{first} is not an integer"
                raise InputError(problem, file=source, line=first_line + index, column="frame")
    return b"\n".join(lines[index] for index in kept), np.array(kept, dtype=np.int64) + first_line


def _raise_first_bad_value(table: NumericTable, fields: np.ndarray, n_fields: int) -> NoReturn:
    for index, raw in enumerate(fields):
        text = raw.decode("utf-8")
        problem = number_problem(text)
        if problem is not None:
            row, column = divmod(index, n_fields)
            raise table.error(problem, row=row + 1, column=table.names[column])
    raise InputError("could not parse the numbers of this file", file=table.source)


def _all_numbers(fields: list[str]) -> bool:
    return all(number_problem(field) is None for field in fields)
