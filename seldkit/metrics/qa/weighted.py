r"""SpatialSoundQA metrics with each question counted :math:`c_i` times.

The point values count every question once (:math:`c = 1`); a bootstrap resample counts each question as often as
it was drawn. Both go through these functions, so the reported value is exactly the resample at unit weights.
``counts`` is ``[R, n]``: R weightings of a type's n questions; every function returns ``{metric: [R]}``.

>>> counts = np.array([[1.0, 1.0, 1.0, 1.0], [2.0, 0.0, 1.0, 1.0]])
>>> correct, reference_yes = np.array([True, False, True, True]), np.array([True, True, False, False])
>>> values = e_column_metrics({"correct": correct, "reference_yes": reference_yes}, counts)
>>> values["accuracy"].tolist(), values["balanced_accuracy"].tolist()
([0.75, 1.0], [0.75, 1.0])
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from seldkit.metrics.ranking import RankedScores, mean_average_precision_of


def detection_metrics(ranked: RankedScores, counts: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """``mAP_all`` and ``mAP_present`` of detection answers, and the per-class AP ``[R, C]`` (NaN: no positive).

    ``ranked`` must be built with ``for_weights=True``.
    """
    ap = ranked.average_precision(counts)
    metrics = {
        "mAP_all": mean_average_precision_of(ap, classes="all"),
        "mAP_present": mean_average_precision_of(ap, classes="present"),
    }
    return metrics, ap


def localization_metrics(outcome: Mapping[str, np.ndarray], counts: np.ndarray) -> dict[str, np.ndarray]:
    """``direction_acc`` (share with the right direction triple) and ``DER`` (share without a right distance)."""
    n = counts.shape[1]
    return {
        "direction_acc": counts @ outcome["direction_correct"].astype(float) / n,
        "DER": counts @ outcome["distance_error"].astype(float) / n,
    }


def e_column_metrics(outcome: Mapping[str, np.ndarray], counts: np.ndarray) -> dict[str, np.ndarray]:
    """``accuracy``, and for the yes/no columns ``balanced_accuracy``.

    The balanced accuracy is the mean recall over the reference answers present (NaN where a weighting leaves out
    both).
    """
    n = counts.shape[1]
    correct = outcome["correct"].astype(float)
    metrics = {"accuracy": counts @ correct / n}
    if "reference_yes" in outcome:
        recalls = []
        for value in (True, False):
            members = (outcome["reference_yes"] == value).astype(float)
            drawn = counts @ members
            with np.errstate(invalid="ignore", divide="ignore"):
                recalls.append(np.where(drawn > 0, counts @ (correct * members) / drawn, np.nan))
        with np.errstate(invalid="ignore"):
            metrics["balanced_accuracy"] = np.nanmean(np.stack(recalls), axis=0)
    return metrics
