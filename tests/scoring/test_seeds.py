"""Comparing two models trained from several seeds: seed k of A is paired with seed k of B, and each bootstrap
replicate draws the seeds (the same for A and B) and the clips or their clusters (the same for every seed and
both systems). Checked on seed folders written with the run writers, and on simulated seeds whose spread is known."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from seldkit.metrics.clip import PerClipInputs
from seldkit.metrics.paired import paired_difference
from seldkit.metrics.seeds import (
    combine_seed_samples,
    mean_over_seeds,
    seed_clip_metric_samples,
    seed_draw_counts,
    summarise_seeds,
)
from seldkit.metrics.stats import clip_metric_samples
from seldkit.protocols import load_protocol
from seldkit.results import write_json_atomic
from seldkit.scoring.clip import score_clip_files
from seldkit.train.outputs import results_json
from seldkit.train.seeds import SeedsFolder, describe_seeds, seed_values
from tests.command import run_cli

N_CLIPS, ROOMS = 60, 6
EVALUATION = "clip-continuous"


def clip_set(rng: np.random.Generator) -> tuple[list[str], list[str], np.ndarray]:
    """Clip ids, their rooms (ROOMS rooms of N_CLIPS / ROOMS clips) and true azimuths (elevation 0)."""
    ids = [f"c{index:03d}" for index in range(N_CLIPS)]
    rooms = [f"room{index * ROOMS // N_CLIPS}" for index in range(N_CLIPS)]
    return ids, rooms, rng.uniform(0.0, 360.0, N_CLIPS)


def write_seed_runs(folder: Path, sigmas: list[float], rng: np.random.Generator, *, model: str = "dspast") -> Path:
    """A folder of len(sigmas) seeds' runs as train-reference --seeds writes them; seed k errs with sd sigmas[k]."""
    ids, rooms, azimuth = clip_set(np.random.default_rng(0))  # every seed of every system: the same test clips
    training = load_protocol("synth-binaural-mini")
    config = training.train.recipe(model, protocol_name=training.name)
    evaluation = load_protocol(EVALUATION)
    seeds_folder = SeedsFolder(folder)
    seeds = seed_values(config, len(sigmas))
    write_json_atomic(seeds_folder.description, describe_seeds(seeds_folder, config, training, seeds))
    for index, sigma in enumerate(sigmas):
        run = seeds_folder.run(index)
        run.path.mkdir(parents=True)
        run.references.write_text(
            "clip_id,labels,azimuth,elevation\n" + "".join(f"{i},,{a:.3f},0\n" for i, a in zip(ids, azimuth))
        )
        run.clips.write_text(
            "clip_id,audio,reverb,room\n" + "".join(f"{i},{i},{r}_pos0,{r}\n" for i, r in zip(ids, rooms))
        )
        predicted = azimuth + rng.normal(0.0, sigma, N_CLIPS)
        run.predictions.write_text(
            "clip_id,azimuth,elevation\n" + "".join(f"{i},{a:.3f},0\n" for i, a in zip(ids, predicted))
        )
        write_json_atomic(
            run.description,
            {
                "model": model,
                "recipe": config.name,
                "size": config.size,
                "seed": seeds[index],
                "protocol": training.summary(),
                "group_by": None,
            },
        )
        score = score_clip_files(run.predictions, run.references, evaluation)
        write_json_atomic(run.results, results_json(score, score, training, {"model": model, "seed": seeds[index]}))
    return folder


def read_azimuths(path: Path) -> np.ndarray:
    with open(path, newline="") as handle:
        return np.array([float(row["azimuth"]) for row in csv.DictReader(handle)])


def errors_of(run: Path) -> np.ndarray:
    """Angular errors of a seed's run computed here: elevation 0, so the wrapped azimuth difference."""
    difference = read_azimuths(run / "predictions.csv") - read_azimuths(run / "references.csv")
    return np.abs((difference + 180.0) % 360.0 - 180.0)


@pytest.fixture
def seed_runs(tmp_path) -> tuple[Path, Path]:
    rng = np.random.default_rng(1)
    return write_seed_runs(tmp_path / "a", [10.0, 40.0, 20.0], rng), write_seed_runs(tmp_path / "b", [15, 16, 17], rng)


