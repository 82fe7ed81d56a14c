r"""Average precision of many classes at once: one sort per class, no per-class Python loop.

For one class with scores :math:`s_i` and binary targets :math:`y_i`, the thresholds are the distinct scores
(tied scores form one threshold). With :math:`P(t)` and :math:`R(t)` the precision and recall of
"score :math:`\ge t`", scikit-learn's non-interpolated average precision is

.. math::  \mathrm{AP} = \sum_k \bigl(R(t_k) - R(t_{k-1})\bigr)\, P(t_k)
           = \frac{1}{N_+} \sum_{u \in U} n_+(u)\, \frac{N_+(\ge u)}{N(\ge u)},

where :math:`U` is the set of distinct scores held by at least one positive, :math:`n_+(u)` the number of
positives scoring exactly :math:`u`, and :math:`N_+(\ge u)`, :math:`N(\ge u)` the numbers of positives and of
all clips scoring at least :math:`u` (recall only grows at thresholds that hold positives).

Cutting each class's ascending score axis at the values :math:`u \in U` gives *segments*: segment :math:`u`
holds the clips with :math:`u \le s < u'` (:math:`u'` the next value of :math:`U`). :math:`N(\ge u)` is then a
suffix sum of segment sizes within the class. With clip weights :math:`w_i` (bootstrap resampling counts)
every count becomes a weighted count, and the segment sums of many weightings are one sparse product.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Literal

import numpy as np

# NumPy releases the GIL while sorting, so threads over blocks of classes scale on large inputs.
_PARALLEL_MIN_ELEMENTS = 1_000_000


@dataclass(frozen=True)
class RankedScores:
    """Each class's clips sorted once by score, with what average precision needs.

    ``ap`` is the unweighted per-class AP (NaN without positives). The segment arrays describe, flattened
    class-major with each class's segments contiguous and in ascending threshold order, which clips fall in
    which segment; they exist only when built with ``for_weights=True`` (bootstrap).
    """

    n_clips: int
    n_classes: int
    ap: np.ndarray  # [C]
    segment_class: np.ndarray | None = None  # [S]
    member_clip: np.ndarray | None = None  # [M] clip of each (clip, segment) membership
    member_segment: np.ndarray | None = None  # [M]
    member_is_positive: np.ndarray | None = None  # [M] bool

    @classmethod
    def from_scores(cls, scores: np.ndarray, targets: np.ndarray, *, for_weights: bool = False) -> RankedScores:
        """Sort each class once. ``scores``, ``targets``: [n_clips, n_classes]."""
        by_class = np.ascontiguousarray(np.asarray(scores, dtype=np.float64).T)
        positive_by_class = np.ascontiguousarray(np.asarray(targets, dtype=bool).T)
        n_classes, n_clips = by_class.shape
        ap = np.full(n_classes, np.nan)
        block_segments: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

        def rank_block(block: slice) -> None:
            order = np.argsort(by_class[block], axis=1)  # ascending; ties end up adjacent
            sorted_scores = np.take_along_axis(by_class[block], order, axis=1)
            sorted_positive = np.take_along_axis(positive_by_class[block], order, axis=1)
            n_rows = order.shape[0]
            starts_group = np.empty(sorted_scores.shape, dtype=bool)
            starts_group[:, 0] = True
            np.not_equal(sorted_scores[:, 1:], sorted_scores[:, :-1], out=starts_group[:, 1:])
            # Work on flat (row-major) indices of the sorted block: both lists below are ascending, so the
            # tie-group start of each positive and the positives before it are binary searches, not scans.
            flat_positive = np.flatnonzero(sorted_positive)
            flat_group_start = np.flatnonzero(starts_group)
            flat_start = flat_group_start[np.searchsorted(flat_group_start, flat_positive, side="right") - 1]
            rows, start = np.divmod(flat_positive, n_clips)
            n_positive = np.bincount(rows, minlength=n_rows)
            row_first_positive = np.concatenate(([0], np.cumsum(n_positive)[:-1]))
            positives_before = np.searchsorted(flat_positive, flat_start) - row_first_positive[rows]
            at_least_positive = n_positive[rows] - positives_before
            start = flat_start - rows * n_clips
            at_least_all = n_clips - start
            summed = np.bincount(rows, weights=at_least_positive / at_least_all, minlength=n_rows)
            with np.errstate(invalid="ignore", divide="ignore"):
                ap[block] = np.where(n_positive > 0, summed / n_positive, np.nan)
            if for_weights:
                block_segments.append(_segments_of_block(block.start, order, sorted_positive, rows, start))

        _run_in_blocks(rank_block, n_classes, n_clips)
        if not for_weights:
            return cls(n_clips=n_clips, n_classes=n_classes, ap=ap)
        block_segments.sort(key=lambda item: item[0])
        segment_class = np.concatenate([item[1] for item in block_segments])
        offsets = np.cumsum([0] + [len(item[1]) for item in block_segments])
        member_segment = np.concatenate([item[3] + offset for item, offset in zip(block_segments, offsets)])
        return cls(
            n_clips=n_clips,
            n_classes=n_classes,
            ap=ap,
            segment_class=segment_class,
            member_clip=np.concatenate([item[2] for item in block_segments]),
            member_segment=member_segment,
            member_is_positive=np.concatenate([item[4] for item in block_segments]),
        )

    def average_precision(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Per-class AP, NaN for a class without (weighted) positives.

        ``weights`` [B, n_clips] evaluates B weightings of the clips at once (result [B, n_classes]); it needs
        ``for_weights=True`` at construction. Without it every clip counts once (result [n_classes]).
        """
        if weights is None:
            return self.ap
        if self.segment_class is None:
            raise ValueError("build RankedScores with for_weights=True to evaluate weighted AP")
        weights = np.asarray(weights, dtype=np.float64)
        size, positives = self._weighted_segment_counts(weights)
        return self._from_segment_counts(size, positives)

    @cached_property
    def _membership(self) -> tuple[Any, Any]:
        """Sparse [segments, clips] indicator matrices of all members and of positive members."""
        from scipy import sparse

        assert self.member_clip is not None and self.member_segment is not None
        assert self.member_is_positive is not None and self.segment_class is not None
        shape = (len(self.segment_class), self.n_clips)
        ones = np.ones(len(self.member_clip))
        membership = sparse.csr_matrix((ones, (self.member_segment, self.member_clip)), shape=shape)
        positive = self.member_is_positive
        positive_membership = sparse.csr_matrix(
            (ones[positive], (self.member_segment[positive], self.member_clip[positive])), shape=shape
        )
        return membership, positive_membership

    def _weighted_segment_counts(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weighted sizes and positives of every segment, [B, S] (C-contiguous)."""
        membership, positive_membership = self._membership
        size = np.ascontiguousarray(np.asarray(membership @ weights.T).T)
        positives = np.ascontiguousarray(np.asarray(positive_membership @ weights.T).T)
        return size, positives

    def _from_segment_counts(self, size: np.ndarray, positives: np.ndarray) -> np.ndarray:
        """AP [B, C] from per-segment (weighted) counts [B, S].

        Running sums walk the contiguous last axis (several times faster than along the first).
        """
        assert self.segment_class is not None
        batch, n_segments = size.shape
        if n_segments == 0:
            return np.full((batch, self.n_classes), np.nan)
        # Suffix sums within a class from one global prefix sum: sum(k .. end of class) = P[end] - P[k].
        # Counts are integers (or integer-weighted), so the differences are exact.
        class_end = np.searchsorted(self.segment_class, self.segment_class, side="right")
        at_least = []
        for values in (size, positives):
            prefix = np.zeros((batch, n_segments + 1))
            np.cumsum(values, axis=1, out=prefix[:, 1:])
            at_least.append(prefix[:, class_end] - prefix[:, :-1])
        at_least_all, at_least_positive = at_least
        with np.errstate(invalid="ignore", divide="ignore"):
            precision = np.where(at_least_all > 0, at_least_positive / at_least_all, 0.0)
        # Per-class sums over each class's contiguous run of segments.
        classes, first_segment = np.unique(self.segment_class, return_index=True)
        numerator = np.zeros((batch, self.n_classes))
        total_positive = np.zeros((batch, self.n_classes))
        numerator[:, classes] = np.add.reduceat(positives * precision, first_segment, axis=1)
        total_positive[:, classes] = np.add.reduceat(positives, first_segment, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total_positive > 0, numerator / total_positive, np.nan)


def mean_average_precision_of(ap: np.ndarray, *, classes: Literal["all", "present"]) -> Any:
    r"""The mean of per-class AP over the last axis of ``ap`` (NaN marks a class without a positive).

    ``all``: :math:`\sum_k AP_k / C` with the classes without a positive counting 0, the published convention;
    ``present``: the mean over the classes with a positive, NaN where there is none. One row or many (one per
    resample) go through the same arithmetic, so a point value equals the resample at unit weights.

    >>> ap = np.array([0.5, np.nan, 1.0])
    >>> mean_average_precision_of(ap, classes="all"), mean_average_precision_of(ap, classes="present")
    (0.5, 0.75)
    """
    defined = ~np.isnan(ap)
    totals = np.where(defined, ap, 0.0).sum(axis=-1)
    counts = np.full(totals.shape, ap.shape[-1]) if classes == "all" else defined.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)
    return float(value) if value.ndim == 0 else value


def average_precision(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-class average precision (scikit-learn's definition); NaN for a class without positives.

    Args:
        scores: [n_clips, n_classes] real scores, higher = more likely.
        targets: [n_clips, n_classes] 0/1 or bool.

    Returns:
        [n_classes] float64.

    >>> import numpy as np
    >>> scores = np.array([[0.9, 0.2], [0.8, 0.4], [0.1, 0.4]])
    >>> targets = np.array([[1, 0], [0, 0], [1, 0]])
    >>> average_precision(scores, targets)
    array([0.83333333,        nan])
    """
    return RankedScores.from_scores(scores, targets).ap


def _segments_of_block(
    first_class: int, order: np.ndarray, sorted_positive: np.ndarray, rows: np.ndarray, start: np.ndarray
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Segments of a block of classes: cut each sorted row where a tie group holding a positive starts."""
    n_rows, n_clips = order.shape
    cuts = np.zeros((n_rows, n_clips), dtype=bool)
    cuts[rows, start] = True
    cuts_so_far = np.cumsum(cuts, axis=1, dtype=np.int64)
    n_segments_per_row = cuts_so_far[:, -1]
    row_offset = np.concatenate(([0], np.cumsum(n_segments_per_row)[:-1]))
    local = cuts_so_far - 1  # -1 before a row's first cut: such clips never score above a positive
    member_rows, member_positions = np.nonzero(local >= 0)
    member_segment = local[member_rows, member_positions] + row_offset[member_rows]
    segment_class = np.repeat(np.arange(n_rows) + first_class, n_segments_per_row)
    return (
        first_class,
        segment_class,
        order[member_rows, member_positions].astype(np.int32),
        member_segment.astype(np.int64),
        sorted_positive[member_rows, member_positions],
    )


def _run_in_blocks(work: Callable[[slice], None], n_classes: int, n_clips: int) -> None:
    n_threads = min(os.cpu_count() or 1, 8)
    if n_threads == 1 or n_classes < 2 or n_classes * n_clips < _PARALLEL_MIN_ELEMENTS:
        work(slice(0, n_classes))
        return
    bounds = np.linspace(0, n_classes, min(n_threads, n_classes) + 1).astype(int)
    blocks = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        for future in [pool.submit(work, block) for block in blocks]:
            future.result()
