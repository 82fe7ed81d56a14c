"""Worked example: the plain loop scorers of ``tests/naive_dcase_2019_2021.py`` (written from the 2019-2021
READMEs) checked with ``seldkit verify --suite dcase/2019 --impl-python
tests.regression.adapters.dcase2019_2021_loops:score`` (likewise ``dcase/2020``, ``dcase/2021``).

They implement the metric on well-formed files only: the cases whose inputs the official loaders misread or reject
(format traps, missing files) are declined.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tests import naive_dcase_2019_2021 as naive

WELL_FORMED = {2019: (4,), 2020: (6,), 2021: (6,)}  # prediction columns the loop scorers read


def score(
    predictions: Mapping[str, np.ndarray], references: Mapping[str, np.ndarray], *, config: str, params: dict
) -> dict:
    """The metrics of the year told by its class count (11: 2019, 14: 2020, 12: 2021) in configuration ``config``."""
    nb_classes = params["nb_classes"]
    year = {11: 2019, 14: 2020, 12: 2021}[nb_classes]
    names = sorted(references)
    if set(predictions) != set(references):
        return {"skipped": "a reference or prediction file is missing"}
    for name in names:
        rows = predictions[name]
        if rows.size and (rows.shape[1] not in WELL_FORMED[year] or np.isnan(rows).any()):
            return {"skipped": "prediction not in the year's format"}
        if rows.size and ((rows[:, 1] < 0) | (rows[:, 1] >= nb_classes) | (rows[:, 0] < 0)).any():
            return {"skipped": "class or frame index out of range"}
        if np.isnan(references[name]).any():
            return {"skipped": "unknown reference class"}
    if year == 2019:
        pairs = [
            (
                naive.reference_labels_2019(references[name][:, :5].tolist() if references[name].size else []),
                naive.prediction_labels_2019(predictions[name].astype(int).tolist() if predictions[name].size else []),
            )
            for name in names
        ]
        return naive.score_2019(pairs)
    scorer = naive.score_2020 if year == 2020 else naive.score_2021
    return scorer([(references[name].tolist(), predictions[name].tolist()) for name in names], polar=config == "polar")
