"""DCASE Task 3 label/output files of each challenge year and the pairing of two folders.

Formats (the format is recognised from the number of columns):

====  ==========================================================  ===============================================
year  reference                                                   prediction
====  ==========================================================  ===============================================
2019  header + class name,onset (s),offset (s),ele,azi,dist        frame (20 ms),class,azimuth,elevation (integers)
2020  frame,class,track,azimuth,elevation                          frame,class,track,x,y,z
2021  frame,class,track,azimuth,elevation                          frame,class,track,x,y,z
2022  frame,class,source,azimuth,elevation                         frame,class,track,x,y,z
2023  frame,class,source,azimuth,elevation[,distance (ignored)]    frame,class,track,x,y,z,distance (ignored)
2024  frame,class,source,azimuth,elevation,distance (cm)           frame,class,track,x,y,z,distance (m) |
      (or without distance)                                        frame,class,track,azimuth,elevation,distance (m) |
                                                                   frame,class,azimuth,elevation
2025  header + frame,class,source,azimuth,distance,onscreen (cm)   the same
====  ==========================================================  ===============================================

Frames are 100 ms except in 2019 (20 ms). 2019 references list events in seconds; they are expanded into one
row per active frame as the official label code does: frames floor(onset x 50) .. ceil(offset x 50), inclusive,
computed in float64. Cartesian directions become azimuth/elevation with ``atan2`` as the official loaders do;
the vector is kept for the configurations that measure angles between vectors. Distances are stored in metres
for 2023-2024 (references in cm are divided by 100) and in the file unit (cm) for 2025, as the official code does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seldkit.errors import InputError
from seldkit.io.csvtable import number_problem, read_text_bytes
from seldkit.io.inputs import read_input_bytes
from seldkit.io.numeric_csv import HeaderRule, NumericTable, read_numeric_csv
from seldkit.metrics.dcase.events import DcaseEvents
from seldkit.metrics.dcase.sed_doa import AZIMUTH_LIMITS, ELEVATION_LIMITS, GRID_STEP_DEG
from seldkit.metrics.dcase.years import EVENT_LIST, YEAR_RULES, FileFormat, MetricConfig, YearRules

_INTEGER_COLUMNS = ("frame", "class", "source", "track", "onscreen")
MAX_FRAME = 10**8  # 100 ms frames: 115 days, far beyond any recording
_MAX_EXTRA_COLUMNS = 6  # 2019 --dcase-compat: a prediction line may carry this many ignored fields


def read_dcase_file(
    path: str | Path, *, year: int, role: str, compat: bool = False, config: MetricConfig | None = None
) -> DcaseEvents:
    """Read one reference (``role="reference"``) or prediction file of challenge ``year``.

    Strict by default: every row must have the year's column count, integers where integers belong, class
    indices within the year's classes, elevations in [-90, 90], non-negative distances, onscreen flags 0/1.
    ``compat=True`` reproduces the official loaders instead: out-of-range classes are kept (the metric ignores
    them), lines with a column count the loader does not read are dropped (2020-2022), the 2025 loader's
    unconditional skip of the first line, and the 2019 loader's negative indices and ignored extra columns.
    ``config`` is the metric configuration the file is read for; the 2021 ``polar`` one reads 5-column
    predictions the official way under ``compat``.
    """
    if year not in YEAR_RULES:
        raise InputError(f"unknown DCASE year {year} (known: {', '.join(map(str, YEAR_RULES))})")
    rules = YEAR_RULES[year]
    form = rules.file_format
    if role == "reference" and form.event_list_reference:
        return read_event_list(path, rules=rules, compat=compat)
    layouts = dict(form.reference_layouts if role == "reference" else form.prediction_layouts)
    if compat and role == "prediction":
        layouts.update(_compat_prediction_layouts(form, config))
    header: HeaderRule = "none"
    if form.header:
        # The official loader drops line 1 unread; seldkit reads a headerless file's first row as data.
        header = "skip-first-line" if compat else "optional"
    integer_columns = _INTEGER_COLUMNS + (("azimuth", "elevation") if form.integer_directions else ())
    table = read_numeric_csv(
        path,
        layouts=layouts,
        header=header,
        integer_columns=integer_columns,
        keep_field_counts=form.compat_loader_counts if compat else (),
    )
    return _events(table, rules=rules, role=role, compat=compat)


def _compat_prediction_layouts(form: FileFormat, config: MetricConfig | None) -> dict[int, tuple[str, ...]]:
    """Prediction layouts the official loader also reads (and the metric then misreads), under --dcase-compat."""
    layouts: dict[int, tuple[str, ...]] = {}
    if form.compat_extra_columns_ignored:
        (base,) = form.prediction_layouts.values()
        for extra in range(1, _MAX_EXTRA_COLUMNS + 1):
            layouts[len(base) + extra] = (*base, *(f"ignored_{index}" for index in range(1, extra + 1)))
    if form.compat_polar_prediction_misread and config is not None and config.angle != "cartesian":
        layouts[5] = ("frame", "class", "track", "azimuth", "elevation")
    return layouts


def no_events(source: str, *, year: int) -> DcaseEvents:
    """An event list without events (a recording with nothing predicted), in the year's layout."""
    form = YEAR_RULES[year].file_format
    return DcaseEvents.empty(source, has_distance=form.has_distance, stereo=form.stereo)


