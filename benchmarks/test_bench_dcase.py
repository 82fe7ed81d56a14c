"""DCASE 2024 scoring of 80 recordings x 60 s (600 frames each), seldkit vs the per-frame Python loop
baseline (``tests/naive_dcase.py``, which works one frame and class at a time like the official code)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.benchdata import best_time, record_ratio
from seldkit.io.dcase import read_dcase_file
from seldkit.metrics.dcase import score_recordings
from seldkit.protocols import load_protocol
from seldkit.scoring.dcase import score_dcase_folders
from tests import naive_dcase
from tests.dcase_scenes import write_scene

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
