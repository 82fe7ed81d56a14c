"""Per frame and class, the Hungarian matching of reference and predicted events, for many files at once.

Events of all files are concatenated (:class:`EventSet`) and grouped by (file, frame, class). The common
case — one reference and one prediction in a group — needs no solver and is handled for all groups in one
vectorised step; groups with several events of the same class call
:func:`scipy.optimize.linear_sum_assignment` on their small cost matrix, with references and predictions in
file row order, so that its tie-breaking decides exactly as in the official code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from seldkit.metrics.dcase.events import DcaseEvents


@dataclass(frozen=True)
class EventSet:
    """Events of several files inside their evaluation windows, in (file, row) order."""

    file: np.ndarray  # int64
    frame: np.ndarray  # int64
    class_index: np.ndarray  # int64
    track: np.ndarray  # int64
    azimuth: np.ndarray
    elevation: np.ndarray
    vector: np.ndarray | None  # [n, 3] or None
    distance: np.ndarray | None
    onscreen: np.ndarray | None

    @property
    def size(self) -> int:
        """The number of events."""
        return int(self.frame.size)

    @classmethod
    def from_files(cls, files: Sequence[DcaseEvents], limits: Sequence[int], *, n_classes: int) -> EventSet:
        """Concatenate ``files``, keeping frames < ``limits[i]`` of file i and classes 0..n_classes-1."""
        sizes = np.array([events.n_events for events in files], dtype=np.int64)
        file_of_row = np.repeat(np.arange(len(files), dtype=np.int64), sizes)
        frame = np.concatenate([np.zeros(0, dtype=np.int64)] + [events.frame for events in files]).astype(np.int64)
        class_index = np.concatenate([np.zeros(0, dtype=np.int64)] + [events.class_index for events in files])
        limit_of_row = np.repeat(np.asarray(limits, dtype=np.int64), sizes)
        keep = (frame < limit_of_row) & (class_index >= 0) & (class_index < n_classes)
        kept_per_file = np.bincount(file_of_row[keep], minlength=len(files))

        def join(attribute: str, dtype: type = np.float64, width: int | None = None) -> np.ndarray | None:
            """One attribute of the kept rows; None if a file with kept rows lacks it."""
            values = [getattr(events, attribute) for events in files]
            missing = [value is None for value in values]
            if all(missing) or any(absent and kept for absent, kept in zip(missing, kept_per_file)):
                return None
            shape = (lambda n: (n, width)) if width else (lambda n: (n,))
            present = [np.zeros(shape(size)) if value is None else value for value, size in zip(values, sizes)]
            return np.concatenate([np.zeros(shape(0), dtype=dtype), *present])[keep].astype(dtype, copy=False)

        return cls(
            file=file_of_row[keep],
            frame=frame[keep],
            class_index=class_index[keep].astype(np.int64, copy=False),
            track=join("track", np.int64),  # type: ignore[arg-type]
            azimuth=join("azimuth"),  # type: ignore[arg-type]
            elevation=join("elevation"),  # type: ignore[arg-type]
            vector=join("vector", width=3),
            distance=join("distance"),
            onscreen=join("onscreen", np.int64),
        )


CostFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""cost(reference_indices, prediction_indices) -> cost of each pair (indices into the two EventSets)."""


@dataclass(frozen=True)
class FrameMatching:
    """Groups (file, frame, class) present on either side, and the matched pairs inside them.

    ``ref_rank[i]`` is the position of reference event ``i`` among its group's references (row order).
    """

    group_file: np.ndarray
    group_frame: np.ndarray
    group_class: np.ndarray
    n_ref: np.ndarray  # per group
    n_pred: np.ndarray
    ref_group: np.ndarray  # per reference event
    ref_rank: np.ndarray
    ref_track_id: np.ndarray | None  # per event: track id made unique within its group (see _unique_track_ids)
    pred_track_id: np.ndarray | None  # (both only where asked for: the 2024 identity switches)
    pair_ref: np.ndarray  # per matched pair: reference event index
    pair_pred: np.ndarray  # prediction event index
    pair_cost: np.ndarray
    pair_group: np.ndarray

    @property
    def n_groups(self) -> int:
        """The number of (file, frame, class) groups."""
        return int(self.group_file.size)


