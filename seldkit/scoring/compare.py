"""Comparing two systems on the same references under a protocol, metric by metric.

Both are scored exactly as ``seldkit score`` scores them, then every metric is compared by a paired bootstrap over
the protocol's evaluation units: clips (:func:`compare_clip`), recordings (:func:`compare_dcase`) or questions
(:func:`compare_qa`). :func:`seldkit.tasks.compare_systems` picks the one of a protocol's task.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seldkit.errors import InputError
from seldkit.io.clip import ClipGroups
from seldkit.metrics.paired import Comparison, compare_samples
from seldkit.protocols import Protocol
from seldkit.results import environment, file_digest

DEFAULT_RESAMPLES = 1000


@dataclass(frozen=True)
class ComparisonReport:
    """The paired comparison of two systems under a protocol, and the inputs compared."""

    protocol: Protocol
    comparison: Comparison
    inputs: dict[str, Any]

    def results_json(self) -> dict[str, Any]:
        """The comparison as a results JSON: protocol, seldkit version, environment, inputs and the comparison."""
        from seldkit import __version__

        return {
            "protocol": self.protocol.summary(),
            "seldkit_version": __version__,
            "environment": environment(),
            "inputs": self.inputs,
            "comparison": self.comparison.as_json(),
        }


def comparison_report(
    system_a: Path, system_b: Path, references: Path, protocol: Protocol, comparison: Comparison
) -> ComparisonReport:
    """The comparison with the inputs it was made on (paths, and the digests of files)."""
    inputs = {"a": _describe(system_a), "b": _describe(system_b), "references": _describe(references)}
    return ComparisonReport(protocol, comparison, inputs)


def _describe(path: Path) -> dict[str, str]:
    if path.is_dir():
        return {"path": str(path)}
    return {"path": str(path), "digest": file_digest(path)}


def compare_clip(
    a: Path,
    b: Path,
    references: Path,
    protocol: Protocol,
    n_resamples: int,
    seed: int,
    level: float,
    groups: ClipGroups | None = None,
) -> Comparison:
    """Two clip-level prediction files, paired resamples of the clips, or of their clusters with ``groups``.

    Clips that share an independent unit (an impulse response, a room) are correlated; ``groups`` names the unit of
    each clip, and the clusters are resampled instead (:func:`seldkit.metrics.stats.clustered_count_blocks`).
    """
    from seldkit.metrics.stats import clip_metric_samples, cluster_indices
    from seldkit.scoring.clip import score_clip_files

    scores = [score_clip_files(path, references, protocol) for path in (a, b)]
    cluster = None
    unit, n = "clips", scores[0].metrics.n_clips
    if groups is not None:
        cluster = cluster_indices(groups.labels_for(scores[0].evaluation.clip_ids))
        unit, n = f"clusters of clips ({groups.column})", int(cluster.max()) + 1
        if n < 2:
            raise InputError(
                f"a clustered comparison needs at least two {groups.column!r} values", file=str(groups.path)
            )
    mode, threshold = protocol.clip.mode, protocol.clip.error_threshold_deg
    points: list[dict[str, float]] = []
    samples: list[dict[str, np.ndarray]] = []
    for score in scores:
        assert score.per_clip is not None
        values, _ = clip_metric_samples(
            score.per_clip,
            mode=mode,
            n_resamples=n_resamples,
            seed=seed,
            error_threshold_deg=threshold,
            groups=cluster,
        )
        samples.append(values)
        points.append({name: value for name, value in score.metrics.scalars().items() if name in values})
    _require_same_metrics(points, a, b)
    return compare_samples(
        points[0],
        points[1],
        samples[0],
        samples[1],
        unit=unit,
        n=n,
        level=level,
        n_resamples=n_resamples,
        seed=seed,
    )


def compare_dcase(
    a: Path, b: Path, references: Path, protocol: Protocol, n_resamples: int, seed: int, level: float
) -> Comparison:
    """Two DCASE prediction folders, paired resamples of the recordings (pooled counters)."""
    from seldkit.metrics.dcase.evaluate import dcase_metric_samples
    from seldkit.scoring.dcase import score_dcase_folders

    reports = [score_dcase_folders(path, references, protocol) for path in (a, b)]
    names = [[pair.name for pair in report.files] for report in reports]
    if names[0] != names[1]:
        raise InputError("the two systems were not scored on the same reference recordings", file=str(references))
    if reports[0].score.n_files < 2:
        raise InputError("a comparison over recordings needs at least two reference recordings", file=str(references))
    samples = [dcase_metric_samples(report.score, n_resamples=n_resamples, seed=seed) for report in reports]
    points = [dict(report.score.metrics) for report in reports]
    return compare_samples(
        points[0],
        points[1],
        samples[0],
        samples[1],
        unit="recordings",
        n=reports[0].score.n_files,
        level=level,
        n_resamples=n_resamples,
        seed=seed,
    )


def compare_qa(
    a: Path, b: Path, references: Path, protocol: Protocol, n_resamples: int, seed: int, level: float
) -> Comparison:
    """Two SpatialSoundQA answer sets, paired resamples of the questions within each type."""
    from seldkit.io.qa import pair_items
    from seldkit.metrics.qa.embedders import get_embedder
    from seldkit.metrics.qa.scoring import prepare, score_questions
    from seldkit.metrics.qa.stats import qa_metric_samples, qa_point_values
    from seldkit.scoring.qa import class_names, read_answer_files

    backend = get_embedder(protocol.qa.embedder)
    points: list[dict[str, float]] = []
    samples: list[dict[str, np.ndarray]] = []
    keys: list[list[str]] = []
    for path in (a, b):
        reference_items, prediction_items, _ = read_answer_files(path, references)
        questions = prepare(pair_items(reference_items, prediction_items, prediction_file=path))
        keys.append([question.key for question in questions])
        scores = score_questions(questions, class_names(protocol), backend)
        points.append(qa_point_values(scores))
        samples.append(qa_metric_samples(scores, n_resamples=n_resamples, seed=seed))
    if keys[0] != keys[1]:
        raise InputError("the two systems did not answer the same questions", file=str(references))
    return compare_samples(
        points[0],
        points[1],
        samples[0],
        samples[1],
        unit="questions",
        n=len(keys[0]),
        level=level,
        n_resamples=n_resamples,
        seed=seed,
    )


def _require_same_metrics(points: list[dict[str, Any]], a: Path, b: Path) -> None:
    missing = set(points[0]) ^ set(points[1])
    if missing:
        names = ", ".join(sorted(missing))
        raise InputError(
            f"the two prediction files do not support the same metrics ({names}): "
            "both need the same class and spatial columns",
            file=f"{a} / {b}",
        )