def _events(table: NumericTable, *, rules: YearRules, role: str, compat: bool) -> DcaseEvents:
    names = table.names
    n = table.n_rows
    form = rules.file_format
    if not names:  # empty file, several possible layouts
        return DcaseEvents.empty(
            table.source, has_distance=form.has_distance and role == "reference", stereo=form.stereo
        )
    frame_values, class_values = table.column("frame"), table.column("class")
    if compat and form.compat_negative_indices_wrap:
        frame_values, class_values = _wrap_negative_indices(table, frame_values, class_values, rules)
    # Checked as read (float64), before the casts: a huge value must be reported as written, not wrapped.
    _check_range(table, "frame", frame_values, low=0, high=MAX_FRAME)
    for name in _INTEGER_COLUMNS[1:]:
        if name in names:
            _check_range(table, name, np.abs(table.column(name)), low=0, high=2**31 - 1)
    frame = frame_values.astype(np.int64)
    class_index = class_values.astype(np.int64)
    if not compat:
        _check_range(table, "class", class_index, low=0, high=rules.n_classes - 1)
    track_name = "source" if "source" in names else "track" if "track" in names else None
    track = table.column(track_name).astype(np.int64) if track_name else np.zeros(n, dtype=np.int64)

    vector = None
    if "x" in names:
        vector = table.values[:, [names.index("x"), names.index("y"), names.index("z")]]
    elif role == "prediction" and compat and form.compat_polar_prediction_misread and len(names) == 5:
        # The official 2021 polar path converts every prediction from Cartesian: x = azimuth, y = elevation,
        # z = the track index.
        vector = table.values[:, [names.index("azimuth"), names.index("elevation"), names.index("track")]]
    if vector is not None:
        x, y, z = vector.T
        azimuth, elevation = np.arctan2(y, x), np.arctan2(z, np.sqrt(x**2 + y**2))
        # Radians to degrees the way each year's loader does it; the last bits matter near 0 degrees error.
        if form.degrees_by_constant:
            azimuth, elevation = np.rad2deg(azimuth), np.rad2deg(elevation)
        else:
            azimuth, elevation = azimuth * 180 / np.pi, elevation * 180 / np.pi
    else:
        azimuth = table.column("azimuth").copy()
        elevation = table.column("elevation").copy() if "elevation" in names else np.zeros(n)
        # The 2019 loader clips predicted directions onto its grid (a misread track column included).
        if "elevation" in names and not (compat and form.integer_directions):
            _check_range(table, "elevation", elevation, low=-90, high=90)

    distance = None
    if "distance" in names and "distance" not in form.ignored_columns:
        divisor = form.reference_distance_divisor if role == "reference" else 1.0
        distance = table.column("distance") / divisor
        _check_range(table, "distance", distance, low=0)
    onscreen = None
    if "onscreen" in names:
        onscreen = table.column("onscreen").astype(np.int64)
        _check_range(table, "onscreen", onscreen, low=0, high=1)
    return DcaseEvents(
        source=table.source,
        frame=frame,
        class_index=class_index,
        track=track,
        azimuth=azimuth,
        elevation=elevation,
        vector=vector,
        distance=distance,
        onscreen=onscreen,
    )


def _wrap_negative_indices(
    table: NumericTable, frame: np.ndarray, class_index: np.ndarray, rules: YearRules
) -> tuple[np.ndarray, np.ndarray]:
    """The 2019 loader's NumPy indexing: frame -1 is the window's last frame, class -1 the last class.

    Indices NumPy cannot wrap (below minus the size) and classes past the last raise in the official code: an error.
    """
    assert rules.fixed_window is not None
    _check_range(table, "frame", frame, low=-rules.fixed_window, high=MAX_FRAME)
    _check_range(table, "class", class_index, low=-rules.n_classes, high=rules.n_classes - 1)
    frame = np.where(frame < 0, frame + rules.fixed_window, frame)
    class_index = np.where(class_index < 0, class_index + rules.n_classes, class_index)
    return frame, class_index


