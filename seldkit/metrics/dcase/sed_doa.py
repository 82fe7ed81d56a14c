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

import numpy as np

from seldkit.metrics.dcase.counters import SeldCounters, _per_file_class
from seldkit.metrics.dcase.geometry import spherical_error_deg
from seldkit.metrics.dcase.matching import EventSet, match_frames

GRID_STEP_DEG = 10
AZIMUTH_LIMITS = (-180, 170)
ELEVATION_LIMITS = (-40, 40)
_N_ELEVATIONS = (ELEVATION_LIMITS[1] - ELEVATION_LIMITS[0]) // GRID_STEP_DEG + 1


def grid_cell(azimuth: np.ndarray, elevation: np.ndarray) -> np.ndarray:
    """The grid cell index (azimuth-major) of directions in degrees: clipped to the grid, then floored."""
    azimuth = np.clip(azimuth, *AZIMUTH_LIMITS)
    elevation = np.clip(elevation, *ELEVATION_LIMITS)
    azimuth_index = np.floor_divide(azimuth - AZIMUTH_LIMITS[0], GRID_STEP_DEG).astype(np.int64)
    elevation_index = np.floor_divide(elevation - ELEVATION_LIMITS[0], GRID_STEP_DEG).astype(np.int64)
    return azimuth_index * _N_ELEVATIONS + elevation_index


def cell_directions(cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(azimuth, elevation) in degrees of grid cells: the lower corner, as the official labels give them."""
    azimuth = (cell // _N_ELEVATIONS) * GRID_STEP_DEG + AZIMUTH_LIMITS[0]
    elevation = (cell % _N_ELEVATIONS) * GRID_STEP_DEG + ELEVATION_LIMITS[0]
    return azimuth.astype(np.float64), elevation.astype(np.float64)


def _entries(events: EventSet, n_frames: int, n_classes: int) -> np.ndarray:
    """Sorted unique keys ((file * n_frames + frame) * n_classes + class) * n_cells + cell."""
    n_cells = (AZIMUTH_LIMITS[1] - AZIMUTH_LIMITS[0]) // GRID_STEP_DEG + 1
    cell = grid_cell(events.azimuth, events.elevation)
    key = ((events.file * n_frames + events.frame) * n_classes + events.class_index) * (n_cells * _N_ELEVATIONS)
    return np.unique(key + cell)


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
    n_cells = ((AZIMUTH_LIMITS[1] - AZIMUTH_LIMITS[0]) // GRID_STEP_DEG + 1) * _N_ELEVATIONS
    ref_keys = _entries(reference, n_frames, n_classes)
    pred_keys = _entries(prediction, n_frames, n_classes)
    counts, substitutions, deletions, insertions = _detection_counts(
        ref_keys // n_cells, pred_keys // n_cells, n_files, n_classes, n_frames, frames_per_block
    )
    frame_counts, matched_error = _localization_counts(ref_keys, pred_keys, n_files, n_frames, n_classes, n_cells)
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
        return np.unique((file[seen] * n_blocks + block) * n_classes + activity[seen] % n_classes)

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

    The classes are ignored: every entry is put in class 0 before the per-(frame, class) matching.
    """

    def as_events(keys: np.ndarray, frame_key: np.ndarray) -> EventSet:
        azimuth, elevation = cell_directions(keys % n_cells)
        n = keys.size
        return EventSet(
            file=frame_key // n_frames,
            frame=frame_key % n_frames,
            class_index=np.zeros(n, dtype=np.int64),
            track=np.zeros(n, dtype=np.int64),
            azimuth=azimuth,
            elevation=elevation,
            vector=None,
            distance=None,
            onscreen=None,
        )

    reference, prediction = as_events(ref_keys, ref_frame), as_events(pred_keys, pred_frame)

    def cost(r: np.ndarray, p: np.ndarray) -> np.ndarray:
        return spherical_error_deg(
            reference.azimuth[r], reference.elevation[r], prediction.azimuth[p], prediction.elevation[p]
        )

    matching = match_frames(reference, prediction, cost, n_classes=1)
    pair_file = matching.group_file[matching.pair_group]
    return np.bincount(pair_file, weights=matching.pair_cost, minlength=n_files).reshape(n_files, 1)
