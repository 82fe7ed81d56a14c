"""Vectorised average precision against scikit-learn's average_precision_score, class by class."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import average_precision_score

from seldkit.metrics.ranking import RankedScores, average_precision


def sklearn_ap(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    result = np.full(scores.shape[1], np.nan)
    for column in range(scores.shape[1]):
        if targets[:, column].any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result[column] = average_precision_score(targets[:, column], scores[:, column])
    return result


def assert_ap_equal(got: np.ndarray, expected: np.ndarray) -> None:
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    scored = ~np.isnan(expected)
    np.testing.assert_allclose(got[scored], expected[scored], rtol=1e-9, atol=0)


@pytest.mark.parametrize("decimals", [None, 3, 1, 0])
@pytest.mark.parametrize(("n_clips", "n_classes", "positive_rate"), [(1, 3, 0.5), (20, 5, 0.3), (3000, 40, 0.02)])
def test_matches_sklearn(decimals, n_clips, n_classes, positive_rate):
    rng = np.random.default_rng(n_clips + n_classes)
    scores = rng.random((n_clips, n_classes))
    if decimals is not None:
        scores = np.round(scores, decimals)  # ties
    targets = rng.random((n_clips, n_classes)) < positive_rate
    assert_ap_equal(average_precision(scores, targets), sklearn_ap(scores, targets))


def test_large_parallel_path_matches_sklearn():
    rng = np.random.default_rng(7)
    scores = np.round(rng.random((20_000, 60)), 4)
    targets = rng.random((20_000, 60)) < 0.01
    assert_ap_equal(average_precision(scores, targets), sklearn_ap(scores, targets))


def test_special_classes():
    scores = np.array([[0.1, 0.5, 0.2], [0.4, 0.5, 0.9], [0.3, 0.5, 0.2], [0.9, 0.5, 0.1]])
    targets = np.array([[1, 1, 0], [1, 0, 0], [1, 1, 0], [1, 0, 0]], dtype=bool)
    got = average_precision(scores, targets)
    assert got[0] == 1.0  # every clip positive
    assert got[1] == 0.5  # constant score: one threshold, precision 2/4
    assert np.isnan(got[2])  # no positive


@settings(max_examples=150, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 30), st.integers(1, 4)),
        elements=st.sampled_from([0.0, 0.25, 0.5, 1.0, -3.0, 1e-300, 7.5]),
    ),
    st.integers(0, 2**32 - 1),
)
def test_property_matches_sklearn(scores, seed):
    targets = np.random.default_rng(seed).random(scores.shape) < 0.4
    assert_ap_equal(average_precision(scores, targets), sklearn_ap(scores, targets))


def test_weighted_equals_duplicated_clips():
    rng = np.random.default_rng(11)
    scores = np.round(rng.random((40, 6)), 1)
    targets = rng.random((40, 6)) < 0.3
    counts = rng.integers(0, 4, size=(5, 40))
    weighted = RankedScores.from_scores(scores, targets, for_weights=True).average_precision(counts)
    for row, clip_counts in enumerate(counts):
        duplicated = np.repeat(np.arange(40), clip_counts)
        assert_ap_equal(weighted[row], sklearn_ap(scores[duplicated], targets[duplicated]))


def test_weighted_needs_segments():
    ranked = RankedScores.from_scores(np.ones((2, 1)), np.ones((2, 1)))
    with pytest.raises(ValueError, match="for_weights"):
        ranked.average_precision(np.ones((1, 2)))
