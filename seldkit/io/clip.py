"""Clip-level prediction and reference files, strictly validated, and their pairing.

Predictions: ``clip_id``, optional ``azimuth``, ``elevation`` (degrees), ``distance`` (metres), and one score
column per class (the column name is the class id). References: ``clip_id``, ``labels`` (class ids joined by
``;``, possibly empty) and the same optional spatial columns. Rows are joined on ``clip_id`` as strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seldkit.errors import InputError
from seldkit.io.csvtable import CsvTable, read_csv_table

CLIP_ID = "clip_id"
LABELS = "labels"
LABEL_SEPARATOR = ";"
SPATIAL_COLUMNS = ("azimuth", "elevation", "distance")


@dataclass(frozen=True)
class ClipPredictions:
    """One system's clip-level outputs, in file order."""

    table: CsvTable
    clip_ids: np.ndarray
    class_ids: tuple[str, ...]
    # [n_classes, n_clips] float64 (n_classes may be 0): class-major, the layout the per-class ranking sorts
    scores_by_class: np.ndarray
    spatial: dict[str, np.ndarray]  # the spatial columns present, each [n_clips]

    @property
    def scores(self) -> np.ndarray:
        """[n_clips, n_classes] view."""
        return self.scores_by_class.T


@dataclass(frozen=True)
class ClipReferences:
    """Ground truth per clip, in file order; ``labels[i]`` is the tuple of class ids of clip ``i``."""

    table: CsvTable
    clip_ids: np.ndarray
    labels: list[tuple[str, ...]]
    spatial: dict[str, np.ndarray]


@dataclass(frozen=True)
class ClipEvaluationSet:
    """Predictions and references aligned clip by clip (reference file order), ready for the metrics."""

    clip_ids: np.ndarray
    class_ids: tuple[str, ...]
    scores: np.ndarray | None  # [n, C] or None when there are no class columns
    targets: np.ndarray | None  # [n, C] bool
    predicted: dict[str, np.ndarray]  # spatial columns present on both sides
    reference: dict[str, np.ndarray]
    notes: tuple[str, ...] = ()  # what could not be computed and why, for the user

    @property
    def n_clips(self) -> int:
        """The number of clips."""
        return len(self.clip_ids)


def read_clip_predictions(path: str | Path) -> ClipPredictions:
    """Read and validate a clip-level prediction CSV."""
    table = read_csv_table(path, text_columns=(CLIP_ID,), required_columns=(CLIP_ID,))
    clip_ids = _validated_clip_ids(table)
    spatial = _validated_spatial(table)
    class_ids = tuple(name for name in table.header if name != CLIP_ID and name not in SPATIAL_COLUMNS)
    if class_ids:
        scores_by_class = np.vstack([table.numbers[name] for name in class_ids])
    else:
        scores_by_class = np.zeros((0, table.n_rows))
    return ClipPredictions(
        table=table, clip_ids=clip_ids, class_ids=class_ids, scores_by_class=scores_by_class, spatial=spatial
    )


def read_clip_references(path: str | Path) -> ClipReferences:
    """Read and validate a clip-level reference CSV."""
    table = read_csv_table(
        path,
        text_columns=(CLIP_ID, LABELS),
        required_columns=(CLIP_ID, LABELS),
        allowed_columns=(CLIP_ID, LABELS, *SPATIAL_COLUMNS),
    )
    clip_ids = _validated_clip_ids(table)
    spatial = _validated_spatial(table)
    labels: list[tuple[str, ...]] = []
    for row, text in enumerate(table.text[LABELS], start=1):
        if text == "":
            labels.append(())
            continue
        parts = tuple(text.split(LABEL_SEPARATOR))
        if any(part == "" for part in parts):
            raise table.error(f"empty class id in labels {text!r}", row=row, column=LABELS)
        labels.append(parts)
    return ClipReferences(table=table, clip_ids=clip_ids, labels=labels, spatial=spatial)


def pair_clips(
    predictions: ClipPredictions,
    references: ClipReferences,
    *,
    class_ids: Sequence[str] | None = None,
    protocol_name: str | None = None,
) -> ClipEvaluationSet:
    """Join predictions and references on ``clip_id`` and build the target matrix.

    ``class_ids`` fixes the class set (and its order); the prediction file must then hold exactly these class
    columns. Without it, the class set is the prediction file's class columns in header order.
    """
    pred_table, ref_table = predictions.table, references.table
    pred_index = {clip_id: index for index, clip_id in enumerate(predictions.clip_ids)}
    order = np.empty(len(references.clip_ids), dtype=np.int64)
    for row, clip_id in enumerate(references.clip_ids, start=1):
        index = pred_index.get(clip_id)
        if index is None:
            raise ref_table.error(f"clip {clip_id!r} has no row in {pred_table.source}", row=row, column=CLIP_ID)
        order[row - 1] = index
    if len(pred_index) != len(order):
        ref_ids = set(references.clip_ids)
        for row, clip_id in enumerate(predictions.clip_ids, start=1):
            if clip_id not in ref_ids:
                raise pred_table.error(f"clip {clip_id!r} has no row in {ref_table.source}", row=row, column=CLIP_ID)

    classes, columns = _resolve_classes(predictions, class_ids, protocol_name)
    scores = targets = None
    if classes:
        # A Fortran-ordered [n, C] view of a class-major array: the ranking then needs no transpose copy.
        scores = predictions.scores_by_class[columns][:, order].T
        targets = _target_matrix(references, classes, pred_table.source)
    elif any(references.labels):
        row = next(i for i, labels in enumerate(references.labels, start=1) if labels)
        raise ref_table.error(
            f"labels given but {pred_table.source} has no class-score columns", row=row, column=LABELS
        )

    predicted: dict[str, np.ndarray] = {}
    reference: dict[str, np.ndarray] = {}
    notes: list[str] = []
    for name in SPATIAL_COLUMNS:
        in_pred, in_ref = name in predictions.spatial, name in references.spatial
        if in_pred and in_ref:
            predicted[name] = predictions.spatial[name][order]
            reference[name] = references.spatial[name]
        elif in_pred != in_ref:
            has, lacks = (pred_table, ref_table) if in_pred else (ref_table, pred_table)
            notes.append(f"{has.source} has a {name!r} column but {lacks.source} does not; it is not scored")
    return ClipEvaluationSet(
        clip_ids=references.clip_ids,
        class_ids=classes,
        scores=scores,
        targets=targets,
        predicted=predicted,
        reference=reference,
        notes=tuple(notes),
    )


