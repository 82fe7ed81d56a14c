r"""From accumulated counters to the metrics each challenge year reports (names as in the official code).

With per-class counts (``macro``) or counts summed over classes (``micro``):

* :math:`\mathrm{ER} = (S + D + I) / N_\mathrm{ref}` (pooled over classes in both averages);
* :math:`F = TP / (TP + FP_\mathrm{spatial} + \frac12 (FP + FN))`;
* localization error (``LE_CD`` / ``DOAE_CD``) = summed error / DE_TP, distance errors likewise;
* localization recall :math:`LR = DE_{TP} / (DE_{TP} + DE_{FN})`;
* SELD: 2022/2023 :math:`\frac14(ER + 1 - F + LE/180 + 1 - LR)` with LE = 180° for a class without matches;
  2024 (distance) the class-wise nanmean of :math:`(1 - F, DOAE/180, RDE)`, macro-averaged;
  2024 without distance the nanmean of :math:`(ER, 1 - F, DOAE/180, 1 - LR)`. 2025 reports no SELD.

Denominators carry the official :math:`\varepsilon` (machine epsilon), so empty denominators give 0 where the
official code gives 0; error averages of classes without matches are NaN (``null`` in JSON) where it does.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np

from seldkit.metrics.dcase.counters import EPS, TotalCounters

Average = Literal["macro", "micro"]
ScoreKind = Literal["segment", "frame-distance", "frame-nodist", "segment-nodist-2024", "stereo"]


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