def read_event_list(path: str | Path, *, rules: YearRules, compat: bool = False) -> DcaseEvents:
    """A 2019 reference: events in seconds, expanded into one row per active 20 ms frame of the fixed window.

    The header line is checked by default (a first line that is an event is read as one); ``compat`` drops
    line 1 unread, as the official loader does. An event is active in frames floor(onset x fps) ..
    ceil(offset x fps) inclusive, in float64 like the official code, cut at the end of the window. Class names
    must be the year's; onsets non-negative and not after offsets; elevation and azimuth integers on the
    year's grid (azimuth -180..179, elevation -40..49, floored to 10 degrees).
    """
    source = str(path)
    data = read_text_bytes(path, what="DCASE file")
    lines = data.decode("utf-8").replace("\r\n", "\n").rstrip("\n\r\t ").split("\n")
    first = 1
    if lines and (compat or [field.strip() for field in lines[0].split(",")] == list(EVENT_LIST)):
        first = 2
    elif lines and lines[0].strip() and _looks_like_header(lines[0]):
        raise InputError(f"header {lines[0].strip()!r} is not {','.join(EVENT_LIST)!r}", file=source, row=0)
    index_of = {name: index for index, name in enumerate(rules.class_names)}
    rows: list[tuple[int, float, float, int, int]] = []
    for number, line in enumerate(lines[first - 1 :], start=first):
        if not line.strip() and number == len(lines) and not rows:
            break  # an empty file
        rows.append(_event_row(line, number, first, source, index_of))
    return _expand_events(rows, source, rules)


def _looks_like_header(line: str) -> bool:
    fields = [field.strip() for field in line.split(",")]
    return len(fields) == len(EVENT_LIST) and all(number_problem(field) is not None for field in fields[1:3])


def _event_row(
    line: str, number: int, first: int, source: str, index_of: dict[str, int]
) -> tuple[int, float, float, int, int]:
    """(class index, onset, offset, elevation, azimuth) of one event line, checked."""
    row = number - first + 1
    fields = [field.strip() for field in line.split(",")]
    if not line.strip():
        raise InputError("blank line inside the data", file=source, row=row, line=number)
    if len(fields) != len(EVENT_LIST):
        raise InputError(
            f"row has {len(fields)} fields; this format has {len(EVENT_LIST)}", file=source, row=row, line=number
        )

    def error(problem: str, column: str) -> InputError:
        return InputError(problem, file=source, row=row, column=column, line=number)

    name = fields[0]
    if name not in index_of:
        known = ", ".join(index_of)
        raise error(f"{name!r} is not a class of this year ({known})", EVENT_LIST[0])
    values = []
    for column, text in zip(EVENT_LIST[1:5], fields[1:5]):
        problem = number_problem(text)
        if problem is not None:
            raise error(problem, column)
        values.append(float(text))
    onset, offset, elevation, azimuth = values
    for column, value in (("ele", elevation), ("azi", azimuth)):
        if value != round(value):
            raise error(f"{_text(value)} is not an integer", column)
    if onset < 0:
        raise error(f"{_text(onset)} is out of range (>= 0)", "start_time")
    if offset < onset:
        raise error(f"the event ends ({_text(offset)} s) before it starts ({_text(onset)} s)", "end_time")
    # Directions that floor onto a cell of the grid; the official label code mis-indexes any other silently.
    for column, value, (low, high) in (("azi", azimuth, AZIMUTH_LIMITS), ("ele", elevation, ELEVATION_LIMITS)):
        if not low <= value < high + GRID_STEP_DEG:
            raise error(f"{_text(value)} is out of range ({low}..{high + GRID_STEP_DEG - 1}, the 2019 grid)", column)
    return index_of[name], onset, offset, int(elevation), int(azimuth)


def _text(value: float) -> str:
    """A number as a message shows it."""
    return f"{value:g}"


def _expand_events(rows: list[tuple[int, float, float, int, int]], source: str, rules: YearRules) -> DcaseEvents:
    """One row per (event, active frame), event by event, as the official label matrix is filled."""
    window = rules.fixed_window
    assert window is not None
    if not rows:
        return DcaseEvents.empty(source, has_distance=False, stereo=False)
    table = np.array(rows, dtype=np.float64)
    fps = float(rules.frames_per_second)
    # The official conversion, in float64: 0.58 * 50 = 28.999999999999996 starts at frame 28.
    start = np.floor(table[:, 1] * fps).astype(np.int64)
    end = np.minimum(np.ceil(table[:, 2] * fps).astype(np.int64), window - 1)
    lengths = np.maximum(end - start + 1, 0)
    event = np.repeat(np.arange(len(rows)), lengths)
    offset_in_event = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    frame = start[event] + offset_in_event
    return DcaseEvents(
        source=source,
        frame=frame,
        class_index=table[event, 0].astype(np.int64),
        track=event.astype(np.int64),
        azimuth=table[event, 4],
        elevation=table[event, 3],
        vector=None,
        distance=None,
        onscreen=None,
    )


