"""Bootstrap intervals against a naive loop: one resample at a time, duplicated clips, scikit-learn AP."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from seldkit.metrics.clip import ClipMetricAccumulator
from seldkit.metrics.spherical import great_circle_deg
from seldkit.metrics.stats import bootstrap_clip_metrics, resample_count_blocks, resample_counts


def naive_metrics(scores, targets, angles, wrong, mode):
    per_class = []
    for column in range(scores.shape[1]):
        if targets[:, column].any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                per_class.append(average_precision_score(targets[:, column], scores[:, column]))
        elif mode == "reference":
            per_class.append(0.0)
    return {
        "mAP": np.mean(per_class) if per_class else np.nan,
        "ER20": np.mean(angles > 20.0),
        "MAE": np.mean(angles),
        "DER": np.mean(wrong),
    }


@pytest.mark.parametrize("mode", ["reference", "continuous"])
def test_intervals_equal_naive_loop(mode):
    rng = np.random.default_rng(21)
    n, n_classes = 70, 6
    targets = rng.random((n, n_classes)) < 0.15
    scores = np.round(targets * 0.3 + rng.random((n, n_classes)), 2)
    az_p, az_r = rng.uniform(0, 360, n), rng.uniform(0, 360, n)
    el_p, el_r = rng.uniform(-60, 60, n), rng.uniform(-60, 60, n)
    d_p, d_r = rng.uniform(0, 5, n), rng.uniform(0, 5, n)
    accumulator = ClipMetricAccumulator(mode="continuous")
    accumulator.update(
        scores=scores,
        targets=targets,
        azimuth_pred=az_p,
        elevation_pred=el_p,
        azimuth_ref=az_r,
        elevation_ref=el_r,
        distance_pred=d_p,
        distance_ref=d_r,
    )
    inputs = accumulator.per_clip()
    n_resamples, seed = 75, 4
    got = bootstrap_clip_metrics(inputs, mode=mode, n_resamples=n_resamples, seed=seed)

    angles = great_circle_deg(az_p, el_p, az_r, el_r)
    wrong = np.abs(d_p - d_r) > 0.5
    samples: dict[str, list[float]] = {"mAP": [], "ER20": [], "MAE": [], "DER": []}
    for block in resample_count_blocks(n, n_resamples, seed):
        for counts in block:
            index = np.repeat(np.arange(n), counts)
            for key, value in naive_metrics(scores[index], targets[index], angles[index], wrong[index], mode).items():
                samples[key].append(value)
    for key, values in samples.items():
        values = np.array(values)
        expected = np.percentile(values[np.isfinite(values)], [2.5, 97.5])
        np.testing.assert_allclose(got.bounds[key], expected, rtol=1e-9, atol=1e-12, err_msg=key)
    assert got.per_class["AP"].shape == (n_classes, 2)


def test_draws_are_seeded_and_sum_to_n():
    first = np.concatenate(list(resample_count_blocks(50, 70, seed=3)))
    again = np.concatenate(list(resample_count_blocks(50, 70, seed=3)))
    other = np.concatenate(list(resample_count_blocks(50, 70, seed=4)))
    assert first.shape == (70, 50)
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert (first.sum(axis=1) == 50).all()


def test_counts_are_uniform_multinomial():
    counts = resample_counts(10, 20000, np.random.default_rng(0))
    # each clip is drawn once per resample on average, with binomial(10, 0.1) variance 0.9
    assert abs(counts.mean() - 1.0) < 0.01
    assert abs(counts.var() - 0.9) < 0.03


def test_coverage_of_a_known_mean():
    """95 % intervals of the MAE of samples from a known distribution cover the true mean ~95 % of the time."""
    rng = np.random.default_rng(8)
    covered = 0
    trials = 200
    for trial in range(trials):
        angles = rng.exponential(10.0, size=200)  # true mean 10
        accumulator = ClipMetricAccumulator(mode="continuous")
        accumulator.update(
            azimuth_pred=angles, elevation_pred=np.zeros(200), azimuth_ref=np.zeros(200), elevation_ref=np.zeros(200)
        )
        low, high = bootstrap_clip_metrics(
            accumulator.per_clip(), mode="continuous", n_resamples=400, seed=trial
        ).bounds["MAE"]
        covered += low <= 10.0 <= high
    assert 0.89 <= covered / trials <= 0.99
