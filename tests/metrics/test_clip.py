"""Clip metrics: the golden cases of the published evaluation, and metric invariants (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seldkit.io.clip import pair_clips, read_clip_predictions, read_clip_references
from seldkit.metrics.clip import ClipMetricAccumulator, clip_metrics, distance_wrong, mean_average_precision
from tests.golden import CLIP_SUITE, clip_cases

CASES = clip_cases()


def metric_inputs(evaluation) -> dict[str, np.ndarray]:
    inputs: dict[str, np.ndarray] = {}
    if evaluation.scores is not None:
        inputs.update(scores=evaluation.scores, targets=evaluation.targets)
    if "azimuth" in evaluation.predicted:
        inputs.update(
            azimuth_pred=evaluation.predicted["azimuth"],
            elevation_pred=evaluation.predicted["elevation"],
            azimuth_ref=evaluation.reference["azimuth"],
            elevation_ref=evaluation.reference["elevation"],
        )
    if "distance" in evaluation.predicted:
        inputs.update(distance_pred=evaluation.predicted["distance"], distance_ref=evaluation.reference["distance"])
    return inputs


@pytest.mark.parametrize("mode", ["reference", "continuous"])
@pytest.mark.parametrize("case_id", sorted(CASES))
def test_golden_case(case_id, mode):
    case, expected = CASES[case_id], CASES[case_id][mode]
    folder = CLIP_SUITE / "cases" / case_id
    evaluation = pair_clips(read_clip_predictions(folder / "preds.csv"), read_clip_references(folder / "refs.csv"))
    assert list(evaluation.class_ids) == case["classes"]
    got = clip_metrics(mode=mode, **metric_inputs(evaluation))
    assert got.n_clips == expected["n_clips"]
    for key in ("mAP", "ER20", "DER"):
        if key in expected:
            assert getattr(got, key) == pytest.approx(expected[key], rel=1e-9, abs=0)
        else:
            assert getattr(got, key) is None
    if "MAE" in expected:
        assert got.MAE == pytest.approx(expected["MAE"], abs=1e-6)
    if "per_class_AP" in expected:
        assert got.n_classes_scored == expected["n_classes_scored"]
        per_class = np.array([np.nan if v is None else v for v in expected["per_class_AP"]])
        np.testing.assert_allclose(got.per_class_AP, per_class, rtol=1e-9, atol=0)


def random_inputs(rng: np.random.Generator, n: int, n_classes: int = 5) -> dict[str, np.ndarray]:
    targets = rng.random((n, n_classes)) < 0.3
    return {
        "scores": np.round(np.clip(targets * 0.4 + rng.random((n, n_classes)) * 0.7, 0, 1), 2),
        "targets": targets,
        "azimuth_pred": rng.uniform(-400, 400, n),
        "elevation_pred": rng.uniform(-90, 90, n),
        "azimuth_ref": rng.uniform(0, 360, n),
        "elevation_ref": rng.uniform(-90, 90, n),
        "distance_pred": np.round(rng.uniform(0, 10, n), 2),
        "distance_ref": np.round(rng.uniform(0, 10, n), 2),
    }


def assert_same_metrics(a, b, *, exact: bool) -> None:
    for key in ("mAP", "ER20", "MAE", "DER", "n_classes_scored", "n_clips"):
        left, right = getattr(a, key), getattr(b, key)
        if exact:
            assert left == right or (np.isnan(left) and np.isnan(right)), key
        else:
            assert left == pytest.approx(right, rel=1e-12, abs=1e-12, nan_ok=True), key


MODES = st.sampled_from(["reference", "continuous"])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 80), MODES)
def test_row_order_invariance(seed, n, mode):
    rng = np.random.default_rng(seed)
    inputs = random_inputs(rng, n)
    permutation = rng.permutation(n)
    shuffled = {key: value[permutation] for key, value in inputs.items()}
    assert_same_metrics(clip_metrics(mode=mode, **inputs), clip_metrics(mode=mode, **shuffled), exact=False)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 80), MODES)
def test_perfect_predictions(seed, n, mode):
    rng = np.random.default_rng(seed)
    inputs = random_inputs(rng, n)
    targets = inputs["targets"]
    targets[0, :] = True  # every class has a positive
    inputs.update(
        scores=targets.astype(float) * 0.9 + 0.05,
        azimuth_pred=inputs["azimuth_ref"],
        elevation_pred=inputs["elevation_ref"],
        distance_pred=inputs["distance_ref"],
    )
    metrics = clip_metrics(mode=mode, **inputs)
    assert metrics.mAP == 1.0 and metrics.ER20 == 0.0 and metrics.DER == 0.0
    # The published law-of-cosines formula gives up to 1.2e-6 deg for identical directions.
    assert metrics.MAE <= (1.3e-6 if mode == "reference" else 1e-12)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 60), MODES, st.lists(st.integers(-3, 3), min_size=1, max_size=1))
def test_azimuth_wrap(seed, n, mode, turns):
    rng = np.random.default_rng(seed)
    inputs = random_inputs(rng, n)
    inputs["azimuth_pred"] = np.round(inputs["azimuth_pred"], 2)  # exact after adding multiples of 360
    wrapped = dict(inputs, azimuth_pred=inputs["azimuth_pred"] + 360.0 * turns[0])
    a, b = clip_metrics(mode=mode, **inputs), clip_metrics(mode=mode, **wrapped)
    assert a.ER20 == b.ER20
    assert a.MAE == pytest.approx(b.MAE, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 120), MODES, st.integers(1, 6))
def test_chunked_accumulation_equals_one_shot(seed, n, mode, n_chunks):
    rng = np.random.default_rng(seed)
    inputs = random_inputs(rng, n)
    cuts = np.sort(rng.choice(np.arange(1, n), size=min(n_chunks, n) - 1, replace=False))
    accumulators = []
    for part in np.split(np.arange(n), cuts):
        accumulator = ClipMetricAccumulator(mode=mode)
        accumulator.update(**{key: value[part] for key, value in inputs.items()})
        accumulators.append(accumulator)
    merged = accumulators[0]
    for other in accumulators[1:]:
        merged.merge(other)
    one_shot = clip_metrics(mode=mode, **inputs)
    assert_same_metrics(merged.compute(), one_shot, exact=True)
    np.testing.assert_array_equal(merged.compute().per_class_AP, one_shot.per_class_AP)


def test_accumulator_rejects_inconsistent_chunks():
    accumulator = ClipMetricAccumulator(mode="reference")
    accumulator.update(distance_pred=np.ones(2), distance_ref=np.ones(2))
    with pytest.raises(ValueError, match="earlier chunks"):
        accumulator.update(scores=np.ones((1, 2)), targets=np.ones((1, 2)))
    with pytest.raises(ValueError, match="cannot merge"):
        accumulator.merge(ClipMetricAccumulator(mode="continuous"))
    with pytest.raises(ValueError, match="no clips"):
        ClipMetricAccumulator(mode="reference").compute()
    with pytest.raises(ValueError, match="unknown clip metric mode"):
        ClipMetricAccumulator(mode="exact")  # type: ignore[arg-type]


def test_distance_rules_at_boundaries():
    predicted = np.array([0.25, 0.75, 1.25, 2.25, 2.75])
    reference = np.array([0.75, 1.25, 2.25, 2.75, 2.25])
    # bins: 0 vs 2, 2 vs 2, 2 vs 4, 2 vs 4, 4 vs 2 (half to even)
    assert distance_wrong(predicted, reference, mode="reference").tolist() == [True, False, True, True, True]
    # |difference| exactly 0.5 m is not wrong
    assert distance_wrong(predicted, reference, mode="continuous").tolist() == [False, False, True, False, False]


def test_map_modes_on_absent_classes():
    scores = np.array([[0.2, 0.9], [0.8, 0.1]])
    targets = np.array([[0, 0], [1, 0]])
    reference = mean_average_precision(scores, targets, mode="reference")
    continuous = mean_average_precision(scores, targets, mode="continuous")
    assert (reference.value, reference.n_classes_scored) == (0.5, 2)
    assert (continuous.value, continuous.n_classes_scored) == (1.0, 1)
    assert np.isnan(continuous.per_class[1]) and reference.per_class[1] == 0.0
