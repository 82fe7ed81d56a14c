"""Random DCASE Task 3 scenes written as reference/prediction folders (for tests and benchmarks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.naive_dcase_2019_2021 import CLASSES_2019 as naive_2019_classes


def write_scene(
    folder: Path,
    rng: np.random.Generator,
    *,
    year: int,
    n_files: int,
    n_frames: int,
    n_events: tuple[int, int] = (3, 9),
    max_length: int = 40,
    n_classes: int = 13,
) -> None:
    """Random recordings with overlapping events, same-class pairs, misses, false alarms and noise.

    Each recording gets ``n_events`` (a range) events of 3 to ``max_length`` frames, of classes 0..n_classes-1."""
    (folder / "ref").mkdir(parents=True)
    (folder / "pred").mkdir()
    for index in range(n_files):
        ref_rows, pred_rows = [], []
        for _ in range(rng.integers(*n_events)):
            cls = int(rng.integers(0, n_classes))
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
                    pred_class = cls if rng.random() < 0.9 else int(rng.integers(0, n_classes))
                    vector = np.array([np.cos(az) * np.cos(el), np.sin(az) * np.cos(el), np.sin(el)])
                    pred_rows.append((frame, pred_class, 0, *vector, distance_cm / 100 * rng.uniform(0.5, 2.2)))
        for _ in range(rng.integers(0, 40)):  # false alarms
            az, el = rng.uniform(-np.pi, np.pi), rng.uniform(-0.6, 0.6)
            vector = np.array([np.cos(az) * np.cos(el), np.sin(az) * np.cos(el), np.sin(el)])
            pred_rows.append(
                (int(rng.integers(0, n_frames)), int(rng.integers(0, n_classes)), 1, *vector, rng.uniform(0.5, 5))
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


# The 2019 class names in index order, as the loop scorer reads them (tests/naive_dcase_2019_2021.py).
CLASSES_2019 = tuple(sorted(naive_2019_classes, key=naive_2019_classes.__getitem__))


def write_scene_2019(
    folder: Path, rng: np.random.Generator, *, n_files: int, n_events: tuple[int, int] = (8, 16), seconds: float = 60
) -> None:
    """Random DCASE 2019 recordings: event lists (onsets/offsets in seconds, DOAs on the 10 degree grid) and
    predictions per 20 ms frame with onset/offset jitter, DOA noise (off the grid, sometimes past its limits),
    same-class overlaps, misses, wrong classes and false alarms. File names follow ``splitS_irI_ovO_N.csv``."""
    (folder / "ref").mkdir(parents=True)
    (folder / "pred").mkdir()
    for index in range(n_files):
        name = f"split{index % 4 + 1}_ir{index % 5}_ov{index % 2 + 1}_{index + 1}.csv"
        ref_lines = ["sound_event_recording,start_time,end_time,ele,azi,dist"]
        pred_rows = []
        for _ in range(rng.integers(*n_events)):
            cls = int(rng.integers(0, 11))
            onset = float(rng.uniform(0, seconds - 0.5))
            offset = min(onset + float(rng.uniform(0.2, 4.0)), seconds + 0.5)
            elevation, azimuth = int(rng.integers(-4, 5)) * 10, int(rng.integers(-18, 18)) * 10
            ref_lines.append(f"{CLASSES_2019[cls]},{onset:.6f},{offset:.6f},{elevation},{azimuth},{rng.integers(1, 3)}")
            if rng.random() < 0.15:
                continue  # a miss
            predicted_class = cls if rng.random() < 0.9 else int(rng.integers(0, 11))
            start = int(onset * 50) + int(rng.integers(-5, 6))
            end = int(offset * 50) + int(rng.integers(-5, 6))
            bias_azimuth, bias_elevation = rng.normal(0, 10), rng.normal(0, 6)
            for frame in range(max(start, 0), end + 1):
                azimuth_noise = int(round(azimuth + bias_azimuth + rng.normal(0, 4)))
                elevation_noise = int(round(elevation + bias_elevation + rng.normal(0, 4)))
                pred_rows.append((frame, predicted_class, azimuth_noise, elevation_noise))
        for _ in range(rng.integers(0, 6)):  # false alarms
            start = int(rng.integers(0, int(seconds * 50) - 10))
            cls = int(rng.integers(0, 11))
            azimuth, elevation = int(rng.integers(-180, 180)), int(rng.integers(-45, 46))
            pred_rows.extend(
                (frame, cls, azimuth, elevation) for frame in range(start, start + int(rng.integers(5, 80)))
            )
        pred_rows.sort(key=lambda row: row[0])
        (folder / "ref" / name).write_text("\n".join(ref_lines) + "\n")
        (folder / "pred" / name).write_text("".join(f"{f},{c},{a},{e}\n" for f, c, a, e in pred_rows))
