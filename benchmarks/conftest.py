"""Benchmark data (seeded, generated on the fly) and the summary of seldkit-vs-baseline ratios.

Run with ``pytest benchmarks --benchmark-enable``; the test command runs each benchmark once, as a smoke test,
and still prints the ratios.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.benchdata import RATIOS, TIMINGS, audioset_mids


def pytest_terminal_summary(terminalreporter) -> None:
    for name, seconds in TIMINGS:
        terminalreporter.write_line(f"{name:<70} {seconds:8.3f} s")
    if not RATIOS:
        return
    terminalreporter.write_sep("-", "seldkit vs in-repo baseline (same process, best of rounds)")
    for name, ours, baseline in RATIOS:
        terminalreporter.write_line(
            f"{name:<48} seldkit {ours:8.3f} s   baseline {baseline:8.3f} s   x{baseline / ours:7.1f}"
        )


@pytest.fixture(scope="session")
def clip_set_17148() -> dict[str, np.ndarray]:
    """17,148 clips x 355 classes, like the binaural AudioSet evaluation set: ~1.5 % positives, scores that
    favour positives, 4 significant digits (ties), realistic direction and distance errors."""
    rng = np.random.default_rng(2024)
    n_clips, n_classes = 17_148, 355
    prevalence = rng.beta(0.6, 40.0, size=n_classes)
    targets = rng.random((n_clips, n_classes)) < prevalence
    targets[np.arange(n_clips), rng.integers(0, n_classes, n_clips)] = True  # every clip has a label
    logits = rng.normal(-4.0, 1.5, size=(n_clips, n_classes)) + targets * rng.normal(
        3.5, 1.5, size=(n_clips, n_classes)
    )
    scores = np.round(1.0 / (1.0 + np.exp(-logits)), 4)
    azimuth_ref = rng.uniform(0, 360, n_clips)
    elevation_ref = np.degrees(np.arcsin(rng.uniform(-1, 1, n_clips))) * 0.5
    distance_ref = rng.uniform(0.5, 10.0, n_clips)
    return {
        "scores": scores,
        "targets": targets,
        "azimuth_pred": azimuth_ref + rng.normal(0, 12, n_clips),
        "elevation_pred": np.clip(elevation_ref + rng.normal(0, 8, n_clips), -90, 90),
        "azimuth_ref": azimuth_ref,
        "elevation_ref": elevation_ref,
        "distance_pred": np.clip(distance_ref + rng.normal(0, 0.6, n_clips), 0, None),
        "distance_ref": distance_ref,
    }


@pytest.fixture(scope="session")
def clip_files_17148(clip_set_17148, tmp_path_factory) -> tuple[Path, Path]:
    """The same set written as clip CSV files (predictions with the 355 class columns)."""
    folder = tmp_path_factory.mktemp("clip17148")
    data = clip_set_17148
    mids = audioset_mids()
    clip_ids = np.array([f"Y{index:011d}" for index in range(len(data["scores"]))])
    import pandas as pd

    predictions = pd.DataFrame(data["scores"], columns=mids)
    predictions.insert(0, "distance", np.round(data["distance_pred"], 2))
    predictions.insert(0, "elevation", np.round(data["elevation_pred"], 2))
    predictions.insert(0, "azimuth", np.round(data["azimuth_pred"], 2))
    predictions.insert(0, "clip_id", clip_ids)
    labels = [";".join(mids[c] for c in np.flatnonzero(row)) for row in data["targets"]]
    references = pd.DataFrame(
        {
            "clip_id": clip_ids,
            "labels": labels,
            "azimuth": np.round(data["azimuth_ref"], 2),
            "elevation": np.round(data["elevation_ref"], 2),
            "distance": np.round(data["distance_ref"], 2),
        }
    )
    preds_path, refs_path = folder / "preds.csv", folder / "refs.csv"
    predictions.sample(frac=1.0, random_state=1).to_csv(preds_path, index=False)
    references.to_csv(refs_path, index=False)
    return preds_path, refs_path
