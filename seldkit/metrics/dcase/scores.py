r"""From accumulated counters to the metrics each challenge year reports (names as in the official code).

With per-class counts (``macro``) or counts summed over classes (``micro``):

* :math:`\mathrm{ER} = (S + D + I) / N_\mathrm{ref}` (pooled over classes in both averages);
* :math:`F = TP / (TP + FP_\mathrm{spatial} + \frac12 (FP + FN))`;
* localization error (``LE_CD`` / ``DOAE_CD``) = summed error / DE_TP, distance errors likewise;
* localization recall :math:`LR = DE_{TP} / (DE_{TP} + DE_{FN})`;
* SELD: 2022/2023 :math:`\frac14(ER + 1 - F + LE/180 + 1 - LR)` with LE = 180° for a class without matches;
  2024 (distance) the class-wise nanmean of :math:`(1 - F, DOAE/180, RDE)`, macro-averaged;
  2024 without distance the nanmean of :math:`(ER, 1 - F, DOAE/180, 1 - LR)`. 2025 reports no SELD.

The earlier years pool their counts over classes (micro) and define some scores differently:

* 2021: a mislocalised track is a plain FP, so :math:`F = TP / (TP + \frac12 (FP + FN))`;
* 2020: :math:`F = 2PR / (P + R)` with :math:`P = TP / N_\mathrm{sys}`, :math:`R = TP / N_\mathrm{ref}` (counts of
  1 s blocks and classes), and LR_CD is also an F-score, :math:`2P'R' / (P' + R')` with
  :math:`P' = DE_{TP} / N_\mathrm{sys}`, :math:`R' = DE_{TP} / N_\mathrm{ref}`;
* 2019: detection and localisation separately, ER and F as in 2020 but on class activity alone and with no
  :math:`\varepsilon` in ER (so :math:`N_\mathrm{ref} = 0` gives infinity), DE = summed matched angle / number of
  predicted directions, FR = frames with as many predicted as reference directions / all frames, and
  SELD = mean(ER, 1 - F, DE/180, 1 - FR).

Denominators carry the official :math:`\varepsilon` (machine epsilon), so empty denominators give 0 where the
official code gives 0; error averages of classes without matches are NaN (``null`` in JSON) where it does.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np

from seldkit.metrics.dcase.counters import EPS, TotalCounters

Average = Literal["macro", "micro"]
ScoreKind = Literal[
    "segment",
    "frame-distance",
    "frame-nodist",
    "segment-nodist-2024",
    "stereo",
    "segment-2020",
    "segment-2021",
    "sed-doa-2019",
]


def _nanmean(values: np.ndarray, axis: int | None = None) -> np.ndarray | float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices are NaN, as intended
        return np.nanmean(values, axis=axis)


def _ratio(numerator: np.ndarray | float, denominator: np.ndarray | float) -> np.ndarray:
    """Numerator / denominator with NaN where the denominator is 0 (no matched pair)."""
    numerator, denominator = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)


def compute_scores(
    totals: TotalCounters, *, kind: ScoreKind, average: Average
) -> tuple[dict[str, float], dict[str, np.ndarray] | None]:
    """Scalar metrics and, for ``macro``, the class-wise values."""
    if kind in _POOLED_SCORES:
        return _POOLED_SCORES[kind](totals), None
    counts = {name: np.asarray(values, dtype=float) for name, values in totals.counts.items()}
    sums = {name: np.asarray(values, dtype=float) for name, values in totals.sums.items()}
    if average == "micro":
        counts = {name: np.array([values.sum()]) for name, values in counts.items()}
        sums = {name: np.array([values.sum()]) for name, values in sums.items()}
    n_ref_total = float(np.sum(totals.counts["Nref"]))
    error_rate = (totals.S + totals.D + totals.I) / (n_ref_total + EPS)
    tp, fp, fn, spatial = counts["TP"], counts["FP"], counts["FN"], counts["FP_spatial"]
    f_score = tp / (EPS + tp + spatial + 0.5 * (fp + fn))
    de_tp, de_fn = counts["DE_TP"], counts["DE_FN"]
    recall = de_tp / (EPS + de_tp + de_fn)
    n_classes = tp.size
    er = np.full(n_classes, error_rate)

    classwise: dict[str, np.ndarray]
    if kind in ("segment", "segment-nodist-2024"):
        localization = np.where(de_tp > 0, sums["total_DE"] / (de_tp + EPS), 180.0)
        seld = (er + 1.0 - f_score + localization / 180.0 + 1.0 - recall) / 4.0
        le_name = "LE_CD" if kind == "segment" else "DOAE_CD"
        lr_name = "LR_CD"
        classwise = {"ER_20": er, "F_20": f_score, le_name: localization, lr_name: recall, "SELD": seld}
        order = ("ER_20", "F_20", le_name, lr_name, "SELD")
        means = {name: float(np.mean(classwise[name])) for name in order}
    elif kind in ("frame-distance", "frame-nodist"):
        doa = _ratio(sums["total_AngE"], de_tp)
        classwise = {"ER_20": er, "F_20": f_score, "DOAE_CD": doa}
        if kind == "frame-distance":
            classwise["DistE_CD"] = _ratio(sums["total_DistE"], de_tp)
            classwise["RDE_CD"] = _ratio(sums["total_RelDistE"], de_tp)
            terms = np.stack([1.0 - f_score, doa / 180.0, classwise["RDE_CD"]])
        else:
            terms = np.stack([er, 1.0 - f_score, doa / 180.0, 1.0 - recall])
        classwise["LR_CD"] = recall
        classwise["SELD"] = np.asarray(_nanmean(terms, axis=0))
        means = {
            name: float(np.mean(values)) if name in ("ER_20", "F_20", "LR_CD", "SELD") else float(_nanmean(values))
            for name, values in classwise.items()
        }
    else:  # stereo (2025)
        classwise = {
            "F_20": f_score,
            "DOAE_CD": _ratio(sums["total_AngE"], de_tp),
            "DistE_CD": _ratio(sums["total_DistE"], de_tp),
            "RDE_CD": _ratio(sums["total_RelDistE"], de_tp),
            "OnscreenAcc": _ratio(sums["total_OnscreenCorrect"], de_tp),
        }
        means = {
            name: float(np.mean(values)) if name == "F_20" else float(_nanmean(values))
            for name, values in classwise.items()
        }
    if average == "micro":
        return {name: float(values[0]) for name, values in classwise.items()}, None
    return means, classwise


def _f_score(tp: float, n_sys: float, n_ref: float) -> float:
    """2PR / (P + R + eps) with P = tp / (n_sys + eps), R = tp / (n_ref + eps): the 2019/2020 F-score."""
    precision = tp / (n_sys + EPS)
    recall = tp / (n_ref + EPS)
    return float(2.0 * precision * recall / (precision + recall + EPS))


def _mean_of_four(values: list[float]) -> float:
    """The official SELD aggregate, ``np.mean`` of its four terms (summed in this order, then divided)."""
    with np.errstate(invalid="ignore"):
        return float(np.mean(np.array(values, dtype=np.float64)))


def _pooled(totals: TotalCounters) -> dict[str, float]:
    """Every counter summed over classes (and the per-file DOA counters of 2019 over files)."""
    pooled = {name: float(np.sum(values)) for name, values in totals.counts.items()}
    pooled.update({name: float(np.sum(values)) for name, values in totals.sums.items()})
    return pooled


def _localization_error(total: float, de_tp: float) -> float:
    """LE_CD: summed block errors / (DE_TP + eps), or 180 degrees without any localised block (2020, 2021)."""
    return total / (de_tp + EPS) if de_tp else 180.0


def _scores_2020(totals: TotalCounters) -> dict[str, float]:
    c = _pooled(totals)
    error_rate = (totals.S + totals.D + totals.I) / (c["Nref"] + EPS)
    f_score = _f_score(c["TP"], c["Nsys"], c["Nref"])
    localization = _localization_error(c["total_DE"], c["DE_TP"])
    recall = _f_score(c["DE_TP"], c["Nsys"], c["Nref"])  # "localisation recall" is an F-score in 2020
    seld = _mean_of_four([error_rate, 1.0 - f_score, localization / 180.0, 1.0 - recall])
    return {"ER_20": error_rate, "F_20": f_score, "LE_CD": localization, "LR_CD": recall, "SELD": seld}


def _scores_2021(totals: TotalCounters) -> dict[str, float]:
    c = _pooled(totals)
    error_rate = (totals.S + totals.D + totals.I) / (c["Nref"] + EPS)
    f_score = c["TP"] / (EPS + c["TP"] + 0.5 * (c["FP"] + c["FN"]))
    localization = _localization_error(c["total_DE"], c["DE_TP"])
    recall = c["DE_TP"] / (EPS + c["DE_TP"] + c["DE_FN"])
    seld = _mean_of_four([error_rate, 1.0 - f_score, localization / 180.0, 1.0 - recall])
    return {"ER_20": error_rate, "F_20": f_score, "LE_CD": localization, "LR_CD": recall, "SELD": seld}


def _scores_2019(totals: TotalCounters) -> dict[str, float]:
    c = _pooled(totals)
    errors = np.float64(totals.S + totals.D + totals.I)
    with np.errstate(divide="ignore", invalid="ignore"):
        # No epsilon: without reference activity ER is infinite (NaN when nothing is wrong either), as official.
        error_rate = float(errors / np.float64(c["Nref"]))
        doa_error = float(np.float64(c["doa_loss_pred"]) / np.float64(c["doa_loss_pred_cnt"]))
    f_score = _f_score(c["TP"], c["Nsys"], c["Nref"])
    frame_recall = c["nb_good_pks"] / c["nb_frames"]
    seld = _mean_of_four([error_rate, 1.0 - f_score, doa_error / 180.0, 1.0 - frame_recall])
    return {"ER": error_rate, "F": f_score, "DE": doa_error, "FR": frame_recall, "SELD": seld}


_POOLED_SCORES = {"segment-2020": _scores_2020, "segment-2021": _scores_2021, "sed-doa-2019": _scores_2019}
