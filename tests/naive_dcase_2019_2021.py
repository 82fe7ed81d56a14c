"""Deliberately plain DCASE 2019, 2020 and 2021 scorers: Python loops over frames (2019) and 1 s segments
(2020, 2021), dictionaries and lists, written from ``metrics/regression/dcase/{2019,2020,2021}/README.md``.

Tests compare seldkit's vectorised implementation with them, and the benchmarks use them as the baseline (they
work like the official code, one segment, frame and class at a time). They share nothing with seldkit.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from scipy.optimize import linear_sum_assignment

EPS = np.finfo(float).eps

CLASSES_2019 = {
    "knock": 0,
    "drawer": 1,
    "clearthroat": 2,
    "phone": 3,
    "keysDrop": 4,
    "speech": 5,
    "keyboard": 6,
    "pageturn": 7,
    "cough": 8,
    "doorslam": 9,
    "laughter": 10,
}


def _great_circle_deg(azimuth_a: float, elevation_a: float, azimuth_b: float, elevation_b: float) -> float:
    """Law of cosines on the sphere, angles in degrees, the cosine clipped to [-1, 1]."""
    az1, el1, az2, el2 = (value * math.pi / 180 for value in (azimuth_a, elevation_a, azimuth_b, elevation_b))
    cosine = math.sin(el1) * math.sin(el2) + math.cos(el1) * math.cos(el2) * math.cos(abs(az1 - az2))
    return math.acos(max(-1.0, min(1.0, cosine))) * 180 / math.pi


def _vector_angle_deg(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """Angle between two vectors, each normalised with sqrt(x^2 + y^2 + z^2 + 1e-10)."""
    norm_a = math.sqrt(a[0] ** 2 + a[1] ** 2 + a[2] ** 2 + 1e-10)
    norm_b = math.sqrt(b[0] ** 2 + b[1] ** 2 + b[2] ** 2 + 1e-10)
    cosine = sum((a[i] / norm_a) * (b[i] / norm_b) for i in range(3))
    return math.acos(max(-1.0, min(1.0, cosine))) * 180 / math.pi


def _unit_vector(azimuth: float, elevation: float) -> tuple[float, float, float]:
    azimuth, elevation = azimuth * math.pi / 180, elevation * math.pi / 180
    return math.cos(azimuth) * math.cos(elevation), math.sin(azimuth) * math.cos(elevation), math.sin(elevation)


# ----------------------------------------------------------------------------------------------- 2019


def read_2019_reference(path) -> dict[int, dict[int, set[tuple[int, int]]]]:
    """frame -> class -> set of (azimuth, elevation) grid cells, frames 0..2999."""
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()[1:]
    events = []
    for line in lines:
        if line.strip():
            name, onset, offset, elevation, azimuth, _ = line.split(",")
            events.append((CLASSES_2019[name], float(onset), float(offset), int(elevation), int(azimuth)))
    return reference_labels_2019(events)


def reference_labels_2019(events) -> dict[int, dict[int, set[tuple[int, int]]]]:
    """From (class index, onset s, offset s, elevation, azimuth) events: active frames floor(onset x 50) ..
    ceil(offset x 50) inclusive, cut at frame 2999."""
    labels: dict[int, dict[int, set[tuple[int, int]]]] = defaultdict(lambda: defaultdict(set))
    for cls, onset, offset, elevation, azimuth in events:
        start = math.floor(onset * 50)
        end = math.ceil(offset * 50)
        for frame in range(start, min(end, 2999) + 1):
            labels[frame][int(cls)].add(_cell_2019(int(azimuth), int(elevation)))
    return labels


def read_2019_prediction(path) -> dict[int, dict[int, set[tuple[int, int]]]]:
    with open(path, encoding="utf-8") as handle:
        rows = [[int(value) for value in line.split(",")[:4]] for line in handle if line.strip()]
    return prediction_labels_2019(rows)


def prediction_labels_2019(rows) -> dict[int, dict[int, set[tuple[int, int]]]]:
    """From (frame, class, azimuth, elevation) rows: frames past 2999 dropped, directions onto the grid."""
    labels: dict[int, dict[int, set[tuple[int, int]]]] = defaultdict(lambda: defaultdict(set))
    for frame, cls, azimuth, elevation in rows:
        if frame < 3000:
            labels[int(frame)][int(cls)].add(_cell_2019(int(azimuth), int(elevation)))
    return labels


def _cell_2019(azimuth: int, elevation: int) -> tuple[int, int]:
    """The 10 degree grid cell (as its lower-corner angles) of a direction clipped to the 2019 grid."""
    azimuth = min(max(azimuth, -180), 170)
    elevation = min(max(elevation, -40), 40)
    return (azimuth + 180) // 10 * 10 - 180, (elevation + 40) // 10 * 10 - 40


def score_2019(pairs) -> dict[str, float]:
    """pairs: [(reference labels, prediction labels)] from the readers above. ER, F, DE, FR, SELD."""
    tp = n_ref = n_sys = s = d = i = 0
    doa_sum = 0.0
    n_predicted = good_frames = n_frames = 0
    for reference, prediction in pairs:
        for block in range(60):
            # A block is frames 50k .. 50k+48: its last frame is left out.
            ref_active = {cls for f in range(50 * block, 50 * block + 49) for cls in reference.get(f, {})}
            pred_active = {cls for f in range(50 * block, 50 * block + 49) for cls in prediction.get(f, {})}
            tp += len(ref_active & pred_active)
            n_ref += len(ref_active)
            n_sys += len(pred_active)
            fp, fn = len(pred_active - ref_active), len(ref_active - pred_active)
            s += min(fp, fn)
            d += max(0, fn - fp)
            i += max(0, fp - fn)
        for frame in range(3000):
            ref_doas = [cell for cells in reference.get(frame, {}).values() for cell in cells]
            pred_doas = [cell for cells in prediction.get(frame, {}).values() for cell in cells]
            n_frames += 1
            n_predicted += len(pred_doas)
            good_frames += len(ref_doas) == len(pred_doas)
            if ref_doas and pred_doas:
                cost = np.array([[_great_circle_deg(*r, *p) for p in pred_doas] for r in ref_doas])
                rows, columns = linear_sum_assignment(cost)
                doa_sum += float(cost[rows, columns].sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        er = np.float64(s + d + i) / np.float64(n_ref)
        de = np.float64(doa_sum) / np.float64(n_predicted)
    precision, recall = tp / (n_sys + EPS), tp / (n_ref + EPS)
    f = 2 * precision * recall / (precision + recall + EPS)
    fr = good_frames / n_frames
    return {"ER": float(er), "F": f, "DE": float(de), "FR": fr, "SELD": float(np.mean([er, 1 - f, de / 180, 1 - fr]))}


# ----------------------------------------------------------------------------------------------- 2020, 2021


def read_rows(path) -> list[list[float]]:
    with open(path, encoding="utf-8") as handle:
        return [[float(value) for value in line.split(",")] for line in handle if line.strip()]


def _segments(reference_rows, prediction_rows, *, n_classes: int, polar: bool):
    """Per 1 s block of the fixed 60 s window: class -> frame -> [directions in row order], both sides.

    Polar scoring: (azimuth, elevation) in degrees, predictions converted with atan2. Cartesian scoring:
    reference unit vectors, predicted vectors as written.
    """
    ref = [defaultdict(lambda: defaultdict(list)) for _ in range(60)]
    pred = [defaultdict(lambda: defaultdict(list)) for _ in range(60)]
    for row in reference_rows:
        frame, cls = int(row[0]), int(row[1])
        if 0 <= frame < 600 and 0 <= cls < n_classes:
            direction = (row[3], row[4]) if polar else _unit_vector(row[3], row[4])
            ref[frame // 10][cls][frame].append(direction)
    for row in prediction_rows:
        frame, cls = int(row[0]), int(row[1])
        if 0 <= frame < 600 and 0 <= cls < n_classes:
            x, y, z = row[3:6]
            if polar:
                direction = (math.atan2(y, x) * 180 / math.pi, math.atan2(z, math.sqrt(x * x + y * y)) * 180 / math.pi)
            else:
                direction = (x, y, z)
            pred[frame // 10][cls][frame].append(direction)
    return ref, pred


def _distance_matrix(ref_doas, pred_doas, polar: bool) -> np.ndarray:
    angle = _great_circle_deg if polar else None
    if polar:
        return np.array([[angle(*r, *p) for p in pred_doas] for r in ref_doas])
    return np.array([[_vector_angle_deg(r, p) for p in pred_doas] for r in ref_doas])


def score_2020(pairs, *, polar: bool = True) -> dict[str, float]:
    """pairs: [(reference rows, prediction rows)]. ER_20, F_20, LE_CD, LR_CD (an F-score), SELD; 14 classes."""
    c = dict.fromkeys(("TP", "FP", "FN", "TN", "Nref", "Nsys", "DE_TP", "S", "D", "I"), 0)
    total_de = 0.0
    for reference_rows, prediction_rows in pairs:
        ref, pred = _segments(reference_rows, prediction_rows, n_classes=14, polar=polar)
        for block in range(60):
            loc_fp = loc_fn = 0
            for cls in range(14):
                in_ref, in_pred = cls in ref[block], cls in pred[block]
                c["Nref"] += in_ref
                c["Nsys"] += in_pred
                if in_ref and in_pred:
                    frame_errors = []
                    for frame, ref_doas in ref[block][cls].items():
                        pred_doas = pred[block][cls].get(frame)
                        if not pred_doas:
                            continue
                        cost = _distance_matrix(ref_doas, pred_doas, polar)
                        rows, columns = linear_sum_assignment(cost)
                        frame_errors.append(float(cost[rows, columns].sum()))  # summed over the frame's pairs
                    if not frame_errors:
                        c["FN"] += 1
                        loc_fn += 1
                        continue
                    error = sum(frame_errors) / len(frame_errors)
                    total_de += error
                    c["DE_TP"] += 1
                    if error <= 20:
                        c["TP"] += 1
                    else:
                        c["FN"] += 1
                        loc_fn += 1
                elif in_ref:
                    c["FN"] += 1
                    loc_fn += 1
                elif in_pred:
                    c["FP"] += 1
                    loc_fp += 1
                else:
                    c["TN"] += 1
            c["S"] += min(loc_fp, loc_fn)
            c["D"] += max(0, loc_fn - loc_fp)
            c["I"] += max(0, loc_fp - loc_fn)
    er = (c["S"] + c["D"] + c["I"]) / (c["Nref"] + EPS)
    precision, recall = c["TP"] / (c["Nsys"] + EPS), c["TP"] / (c["Nref"] + EPS)
    f = 2 * precision * recall / (precision + recall + EPS)
    le = total_de / (c["DE_TP"] + EPS) if c["DE_TP"] else 180.0
    precision, recall = c["DE_TP"] / (c["Nsys"] + EPS), c["DE_TP"] / (c["Nref"] + EPS)
    lr = 2 * precision * recall / (precision + recall + EPS)
    seld = float(np.mean([er, 1 - f, le / 180, 1 - lr]))
    return {"ER_20": er, "F_20": f, "LE_CD": le, "LR_CD": lr, "SELD": seld}


def score_2021(pairs, *, polar: bool = True) -> dict[str, float]:
    """pairs: [(reference rows, prediction rows)]. ER_20, F_20, LE_CD, LR_CD, SELD; 12 classes, multi-instance."""
    c = dict.fromkeys(("TP", "FP", "FN", "Nref", "DE_TP", "DE_FN", "S", "D", "I"), 0)
    total_de = 0.0
    for reference_rows, prediction_rows in pairs:
        ref, pred = _segments(reference_rows, prediction_rows, n_classes=12, polar=polar)
        for block in range(60):
            loc_fp = loc_fn = 0
            for cls in range(12):
                n_gt = max((len(doas) for doas in ref[block][cls].values()), default=0) if cls in ref[block] else 0
                n_pr = max((len(doas) for doas in pred[block][cls].values()), default=0) if cls in pred[block] else 0
                c["Nref"] += n_gt
                if n_gt and n_pr:
                    tracks: dict[int, list[float]] = defaultdict(list)  # reference row position in its frame
                    for frame, ref_doas in ref[block][cls].items():
                        pred_doas = pred[block][cls].get(frame)
                        if not pred_doas:
                            continue
                        cost = _distance_matrix(ref_doas, pred_doas, polar)
                        for row, column in zip(*linear_sum_assignment(cost)):
                            tracks[int(row)].append(float(cost[row, column]))
                    if not tracks:
                        c["FN"] += n_pr  # sic: the number of predicted instances
                        c["DE_FN"] += n_pr
                        loc_fn += n_pr
                        continue
                    for errors in tracks.values():
                        error = sum(errors) / len(errors)
                        total_de += error
                        c["DE_TP"] += 1
                        if error <= 20:
                            c["TP"] += 1
                        else:
                            c["FP"] += 1
                            loc_fp += 1
                    if n_pr > n_gt:
                        c["FP"] += n_pr - n_gt
                        loc_fp += n_pr - n_gt
                    elif n_gt > n_pr:
                        c["FN"] += n_gt - n_pr
                        c["DE_FN"] += n_gt - n_pr
                        loc_fn += n_gt - n_pr
                elif n_gt:
                    c["FN"] += n_gt
                    c["DE_FN"] += n_gt
                    loc_fn += n_gt
                elif n_pr:
                    c["FP"] += n_pr
                    loc_fp += n_pr
            c["S"] += min(loc_fp, loc_fn)
            c["D"] += max(0, loc_fn - loc_fp)
            c["I"] += max(0, loc_fp - loc_fn)
    er = (c["S"] + c["D"] + c["I"]) / (c["Nref"] + EPS)
    f = c["TP"] / (EPS + c["TP"] + 0.5 * (c["FP"] + c["FN"]))
    le = total_de / (c["DE_TP"] + EPS) if c["DE_TP"] else 180.0
    lr = c["DE_TP"] / (EPS + c["DE_TP"] + c["DE_FN"])
    seld = float(np.mean([er, 1 - f, le / 180, 1 - lr]))
    return {"ER_20": er, "F_20": f, "LE_CD": le, "LR_CD": lr, "SELD": seld}
