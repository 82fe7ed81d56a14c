"""Random DCASE Task 3 scenes written as reference/prediction folders (for tests and benchmarks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_scene(
    folder: Path,
    rng: np.random.Generator,
    *,
    year: int,
    n_files: int,
    n_frames: int,
    n_events: tuple[int, int] = (3, 9),
    max_length: int = 40,
) -> None:
    """Random recordings with overlapping events, same-class pairs, misses, false alarms and noise.

    Each recording gets ``n_events`` (a range) events of 3 to ``max_length`` frames."""
    (folder / "ref").mkdir(parents=True)
    (folder / "pred").mkdir()
    for index in range(n_files):
        ref_rows, pred_rows = [], []
        for _ in range(rng.integers(*n_events)):
            cls = int(rng.integers(0, 13))
            start = int(rng.integers(0, n_frames - 5))
            length = int(rng.integers(3, max_length))
            azimuth, elevation = int(rng.integers(-180, 180)), int(rng.integers(-40, 41))
            distance_cm = int(rng.integers(50, 500))
            track = int(rng.integers(0, 3))
            bias = rng.normal(0, 15, size=2)
            for frame in range(start, min(start + length, n_frames)):
                ref_rows.append((frame, cls, track, azimuth, elevation, distance_cm))
                if rng.random() < 0.8:
                    az = np.radians(azimuth + bias[0] + rng.normal(0, 4))
                    el = np.radians(np.clip(elevation + bias[1] + rng.normal(0, 4), -89, 89))
                    pred_class = cls if rng.random() < 0.9 else int(rng.integers(0, 13))
                    vector = np.array([np.cos(az) * np.cos(el), np.sin(az) * np.cos(el), np.sin(el)])
                    pred_rows.append((frame, pred_class, 0, *vector, distance_cm / 100 * rng.uniform(0.5, 2.2)))
        for _ in range(rng.integers(0, 40)):  # false alarms
            az, el = rng.uniform(-np.pi, np.pi), rng.uniform(-0.6, 0.6)
            vector = np.array([np.cos(az) * np.cos(el), np.sin(az) * np.cos(el), np.sin(el)])
            pred_rows.append(
                (int(rng.integers(0, n_frames)), int(rng.integers(0, 13)), 1, *vector, rng.uniform(0.5, 5))
            )
        ref_rows.sort(key=lambda row: row[0])
        pred_rows.sort(key=lambda row: row[0])
        with open(folder / "ref" / f"rec_{index:03d}.csv", "w") as handle:
            for frame, cls, track, az, el, dist in ref_rows:
                handle.write(f"{frame},{cls},{track},{az},{el}" + (f",{dist}" if year == 2024 else "") + "\n")
        with open(folder / "pred" / f"rec_{index:03d}.csv", "w") as handle:
            for frame, cls, track, x, y, z, dist in pred_rows:
                handle.write(
                    f"{frame},{cls},{track},{x:.6f},{y:.6f},{z:.6f}" + (f",{dist:.4f}" if year == 2024 else "") + "\n"
                )