def _check_range(table: NumericTable, name: str, values: np.ndarray, *, low: float, high: float | None = None) -> None:
    bad = np.flatnonzero((values < low) | ((values > high) if high is not None else False))
    if bad.size:
        allowed = f"{low:g}..{high:g}" if high is not None else f">= {low:g}"
        raise table.error(f"{values[bad[0]]:g} is out of range ({allowed})", row=int(bad[0]) + 1, column=name)


@dataclass(frozen=True)
class FilePair:
    """A recording: its reference file and its prediction file (None if the prediction is missing)."""

    name: str
    reference: Path
    prediction: Path | None


def pair_folders(predictions: Path, references: Path) -> tuple[list[FilePair], list[str]]:
    """Pair prediction and reference CSV files by file name.

    References may sit directly in ``references`` or in split subfolders (the DCASE ``metadata_dev/dev-test-*``
    layout). Where there are split subfolders, only the splits holding the reference of at least one prediction
    are evaluated (scoring dev-test predictions against all of ``metadata_dev`` must not count dev-train as
    misses). Returns the pairs in name order and notes for the user. A prediction without reference is an
    error; a reference without prediction is returned with ``prediction=None``.
    """
    for folder, role in ((predictions, "prediction"), (references, "reference")):
        if not folder.is_dir():
            raise InputError(f"{role} folder not found", file=str(folder))
    predicted = {path.name: path for path in sorted(predictions.glob("*.csv"))}
    if not predicted:
        raise InputError("no .csv prediction files in this folder", file=str(predictions))
    by_split: dict[str, dict[str, Path]] = {}
    for path in sorted(references.glob("*.csv")):
        by_split.setdefault("", {})[path.name] = path
    for path in sorted(references.glob("*/*.csv")):
        by_split.setdefault(path.parent.name, {})[path.name] = path

    notes: list[str] = []
    used_splits = [split for split, files in by_split.items() if set(files) & set(predicted)]
    skipped = sorted(split for split in by_split if split not in used_splits and split)
    if skipped:
        notes.append(f"reference splits without any prediction not evaluated: {', '.join(skipped)}")
    reference_files: dict[str, Path] = {}
    for split in used_splits:
        for name, path in by_split[split].items():
            if name in reference_files:
                raise InputError(f"two reference files named {name!r}", file=str(path))
            reference_files[name] = path
    for name, path in predicted.items():
        if name not in reference_files:
            raise InputError(f"prediction file has no reference file named {name!r} in {references}", file=str(path))
    pairs = [FilePair(name, reference_files[name], predicted.get(name)) for name in sorted(reference_files)]
    return pairs, notes


# The years whose files start with a header line, by the header's column names (2019: its event lists).
_HEADER_YEARS = {
    names: year
    for year, rules in YEAR_RULES.items()
    if rules.file_format.header or rules.file_format.event_list_reference
    for names in rules.file_format.reference_layouts.values()
}
# The years whose label and output files have the same layouts (polar references, Cartesian predictions).
_SAME_FORMAT_YEARS = (2020, 2021, 2022)
# DCASE2020 file names carry the overlap: foldF_roomR_mixMMM_ovO.csv.
_DCASE2020_NAME = re.compile(r"fold\d+_room\d+_mix\d+_ov\d+\.csv")


