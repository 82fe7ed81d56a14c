"""Strict, fast reading of comma-separated tables.

pandas' C parser does the bulk work; seldkit checks what it lets through silently (short rows are padded with
missing values, blank lines are skipped, ``nan``/``inf`` are numbers to it) and turns every problem into an
:class:`~seldkit.errors.InputError` that names the file, row and column.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seldkit.errors import InputError
from seldkit.io.inputs import read_input_bytes

_BOM = b"\xef\xbb\xbf"
_NEWLINE = 10
_COMMA = 44


@dataclass(frozen=True)
class CsvTable:
    """A parsed table: text columns as object arrays of ``str``, the others as float64 arrays (all finite)."""

    source: str
    header: tuple[str, ...]
    text: dict[str, np.ndarray]
    numbers: dict[str, np.ndarray]
    n_rows: int
    # Physical line of each data row, only where quoted fields span lines (else line = row + 1).
    row_lines: np.ndarray | None = field(default=None, repr=False)

    def line_of(self, row: int) -> int:
        """Physical line number of 1-based data row ``row``."""
        if self.row_lines is None:
            return row + 1
        return int(self.row_lines[row - 1])

    def error(self, problem: str, *, row: int | None = None, column: str | None = None) -> InputError:
        """An :class:`InputError` located in this table (``row`` is 1-based)."""
        line = self.line_of(row) if row is not None and row > 0 else None
        return InputError(problem, file=self.source, row=row, column=column, line=line)


def read_csv_table(
    path: str | Path,
    *,
    text_columns: Collection[str] | None,
    required_columns: Sequence[str] = (),
    allowed_columns: Collection[str] | None = None,
) -> CsvTable:
    """Read ``path`` as UTF-8, comma-separated, one header row; columns in ``text_columns`` stay text (None: all).

    Every other column must hold a finite number in every row. The header must hold ``required_columns`` and,
    when ``allowed_columns`` is given, nothing else; both are checked before any value is.
    Raises :class:`InputError` for anything else: unreadable or empty file, bad encoding, wrong delimiter,
    duplicate or empty column names, rows with too few or too many fields, blank lines, non-numeric,
    missing, NaN or infinite values.
    """
    source = str(path)
    data = read_text_bytes(path)
    if not data.strip():
        raise InputError("file is empty", file=source)

    header_end = data.find(b"\n")
    header_bytes = data if header_end < 0 else data[:header_end]
    header = _parse_header(header_bytes.decode("utf-8").rstrip("\r"), source)
    _check_columns(header, required_columns, allowed_columns, source)
    body = b"" if header_end < 0 else data[header_end + 1 :]
    body = strip_trailing_blank_lines(body)
    if not body:
        raise InputError("the file has a header but no data rows", file=source)

    if b'"' in data:
        row_lines = _check_structure_quoted(data.decode("utf-8"), header, source)
    else:
        check_structure_plain(body, len(header), source)
        row_lines = None

    text_set = set(header if text_columns is None else text_columns)
    numeric = [name for name in header if name not in text_set]
    frame = _parse_with_pandas(data, header, text_set, numeric, source, row_lines)
    text: dict[str, np.ndarray] = {}
    numbers: dict[str, np.ndarray] = {}
    for name in header:
        if name in text_set:
            text[name] = frame[name].to_numpy(dtype=object)
            continue
        values = frame[name].to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:  # empty fields, and nan/inf that pandas parsed as numbers
            row = int(bad[0]) + 1
            raw = _raw_field(data, row, header.index(name))
            line = int(row_lines[row - 1]) if row_lines is not None else None
            problem = number_problem(raw) or f"{raw!r} is not a finite number"
            raise InputError(problem, file=source, row=row, column=name, line=line)
        numbers[name] = values
    return CsvTable(source=source, header=header, text=text, numbers=numbers, n_rows=len(frame), row_lines=row_lines)


def read_text_bytes(path: str | Path, *, what: str = "file") -> bytes:
    """The bytes of a text input file, checked: a leading byte-order mark dropped, UTF-8, LF or CRLF line ends.

    Any other encoding or a lone carriage return is an :class:`InputError` naming the line (and column).
    """
    source = str(path)
    data = read_input_bytes(path, what=what)
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    check_utf8(data, source)
    check_line_endings(data, source)
    return data


def check_utf8(data: bytes, source: str) -> None:
    """Raise an :class:`InputError` at the first byte of ``data`` that is not UTF-8, naming its line (and column)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        field_index = data.count(b",", line_start, exc.start)
        header_end = data.find(b"\n")
        column: str | None = None
        if line > 1 and header_end > 0:
            try:
                names = next(csv.reader([data[:header_end].decode("utf-8").rstrip("\r")]))
                column = names[field_index] if field_index < len(names) else None
            except (UnicodeDecodeError, StopIteration, csv.Error):
                column = None
        bad_byte = data[exc.start]
        raise InputError(
            f"byte 0x{bad_byte:02x} is not valid UTF-8 (seldkit reads UTF-8 text; re-save the file as UTF-8)",
            file=source,
            row=line - 1,
            line=line,
            column=column,
        ) from None


