"""Paired comparisons: the summary against its definition, interval coverage on simulated systems with a
known difference, DCASE resamples against scoring duplicated recordings, and the ``compare`` command."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from seldkit.metrics.clip import PerClipInputs
from seldkit.metrics.dcase.evaluate import dcase_metric_samples
from seldkit.metrics.paired import paired_difference
from seldkit.metrics.stats import clip_metric_samples, resample_count_blocks
from seldkit.protocols import load_protocol, with_settings
from seldkit.scoring.dcase import score_dcase_folders
from tests import naive_dcase
from tests.command import run_cli
from tests.golden import REPO

STARSS22 = REPO / "tests" / "fixtures" / "starss22"
QA_CASE = REPO / "metrics" / "regression" / "qa" / "cases" / "random_medium"


def test_paired_difference_follows_its_definition():
    rng = np.random.default_rng(3)
    a = rng.normal(10.0, 1.0, 999)
    b = a + rng.normal(0.3, 0.1, 999)
    result = paired_difference("MAE", 10.0, 10.2, a, b, level=0.9)
    differences = b - a
    assert result.difference == pytest.approx(0.2)
    assert (result.low, result.high) == pytest.approx(tuple(np.quantile(differences, [0.05, 0.95])))
    below = (1 + np.sum(differences <= 0)) / 1000
    above = (1 + np.sum(differences >= 0)) / 1000
    assert result.p_value == pytest.approx(min(1.0, 2 * min(below, above)))
    # MAE is lower-is-better and B's errors are larger: A is better.
    assert result.low > 0 and result.better == "A" and not result.higher_is_better
    same = paired_difference("mAP", 0.5, 0.5, a, a)
    assert (same.low, same.high, same.p_value, same.better) == (0.0, 0.0, 1.0, "neither")


def simulated_pair(rng: np.random.Generator, n: int, n_classes: int) -> tuple[PerClipInputs, PerClipInputs]:
    """Two systems on the same clips: shared clip difficulty (so they are correlated), B slightly better."""
    targets = rng.random((n, n_classes)) < 0.2
    targets[0] = True  # every class has a positive
    difficulty = rng.exponential(15.0, n)
    angles_a = difficulty + rng.exponential(8.0, n)
    angles_b = difficulty + rng.exponential(5.0, n)
    noise = rng.normal(0.0, 1.0, (n, n_classes))
    scores_a = targets * 1.0 + noise + rng.normal(0.0, 0.9, (n, n_classes))
    scores_b = targets * 1.0 + noise + rng.normal(0.0, 0.6, (n, n_classes))
    wrong_a = rng.random(n) < 0.3
    wrong_b = np.where(rng.random(n) < 0.5, wrong_a, rng.random(n) < 0.25)
    make = lambda scores, angles, wrong: PerClipInputs(n, scores, targets, angles, wrong)  # noqa: E731
    return make(scores_a, angles_a, wrong_a), make(scores_b, angles_b, wrong_b)


def population_differences() -> dict[str, float]:
    """The true B - A of each metric: means in closed form, mAP from a sample of a million clips."""
    mean_er20 = lambda scale: _p_sum_of_exponentials_above(20.0, 15.0, scale)  # noqa: E731
    large_a, large_b = simulated_pair(np.random.default_rng(12345), 1_000_000, 3)
    maps = [
        np.mean([average_precision_score(system.targets[:, column], system.scores[:, column]) for column in range(3)])
        for system in (large_a, large_b)
    ]
    return {
        "MAE": 5.0 - 8.0,
        "ER20": mean_er20(5.0) - mean_er20(8.0),
        # P(wrong_b) = 0.5 * 0.3 + 0.5 * 0.25; P(wrong_a) = 0.3
        "DER": (0.5 * 0.3 + 0.5 * 0.25) - 0.3,
        "mAP": maps[1] - maps[0],
    }


def _p_sum_of_exponentials_above(threshold: float, scale_1: float, scale_2: float) -> float:
    """P(X + Y > t) for independent exponentials with different means (hypoexponential survival)."""
    return (scale_1 * np.exp(-threshold / scale_1) - scale_2 * np.exp(-threshold / scale_2)) / (scale_1 - scale_2)


def test_intervals_cover_the_known_difference_at_their_level():
    """400 simulated evaluations of 300 clips: the 95 % interval of B - A must hold the true difference in
    about 95 % of them (binomial sd 1.1 %; percentile intervals run slightly narrow at this size), and the
    verdict must never favour A."""
    truth = population_differences()
    rng = np.random.default_rng(7)
    repeats, n_resamples = 400, 300
    covered = {name: 0 for name in truth}
    verdicts = {name: [] for name in truth}
    for repeat in range(repeats):
        system_a, system_b = simulated_pair(rng, 300, 3)
        samples_a, _ = clip_metric_samples(system_a, mode="continuous", n_resamples=n_resamples, seed=repeat)
        samples_b, _ = clip_metric_samples(system_b, mode="continuous", n_resamples=n_resamples, seed=repeat)
        points = {}
        for name, system in (("a", system_a), ("b", system_b)):
            from seldkit.metrics.clip import summarise

            metrics = summarise(system, mode="continuous")
            points[name] = {"mAP": metrics.mAP, "ER20": metrics.ER20, "MAE": metrics.MAE, "DER": metrics.DER}
        for name, true_difference in truth.items():
            result = paired_difference(name, points["a"][name], points["b"][name], samples_a[name], samples_b[name])
            covered[name] += result.low <= true_difference <= result.high
            verdicts[name].append(result.better)
    coverage = {name: count / repeats for name, count in covered.items()}
    for name, value in coverage.items():
        assert 0.91 <= value <= 0.98, (name, coverage)
        assert "A" not in verdicts[name], name
    # B's direction errors are 3 degrees smaller on average: the paired test sees it almost every time.
    assert verdicts["MAE"].count("B") / repeats > 0.8


def test_equal_systems_are_called_different_at_about_the_nominal_rate():
    rng = np.random.default_rng(11)
    false_alarms = 0
    repeats = 200
    for repeat in range(repeats):
        shared = rng.exponential(20.0, 250)
        angles_a, angles_b = shared + rng.exponential(6.0, 250), shared + rng.exponential(6.0, 250)
        inputs = [PerClipInputs(250, None, None, angles, None) for angles in (angles_a, angles_b)]
        samples = [clip_metric_samples(system, mode="continuous", n_resamples=400, seed=repeat)[0] for system in inputs]
        result = paired_difference("MAE", angles_a.mean(), angles_b.mean(), samples[0]["MAE"], samples[1]["MAE"])
        false_alarms += result.p_value < 0.05
    assert 0.01 <= false_alarms / repeats <= 0.10


def test_dcase_resamples_equal_scoring_the_duplicated_recordings():
    """A resample of recordings scored by the independent per-frame implementation, recordings repeated as
    often as drawn, gives the values the pooled weighted counters give."""
    protocol = load_protocol("dcase2022-task3")
    report = score_dcase_folders(STARSS22 / "predictions", STARSS22 / "metadata_dev", protocol)
    samples = dcase_metric_samples(report.score, n_resamples=5, seed=2)
    pairs = [(naive_dcase.read_rows(pair.reference), naive_dcase.read_rows(pair.prediction)) for pair in report.files]
    counts = next(resample_count_blocks(report.score.n_files, 5, 2))
    for index, drawn in enumerate(counts):
        naive = naive_dcase.score_2022([pair for pair, times in zip(pairs, drawn) for _ in range(times)])
        for name, value in naive.items():
            assert samples[name][index] == pytest.approx(value, rel=1e-9, abs=1e-9), (index, name)


def test_compare_clip_files_writes_one_entry_per_metric(tmp_path, capsys):
    rng = np.random.default_rng(5)
    n = 120
    classes = ["c0", "c1", "c2"]
    targets = rng.random((n, 3)) < 0.3
    reference_rows = ["clip_id,labels,azimuth,elevation,distance"]
    azimuth, elevation, distance = rng.uniform(0, 360, n), rng.uniform(-40, 40, n), rng.uniform(0.5, 4, n)
    for i in range(n):
        labels = ";".join(c for c, on in zip(classes, targets[i]) if on)
        reference_rows.append(f"clip{i},{labels},{azimuth[i]:.2f},{elevation[i]:.2f},{distance[i]:.2f}")
    (tmp_path / "ref.csv").write_text("\n".join(reference_rows) + "\n")

    def system(path, noise):
        rows = ["clip_id,azimuth,elevation,distance," + ",".join(classes)]
        for i in range(n):
            scores = ",".join(f"{v:.4f}" for v in targets[i] * 1.0 + rng.normal(0, noise, 3))
            rows.append(
                f"clip{i},{(azimuth[i] + rng.normal(0, noise * 40)) % 360:.2f},{elevation[i]:.2f},"
                f"{abs(distance[i] + rng.normal(0, noise)):.2f},{scores}"
            )
        path.write_text("\n".join(rows) + "\n")

    system(tmp_path / "a.csv", 1.0)
    system(tmp_path / "b.csv", 0.2)
    out = tmp_path / "cmp" / "comparison.json"
    code, stdout, err = run_cli(
        capsys,
        "compare",
        tmp_path / "a.csv",
        tmp_path / "b.csv",
        "--ref",
        tmp_path / "ref.csv",
        "--protocol",
        "clip-continuous",
        "--json",
        out,
        "--resamples",
        "300",
    )
    assert code == 0, err
    document = json.loads(out.read_text())
    metrics = document["comparison"]["metrics"]
    assert set(metrics) == {"mAP", "ER20", "MAE", "DER"}
    assert all(entry["better"] == "B" for entry in metrics.values()), metrics
    assert document["comparison"]["n"] == n and document["comparison"]["difference"] == "B - A"
    assert "mAP" in stdout and "B (↑)" in stdout

    # the same two systems as train-reference run folders: their predictions, shared references and protocol
    protocol = load_protocol("clip-continuous").summary()
    for name in ("a", "b"):
        run = tmp_path / f"run_{name}"
        run.mkdir()
        (run / "run.json").write_text(json.dumps({"model": "spatialast", "size": "mini", "protocol": protocol}))
        (run / "results.json").write_text(json.dumps({"protocol": protocol}))
        shutil.copy(tmp_path / f"{name}.csv", run / "predictions.csv")
        shutil.copy(tmp_path / "ref.csv", run / "references.csv")
    out_runs = tmp_path / "runs.json"
    code, _, err = run_cli(
        capsys, "compare", tmp_path / "run_a", tmp_path / "run_b", "--json", out_runs, "--resamples", "300"
    )
    assert code == 0, err
    assert json.loads(out_runs.read_text())["comparison"] == document["comparison"]
    (tmp_path / "run_b" / "references.csv").write_text((tmp_path / "ref.csv").read_text().replace("clip0,", "clipX,"))
    code, _, err = run_cli(capsys, "compare", tmp_path / "run_a", tmp_path / "run_b")
    assert code == 2 and "different references" in err
    # a stand-in without the run description a report needs: a clear error, no output
    (tmp_path / "run_a" / "run.json").write_text("{}")
    code, _, err = run_cli(capsys, "report", tmp_path / "run_a", "--out", tmp_path / "r" / "report.html")
    assert code == 2 and "run.json" in err and not (tmp_path / "r").exists()


def test_compare_dcase_folders_and_qa_answers(tmp_path, capsys):
    # B: a near-perfect system, the annotations themselves as Cartesian output with directions off by 5 degrees.
    better = tmp_path / "better"
    better.mkdir()
    for reference in STARSS22.glob("metadata_dev/*/*.csv"):
        rows = []
        for line in reference.read_text().splitlines():
            frame, event, track, azimuth, elevation = line.split(",")[:5]
            azimuth, elevation = np.radians(float(azimuth) + 5.0), np.radians(float(elevation))
            rows.append(
                f"{frame},{event},{track},{np.cos(elevation) * np.cos(azimuth)},"
                f"{np.cos(elevation) * np.sin(azimuth)},{np.sin(elevation)}"
            )
        (better / reference.name).write_text("\n".join(rows) + "\n")
    out = tmp_path / "dcase.json"
    code, _, err = run_cli(
        capsys,
        "compare",
        STARSS22 / "predictions",
        better,
        "--ref",
        STARSS22 / "metadata_dev",
        "--protocol",
        "dcase2022-task3",
        "--json",
        out,
        "--resamples",
        "200",
    )
    assert code == 0, err
    metrics = json.loads(out.read_text())["comparison"]["metrics"]
    score = score_dcase_folders(STARSS22 / "predictions", STARSS22 / "metadata_dev", load_protocol("dcase2022-task3"))
    assert set(metrics) == set(score.score.metrics)
    assert all(entry["better"] == "B" for entry in metrics.values()), metrics
    # 13.85 degrees of it is the macro average's 180 for the one class absent from these recordings.
    assert 14.0 < metrics["LE_CD"]["b"] < 14.0 + 5.0 and metrics["ER_20"]["b"] < 0.05

    out = tmp_path / "qa.json"
    answers = QA_CASE / "answers.jsonl"
    code, _, err = run_cli(
        capsys,
        "compare",
        answers,
        answers,
        "--ref",
        QA_CASE / "questions.json",
        "--embedder",
        "trigram256",
        "--json",
        out,
        "--resamples",
        "100",
    )
    assert code == 0, err
    document = json.loads(out.read_text())
    metrics = document["comparison"]["metrics"]
    trigram = with_settings(load_protocol("spatialsoundqa"), embedder="trigram256")
    assert document["protocol"]["hash"] == f"sha256:{trigram.hash}" != f"sha256:{load_protocol('spatialsoundqa').hash}"
    # identical systems: if both were not drawn from the very same resamples, the intervals would not collapse
    assert metrics and all(
        entry["interval"] == {"low": 0.0, "high": 0.0} and entry["p_value"] == 1.0 for entry in metrics.values()
    )


def test_compare_bad_input_exits_2(tmp_path, capsys):
    code, _, err = run_cli(capsys, "compare", tmp_path / "nope.csv", tmp_path / "b.csv", "--ref", tmp_path / "r.csv")
    assert code == 2 and "nope.csv" in err and err.count("\n") == 1
    code, _, err = run_cli(
        capsys, "compare", STARSS22 / "predictions", QA_CASE / "answers.jsonl", "--ref", STARSS22 / "metadata_dev"
    )
    assert code == 2 and "same form" in err