def test_the_point_estimate_is_the_mean_of_the_seeds_differences(seed_runs, tmp_path, capsys):
    a, b = seed_runs
    out = tmp_path / "seeds.json"
    code, printed, err = run_cli(capsys, "compare", a, b, "--json", out, "--resamples", "300")
    assert code == 0, err
    assert "3 seeds x 60 clips" in printed
    document = json.loads(out.read_text())
    comparison = document["comparison"]
    assert comparison["n_seeds"] == 3 and comparison["n"] == N_CLIPS
    assert comparison["method"] == "paired percentile bootstrap over seeds x clips"
    assert document["inputs"]["seeds"]["n"] == 3 and document["inputs"]["seeds"]["a"][2] == str(a / "seed2")
    mae = {name: [errors_of(run / f"seed{k}").mean() for k in range(3)] for name, run in (("a", a), ("b", b))}
    er20 = {name: [np.mean(errors_of(run / f"seed{k}") > 20) for k in range(3)] for name, run in (("a", a), ("b", b))}
    for metric, values in (("MAE", mae), ("ER20", er20)):
        entry = comparison["metrics"][metric]
        assert entry["a"] == pytest.approx(np.mean(values["a"]), rel=1e-9)
        assert entry["b"] == pytest.approx(np.mean(values["b"]), rel=1e-9)
        per_seed = np.subtract(values["b"], values["a"])
        assert entry["difference"] == pytest.approx(per_seed.mean(), rel=1e-9, abs=1e-12)
        assert entry["interval"]["low"] <= entry["difference"] <= entry["interval"]["high"]

    # by room: the seeds' clips.csv; the unit names both levels
    code, printed, err = run_cli(capsys, "compare", a, b, "--group-by", "room", "--json", out, "--resamples", "300")
    assert code == 0, err
    assert "3 seeds x 6 clusters of clips (room)" in printed
    comparison = json.loads(out.read_text())["comparison"]
    assert comparison["method"] == "paired percentile bootstrap over seeds x clusters of clips (room)"
    assert (comparison["n"], comparison["n_seeds"]) == (ROOMS, 3)
    assert comparison["metrics"]["MAE"]["difference"] == pytest.approx(np.mean(mae["b"]) - np.mean(mae["a"]))


def test_identical_seeds_give_exactly_the_clip_level_resamples():
    """All seeds see the same clip draws: when the seeds agree, drawing them changes nothing."""
    rng = np.random.default_rng(3)
    system = PerClipInputs(80, rng.random((80, 4)), rng.random((80, 4)) < 0.3, rng.exponential(20.0, 80), None)
    groups = np.arange(80) % 8
    for grouping in (None, groups):
        single, _ = clip_metric_samples(system, mode="continuous", n_resamples=96, seed=7, groups=grouping)
        counts = seed_draw_counts(4, 96, seed=7)
        combined = seed_clip_metric_samples(
            [system] * 4, counts, mode="continuous", n_resamples=96, seed=7, groups=grouping
        )
        assert set(combined) == set(single) == {"mAP", "ER20", "MAE"}
        for name in single:
            np.testing.assert_allclose(combined[name], single[name], rtol=1e-12, atol=1e-15)


def test_seed_draws_are_their_own_and_weight_the_drawn_seeds():
    counts = seed_draw_counts(5, 400, seed=2)
    assert counts.shape == (400, 5) and (counts.sum(axis=1) == 5).all()
    np.testing.assert_array_equal(counts, seed_draw_counts(5, 400, seed=2))  # seeded
    assert not np.array_equal(counts, seed_draw_counts(5, 400, seed=3))
    # every seed is drawn about equally often, and some replicates leave seeds out
    assert np.allclose(counts.mean(axis=0), 1.0, atol=0.15) and (counts == 0).any()
    values = [{"MAE": np.full(400, float(k)), "ER20": np.full(400, np.nan if k == 4 else 0.5)} for k in range(5)]
    combined = combine_seed_samples(values, counts)
    np.testing.assert_allclose(combined["MAE"], counts @ np.arange(5.0) / 5)
    # a seed's undefined value counts only where that seed was drawn
    assert np.array_equal(np.isnan(combined["ER20"]), counts[:, 4] > 0)
    assert mean_over_seeds([{"MAE": 1.0, "mAP": None}, {"MAE": 3.0, "mAP": 0.5}]) == {"MAE": 2.0}
    assert summarise_seeds([2.0]) == {"mean": 2.0, "sd": None, "min": 2.0, "max": 2.0, "n": 1}


DELTA = 2.0


def simulated_seeds(rng: np.random.Generator, n_seeds: int, spread: float) -> tuple[list, list]:
    """Angles of A's and B's seeds on 200 shared clips: a clip difficulty, a per-seed offset of sd ``spread``
    (the seed's luck), clip noise; B errs DELTA degrees more than A on average over seeds and clips."""
    difficulty = 60.0 + rng.normal(0.0, 10.0, 200)

    def seeds(shift: float) -> list[PerClipInputs]:
        return [
            PerClipInputs(
                200, None, None, difficulty + shift + rng.normal(0.0, spread) + rng.normal(0.0, 3.0, 200), None
            )
            for _ in range(n_seeds)
        ]

    return seeds(0.0), seeds(DELTA)


