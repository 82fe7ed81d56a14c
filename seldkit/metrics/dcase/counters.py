"""The official SELD accumulators (TP, FP, FN, S, D, I, ...), per file and class, from a frame matching.

Two accumulation rules exist:

* frame level (2024, 2025): every (frame, class) is scored on its own; each matched pair is a
  location-aware TP unless its error exceeds the thresholds (then FP_spatial); unmatched predictions are FP,
  unmatched references FN.
* segment level (2022, 2023, and a 2024 option): frames are pooled into 1 s blocks. Inside a block and
  class, matched errors are grouped by the reference's *row position* within its frame and averaged; each
  group is one DE_TP, and a TP if its average is within the threshold, else FP_spatial. The per-frame maximum
  instance counts decide extra FP/FN; a class active on both sides but never in the same frame adds FN equal
  to the number of predicted instances (as the official code does). 2021 uses the same rule and counts the
  mislocalised tracks among the FP (:func:`fold_spatial_false_positives`).
* segment level, frame sums (2020): a class counts once per block on each side, whatever its number of
  instances; the block error is the mean over the frames where both sides have the class of the frame's
  *summed* matched errors, and a block whose error exceeds the threshold is a FN (see
  :func:`frame_sum_segment_counters`).

Counts are kept per file so that leave-one-file-out (jackknife) estimates are differences of sums.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from seldkit.metrics.dcase.matching import FrameMatching, unique_inverse, unique_sorted

COUNT_NAMES = ("TP", "FP", "FP_spatial", "FN", "Nref", "DE_TP", "DE_FP", "DE_FN")
EPS = float(np.finfo(np.float64).eps)


@dataclass
class SeldCounters:
    """Per-file accumulators: class counts and error sums [n_files, n_classes]; S, D, I [n_files]."""

    counts: dict[str, np.ndarray]
    sums: dict[str, np.ndarray]
    substitutions: np.ndarray
    deletions: np.ndarray
    insertions: np.ndarray
    thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def n_files(self) -> int:
        """The number of files counted."""
        return int(self.substitutions.size)

    def total(self, keep: np.ndarray | None = None) -> TotalCounters:
        """Counters summed over the files where ``keep`` is true (all files by default)."""
        mask = np.ones(self.n_files, dtype=bool) if keep is None else keep
        return TotalCounters(
            counts={name: values[mask].sum(axis=0) for name, values in self.counts.items()},
            sums={name: values[mask].sum(axis=0) for name, values in self.sums.items()},
            S=float(self.substitutions[mask].sum()),
            D=float(self.deletions[mask].sum()),
            I=float(self.insertions[mask].sum()),
            thresholds=self.thresholds,
        )

    def merge(self, other: SeldCounters) -> SeldCounters:
        """The counters of this object's files followed by ``other``'s (counted under the same thresholds)."""
        if self.thresholds != other.thresholds or self.counts.keys() != other.counts.keys():
            raise ValueError("counters of different metric configurations cannot be merged")
        return SeldCounters(
            counts={name: np.concatenate([values, other.counts[name]]) for name, values in self.counts.items()},
            sums={name: np.concatenate([values, other.sums[name]]) for name, values in self.sums.items()},
            substitutions=np.concatenate([self.substitutions, other.substitutions]),
            deletions=np.concatenate([self.deletions, other.deletions]),
            insertions=np.concatenate([self.insertions, other.insertions]),
            thresholds=dict(self.thresholds),
        )

    def weighted_total(self, weights: np.ndarray) -> TotalCounters:
        """Counters with file i counted ``weights[i]`` times (a bootstrap resample of the recordings)."""
        return TotalCounters(
            counts={name: weights @ values for name, values in self.counts.items()},
            sums={name: weights @ values for name, values in self.sums.items()},
            S=float(weights @ self.substitutions),
            D=float(weights @ self.deletions),
            I=float(weights @ self.insertions),
            thresholds=self.thresholds,
        )


@dataclass(frozen=True)
class TotalCounters:
    """Accumulators summed over files: counts and error sums per class, S, D and I; ``totals[name]`` reads either."""

    counts: dict[str, np.ndarray]  # [n_classes]
    sums: dict[str, np.ndarray]  # [n_classes]
    S: float
    D: float
    I: float  # noqa: E741 - the official name
    thresholds: dict[str, float]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.counts[name] if name in self.counts else self.sums[name]

    def as_json(self, *, pooled: bool = False) -> dict[str, object]:
        """In the layout of the golden ``counters`` objects: per class, or summed over classes (``pooled``)."""
        values = {**self.counts, **self.sums}
        document: dict[str, object] = {
            name: float(np.sum(value)) if pooled else value.tolist() for name, value in values.items()
        }
        document.update(S=self.S, D=self.D, I=self.I)
        document.update({name: (value if np.isfinite(value) else "inf") for name, value in self.thresholds.items()})
        return document


def _per_file_class(
    index_file: np.ndarray, index_class: np.ndarray, weights: np.ndarray, n_files: int, n_classes: int
) -> np.ndarray:
    flat = np.bincount(index_file * n_classes + index_class, weights=weights, minlength=n_files * n_classes)
    return flat.reshape(n_files, n_classes).astype(np.float64)


def _class_counts(
    index_file: np.ndarray,
    index_class: np.ndarray,
    n_files: int,
    n_classes: int,
    *,
    tp: np.ndarray,
    fp: np.ndarray,
    spatial_fp: np.ndarray,
    fn: np.ndarray,
    n_ref: np.ndarray,
    de_tp: np.ndarray,
) -> dict[str, np.ndarray]:
    """The official class counters per file from per-unit values (the localization FP/FN equal FP/FN)."""
    values = {
        "TP": tp,
        "FP": fp,
        "FP_spatial": spatial_fp,
        "FN": fn,
        "Nref": n_ref,
        "DE_TP": de_tp,
        "DE_FP": fp,
        "DE_FN": fn,
    }
    return {name: _per_file_class(index_file, index_class, value, n_files, n_classes) for name, value in values.items()}


def _error_counts(
    key_file: np.ndarray, key_unit: np.ndarray, loc_fp: np.ndarray, loc_fn: np.ndarray, n_files: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """S, D, I per file from per-group false positive/negative counts, pooled per scoring unit (frame or block)."""
    unit_key = key_file * (int(key_unit.max(initial=0)) + 1) + key_unit
    units, inverse = unique_inverse(unit_key)
    fp = np.bincount(inverse, weights=loc_fp, minlength=units.size)
    fn = np.bincount(inverse, weights=loc_fn, minlength=units.size)
    unit_file = units // (int(key_unit.max(initial=0)) + 1)
    substitutions = np.bincount(unit_file, weights=np.minimum(fp, fn), minlength=n_files)
    deletions = np.bincount(unit_file, weights=np.maximum(0.0, fn - fp), minlength=n_files)
    insertions = np.bincount(unit_file, weights=np.maximum(0.0, fp - fn), minlength=n_files)
    return substitutions, deletions, insertions


@dataclass(frozen=True)
class PairErrors:
    """Per matched pair: angular error and, where scored, distance errors and onscreen agreement."""

    angle: np.ndarray
    distance: np.ndarray | None = None  # |d_ref - d_pred|
    relative_distance: np.ndarray | None = None
    onscreen_correct: np.ndarray | None = None


def frame_level_counters(
    matching: FrameMatching,
    errors: PairErrors,
    *,
    n_files: int,
    n_classes: int,
    doa_threshold: float,
    relative_distance_threshold: float | None,
    distance_threshold: float | None,
    require_onscreen: bool,
    count_id_switches: bool = False,
    count_error_rate: bool = True,
) -> SeldCounters:
    """Accumulate the frame-level counters (2024 / 2025 rules)."""
    is_tp = errors.angle <= doa_threshold
    if relative_distance_threshold is not None and errors.relative_distance is not None:
        is_tp &= errors.relative_distance <= relative_distance_threshold
    if distance_threshold is not None and errors.distance is not None:
        is_tp &= errors.distance <= distance_threshold
    if require_onscreen and errors.onscreen_correct is not None:
        is_tp &= errors.onscreen_correct

    n_groups = matching.n_groups
    matched = np.bincount(matching.pair_group, minlength=n_groups).astype(np.float64)
    tp = np.bincount(matching.pair_group, weights=is_tp, minlength=n_groups)
    fp = matching.n_pred - matched
    fn = matching.n_ref - matched
    spatial_fp = matched - tp

    group_file, group_class = matching.group_file, matching.group_class
    counts = _class_counts(
        group_file,
        group_class,
        n_files,
        n_classes,
        tp=tp,
        fp=fp,
        spatial_fp=spatial_fp,
        fn=fn,
        n_ref=matching.n_ref.astype(np.float64),
        de_tp=matched,
    )
    pair_file = group_file[matching.pair_group]
    pair_class = group_class[matching.pair_group]
    pair_sum = lambda values: _per_file_class(pair_file, pair_class, values, n_files, n_classes)  # noqa: E731
    sums = {"total_AngE": pair_sum(errors.angle)}
    # The official accumulators exist (zero) also when distance is not evaluated.
    scored_distance = relative_distance_threshold is not None and errors.distance is not None
    no_pairs = np.zeros(errors.angle.size)
    sums["total_DistE"] = pair_sum(errors.distance if scored_distance else no_pairs)
    sums["total_RelDistE"] = pair_sum(errors.relative_distance if scored_distance else no_pairs)
    if errors.onscreen_correct is not None:
        sums["total_OnscreenCorrect"] = pair_sum(errors.onscreen_correct.astype(np.float64))
    if count_id_switches:
        counts["idss"] = _id_switches(matching, n_files, n_classes)
    if count_error_rate:
        s, d, i = _error_counts(group_file, matching.group_frame, fp + spatial_fp, fn, n_files)
    else:  # 2025 has no error rate; its accumulators stay 0
        s = d = i = np.zeros(n_files)
    return SeldCounters(counts=counts, sums=sums, substitutions=s, deletions=d, insertions=i)


def _id_switches(matching: FrameMatching, n_files: int, n_classes: int) -> np.ndarray:
    """Identity switches (the 2024 counter ``idss``), per file and class.

    A matched reference track counts a switch when, in the previous frame in which its class had matched
    pairs, the same reference track was matched to a different predicted track id.
    """
    pair_group = matching.pair_group
    if pair_group.size == 0:
        return np.zeros((n_files, n_classes))
    assert matching.ref_track_id is not None and matching.pred_track_id is not None  # made with track_ids=True
    pair_class = matching.group_class[pair_group]
    reference_id = matching.ref_track_id[matching.pair_ref]
    predicted_id = matching.pred_track_id[matching.pair_pred]
    # Groups holding pairs, in time order; the previous one of the same class for each.
    matched_groups = unique_sorted(pair_group)
    group_class = matching.group_class[matched_groups]
    by_class = np.lexsort((matched_groups, group_class))
    previous = np.full(matched_groups.size, -1)
    same_class = group_class[by_class][1:] == group_class[by_class][:-1]
    previous[by_class[1:][same_class]] = matched_groups[by_class[:-1][same_class]]
    previous_group = previous[np.searchsorted(matched_groups, pair_group)]
    # Look up (previous group, reference id) among all pairs.
    id_span = int(np.abs(reference_id).max()) * 2 + 2
    pair_key = pair_group * id_span + reference_id + id_span // 2
    key_order = np.argsort(pair_key, kind="stable")
    wanted = previous_group * id_span + reference_id + id_span // 2
    position = np.clip(np.searchsorted(pair_key[key_order], wanted), 0, pair_key.size - 1)
    found = (previous_group >= 0) & (pair_key[key_order][position] == wanted)
    switched = found & (predicted_id[key_order][position] != predicted_id)
    pair_file = matching.group_file[pair_group]
    return _per_file_class(pair_file[switched], pair_class[switched], np.ones(int(switched.sum())), n_files, n_classes)


def _largest_per_key(keys: np.ndarray, counts: np.ndarray, n_keys: int) -> np.ndarray:
    """The largest of the small non-negative ``counts`` sharing each key: the sum over k >= 1 of [some count >= k].

    A few bincounts (counts are instances per frame, rarely above 3) instead of ``np.maximum.at``, which is slow.
    """
    largest = np.zeros(n_keys)
    for level in range(1, int(counts.max(initial=0)) + 1):
        largest += np.bincount(keys, weights=counts >= level, minlength=n_keys) > 0
    return largest


def segment_level_counters(
    matching: FrameMatching,
    *,
    n_files: int,
    n_classes: int,
    doa_threshold: float,
    frames_per_block: int = 10,
) -> SeldCounters:
    """Accumulate the 1 s block counters (2022 / 2023 rule)."""
    block = matching.group_frame // frames_per_block
    n_blocks = int(block.max(initial=0)) + 1
    block_key = (matching.group_file * n_blocks + block) * n_classes + matching.group_class
    blocks, group_block = unique_inverse(block_key)
    n_block_keys = blocks.size
    # Instances per block and class: the largest per-frame count.
    gt_instances = _largest_per_key(group_block, matching.n_ref, n_block_keys)
    pred_instances = _largest_per_key(group_block, matching.n_pred, n_block_keys)

    # Matched errors grouped by (block, class, reference row position in its frame) and averaged.
    pair_block = group_block[matching.pair_group]
    track_key = pair_block * (int(matching.ref_rank.max(initial=0)) + 1) + matching.ref_rank[matching.pair_ref]
    tracks, track_inverse = unique_inverse(track_key)
    track_sum = np.bincount(track_inverse, weights=matching.pair_cost, minlength=tracks.size)
    track_count = np.bincount(track_inverse, minlength=tracks.size)
    track_mean = track_sum / track_count
    track_block = tracks // (int(matching.ref_rank.max(initial=0)) + 1)
    n_tracks = np.bincount(track_block, minlength=n_block_keys).astype(np.float64)
    tp = np.bincount(track_block, weights=track_mean <= doa_threshold, minlength=n_block_keys)
    error_sum = np.bincount(track_block, weights=track_mean, minlength=n_block_keys)
    spatial_fp = n_tracks - tp

    has_gt, has_pred = gt_instances > 0, pred_instances > 0
    both = has_gt & has_pred
    matched = both & (n_tracks > 0)
    unaligned = both & (n_tracks == 0)  # active on both sides, never in the same frame
    surplus = pred_instances - gt_instances
    fp = np.where(matched, np.maximum(surplus, 0), 0) + np.where(has_pred & ~has_gt, pred_instances, 0)
    fn = (
        np.where(matched, np.maximum(-surplus, 0), 0)
        + np.where(unaligned, pred_instances, 0)  # sic: the official code adds the predicted count
        + np.where(has_gt & ~has_pred, gt_instances, 0)
    )

    block_file = blocks // n_classes // n_blocks
    block_class = blocks % n_classes
    counts = _class_counts(
        block_file,
        block_class,
        n_files,
        n_classes,
        tp=tp,
        fp=fp,
        spatial_fp=spatial_fp,
        fn=fn,
        n_ref=gt_instances,
        de_tp=n_tracks,
    )
    sums = {"total_DE": _per_file_class(block_file, block_class, error_sum, n_files, n_classes)}
    block_index = (blocks // n_classes) % n_blocks
    s, d, i = _error_counts(block_file, block_index, fp + spatial_fp, fn, n_files)
    return SeldCounters(counts=counts, sums=sums, substitutions=s, deletions=d, insertions=i)


def fold_spatial_false_positives(counters: SeldCounters) -> SeldCounters:
    """The 2021 accumulators from the 2022 ones: a mislocalised track is one more FP (DE_FP is unchanged).

    2022 keeps such tracks apart (FP_spatial, counted whole in F); 2021 adds them to FP, which F halves.
    """
    counts = dict(counters.counts)
    counts["FP"] = counts["FP"] + counts.pop("FP_spatial")
    return SeldCounters(
        counts=counts,
        sums=counters.sums,
        substitutions=counters.substitutions,
        deletions=counters.deletions,
        insertions=counters.insertions,
        thresholds=counters.thresholds,
    )


def frame_sum_segment_counters(
    matching: FrameMatching,
    *,
    n_files: int,
    n_classes: int,
    n_blocks: int,
    doa_threshold: float,
    frames_per_block: int = 10,
) -> SeldCounters:
    r"""Accumulate the 2020 block counters over ``n_blocks`` 1 s blocks of every file.

    Per block b and class c, with :math:`\mathcal{F}` the frames of b where both sides have c and
    :math:`d_f` the sum of the matched angular errors in frame f (a single pair's error where each side has one
    event): the block error is :math:`e = \frac{1}{|\mathcal{F}|}\sum_{f \in \mathcal{F}} d_f`. A class present on
    both sides with :math:`\mathcal{F} \neq \emptyset` adds e to total_DE and 1 to DE_TP, and is a TP if
    :math:`e \le` ``doa_threshold``, else a FN; with :math:`\mathcal{F} = \emptyset` it is a FN. Present only in the
    reference: FN; only in the prediction: FP; in neither: TN. Nref and Nsys count present (block, class) pairs,
    once whatever the number of instances. Unmatched extra instances count nowhere.
    """
    block = matching.group_frame // frames_per_block
    block_key = (matching.group_file * n_blocks + block) * n_classes + matching.group_class
    blocks, group_block = unique_inverse(block_key)
    n_keys = blocks.size
    has_ref = np.bincount(group_block, weights=matching.n_ref > 0, minlength=n_keys) > 0
    has_pred = np.bincount(group_block, weights=matching.n_pred > 0, minlength=n_keys) > 0
    both_in_frame = (matching.n_ref > 0) & (matching.n_pred > 0)
    shared_frames = np.bincount(group_block, weights=both_in_frame, minlength=n_keys)
    # Sum of the matched errors of every frame of the block (a frame's pairs all belong to one group).
    error_sum = np.bincount(group_block[matching.pair_group], weights=matching.pair_cost, minlength=n_keys)
    aligned = has_ref & has_pred & (shared_frames > 0)
    block_error = np.where(aligned, error_sum / np.maximum(shared_frames, 1), 0.0)
    tp = aligned & (block_error <= doa_threshold)
    fn = (has_ref & ~has_pred) | (has_ref & has_pred & ~tp)
    fp = has_pred & ~has_ref

    block_file = blocks // n_classes // n_blocks
    block_class = blocks % n_classes
    per_class = lambda values: _per_file_class(block_file, block_class, values, n_files, n_classes)  # noqa: E731
    either = per_class((has_ref | has_pred).astype(np.float64))
    counts = {
        "TP": per_class(tp.astype(np.float64)),
        "FP": per_class(fp.astype(np.float64)),
        "FN": per_class(fn.astype(np.float64)),
        "TN": n_blocks - either,
        "Nref": per_class(has_ref.astype(np.float64)),
        "Nsys": per_class(has_pred.astype(np.float64)),
        "DE_TP": per_class(aligned.astype(np.float64)),
    }
    sums = {"total_DE": per_class(block_error)}
    block_index = (blocks // n_classes) % n_blocks
    s, d, i = _error_counts(block_file, block_index, fp.astype(np.float64), fn.astype(np.float64), n_files)
    return SeldCounters(counts=counts, sums=sums, substitutions=s, deletions=d, insertions=i)
