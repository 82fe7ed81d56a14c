"""A deliberately plain DCASE scorer: per-frame Python loops over dictionaries, written from the rules in
``metrics/regression/dcase/*/README.md``. Tests compare seldkit's vectorised implementation with it, and the
benchmarks use it as the baseline (it works like the official code, one frame and class at a time)."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from scipy.optimize import linear_sum_assignment

N_CLASSES = 13


def read_rows(path, *, skip_header: bool = False) -> list[list[float]]:
    with open(path, encoding="utf-8") as handle:
        lines = [line.strip() for line in handle if line.strip()]
    if skip_header:
        lines = lines[1:]
    return [[float(value) for value in line.split(",")] for line in lines]


def _by_frame(rows, to_direction, limit):
    frames: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        frame, cls = int(row[0]), int(row[1])
        if frame < limit and 0 <= cls < N_CLASSES:
            frames[frame][cls].append(to_direction(row))
    return frames


def _vector(azimuth_deg, elevation_deg):
    azimuth, elevation = azimuth_deg * math.pi / 180, elevation_deg * math.pi / 180
    return np.array(
        [math.cos(azimuth) * math.cos(elevation), math.sin(azimuth) * math.cos(elevation), math.sin(elevation)]
    )


def _angle_2024(a, b):
    na = math.sqrt(float(a @ a) + 1e-10)
    nb = math.sqrt(float(b @ b) + 1e-10)
    cosine = float((a / na) @ (b / nb))
    return math.degrees(math.acos(max(-1.0, min(1.0, cosine))))


def _angle_2022(a, b):
    az1, el1, az2, el2 = (math.radians(value) for value in (*a, *b))
    cosine = math.sin(el1) * math.sin(el2) + math.cos(el1) * math.cos(el2) * math.cos(abs(az1 - az2))
    return math.degrees(math.acos(max(-1.0, min(1.0, cosine))))


def _new_counters():
    return {
        name: np.zeros(N_CLASSES) for name in ("TP", "FP", "FP_spatial", "FN", "Nref", "DE_TP", "DE_FN", "total")
    } | {"S": 0.0, "D": 0.0, "I": 0.0}


def score_2024(pairs):
    """pairs: [(reference rows (cm), prediction rows (Cartesian 7-col or polar 6-col, m))]. Macro metrics."""
    c = _new_counters()
    c["dist"] = np.zeros(N_CLASSES)
    c["rel"] = np.zeros(N_CLASSES)
    for reference_rows, prediction_rows in pairs:
        limit = max(int(row[0]) for row in reference_rows)
        ref = _by_frame(reference_rows, lambda r: (_vector(r[3], r[4]), r[5] / 100), limit)

        def predicted(row):
            if len(row) == 6:  # frame, class, track, azimuth, elevation, distance
                return _vector(row[3], row[4]), row[5]
            x, y, z = row[3:6]
            azimuth, elevation = np.rad2deg(math.atan2(y, x)), np.rad2deg(math.atan2(z, math.hypot(x, y)))
            return _vector(azimuth, elevation), row[6]

        pred = _by_frame(prediction_rows, predicted, limit)
        for frame in range(limit):
            loc_fp = loc_fn = 0
            for cls in range(N_CLASSES):
                gt, pr = ref[frame].get(cls, []), pred[frame].get(cls, [])
                c["Nref"][cls] += len(gt)
                if gt and pr:
                    cost = np.array([[_angle_2024(g[0], p[0]) for p in pr] for g in gt])
                    rows, columns = linear_sum_assignment(cost)
                    for row, column in zip(rows, columns):
                        angle = cost[row, column]
                        distance = abs(gt[row][1] - pr[column][1])
                        relative = distance / (gt[row][1] + np.finfo(float).eps)
                        c["DE_TP"][cls] += 1
                        c["total"][cls] += angle
                        c["dist"][cls] += distance
                        c["rel"][cls] += relative
                        if angle <= 20 and relative <= 1.0:
                            c["TP"][cls] += 1
                        else:
                            c["FP_spatial"][cls] += 1
                            loc_fp += 1
                    extra, missing = len(pr) - len(rows), len(gt) - len(rows)
                    c["FP"][cls] += extra
                    c["FN"][cls] += missing
                    c["DE_FN"][cls] += missing
                    loc_fp += extra
                    loc_fn += missing
                elif gt:
                    c["FN"][cls] += len(gt)
                    c["DE_FN"][cls] += len(gt)
                    loc_fn += len(gt)
                elif pr:
                    c["FP"][cls] += len(pr)
                    loc_fp += len(pr)
            c["S"] += min(loc_fp, loc_fn)
            c["D"] += max(0, loc_fn - loc_fp)
            c["I"] += max(0, loc_fp - loc_fn)
    eps = np.finfo(float).eps
    with np.errstate(invalid="ignore", divide="ignore"):
        f = c["TP"] / (eps + c["TP"] + c["FP_spatial"] + 0.5 * (c["FP"] + c["FN"]))
        doa = np.where(c["DE_TP"] > 0, c["total"] / c["DE_TP"], np.nan)
        dist = np.where(c["DE_TP"] > 0, c["dist"] / c["DE_TP"], np.nan)
        rde = np.where(c["DE_TP"] > 0, c["rel"] / c["DE_TP"], np.nan)
    recall = c["DE_TP"] / (eps + c["DE_TP"] + c["DE_FN"])
    with np.errstate(invalid="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seld = np.nanmean(np.stack([1 - f, doa / 180, rde]), axis=0)
            return {
                "ER_20": (c["S"] + c["D"] + c["I"]) / (c["Nref"].sum() + eps),
                "F_20": f.mean(),
                "DOAE_CD": np.nanmean(doa),
                "DistE_CD": np.nanmean(dist),
                "RDE_CD": np.nanmean(rde),
                "LR_CD": recall.mean(),
                "SELD": seld.mean(),
            }


def score_2022(pairs):
    """pairs: [(reference rows (polar), prediction rows (6-col Cartesian))]. Returns macro metrics dict."""
    c = _new_counters()
    for reference_rows, prediction_rows in pairs:
        last = max(int(row[0]) for row in reference_rows)
        limit = 10 * math.ceil(last / 10)
        ref = _by_frame(reference_rows, lambda r: (r[3], r[4]), limit)

        def predicted(row):
            x, y, z = row[3:6]
            return math.atan2(y, x) * 180 / math.pi, math.atan2(z, math.hypot(x, y)) * 180 / math.pi

        pred = _by_frame(prediction_rows, predicted, limit)
        for block_start in range(0, limit, 10):
            loc_fp = loc_fn = 0
            frames = range(block_start, block_start + 10)
            for cls in range(N_CLASSES):
                gt_frames = {f: ref[f][cls] for f in frames if ref.get(f) and ref[f].get(cls)}
                pr_frames = {f: pred[f][cls] for f in frames if pred.get(f) and pred[f].get(cls)}
                n_gt = max((len(v) for v in gt_frames.values()), default=0)
                n_pr = max((len(v) for v in pr_frames.values()), default=0)
                c["Nref"][cls] += n_gt
                if gt_frames and pr_frames:
                    tracks: dict[int, list[float]] = defaultdict(list)
                    for frame, gt in gt_frames.items():
                        if frame not in pr_frames:
                            continue
                        pr = pr_frames[frame]
                        cost = np.array([[_angle_2022(g, p) for p in pr] for g in gt])
                        rows, columns = linear_sum_assignment(cost)
                        for row, column in zip(rows, columns):
                            tracks[int(row)].append(cost[row, column])
                    if not tracks:
                        c["FN"][cls] += n_pr
                        c["DE_FN"][cls] += n_pr
                        loc_fn += n_pr
                        continue
                    for errors in tracks.values():
                        mean = sum(errors) / len(errors)
                        c["total"][cls] += mean
                        c["DE_TP"][cls] += 1
                        if mean <= 20:
                            c["TP"][cls] += 1
                        else:
                            c["FP_spatial"][cls] += 1
                            loc_fp += 1
                    if n_pr > n_gt:
                        c["FP"][cls] += n_pr - n_gt
                        loc_fp += n_pr - n_gt
                    elif n_pr < n_gt:
                        c["FN"][cls] += n_gt - n_pr
                        c["DE_FN"][cls] += n_gt - n_pr
                        loc_fn += n_gt - n_pr
                elif gt_frames:
                    c["FN"][cls] += n_gt
                    c["DE_FN"][cls] += n_gt
                    loc_fn += n_gt
                elif pr_frames:
                    c["FP"][cls] += n_pr
                    loc_fp += n_pr
            c["S"] += min(loc_fp, loc_fn)
            c["D"] += max(0, loc_fn - loc_fp)
            c["I"] += max(0, loc_fp - loc_fn)
    eps = np.finfo(float).eps
    er = (c["S"] + c["D"] + c["I"]) / (c["Nref"].sum() + eps)
    f = c["TP"] / (eps + c["TP"] + c["FP_spatial"] + 0.5 * (c["FP"] + c["FN"]))
    le = np.where(c["DE_TP"] > 0, c["total"] / (c["DE_TP"] + eps), 180.0)
    lr = c["DE_TP"] / (eps + c["DE_TP"] + c["DE_FN"])
    seld = (er + 1 - f + le / 180 + 1 - lr) / 4
    return {"ER_20": er, "F_20": f.mean(), "LE_CD": le.mean(), "LR_CD": lr.mean(), "SELD": seld.mean()}
