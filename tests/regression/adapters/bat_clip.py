"""Worked example: the published BAT / SpatialAST / DSpAST clip metrics, written from their definition, as a lab
would keep them next to its training loop, checked with ``seldkit verify --suite clip --impl-python``.

Definitions (metrics/regression/clip/README.md, mode ``reference``): direction classes from rounded degrees
(half to even), the law-of-cosines angle between class centres, ER20 = share of clips above 20 degrees, MAE = mean
angle, distance bins of 0.5 m with one bin of slack for DER, and mAP = mean of scikit-learn's average precision
over every class column, a class without positives counting as 0.

``score_without_empty_classes`` is the same code with a common mistake: mAP averaged over the classes that have a
positive only (what ``numpy.nanmean`` over scikit-learn's undefined APs gives).
"""

from __future__ import annotations

import numpy as np
import pandas
from sklearn.metrics import average_precision_score

SPATIAL = ("clip_id", "azimuth", "elevation", "distance")


def score(predictions: pandas.DataFrame, references: pandas.DataFrame, *, config: str) -> dict:
    """The reference-mode metrics of one case; other modes are declined."""
    return _score(predictions, references, config=config, empty_classes_count=True)


def score_without_empty_classes(predictions: pandas.DataFrame, references: pandas.DataFrame, *, config: str) -> dict:
    """The same with the mistake: classes without positives left out of mAP."""
    return _score(predictions, references, config=config, empty_classes_count=False)


def _score(predictions, references, *, config: str, empty_classes_count: bool) -> dict:
    if config != "reference":
        return {"skipped": "implements the published (reference) mode only"}
    references = references.set_index("clip_id").loc[predictions["clip_id"]]  # rows in the predictions' order
    metrics: dict[str, float] = {"n_clips": float(len(predictions))}
    classes = [name for name in predictions if name not in SPATIAL]
    if classes:
        labels = [set(filter(None, text.split(";"))) for text in references["labels"]]
        precisions = []
        for name in classes:
            truth = np.array([name in active for active in labels])
            if truth.any():
                precisions.append(average_precision_score(truth, predictions[name].to_numpy()))
            elif empty_classes_count:
                precisions.append(0.0)
        metrics["mAP"] = float(np.mean(precisions))
        metrics["n_classes_scored"] = float(len(precisions))
    if "azimuth" in predictions:
        angle = _class_angle(
            *(frame[column].to_numpy() for frame in (predictions, references) for column in ("azimuth", "elevation"))
        )
        metrics["ER20"] = float(np.mean(angle > 20))
        metrics["MAE"] = float(np.mean(angle))
    if "distance" in predictions:
        predicted_bin = np.round(2 * predictions["distance"].to_numpy())  # half to even, as Python's round
        true_bin = np.round(2 * references["distance"].to_numpy())
        metrics["DER"] = float(np.mean(np.abs(predicted_bin - true_bin) > 1))
    return metrics


def _class_angle(azimuth_1, elevation_1, azimuth_2, elevation_2) -> np.ndarray:
    """Degrees between the centres of the 1-degree direction classes of two directions."""

    def classes(azimuth, elevation):
        azimuth_class = np.mod(np.round(azimuth), 360)
        elevation_class = np.mod(np.round(elevation) + 90, 180)
        centred = np.where(azimuth_class > 180, azimuth_class - 360, azimuth_class)
        return np.radians(centred), np.radians(elevation_class - 90)

    lon_1, lat_1 = classes(azimuth_1, elevation_1)
    lon_2, lat_2 = classes(azimuth_2, elevation_2)
    cosine = np.sin(lat_1) * np.sin(lat_2) + np.cos(lat_1) * np.cos(lat_2) * np.cos(np.abs(lon_1 - lon_2))
    return np.degrees(np.arccos(np.clip(cosine, -1, 1)))
