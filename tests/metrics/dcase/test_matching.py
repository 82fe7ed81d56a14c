"""Frame matching: the vectorised shortcuts must pick exactly the pairs scipy's solver picks, ties included."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from seldkit.metrics.dcase.matching import EventSet, match_frames


def event_set(file, frame, cls, value) -> EventSet:
    n = len(frame)
    return EventSet(
        file=np.asarray(file, dtype=np.int64),
        frame=np.asarray(frame, dtype=np.int64),
        class_index=np.asarray(cls, dtype=np.int64),
        track=np.zeros(n, dtype=np.int64),
        azimuth=np.asarray(value, dtype=float),
        elevation=np.zeros(n),
        vector=None,
        distance=None,
        onscreen=None,
    )


@pytest.mark.parametrize("seed", range(20))
def test_pairs_equal_per_group_solver_with_many_ties(seed):
    rng = np.random.default_rng(seed)
    n_ref, n_pred = rng.integers(1, 300, size=2)
    # few frames and classes -> many multi-event groups; values on a coarse grid -> many tied costs
    ref = event_set(
        rng.integers(0, 2, n_ref), rng.integers(0, 15, n_ref), rng.integers(0, 3, n_ref), rng.integers(0, 4, n_ref)
    )
    pred = event_set(
        rng.integers(0, 2, n_pred), rng.integers(0, 15, n_pred), rng.integers(0, 3, n_pred), rng.integers(0, 4, n_pred)
    )

    def cost(r, p):
        return np.abs(ref.azimuth[r] - pred.azimuth[p])

    matching = match_frames(ref, pred, cost, n_classes=3)
    got = sorted(zip(matching.pair_ref.tolist(), matching.pair_pred.tolist()))

    expected = []
    keys = {(f, fr, c) for f, fr, c in zip(ref.file, ref.frame, ref.class_index)}
    for key in sorted(keys):
        r = [i for i in range(n_ref) if (ref.file[i], ref.frame[i], ref.class_index[i]) == key]
        p = [i for i in range(n_pred) if (pred.file[i], pred.frame[i], pred.class_index[i]) == key]
        if not p:
            continue
        matrix = np.abs(ref.azimuth[r][:, None] - pred.azimuth[p][None, :])
        rows, columns = linear_sum_assignment(matrix)
        expected += [(r[a], p[b]) for a, b in zip(rows, columns)]
    assert got == sorted(expected)
