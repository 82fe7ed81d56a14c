r"""The DCASE 2019 metric: sound event detection and direction-of-arrival estimation, scored separately.

Directions live on the 10 degree grid of the 2019 labels: azimuth -180..170, elevation -40..40. A direction
is clipped to that range and floored onto the grid (29 degrees scores as 20); each (frame, class, grid cell) is
one entry, so two same-class sources in one cell are one.

* Detection, in 1 s blocks: a class is active in block k if it has an entry in one of the frames
  :math:`50k .. 50k+48` (the official block slice leaves out the block's last frame). Per block, with FP and FN
  the classes active only in the prediction / only in the reference: :math:`S = \min(FP, FN)`,
  :math:`D = \max(0, FN - FP)`, :math:`I = \max(0, FP - FN)`; TP, :math:`N_\mathrm{ref}`, :math:`N_\mathrm{sys}`
  count active (block, class) pairs.
* Localisation, per frame of the fixed 60 s window: :math:`n_\mathrm{ref}`, :math:`n_\mathrm{pred}` are the
  frame's entries of all classes; a frame is good if they are equal (0 = 0 included). Where both are non-zero all
  reference entries are matched to all predicted ones, classes ignored, by minimum total great-circle angle, and
  that total is added to ``doa_loss_pred``. ``doa_loss_pred_cnt`` counts every predicted entry.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from seldkit.metrics.dcase.counters import SeldCounters, _per_file_class
from seldkit.metrics.dcase.geometry import spherical_error_deg
from seldkit.metrics.dcase.matching import EventSet, run_lengths, unique_sorted

GRID_STEP_DEG = 10
AZIMUTH_LIMITS = (-180, 170)
ELEVATION_LIMITS = (-40, 40)
_N_AZIMUTHS = (AZIMUTH_LIMITS[1] - AZIMUTH_LIMITS[0]) // GRID_STEP_DEG + 1
_N_ELEVATIONS = (ELEVATION_LIMITS[1] - ELEVATION_LIMITS[0]) // GRID_STEP_DEG + 1
N_CELLS = _N_AZIMUTHS * _N_ELEVATIONS


def grid_cell(azimuth: np.ndarray, elevation: np.ndarray) -> np.ndarray:
    """The grid cell index (azimuth-major) of directions in degrees: clipped to the grid, then floored."""
    # The readers hold 2019 directions to integers, for which floor(x / 10) is exact (and faster than x // 10).
    azimuth = np.clip(azimuth, *AZIMUTH_LIMITS) - AZIMUTH_LIMITS[0]
    elevation = np.clip(elevation, *ELEVATION_LIMITS) - ELEVATION_LIMITS[0]
    azimuth_index = np.floor(azimuth / GRID_STEP_DEG).astype(np.int64)
    elevation_index = np.floor(elevation / GRID_STEP_DEG).astype(np.int64)
    return azimuth_index * _N_ELEVATIONS + elevation_index


def cell_directions(cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(azimuth, elevation) in degrees of grid cells: the lower corner, as the official labels give them."""
    azimuth = (cell // _N_ELEVATIONS) * GRID_STEP_DEG + AZIMUTH_LIMITS[0]
    elevation = (cell % _N_ELEVATIONS) * GRID_STEP_DEG + ELEVATION_LIMITS[0]
    return azimuth.astype(np.float64), elevation.astype(np.float64)


def _entries(events: EventSet, n_frames: int, n_classes: int) -> np.ndarray:
    """Sorted unique keys ((file * n_frames + frame) * n_classes + class) * n_cells + cell."""
    cell = grid_cell(events.azimuth, events.elevation)
    key = ((events.file * n_frames + events.frame) * n_classes + events.class_index) * N_CELLS
    return unique_sorted(key + cell)


def sed_doa_counters(
    reference: EventSet,
    prediction: EventSet,
    *,
    n_files: int,
    n_classes: int,
    n_frames: int,
    frames_per_block: int,
) -> SeldCounters:
    """The 2019 accumulators of every file (events inside the window ``0 .. n_frames - 1``, classes in range)."""
    ref_keys = _entries(reference, n_frames, n_classes)
    pred_keys = _entries(prediction, n_frames, n_classes)
    counts, substitutions, deletions, insertions = _detection_counts(
        ref_keys // N_CELLS, pred_keys // N_CELLS, n_files, n_classes, n_frames, frames_per_block
    )
    frame_counts, matched_error = _localization_counts(ref_keys, pred_keys, n_files, n_frames, n_classes, N_CELLS)
    counts.update(frame_counts)
    return SeldCounters(
        counts=counts,
        sums={"doa_loss_pred": matched_error},
        substitutions=substitutions,
        deletions=deletions,
        insertions=insertions,
    )


def _detection_counts(
    ref_activity: np.ndarray,
    pred_activity: np.ndarray,
    n_files: int,
    n_classes: int,
    n_frames: int,
    frames_per_block: int,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """TP, Nref, Nsys per file and class, and S, D, I per file, from (file, frame, class) activity keys."""
    n_blocks = -(-n_frames // frames_per_block)

    def active_blocks(activity: np.ndarray) -> np.ndarray:
        frame = (activity // n_classes) % n_frames
        file = activity // n_classes // n_frames
        # The official block maximum runs over frames [50k, 50k + 49): the block's last frame is never seen.
        seen = frame % frames_per_block != frames_per_block - 1
        block = frame[seen] // frames_per_block
        return unique_sorted((file[seen] * n_blocks + block) * n_classes + activity[seen] % n_classes)

    ref_blocks, pred_blocks = active_blocks(ref_activity), active_blocks(pred_activity)
    both = np.intersect1d(ref_blocks, pred_blocks, assume_unique=True)
    only_pred = np.setdiff1d(pred_blocks, ref_blocks, assume_unique=True)
    only_ref = np.setdiff1d(ref_blocks, pred_blocks, assume_unique=True)

    def per_class(keys: np.ndarray) -> np.ndarray:
        return _per_file_class(keys // n_classes // n_blocks, keys % n_classes, np.ones(keys.size), n_files, n_classes)

    counts = {"TP": per_class(both), "Nref": per_class(ref_blocks), "Nsys": per_class(pred_blocks)}
    n_units = n_files * n_blocks
    fp = np.bincount(only_pred // n_classes, minlength=n_units).reshape(n_files, n_blocks)
    fn = np.bincount(only_ref // n_classes, minlength=n_units).reshape(n_files, n_blocks)
    substitutions = np.minimum(fp, fn).sum(axis=1).astype(np.float64)
    deletions = np.maximum(0, fn - fp).sum(axis=1).astype(np.float64)
    insertions = np.maximum(0, fp - fn).sum(axis=1).astype(np.float64)
    return counts, substitutions, deletions, insertions


def _localization_counts(
    ref_keys: np.ndarray, pred_keys: np.ndarray, n_files: int, n_frames: int, n_classes: int, n_cells: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per-file frame counts (good frames, under-/over-estimated sources) and the summed matched angles."""
    ref_frame = ref_keys // n_cells // n_classes  # file * n_frames + frame
    pred_frame = pred_keys // n_cells // n_classes
    n_units = n_files * n_frames
    n_ref = np.bincount(ref_frame, minlength=n_units).reshape(n_files, n_frames)
    n_pred = np.bincount(pred_frame, minlength=n_units).reshape(n_files, n_frames)
    missing = np.maximum(n_ref - n_pred, 0)
    extra = np.maximum(n_pred - n_ref, 0)

    def per_file(values: np.ndarray) -> np.ndarray:
        return values.sum(axis=1, keepdims=True).astype(np.float64)

    counts = {
        "doa_loss_pred_cnt": per_file(n_pred),
        "nb_frames": np.full((n_files, 1), float(n_frames)),
        "nb_good_pks": per_file(n_ref == n_pred),
        "less_est_cnt": per_file(missing),
        "less_est_frame_cnt": per_file(missing > 0),
        "more_est_cnt": per_file(extra),
        "more_est_frame_cnt": per_file(extra > 0),
    }
    return counts, _matched_angle_per_file(ref_keys, pred_keys, ref_frame, pred_frame, n_files, n_frames, n_cells)


def _matched_angle_per_file(
    ref_keys: np.ndarray,
    pred_keys: np.ndarray,
    ref_frame: np.ndarray,
    pred_frame: np.ndarray,
    n_files: int,
    n_frames: int,
    n_cells: int,
) -> np.ndarray:
    """Per file [n_files, 1]: the sum over frames of the minimum total angle matching all entries of the frame.

    Classes are ignored. Only the optimal total enters the metric, so any optimal assignment gives the same value:
    frames of the same shape (n_ref x n_pred) are solved together by trying every assignment, with the angles
    looked up in a table of the grid; large frames go to ``linear_sum_assignment``.
    """
    table = _grid_angle_table()
    ref_unique, ref_start, ref_count = run_lengths(ref_frame)
    pred_unique, pred_start, pred_count = run_lengths(pred_frame)
    # Frames with entries on both sides (both lists are sorted and distinct).
    position = np.minimum(np.searchsorted(pred_unique, ref_unique), max(pred_unique.size - 1, 0))
    ref_index = np.flatnonzero(pred_unique[position] == ref_unique) if pred_unique.size else np.zeros(0, np.int64)
    pred_index = position[ref_index]
    shared = ref_unique[ref_index]
    rows, columns = ref_count[ref_index], pred_count[pred_index]
    ref_first, pred_first = ref_start[ref_index], pred_start[pred_index]
    ref_cell, pred_cell = ref_keys % n_cells, pred_keys % n_cells
    frame_total = np.zeros(shared.size)
    shape_span = int(columns.max(initial=0)) + 1
    shape = rows * shape_span + columns
    for code in unique_sorted(shape):
        n_rows, n_columns = divmod(int(code), shape_span)
        frames = np.flatnonzero(shape == code)
        cells_r = ref_cell[ref_first[frames][:, None] + np.arange(n_rows)]
        cells_p = pred_cell[pred_first[frames][:, None] + np.arange(n_columns)]
        cost = table[cells_r[:, :, None], cells_p[:, None, :]]  # [frames, n_rows, n_columns]
        frame_total[frames] = _min_assignment_totals(cost)
    return np.bincount(shared // n_frames, weights=frame_total, minlength=n_files).reshape(n_files, 1)


_MAX_ASSIGNMENTS = 5040  # 7! : beyond, frames are solved one by one


def _min_assignment_totals(cost: np.ndarray) -> np.ndarray:
    """Per matrix of ``cost`` [n, rows, columns]: the minimum total of a full matching of the smaller side."""
    from scipy.optimize import linear_sum_assignment

    if cost.shape[1] > cost.shape[2]:
        cost = cost.transpose(0, 2, 1)
    n_small, n_large = cost.shape[1], cost.shape[2]
    if math.perm(n_large, n_small) > _MAX_ASSIGNMENTS:
        totals = []
        for matrix in cost:
            chosen_rows, chosen_columns = linear_sum_assignment(matrix)
            totals.append(matrix[chosen_rows, chosen_columns].sum())
        return np.array(totals)
    assignments = np.array(list(itertools.permutations(range(n_large), n_small)), dtype=np.int64)  # [k, n_small]
    picked = cost[:, np.arange(n_small), assignments]  # [n, k, n_small]
    return picked.sum(axis=2).min(axis=1)


@functools.cache
def _grid_angle_table() -> np.ndarray:
    """The great-circle angle between every two cells of the grid [n_cells, n_cells], as the official code has it."""
    cells = np.arange(N_CELLS)
    azimuth, elevation = cell_directions(cells)
    table = spherical_error_deg(azimuth[:, None], elevation[:, None], azimuth[None, :], elevation[None, :])
    table.flags.writeable = False
    return table
