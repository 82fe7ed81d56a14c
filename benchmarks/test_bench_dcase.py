"""DCASE scoring, seldkit vs plain Python loop baselines that work like the official code: 2024 on 80 recordings x
60 s (``tests/naive_dcase.py``, one frame and class at a time), 2019, 2020 and 2021 on 60 recordings x 60 s each
(``tests/naive_dcase_2019_2021.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.benchdata import best_time, record_ratio
from seldkit.io.dcase import read_dcase_file
from seldkit.metrics.dcase import score_recordings
from seldkit.protocols import load_protocol
from seldkit.scoring.dcase import score_dcase_folders
from tests import naive_dcase
from tests import naive_dcase_2019_2021 as naive_early
from tests.dcase_scenes import write_scene, write_scene_2019

pytestmark = pytest.mark.slow  # each benchmark runs once in the test suite, as a smoke test

N_RECORDINGS, N_FRAMES = 80, 600


@pytest.fixture(scope="module")
def scene_2024(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dcase2024") / "scene"
    # ~1.5 reference events per frame, like STARSS recordings
    write_scene(
        folder,
        np.random.default_rng(80),
        year=2024,
        n_files=N_RECORDINGS,
        n_frames=N_FRAMES,
        n_events=(12, 20),
        max_length=120,
    )
    return folder


def test_dcase2024_scoring(benchmark, scene_2024):
    names = sorted(path.name for path in (scene_2024 / "ref").glob("*.csv"))
    references = [read_dcase_file(scene_2024 / "ref" / name, year=2024, role="reference") for name in names]
    predictions = [read_dcase_file(scene_2024 / "pred" / name, year=2024, role="prediction") for name in names]
    rows = [
        (naive_dcase.read_rows(scene_2024 / "ref" / name), naive_dcase.read_rows(scene_2024 / "pred" / name))
        for name in names
    ]

    result = benchmark.pedantic(lambda: score_recordings(references, predictions, year=2024), rounds=5, iterations=1)
    expected = naive_dcase.score_2024(rows)
    for name, value in expected.items():
        assert result.metrics[name] == pytest.approx(value, rel=1e-9, abs=1e-9), name

    ours = best_time(lambda: score_recordings(references, predictions, year=2024), rounds=5)
    baseline = best_time(lambda: naive_dcase.score_2024(rows), rounds=1)
    frames = N_RECORDINGS * N_FRAMES
    benchmark.extra_info.update(seldkit_s=ours, baseline_s=baseline, us_per_frame=ours / frames * 1e6)
    record_ratio(f"DCASE 2024 80 x 60 s, compute ({ours / frames * 1e6:.2f} us/frame)", ours, baseline)

    protocol = load_protocol("dcase2024-task3")
    end_to_end = best_time(lambda: score_dcase_folders(scene_2024 / "pred", scene_2024 / "ref", protocol), rounds=3)
    naive_end_to_end = best_time(
        lambda: naive_dcase.score_2024(
            [
                (naive_dcase.read_rows(scene_2024 / "ref" / n), naive_dcase.read_rows(scene_2024 / "pred" / n))
                for n in names
            ]
        ),
        rounds=1,
    )
    record_ratio("DCASE 2024 80 x 60 s, files read + scored", end_to_end, naive_end_to_end)


# DCASE 2019-2021: 60 recordings x 60 s each, seldkit vs the plain loop scorers of tests/naive_dcase_2019_2021.py
# (one 20 ms frame at a time for 2019, one 1 s segment and class at a time for 2020/2021, like the official code).
N_RECORDINGS_2019_2021 = 60


@pytest.fixture(scope="module")
def scenes_2019_2021(tmp_path_factory) -> dict[int, Path]:
    root = tmp_path_factory.mktemp("dcase2019_2021")
    write_scene_2019(root / "2019", np.random.default_rng(19), n_files=N_RECORDINGS_2019_2021)
    for year, n_classes in ((2020, 14), (2021, 12)):
        # ~1.5 reference events per frame, like the real recordings; Cartesian predictions.
        write_scene(
            root / str(year),
            np.random.default_rng(year),
            year=2022,
            n_files=N_RECORDINGS_2019_2021,
            n_frames=600,
            n_events=(12, 20),
            max_length=120,
            n_classes=n_classes,
        )
    return {year: root / str(year) for year in (2019, 2020, 2021)}


def _naive_2019_2021(year: int, folder: Path, names: list[str]):
    """The loop scorer of ``year`` and its inputs, read the plain way."""
    if year == 2019:
        pairs = [
            (naive_early.read_2019_reference(folder / "ref" / n), naive_early.read_2019_prediction(folder / "pred" / n))
            for n in names
        ]
        return naive_early.score_2019, pairs
    pairs = [(naive_early.read_rows(folder / "ref" / n), naive_early.read_rows(folder / "pred" / n)) for n in names]
    return (naive_early.score_2020 if year == 2020 else naive_early.score_2021), pairs


@pytest.mark.parametrize("year", [2019, 2020, 2021])
def test_dcase2019_2021_scoring(benchmark, scenes_2019_2021, year):
    folder = scenes_2019_2021[year]
    names = sorted(path.name for path in (folder / "ref").glob("*.csv"))
    references = [read_dcase_file(folder / "ref" / name, year=year, role="reference") for name in names]
    predictions = [read_dcase_file(folder / "pred" / name, year=year, role="prediction") for name in names]
    scorer, pairs = _naive_2019_2021(year, folder, names)

    result = benchmark.pedantic(lambda: score_recordings(references, predictions, year=year), rounds=5, iterations=1)
    expected = scorer(pairs)
    for name, value in expected.items():
        assert result.metrics[name] == pytest.approx(value, rel=1e-9, abs=1e-9), name

    ours = best_time(lambda: score_recordings(references, predictions, year=year), rounds=15)
    baseline = best_time(lambda: scorer(pairs), rounds=3)
    benchmark.extra_info.update(seldkit_s=ours, baseline_s=baseline)
    record_ratio(f"DCASE {year} 60 x 60 s, compute", ours, baseline)

    protocol = load_protocol(f"dcase{year}-task3")
    end_to_end = best_time(lambda: score_dcase_folders(folder / "pred", folder / "ref", protocol), rounds=5)
    naive_end_to_end = best_time(lambda: scorer(_naive_2019_2021(year, folder, names)[1]), rounds=1)
    record_ratio(f"DCASE {year} 60 x 60 s, files read + scored", end_to_end, naive_end_to_end)