def check_line_endings(data: bytes, source: str) -> None:
    """Lines end in LF or CRLF; a lone CR (old Mac line endings) inside the data is an error naming its line."""
    raw = np.frombuffer(data, dtype=np.uint8)
    returns = np.flatnonzero(raw[:-1] == ord("\r"))  # a CR as the very last byte ends the file, nothing more
    lone = returns[raw[returns + 1] != _NEWLINE]
    if lone.size:
        first = int(lone[0])
        line = int(np.count_nonzero(raw[:first] == _NEWLINE)) + int(np.count_nonzero(lone < first)) + 1
        raise InputError(
            "this line ends in a lone carriage return (old Mac line endings); seldkit reads LF or CRLF "
            "line endings: re-save the file",
            file=source,
            line=line,
        )


def _parse_header(line: str, source: str) -> tuple[str, ...]:
    try:
        names = next(csv.reader([line]))
    except csv.Error as error:
        raise InputError(f"the header is not readable CSV: {error}", file=source, row=0) from None
    if len(names) == 1:
        for delimiter, label in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
            if delimiter in names[0]:
                raise InputError(
                    f"the header looks {label}-separated ({names[0][:40]!r}); seldkit reads comma-separated files",
                    file=source,
                    row=0,
                )
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name.strip() == "":
            raise InputError(f"column {index + 1} has an empty name", file=source, row=0)
        if name in seen:
            raise InputError("duplicate column name", file=source, row=0, column=name)
        seen.add(name)
    return tuple(names)


def _check_columns(
    header: tuple[str, ...], required: Sequence[str], allowed: Collection[str] | None, source: str
) -> None:
    for name in required:
        if name not in header:
            raise InputError(
                f"required column is missing (the header has: {', '.join(header)})", file=source, row=0, column=name
            )
    if allowed is not None:
        for name in header:
            if name not in allowed:
                raise InputError(f"unexpected column (allowed: {', '.join(allowed)})", file=source, row=0, column=name)


def strip_trailing_blank_lines(body: bytes) -> bytes:
    """``body`` without the line breaks, spaces and tabs at its end."""
    end = len(body)
    while end > 0 and body[end - 1 : end] in (b"\n", b"\r", b" ", b"\t"):
        end -= 1
    return body[:end]


def field_count_problem(n_fields: int, n_columns: int, *, last_line: bool) -> str:
    """The message for a row of ``n_fields`` fields under ``n_columns`` columns; a short last line may be truncated."""
    problem = f"row has {n_fields} field{'s' if n_fields != 1 else ''}, the header has {n_columns}"
    if last_line and n_fields < n_columns:
        problem += " (truncated last line?)"
    return problem


def check_structure_plain(body: bytes, n_columns: int, source: str, *, first_line: int = 2) -> None:
    """Field counts of an unquoted body, by counting commas per line with NumPy (fast on large files).

    ``first_line`` is the physical line number of the body's first line; data rows count from 1 there.
    """
    raw = np.frombuffer(body, dtype=np.uint8)
    newlines = np.flatnonzero(raw == _NEWLINE)
    n_lines = newlines.size + 1
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [raw.size]))
    lengths = ends - starts
    ends_with_cr = raw[np.maximum(ends - 1, 0)] == ord("\r")
    blank = (lengths == 0) | ((lengths == 1) & ends_with_cr)
    commas = np.flatnonzero(raw == _COMMA)
    per_line = np.searchsorted(commas, ends) - np.searchsorted(commas, starts)
    bad = np.flatnonzero((per_line != n_columns - 1) | blank)
    if not bad.size:
        return
    index = int(bad[0])
    line = first_line + index
    if blank[index]:
        raise InputError("blank line inside the data", file=source, row=index + 1, line=line)
    problem = field_count_problem(int(per_line[index]) + 1, n_columns, last_line=index == n_lines - 1)
    raise InputError(problem, file=source, row=index + 1, line=line)