def match_frames(
    reference: EventSet, prediction: EventSet, cost: CostFunction, *, n_classes: int, track_ids: bool = False
) -> FrameMatching:
    """Group both event sets by (file, frame, class) and match each group's events by minimum total cost.

    ``track_ids``: also make the per-group unique track ids (only the 2024 identity switches need them).
    """
    frame_span = int(max(reference.frame.max(initial=0), prediction.frame.max(initial=0))) + 1

    def keys(events: EventSet) -> np.ndarray:
        return (events.file * frame_span + events.frame) * n_classes + events.class_index

    ref_keys, pred_keys = keys(reference), keys(prediction)
    # Stable sorts keep file row order inside each group; files list their rows nearly in frame order, and
    # timsort is linear on such runs.
    ref_order = np.argsort(ref_keys, kind="stable")
    pred_order = np.argsort(pred_keys, kind="stable")
    ref_sorted, pred_sorted = ref_keys[ref_order], pred_keys[pred_order]
    ref_unique, ref_first, ref_count = run_lengths(ref_sorted)
    pred_unique, pred_first, pred_count = run_lengths(pred_sorted)
    # The groups, and where each side's runs fall among them (two sorted runs: a linear merge).
    group_keys, run_group = unique_inverse(np.concatenate([ref_unique, pred_unique]))
    n_groups = group_keys.size
    ref_at, pred_at = run_group[: ref_unique.size], run_group[ref_unique.size :]
    ref_start = np.zeros(n_groups, dtype=np.int64)
    n_ref = np.zeros(n_groups, dtype=np.int64)
    pred_start = np.zeros(n_groups, dtype=np.int64)
    n_pred = np.zeros(n_groups, dtype=np.int64)
    ref_start[ref_at], n_ref[ref_at] = ref_first, ref_count
    pred_start[pred_at], n_pred[pred_at] = pred_first, pred_count

    ref_group = np.empty(reference.size, dtype=np.int64)
    ref_group[ref_order] = np.repeat(ref_at, ref_count)
    ref_rank = np.empty(reference.size, dtype=np.int64)
    ref_rank[ref_order] = np.arange(reference.size) - np.repeat(ref_first, ref_count)

    both = (n_ref > 0) & (n_pred > 0)
    single = both & (n_ref == 1) & (n_pred == 1)
    single_groups = np.flatnonzero(single)
    pair_ref = [ref_order[ref_start[single_groups]]]
    pair_pred = [pred_order[pred_start[single_groups]]]
    pair_group = [single_groups]
    pair_costs = [cost(pair_ref[0], pair_pred[0]) if single_groups.size else np.zeros(0)]

    multi_groups = np.flatnonzero(both & ~single)
    if multi_groups.size:
        rows, columns, groups, costs = _matched_in_multi_groups(
            multi_groups, n_ref, n_pred, ref_start, pred_start, ref_order, pred_order, cost
        )
        pair_ref.append(rows)
        pair_pred.append(columns)
        pair_group.append(groups)
        pair_costs.append(costs)

    pair_group_all = np.concatenate(pair_group)
    pair_ref_all = np.concatenate(pair_ref)
    # Pairs in (group, reference rank) order: a few sorted runs, so a stable sort of one combined key is linear.
    rank_span = int(ref_rank.max(initial=0)) + 1
    order = np.argsort(pair_group_all * rank_span + ref_rank[pair_ref_all], kind="stable")
    pair_ref_all, pair_group_all = pair_ref_all[order], pair_group_all[order]
    pair_pred_all = np.concatenate(pair_pred)[order]
    pair_cost = np.concatenate(pair_costs)[order]

    group_class = group_keys % n_classes
    file_frame = group_keys // n_classes
    ref_track_id = pred_track_id = None
    if track_ids:
        pred_group = np.empty(prediction.size, dtype=np.int64)
        pred_group[pred_order] = np.repeat(pred_at, pred_count)
        ref_track_id = _unique_track_ids(reference.track, ref_group, ref_order)
        pred_track_id = _unique_track_ids(prediction.track, pred_group, pred_order)
    return FrameMatching(
        ref_track_id=ref_track_id,
        pred_track_id=pred_track_id,
        group_file=file_frame // frame_span,
        group_frame=file_frame % frame_span,
        group_class=group_class,
        n_ref=n_ref,
        n_pred=n_pred,
        ref_group=ref_group,
        ref_rank=ref_rank,
        pair_ref=pair_ref_all,
        pair_pred=pair_pred_all,
        pair_cost=pair_cost,
        pair_group=pair_group_all,
    )