def _resolve_classes(
    predictions: ClipPredictions, class_ids: Sequence[str] | None, protocol_name: str | None
) -> tuple[tuple[str, ...], np.ndarray]:
    """The class set and, for each class, its column in the prediction score matrix."""
    present = {name: index for index, name in enumerate(predictions.class_ids)}
    if class_ids is None:
        return predictions.class_ids, np.arange(len(predictions.class_ids))
    expected = tuple(class_ids)
    expected_set = set(expected)
    owner = f"protocol {protocol_name!r}" if protocol_name else "the protocol"
    for name in predictions.class_ids:
        if name not in expected_set:
            raise predictions.table.error(f"not a class of {owner} ({len(expected)} classes)", row=0, column=name)
    missing = [name for name in expected if name not in present]
    if missing:
        raise predictions.table.error(
            f"{len(missing)} of the {len(expected)} class columns of {owner} are missing, first {missing[0]!r}",
            row=0,
        )
    return expected, np.array([present[name] for name in expected], dtype=np.int64)


def _target_matrix(references: ClipReferences, classes: tuple[str, ...], pred_source: str) -> np.ndarray:
    column_of = {name: index for index, name in enumerate(classes)}
    targets = np.zeros((len(references.labels), len(classes)), dtype=bool)
    for row, labels in enumerate(references.labels, start=1):
        for label in labels:
            column = column_of.get(label)
            if column is None:
                raise references.table.error(
                    f"unknown class id {label!r} (not a class column of {pred_source})", row=row, column=LABELS
                )
            targets[row - 1, column] = True
    return targets


def _validated_clip_ids(table: CsvTable) -> np.ndarray:
    clip_ids = table.text[CLIP_ID]
    first_row: dict[str, int] = {}
    for row, clip_id in enumerate(clip_ids, start=1):
        if clip_id == "":
            raise table.error("empty clip_id", row=row, column=CLIP_ID)
        previous = first_row.setdefault(clip_id, row)
        if previous != row:
            raise table.error(f"duplicate clip_id {clip_id!r} (first in row {previous})", row=row, column=CLIP_ID)
    return clip_ids


def _validated_spatial(table: CsvTable) -> dict[str, np.ndarray]:
    spatial = {name: table.numbers[name] for name in SPATIAL_COLUMNS if name in table.numbers}
    if ("azimuth" in spatial) != ("elevation" in spatial):
        have, lack = ("azimuth", "elevation") if "azimuth" in spatial else ("elevation", "azimuth")
        raise table.error(f"a direction needs both angles: column {have!r} is present, {lack!r} is not", row=0)
    if "elevation" in spatial:
        _check_range(table, "elevation", spatial["elevation"], -90.0, 90.0, "degrees")
    if "distance" in spatial:
        _check_range(table, "distance", spatial["distance"], 0.0, np.inf, "metres")
    return spatial


def _check_range(table: CsvTable, name: str, values: np.ndarray, low: float, high: float, unit: str) -> None:
    bad = np.flatnonzero((values < low) | (values > high))
    if bad.size:
        row = int(bad[0]) + 1
        allowed = f"[{low:g}, {high:g}]" if np.isfinite(high) else f">= {low:g}"
        raise table.error(f"{values[bad[0]]:g} {unit} is out of range ({allowed})", row=row, column=name)


@dataclass(frozen=True)
class ClipGroups:
    """Where each clip's independent unit (cluster) is read: ``column`` of the clip metadata CSV ``path``."""

    path: Path
    column: str

    def labels_for(self, clip_ids: np.ndarray) -> list[str]:
        """The cluster label of each of ``clip_ids`` (in that order); every clip needs one."""
        table = read_csv_table(self.path, text_columns=None, required_columns=(CLIP_ID, self.column))
        ids = _validated_clip_ids(table)
        labels = table.text[self.column]
        for row, label in enumerate(labels, start=1):
            if label == "":
                raise table.error("empty cluster label", row=row, column=self.column)
        by_clip = dict(zip(ids, labels))
        missing = [clip_id for clip_id in clip_ids if clip_id not in by_clip]
        if missing:
            raise InputError(
                f"{len(missing)} clips of the references have no {self.column!r} here (first: {missing[0]!r})",
                file=str(self.path),
            )
        return [str(by_clip[clip_id]) for clip_id in clip_ids]
