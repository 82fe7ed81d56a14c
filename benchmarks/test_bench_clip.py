"""Clip metrics at the size of the binaural AudioSet evaluation (17,148 clips x 355 classes).

Baselines, written from the same definitions: a per-class scikit-learn ``average_precision_score`` loop with
per-clip angle/distance arithmetic in NumPy; for the end-to-end run, csv-module parsing plus that loop.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from benchmarks.benchdata import best_time, record_ratio
from seldkit.metrics.clip import clip_metrics

pytestmark = pytest.mark.slow  # each benchmark runs once in the test suite, as a smoke test


def baseline_metrics(data: dict[str, np.ndarray]) -> dict[str, float]:
    scores, targets = data["scores"], data["targets"]
    per_class = []
    for column in range(scores.shape[1]):
        if targets[:, column].any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                per_class.append(average_precision_score(targets[:, column], scores[:, column]))
        else:
            per_class.append(0.0)
    az_p, az_r = np.round(data["azimuth_pred"]) % 360, np.round(data["azimuth_ref"]) % 360
    el_p = ((np.round(data["elevation_pred"]) + 90) % 180 - 90) * np.pi / 180
    el_r = ((np.round(data["elevation_ref"]) + 90) % 180 - 90) * np.pi / 180
    az_p, az_r = (
        np.where(az_p > 180, az_p - 360, az_p) * np.pi / 180,
        np.where(az_r > 180, az_r - 360, az_r) * np.pi / 180,
    )
    cosine = np.sin(el_p) * np.sin(el_r) + np.cos(el_p) * np.cos(el_r) * np.cos(np.abs(az_p - az_r))
    angles = np.degrees(np.arccos(np.clip(cosine, -1, 1)))
    wrong = np.abs(np.round(2 * data["distance_pred"]) - np.round(2 * data["distance_ref"])) > 1
    return {
        "mAP": float(np.mean(per_class)),
        "ER20": float(np.mean(angles > 20)),
        "MAE": float(np.mean(angles)),
        "DER": float(np.mean(wrong)),
    }


def test_clip_metric_compute(benchmark, clip_set_17148):
    data = clip_set_17148
    result = benchmark.pedantic(lambda: clip_metrics(mode="reference", **data), rounds=5, iterations=1)
    expected = baseline_metrics(data)
    assert abs(result.mAP - expected["mAP"]) < 1e-9 and result.ER20 == expected["ER20"]
    ours = best_time(lambda: clip_metrics(mode="reference", **data), rounds=5)
    baseline = best_time(lambda: baseline_metrics(data), rounds=2)
    benchmark.extra_info.update(seldkit_s=ours, baseline_s=baseline, speedup=baseline / ours)
    record_ratio("clip metrics 17148x355 (compute)", ours, baseline)


def baseline_end_to_end(preds_path, refs_path) -> dict[str, float]:
    with open(preds_path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = {row[0]: [float(value) for value in row[1:]] for row in reader}
    class_ids = header[4:]
    column = {class_id: index for index, class_id in enumerate(class_ids)}
    with open(refs_path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        references = list(reader)
    n = len(references)
    predicted = np.array([rows[row[0]] for row in references])
    targets = np.zeros((n, len(class_ids)), dtype=bool)
    for index, row in enumerate(references):
        for label in filter(None, row[1].split(";")):
            targets[index, column[label]] = True
    spatial = np.array([[float(value) for value in row[2:5]] for row in references])
    data = {
        "scores": predicted[:, 3:],
        "targets": targets,
        "azimuth_pred": predicted[:, 0],
        "elevation_pred": predicted[:, 1],
        "distance_pred": predicted[:, 2],
        "azimuth_ref": spatial[:, 0],
        "elevation_ref": spatial[:, 1],
        "distance_ref": spatial[:, 2],
    }
    return baseline_metrics(data)


def test_score_end_to_end(benchmark, clip_files_17148):
    preds_path, refs_path = clip_files_17148
    command = [
        sys.executable,
        "-m",
        "seldkit.cli.main",
        "score",
        str(preds_path),
        "--ref",
        str(refs_path),
        "--protocol",
        "bat-encoder",
    ]

    def score() -> str:
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout

    output = benchmark.pedantic(score, rounds=3, iterations=1)
    expected = baseline_end_to_end(preds_path, refs_path)
    assert f"{expected['mAP'] * 100:.2f} %" in output
    ours = best_time(score, rounds=3)
    baseline = best_time(lambda: baseline_end_to_end(preds_path, refs_path), rounds=1)
    benchmark.extra_info.update(seldkit_s=ours, baseline_s=baseline, speedup=baseline / ours)
    record_ratio("seldkit score 17148x355 (process, CSV included)", ours, baseline)
