"""Scoring clip-level files under a protocol: read, validate, pair, compute, and package the results."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from seldkit.errors import InputError
from seldkit.io.clip import ClipEvaluationSet, pair_clips, read_clip_predictions, read_clip_references
from seldkit.metrics.clip import ClipMetricAccumulator, ClipMetrics, PerClipInputs, summarise
from seldkit.metrics.diagnostics import DirectionDiagnostics, direction_diagnostics
from seldkit.metrics.intervals import Intervals
from seldkit.metrics.ranking import RankedScores
from seldkit.metrics.stats import bootstrap_clip_metrics
from seldkit.protocols import Protocol
from seldkit.results import file_digest, jsonable, results_document


@dataclass(frozen=True)
class ClipScore:
    """The outcome of scoring one prediction file against one reference file under a protocol."""

    protocol: Protocol
    evaluation: ClipEvaluationSet
    metrics: ClipMetrics
    intervals: Intervals | None
    inputs: dict[str, dict[str, str]]
    per_clip: PerClipInputs | None = None  # what the metrics reduced, for comparisons and reports

    @property
    def mode(self) -> str:
        """The mode the metrics were computed in (``reference`` or ``continuous``)."""
        return self.metrics.mode

    def class_name(self, class_id: str) -> str:
        """The display name of ``class_id`` in the protocol's class list; empty when it has none."""
        classes = self.protocol.classes
        return classes.names.get(class_id, "") if classes is not None else ""

    def per_class_ap_intervals(self) -> np.ndarray | None:
        """``[C, 2]`` bootstrap intervals of per-class AP, when intervals were computed with class scores."""
        if self.intervals is None or not self.intervals.per_class:
            return None
        return self.intervals.per_class["AP"]

    def n_positive(self) -> np.ndarray:
        """Positives per class (only scores with class columns have them)."""
        targets = self.evaluation.targets
        if targets is None:
            raise ValueError("no class columns were scored: there are no per-class positives")
        return targets.sum(axis=0)

    def results_json(self) -> dict[str, Any]:
        """The results JSON: metrics and mode, per-class AP (positives, names, intervals), inputs and notes."""
        per_class = None
        if self.metrics.per_class_AP is not None:
            positives = self.n_positive()
            ap_intervals = self.per_class_ap_intervals()
            per_class = {}
            for index, class_id in enumerate(self.evaluation.class_ids):
                entry: dict[str, Any] = {"AP": self.metrics.per_class_AP[index], "n_positive": positives[index]}
                if self.class_name(class_id):
                    entry["name"] = self.class_name(class_id)
                if ap_intervals is not None:
                    entry["AP_interval"] = ap_intervals[index]
                per_class[class_id] = entry
        metrics = {"mode": self.mode, **self.metrics.scalars()}
        document = results_document(
            protocol=self.protocol,
            n=self.metrics.n_clips,
            metrics=metrics,
            per_class=per_class,
            intervals=self.intervals.as_json() if self.intervals is not None else None,
            inputs=self.inputs,
            notes=self.evaluation.notes,
        )
        diagnostics = self.direction_diagnostics()
        if diagnostics is not None:
            document["diagnostics"] = jsonable(diagnostics.as_json())
        return document

    def direction_diagnostics(self) -> DirectionDiagnostics | None:
        """Lateral and front/back-folded direction errors, when both sides have azimuth and elevation.

        See :mod:`seldkit.metrics.diagnostics`.
        """
        predicted, reference = self.evaluation.predicted, self.evaluation.reference
        if not all(name in side for side in (predicted, reference) for name in ("azimuth", "elevation")):
            return None
        return direction_diagnostics(
            predicted["azimuth"], predicted["elevation"], reference["azimuth"], reference["elevation"]
        )


def score_clip_files(
    predictions: str | Path,
    references: str | Path,
    protocol: Protocol,
    *,
    n_resamples: int | None = None,
    references_name: str | None = None,
) -> ClipScore:
    """Score a clip-level prediction CSV against a reference CSV under ``protocol`` (task ``clip``).

    ``n_resamples`` adds percentile bootstrap intervals with the protocol's level and seed. ``references_name`` is
    how errors and notes name references that seldkit built into a temporary file (default: the file's path).
    """
    predicted = read_clip_predictions(predictions)
    referenced = read_clip_references(references)
    if references_name is not None:
        referenced = replace(referenced, table=replace(referenced.table, source=references_name))
    class_ids = protocol.classes.ids if protocol.classes is not None else None
    evaluation = pair_clips(predicted, referenced, class_ids=class_ids, protocol_name=protocol.name)
    settings = protocol.clip
    accumulator = ClipMetricAccumulator(
        mode=settings.mode,
        error_threshold_deg=settings.error_threshold_deg,
        distance_tolerance_m=settings.distance_tolerance_m,
    )
    inputs = _accumulator_inputs(evaluation)
    if not inputs:
        raise InputError(
            "nothing to score: no class-score columns and no spatial columns shared with the references",
            file=str(predictions),
        )
    accumulator.update(**inputs)
    per_clip = accumulator.per_clip()
    ranked = None
    if per_clip.scores is not None and per_clip.scores.shape[1] > 0:
        assert per_clip.targets is not None  # class scores come with their targets
        ranked = RankedScores.from_scores(per_clip.scores, per_clip.targets, for_weights=bool(n_resamples))
    metrics = summarise(per_clip, mode=settings.mode, error_threshold_deg=settings.error_threshold_deg, ranked=ranked)
    intervals = None
    if n_resamples:
        intervals = bootstrap_clip_metrics(
            per_clip,
            mode=settings.mode,
            n_resamples=n_resamples,
            seed=settings.bootstrap.seed,
            level=settings.bootstrap.level,
            error_threshold_deg=settings.error_threshold_deg,
            ranked=ranked,
        )
    files = {
        "predictions": {"path": str(predictions), "digest": file_digest(predictions)},
        "references": {"path": str(references), "digest": file_digest(references)},
    }
    return ClipScore(
        protocol=protocol, evaluation=evaluation, metrics=metrics, intervals=intervals, inputs=files, per_clip=per_clip
    )


def _accumulator_inputs(evaluation: ClipEvaluationSet) -> dict[str, np.ndarray | None]:
    predicted, reference = evaluation.predicted, evaluation.reference
    inputs: dict[str, np.ndarray | None] = {}
    if evaluation.scores is not None:
        inputs.update(scores=evaluation.scores, targets=evaluation.targets)
    if "azimuth" in predicted:
        inputs.update(
            azimuth_pred=predicted["azimuth"],
            elevation_pred=predicted["elevation"],
            azimuth_ref=reference["azimuth"],
            elevation_ref=reference["elevation"],
        )
    if "distance" in predicted:
        inputs.update(distance_pred=predicted["distance"], distance_ref=reference["distance"])
    return inputs