def detect_year(predictions: Path, references: Path) -> int:
    """The challenge year whose file formats these folders use.

    An error names the file that decides it when a file is malformed; it asks for ``--protocol`` when the formats
    fit more than one year. 2020, 2021 and 2022 share their formats: they are told apart only by DCASE2020 file
    names (``foldF_roomR_mixMMM_ovO.csv``) or by class 13, which only 2020 has.
    """
    pairs, _ = pair_folders(predictions, references)
    prediction_path = next(pair.prediction for pair in pairs if pair.prediction is not None)
    assert prediction_path is not None
    prediction_rows, prediction_header = _leading_rows(prediction_path)
    reference_rows: list[list[float]] = []
    reference_path, reference_header = pairs[0].reference, None
    for pair in pairs:
        reference_rows, reference_header = _leading_rows(pair.reference)
        reference_path = pair.reference
        if reference_rows or reference_header is not None:
            break
    if prediction_header is not None or reference_header is not None:
        return prediction_header if prediction_header is not None else reference_header  # type: ignore[return-value]  # only one year's format has a header line
    if not prediction_rows:
        raise InputError(
            "cannot tell the DCASE year from an empty prediction file; pass --protocol dcaseYYYY-task3",
            file=str(prediction_path),
        )
    n_fields = len(prediction_rows[0])
    reference_fields = len(reference_rows[0]) if reference_rows else None
    if n_fields == 4:
        return 2024
    if n_fields == 7:
        if reference_fields == 5:
            return 2023
        if reference_fields == 6:
            return 2024
    if n_fields == 6:
        if all(abs(value) <= 1.0 + 1e-6 for value in prediction_rows[0][3:6]):  # a direction vector
            return _same_format_year([pair.name for pair in pairs], prediction_rows, reference_rows, prediction_path)
        # frame,class,track,azimuth,elevation,distance (2024) or, without its header line,
        # frame,class,source,azimuth,distance,onscreen (2025): the last column tells only when it is not 0/1
        onscreen_like = all(row[-1] in (0.0, 1.0) for row in (*prediction_rows, *reference_rows))
        if reference_fields != 6 or not onscreen_like:
            return 2024
        raise InputError(
            "these files fit DCASE 2024 (azimuth, elevation, distance) and 2025 without its header line (azimuth, "
            "distance, onscreen); pass --protocol dcase2024-task3 or dcase2025-task3",
            file=str(prediction_path),
        )
    raise InputError(
        f"cannot tell the DCASE year from {n_fields}-column predictions and {reference_fields}-column references "
        f"({reference_path.name}); pass --protocol dcase2019-task3 (or 2020 ... 2025)",
        file=str(prediction_path),
    )


def _same_format_year(
    names: list[str], prediction_rows: list[list[float]], reference_rows: list[list[float]], prediction_path: Path
) -> int:
    """2020, 2021 or 2022 for polar references and Cartesian predictions, where the files tell; else an error."""
    if all(_DCASE2020_NAME.fullmatch(name) for name in names):
        return 2020
    classes = [row[1] for row in (*prediction_rows, *reference_rows) if len(row) > 1]
    largest = int(max(classes, default=0))
    if largest >= YEAR_RULES[2020].n_classes - 1:
        return 2020  # class 13: only 2020 has 14 classes
    candidates = [year for year in _SAME_FORMAT_YEARS if largest < YEAR_RULES[year].n_classes]
    years = ", ".join(map(str, candidates[:-1])) + f" and {candidates[-1]}"
    options = ", ".join(f"dcase{year}-task3" for year in candidates)
    raise InputError(
        f"these files fit DCASE {years} alike (the same file formats); pass --protocol {options}",
        file=str(prediction_path),
    )


_ROWS_FOR_DETECTION = 2000


def _leading_rows(path: Path) -> tuple[list[list[float]], int | None]:
    """The first rows of a DCASE file as numbers, and the year whose header line it starts with.

    A first line that is neither numbers nor that header, or a later row that is not numbers, is an error naming the
    file and line (the format decides the year, so a malformed file must be named, not another one).
    """
    data = read_input_bytes(path, what="DCASE file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise InputError(f"byte 0x{data[error.start]:02x} is not valid UTF-8", file=str(path), line=line) from None
    rows: list[list[float]] = []
    header: int | None = None
    for number, text_line in enumerate(text.splitlines(), start=1):
        fields = [field.strip() for field in text_line.split(",")]
        if fields == [""]:
            continue
        values = [_number(field) for field in fields]
        if any(value is None for value in values):
            if number == 1 and tuple(fields) in _HEADER_YEARS:
                header = _HEADER_YEARS[tuple(fields)]
                if YEAR_RULES[header].file_format.event_list_reference:
                    break  # the header decides; event lists have class names in their rows
                continue
            if number == 1:
                expected = "; ".join(f"{','.join(names)} ({year})" for names, year in _HEADER_YEARS.items())
                raise InputError(
                    f"line 1 is not numbers ({text_line[:60]!r}); only DCASE 2019 references and 2025 files start "
                    f"with a header line ({expected})",
                    file=str(path),
                    line=1,
                )
            bad = next(field for field, value in zip(fields, values) if value is None)
            raise InputError(f"{bad!r} is not a number", file=str(path), line=number)
        rows.append(values)  # type: ignore[arg-type]
        if len(rows) >= _ROWS_FOR_DETECTION:
            break
    return rows, header


def _number(text: str) -> float | None:
    if number_problem(text) is not None:
        return None
    return float(text)