def seed_level_interval(a: list, b: list, seed: int, resamples: int = 300) -> tuple[float, float]:
    counts = seed_draw_counts(len(a), resamples, seed)
    samples = [
        seed_clip_metric_samples(system, counts, mode="continuous", n_resamples=resamples, seed=seed)["MAE"]
        for system in (a, b)
    ]
    means = [np.mean([inputs.angles.mean() for inputs in system]) for system in (a, b)]
    result = paired_difference("MAE", means[0], means[1], samples[0], samples[1])
    return result.low, result.high


def clip_level_interval(a: PerClipInputs, b: PerClipInputs, seed: int, resamples: int = 300) -> tuple[float, float]:
    samples = [
        clip_metric_samples(system, mode="continuous", n_resamples=resamples, seed=seed)[0]["MAE"] for system in (a, b)
    ]
    result = paired_difference("MAE", a.angles.mean(), b.angles.mean(), samples[0], samples[1])
    return result.low, result.high


def test_a_spread_between_seeds_widens_the_interval():
    """200 simulated comparisons of 5 seeds each, the seeds' offsets of sd 4 degrees (true B - A = DELTA): one
    seed's clip-level interval is far too narrow (it rarely holds DELTA); the seed-level interval is several
    times wider and holds DELTA most of the time, short of 95 % because 5 seeds estimate their spread roughly."""
    rng = np.random.default_rng(11)
    covered, ratios = {"seeds": 0, "one seed": 0}, []
    repeats = 200
    for repeat in range(repeats):
        a, b = simulated_seeds(rng, 5, spread=4.0)
        low, high = seed_level_interval(a, b, seed=repeat)
        clip_low, clip_high = clip_level_interval(a[0], b[0], seed=repeat)
        covered["seeds"] += low <= DELTA <= high
        covered["one seed"] += clip_low <= DELTA <= clip_high
        ratios.append((high - low) / (clip_high - clip_low))
    assert 0.72 <= covered["seeds"] / repeats <= 0.92, covered
    assert covered["one seed"] / repeats < 0.2, covered
    assert np.mean(ratios) > 3.0, np.mean(ratios)


def test_seeds_that_agree_leave_the_interval_near_the_clip_level_one():
    rng = np.random.default_rng(12)
    ratios = []
    for repeat in range(40):
        a, b = simulated_seeds(rng, 5, spread=0.0)
        low, high = seed_level_interval(a, b, seed=repeat)
        clip_low, clip_high = clip_level_interval(a[0], b[0], seed=repeat)
        ratios.append((high - low) / (clip_high - clip_low))
    assert 0.5 <= np.mean(ratios) <= 1.2, np.mean(ratios)


def test_mismatched_seed_folders_are_refused(seed_runs, tmp_path, capsys):
    a, b = seed_runs
    rng = np.random.default_rng(5)
    two = write_seed_runs(tmp_path / "two", [10.0, 12.0], rng)
    cases = [
        ((a, two), "A has 3 seeds and B 2"),
        ((a, b / "seed0"), "the other does not"),
        ((a / "seed0", b), "the other does not"),
        ((a, tmp_path / "two" / "seed0" / "predictions.csv"), "the other does not"),
    ]
    for systems, says in cases:
        code, _, err = run_cli(capsys, "compare", *systems)
        assert code == 2 and says in err and "Traceback" not in err, (systems, err)
        assert len(err.strip().splitlines()) == 1
    code, _, err = run_cli(capsys, "compare", a, b, "--ref", a / "seed0" / "references.csv")
    assert code == 2 and "give no --ref/--protocol" in err
    # seed 1 of B tested on other clips than seed 0
    references = b / "seed1" / "references.csv"
    references.write_text(references.read_text().replace("c000,", "cX,"))
    code, _, err = run_cli(capsys, "compare", a, b)
    assert code == 2 and "different references" in err and len(err.strip().splitlines()) == 1
    references.write_text(references.read_text().replace("cX,", "c000,"))
    # a seed's clip metadata differs: clustered comparisons need the same clusters for all
    clips = a / "seed2" / "clips.csv"
    clips.write_text(clips.read_text().replace("room5", "room4"))
    code, _, err = run_cli(capsys, "compare", a, b, "--group-by", "room")
    assert code == 2 and "test clips differ (clips.csv)" in err and str(a / "seed2") in err
    # an unfinished seed
    (b / "seed2" / "results.json").unlink()
    code, _, err = run_cli(capsys, "compare", a, b)
    assert code == 2 and "has no results.json" in err and str(b / "seed2") in err