def _run_starts(ordered: np.ndarray) -> np.ndarray:
    """Whether each element of a sorted array starts a run of equal values."""
    first = np.empty(ordered.size, dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return first


def run_lengths(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct values, index of each one's first occurrence, its count) of a sorted array."""
    starts = np.flatnonzero(_run_starts(ordered))
    counts = np.diff(np.append(starts, ordered.size))
    return ordered[starts], starts, counts


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an integer array.

    Like ``np.unique``, many times faster on the nearly sorted keys of DCASE events (a stable sort is timsort,
    linear on sorted runs; ``np.unique`` hashes or quicksorts).
    """
    ordered = np.sort(values, kind="stable")
    return run_lengths(ordered)[0]


def unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` for integer arrays, fast on nearly sorted ones."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first = _run_starts(ordered)
    inverse = np.empty(values.size, dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return ordered[first], inverse


def _matched_in_multi_groups(
    groups: np.ndarray,
    n_ref: np.ndarray,
    n_pred: np.ndarray,
    ref_start: np.ndarray,
    pred_start: np.ndarray,
    ref_order: np.ndarray,
    pred_order: np.ndarray,
    cost: CostFunction,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hungarian matching inside groups with several events; all cost matrices come from one cost call.

    Returns the matched (reference, prediction, group, cost) of every pair.
    """
    from scipy.optimize import linear_sum_assignment

    sizes = n_ref[groups] * n_pred[groups]
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    # Every (reference, prediction) combination of every group, reference-major like a cost matrix.
    group_of_cell = np.repeat(np.arange(groups.size), sizes)
    cell = np.arange(offsets[-1]) - offsets[group_of_cell]
    columns_in_group = n_pred[groups][group_of_cell]
    ref_index = ref_order[ref_start[groups][group_of_cell] + cell // columns_in_group]
    pred_index = pred_order[pred_start[groups][group_of_cell] + cell % columns_in_group]
    costs = cost(ref_index, pred_index)

    position, row_index, column_index = _solve_small_groups(n_ref[groups], n_pred[groups], offsets, costs)
    matched_ref = [ref_order[ref_start[groups[position]] + row_index]]
    matched_pred = [pred_order[pred_start[groups[position]] + column_index]]
    matched_group = [groups[position]]
    matched_cost = [costs[offsets[position] + row_index * n_pred[groups[position]] + column_index]]
    unsolved = np.ones(groups.size, dtype=bool)
    unsolved[position] = False
    for index in np.flatnonzero(unsolved):
        group = groups[index]
        rows, columns = int(n_ref[group]), int(n_pred[group])
        start = offsets[index]
        matrix = costs[start : start + rows * columns].reshape(rows, columns)
        group_rows, group_columns = linear_sum_assignment(matrix)
        matched_ref.append(ref_order[ref_start[group] + group_rows])
        matched_pred.append(pred_order[pred_start[group] + group_columns])
        matched_group.append(np.full(group_rows.size, group))
        matched_cost.append(matrix[group_rows, group_columns])
    return (
        np.concatenate(matched_ref),
        np.concatenate(matched_pred),
        np.concatenate(matched_group),
        np.concatenate(matched_cost),
    )


def _unique_track_ids(track: np.ndarray, group: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Track ids with repeats inside a (file, frame, class) group renamed -1, -2, ... in row order.

    This is how the official 2024 label organiser keeps two same-class events that share a track id (as
    baseline systems write them): the first keeps its id, each repeat gets the next free negative id.
    """
    if track.size == 0:
        return track.copy()
    sorted_group, sorted_track = group[order], track[order]
    # First occurrence of each (group, track) in row order.
    by_pair = np.lexsort((np.arange(order.size), sorted_track, sorted_group))
    first = np.ones(order.size, dtype=bool)
    same_pair = (sorted_group[by_pair][1:] == sorted_group[by_pair][:-1]) & (
        sorted_track[by_pair][1:] == sorted_track[by_pair][:-1]
    )
    first[by_pair[1:][same_pair]] = False
    repeat = ~first
    # Repeats counted in row order within the group.
    repeats_so_far = np.cumsum(repeat)
    group_start = np.searchsorted(sorted_group, sorted_group, side="left")
    repeats_before_group = np.where(group_start > 0, repeats_so_far[np.maximum(group_start - 1, 0)], 0)
    renamed = np.where(repeat, -(repeats_so_far - repeats_before_group), sorted_track)
    result = np.empty_like(track)
    result[order] = renamed
    return result


def _solve_small_groups(
    rows: np.ndarray, columns: np.ndarray, offsets: np.ndarray, costs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Optimal pairs of the 1 x k, k x 1 and 2 x 2 groups whose optimum is unique, without the solver.

    Returns (group position, row, column) per pair. Where the optimum is unique every exact solver returns
    it; groups with tied optima are left to ``linear_sum_assignment``, whose tie-breaking the official results
    depend on. Cost cells are reference-major, so a k x 1 group's costs are contiguous like a 1 x k group's.
    """
    positions, pair_rows, pair_columns = [], [], []
    for single_row in (True, False):
        line = np.flatnonzero(rows == 1) if single_row else np.flatnonzero((columns == 1) & (rows > 1))
        if not line.size:
            continue
        lengths = columns[line] if single_row else rows[line]
        first = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        owner = np.repeat(np.arange(line.size), lengths)
        cells = np.arange(lengths.sum()) - first[owner] + offsets[line][owner]
        values = costs[cells]
        is_min = values == np.minimum.reduceat(values, first)[owner]
        unique = np.bincount(owner, weights=is_min, minlength=line.size) == 1
        winners = np.flatnonzero(is_min & unique[owner])
        chosen = winners - first[owner[winners]]
        positions.append(line[owner[winners]])
        pair_rows.append(np.zeros(winners.size, dtype=np.int64) if single_row else chosen)
        pair_columns.append(chosen if single_row else np.zeros(winners.size, dtype=np.int64))
    square = np.flatnonzero((rows == 2) & (columns == 2))
    if square.size:
        cells = costs[offsets[square][:, None] + np.arange(4)]
        diagonal, anti = cells[:, 0] + cells[:, 3], cells[:, 1] + cells[:, 2]
        decided = np.flatnonzero(diagonal != anti)
        crossed = (anti[decided] < diagonal[decided]).astype(np.int64)
        positions.append(np.repeat(square[decided], 2))
        pair_rows.append(np.tile([0, 1], decided.size))
        pair_columns.append(np.stack([crossed, 1 - crossed], axis=1).ravel())
    if not positions:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(positions), np.concatenate(pair_rows), np.concatenate(pair_columns)
