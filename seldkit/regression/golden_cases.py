"""The golden cases of the regression suites as objects, for checking any metric implementation against them.

``seldkit verify --impl-command/--impl-python`` and pytest parametrisation (:func:`seldkit.regression.cases`) read
the suites through this module. A :class:`RegressionCase` is one case in one configuration: its input files, the
same inputs in memory, the expected values of the official code (scalar metrics, under seldkit's metric names) and
the tolerance of each.

In-memory forms (what :meth:`RegressionCase.load` returns, built without seldkit's own readers so that a foreign
implementation sees the files as they are):

* **DCASE Task 3** (``dcase/<year>``): ``{file name: numpy float64 array}``, one row per CSV line and one column per
  CSV field in file order (frame, class, track, then the year's direction and distance columns); a non-numeric
  first line (the 2019 reference and 2025 headers) is left out; an empty file is an array of shape ``(0, 0)``.
  The class names of the 2019 event lists (first column) become their class indices (``class_names`` of the
  suite's expected.json); any other field that is not a number is NaN. Predictions and references are separate
  mappings, so a prediction file that is missing is simply not a key.
* **Clip-level** (``clip``): a ``pandas.DataFrame`` with the file's columns in file order, ``clip_id`` and
  ``labels`` as ``str`` (labels joined by ``;``, ``""`` for none), every other column as float64 (each value the
  float nearest to its text, as Python's ``float`` reads it).
* **SpatialSoundQA** (``qa``): the answers as a list of the JSONL records (``question_id``, ``question_type``,
  ``answer``) and the questions file as parsed JSON (``{"data": [question records]}``); the configuration is the
  sentence embedder of detection answers (``trigram256`` or ``minilm``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas

from seldkit.errors import InputError


@dataclass(frozen=True)
class Tolerance:
    """The allowed difference ``max(abs, rel * max(|got|, |expected|))``; both 0 demands equality."""

    rel: float = 0.0
    abs: float = 0.0

    def deviation(self, got: float | None, expected: float | None) -> float:
        """|got - expected| as a fraction of the allowed difference (> 1 fails); see :func:`deviation`."""
        from seldkit.regression import deviation

        return deviation(got, expected, rel=self.rel, abs_=self.abs)

    def describe(self) -> str:
        """The tolerance in words, e.g. ``1e-09 relative`` or ``0.001 absolute``."""
        parts = [f"{self.rel:g} relative"] if self.rel else []
        parts += [f"{self.abs:g} absolute"] if self.abs else []
        return " or ".join(parts) or "exact"


@dataclass(frozen=True)
class RegressionCase:
    """One golden case in one metric configuration of the suite it belongs to.

    ``expected`` is None where the official code raises on the input (nothing to compare with; ``no_value`` says
    why). ``groups`` partitions the expected metrics into the groups a report shows (detection, localisation, ...).
    """

    suite: str  # e.g. "dcase/2024"
    case: str  # the case id, e.g. "random_000"
    config: str  # the metric configuration, e.g. "macro"
    description: str
    predictions: Path  # a file or a folder, as `seldkit score` takes it
    references: Path
    params: Mapping[str, Any]  # the configuration's parameters, under the official code's names
    expected: Mapping[str, float | None] | None
    tolerances: Mapping[str, Tolerance]
    groups: Mapping[str, tuple[str, ...]]
    no_value: str = ""
    tags: tuple[str, ...] = field(default=())
    class_names: Mapping[str, int] = field(default_factory=dict)  # 2019 event lists: class name -> index

    @property
    def id(self) -> str:
        """``case/config``: the name a report and pytest show."""
        return f"{self.case}/{self.config}"

    @property
    def kind(self) -> str:
        """The suite family: ``dcase`` or ``clip``."""
        return self.suite.split("/")[0]

    def load(self) -> tuple[Any, Any]:
        """(predictions, references) in the in-memory form of the suite's family (see the module docstring)."""
        if self.kind == "dcase":
            return (
                read_csv_rows_folder(self.predictions, class_names=self.class_names),
                read_csv_rows_folder(self.references, class_names=self.class_names),
            )
        if self.kind == "qa":
            answers = [json.loads(line) for line in self.predictions.read_text(encoding="utf-8").splitlines() if line]
            return answers, json.loads(self.references.read_text(encoding="utf-8"))
        return read_csv_columns(self.predictions), read_csv_columns(self.references)

    def deviations(self, got: Mapping[str, float | None]) -> dict[str, float]:
        """Each expected metric that ``got`` has: its deviation as a fraction of its tolerance (> 1 fails)."""
        if self.expected is None:
            return {}
        return {
            name: self.tolerances[name].deviation(got[name], value)
            for name, value in self.expected.items()
            if name in got
        }


