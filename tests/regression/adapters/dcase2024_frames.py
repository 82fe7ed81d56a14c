"""Worked example: a plain per-frame DCASE 2024 scorer in the official scorer's convention, checked with
``seldkit verify --suite dcase/2024 --impl-python ... --names tests/regression/adapters/official_names.yaml``.

It wraps the loop scorer of ``tests/naive_dcase.py`` (written from the 2024 README) and reports under the names the
official ``get_SELD_Results`` gives its values (ER, F, LE, DE, RDE, LR, SELD), F and LR in percent as the
baseline prints them; ``official_names.yaml`` maps them to seldkit's. Macro averaging only: other configurations
are declined.

``score_per_file`` has the classic mistake of scoring each recording separately and averaging the metrics over
recordings instead of pooling the counts.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tests import naive_dcase


def score(predictions: Mapping[str, np.ndarray], references: Mapping[str, np.ndarray], *, config: str) -> dict:
    """Macro metrics over all recordings that have a prediction file (as the official code pairs them)."""
    if config != "macro":
        return {"skipped": "macro averaging only"}
    return _official_names(naive_dcase.score_2024(_pairs(predictions, references)))


def score_per_file(predictions: Mapping[str, np.ndarray], references: Mapping[str, np.ndarray], *, config: str) -> dict:
    """The mistake: each recording scored on its own, then the metrics averaged over recordings."""
    if config != "macro":
        return {"skipped": "macro averaging only"}
    per_file = [naive_dcase.score_2024([pair]) for pair in _pairs(predictions, references)]
    return _official_names({name: float(np.mean([m[name] for m in per_file])) for name in per_file[0]})


def _pairs(predictions, references) -> list:
    return [
        (references[name].tolist(), predictions[name].tolist()) for name in sorted(references) if name in predictions
    ]


def _official_names(metrics: Mapping[str, float]) -> dict:
    return {
        "ER": metrics["ER_20"],
        "F": 100 * metrics["F_20"],
        "LE": metrics["DOAE_CD"],
        "DE": metrics["DistE_CD"],
        "RDE": metrics["RDE_CD"],
        "LR": 100 * metrics["LR_CD"],
        "SELD": metrics["SELD"],
    }