def _check_structure_quoted(text: str, header: tuple[str, ...], source: str) -> np.ndarray:
    """Field counts with the csv module (quoted fields may hold commas and newlines); returns row → line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    lines: list[int] = []
    rows: list[int] = []
    last_line_number = 1
    try:
        for fields in reader:
            start_line = last_line_number + 1
            last_line_number = reader.line_num
            if not fields:
                rows.append(-1)
                lines.append(start_line)
                continue
            rows.append(len(fields))
            lines.append(start_line)
    except csv.Error as error:  # e.g. a quoted field longer than the csv module's limit (128 kB)
        raise InputError(
            f"not readable CSV: {error}", file=source, row=len(rows) + 1, line=last_line_number + 1
        ) from None
    while rows and rows[-1] == -1:
        rows.pop()
        lines.pop()
    for index, n_fields in enumerate(rows):
        if n_fields == -1:
            raise InputError("blank line inside the data", file=source, row=index + 1, line=lines[index])
        if n_fields != len(header):
            problem = field_count_problem(n_fields, len(header), last_line=index == len(rows) - 1)
            raise InputError(problem, file=source, row=index + 1, line=lines[index])
    return np.asarray(lines, dtype=np.int64)


def _parse_with_pandas(
    data: bytes,
    header: tuple[str, ...],
    text_set: set[str],
    numeric: list[str],
    source: str,
    row_lines: np.ndarray | None,
):  # -> pandas.DataFrame
    import pandas as pd

    dtypes: dict[str, object] = {name: (str if name in text_set else np.float64) for name in header}
    try:
        return pd.read_csv(
            io.BytesIO(data),
            dtype=dtypes,
            keep_default_na=False,
            na_values={name: [""] for name in numeric},
            encoding="utf-8",
            engine="c",
            **exact_float_options(),
        )
    except ValueError:
        pass  # a value that is not a number: find which one below
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8")
    for name in numeric:
        for row_index, value in enumerate(frame[name].to_numpy(dtype=object), start=1):
            problem = number_problem(value)
            if problem is not None:
                line = int(row_lines[row_index - 1]) if row_lines is not None else None
                raise InputError(problem, file=source, row=row_index, column=name, line=line)
    raise InputError("could not parse the file as CSV", file=source)


def exact_float_options() -> dict[str, str]:
    """``read_csv`` options that make every float the one Python's ``float()`` reads (correctly rounded).

    pandas 3.1 and later parse floats exactly (fast_float) and deprecate the option; earlier versions' default
    converter can be one unit in the last place off (e.g. for more than 17 significant digits), so they get the
    round-trip converter.

    >>> exact_float_options() in ({}, {"float_precision": "round_trip"})
    True
    """
    import pandas as pd

    try:
        version = tuple(int(part) for part in pd.__version__.split(".")[:2])
    except ValueError:  # an unusual version string: the option is still accepted (at worst with a warning)
        return {"float_precision": "round_trip"}
    return {} if version >= (3, 1) else {"float_precision": "round_trip"}


def number_problem(value: str) -> str | None:
    """Why ``value`` is not a finite number, or None if it is one."""
    if value.strip() == "":
        return "missing value"
    if not value.isascii():  # Python's float() reads "٣" and "１"; CSV readers elsewhere do not
        return f"{value!r} is not a number (digits must be ASCII)"
    try:
        number = float(value)
    except ValueError:
        return f"{value!r} is not a number"
    if "_" in value:  # Python accepts 1_000, CSV readers elsewhere do not
        return f"{value!r} is not a number"
    if not math.isfinite(number):
        return f"{value!r} is not a finite number"
    return None


def _raw_field(data: bytes, row: int, column_index: int) -> str:
    """The text of one field, for error messages."""
    text = data.decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for index, fields in enumerate(reader):
            if index == row:
                return fields[column_index] if column_index < len(fields) else ""
    except csv.Error:
        pass
    return ""