def metric_groups(groups: Mapping[str, tuple[str, ...]], names: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """``groups`` restricted to the metric ``names`` a case has (groups left empty are dropped).

    >>> metric_groups({"detection": ("ER_20", "F_20"), "onscreen": ("OnscreenAcc",)}, ["F_20", "SELD"])
    {'detection': ('F_20',)}
    """
    present = set(names)
    kept = {group: tuple(name for name in members if name in present) for group, members in groups.items()}
    return {group: members for group, members in kept.items() if members}


def suite_cases(name: str, folder: Path) -> Iterator[RegressionCase]:
    """The cases of the suite ``name`` in ``folder``; suites of a family without case objects give an error."""
    family = name.split("/")[0]
    if family == "dcase":
        from seldkit.regression.dcase import iter_cases as iter_dcase_cases

        yield from iter_dcase_cases(name, folder)
    elif family == "clip":
        from seldkit.regression.clip import iter_cases as iter_clip_cases

        yield from iter_clip_cases(name, folder)
    elif family == "qa":
        from seldkit.regression.qa import iter_cases as iter_qa_cases

        yield from iter_qa_cases(name, folder)
    else:
        raise InputError(f"suite {name!r}: no case objects for suites of this kind")


def read_csv_rows_folder(folder: Path, *, class_names: Mapping[str, int] | None = None) -> dict[str, np.ndarray]:
    """Every ``*.csv`` of ``folder`` as a float64 array of its rows (see the module docstring)."""
    return {path.name: read_csv_rows(path, class_names=class_names) for path in sorted(folder.glob("*.csv"))}


def read_csv_rows(path: Path, *, class_names: Mapping[str, int] | None = None) -> np.ndarray:
    """A headerless numeric CSV (one non-numeric first line is skipped) as a float64 array of its rows.

    A class name of ``class_names`` in the first column is its index; any other non-numeric field is NaN.
    """
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if lines and not _numeric(lines[0]) and not _class_row(lines[0], class_names or {}):
        lines = lines[1:]
    if not lines:
        return np.zeros((0, 0))
    names = class_names or {}
    rows = [[_field_value(value, column, names) for column, value in enumerate(line.split(","))] for line in lines]
    width = max(len(row) for row in rows)
    # Rows of another length are padded with NaN rather than refused: the implementation under test decides.
    return np.array([row + [math.nan] * (width - len(row)) for row in rows], dtype=np.float64)


def read_csv_columns(path: Path) -> pandas.DataFrame:
    """A clip CSV as a data frame: ``clip_id`` and ``labels`` as str (no labels: ``""``), the rest float64."""
    import pandas

    from seldkit.io.csvtable import exact_float_options

    return pandas.read_csv(
        path, dtype={"clip_id": str, "labels": str}, keep_default_na=False, na_values=[], **exact_float_options()
    ).astype({"clip_id": str})


def _field_value(text: str, column: int, class_names: Mapping[str, int]) -> float:
    try:
        return float(text)
    except ValueError:
        return float(class_names.get(text.strip(), math.nan)) if column == 0 else math.nan


def _class_row(line: str, class_names: Mapping[str, int]) -> bool:
    """Whether ``line`` is an event of a 2019 event list (a class name, then numbers), not a header."""
    first, _, rest = line.partition(",")
    return first.strip() in class_names and _numeric(rest)


def _numeric(line: str) -> bool:
    try:
        [float(value) for value in line.split(",")]
    except ValueError:
        return False
    return True
