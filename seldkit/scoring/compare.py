"""Comparing two systems on the same references under a protocol, metric by metric.

Both are scored exactly as ``seldkit score`` scores them, then every metric is compared by a paired bootstrap over
the protocol's evaluation units: clips (:func:`compare_clip`; with several training seeds of each system, seeds
and clips, :func:`compare_clip_seeds`), recordings (:func:`compare_dcase`) or questions
(:func:`compare_qa`). :func:`seldkit.tasks.compare_systems` picks the one of a protocol's task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seldkit.errors import InputError
from seldkit.io.clip import ClipGroups
from seldkit.metrics.paired import Comparison, compare_samples
from seldkit.protocols import Protocol
from seldkit.results import environment, file_digest

if TYPE_CHECKING:
    from seldkit.scoring.clip import ClipScore

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
    each clip, and the clusters are resampled instead (:func:`seldkit.metrics.stats.clustered_count_blocks`). This
    is :func:`compare_clip_seeds` with one seed each.
    """
    return compare_clip_seeds([(a, b)], references, protocol, n_resamples, seed, level, groups)


def compare_clip_seeds(
    pairs: Sequence[tuple[Path, Path]],
    references: Path,
    protocol: Protocol,
    n_resamples: int,
    seed: int,
    level: float,
    groups: ClipGroups | None = None,
) -> Comparison:
    """Two systems trained from one or several seeds: ``pairs[k]`` holds seed k's prediction files of A and of B.

    Every seed of both was tested on the same clips (``references``). Each replicate draws the seeds (the same draw
    for A and B) and the clips or, with ``groups``, their clusters (the same draw for every seed and both systems);
    a system's value is the mean over the drawn seeds of the metric on the drawn clips, its point value the mean
    over its seeds (:mod:`seldkit.metrics.seeds`).
    """
    from seldkit.metrics.seeds import mean_over_seeds, seed_clip_metric_samples, seed_draw_counts
    from seldkit.scoring.clip import score_clip_files

    if not pairs:
        raise ValueError("a comparison needs the predictions of at least one seed")
    scores = [[score_clip_files(pair[side], references, protocol) for pair in pairs] for side in (0, 1)]
    clip_ids = scores[0][0].evaluation.clip_ids
    for side in (0, 1):
        for k, score in enumerate(scores[side]):
            # the clip draws are shared only when every seed's per-clip values are in the same clip order
            if list(score.evaluation.clip_ids) != list(clip_ids):
                raise InputError(
                    f"seed {k} was scored on other clips, or in another order, than seed 0", file=str(pairs[k][side])
                )
    cluster, unit, n = _clip_units(scores[0][0], groups)
    seed_counts = seed_draw_counts(len(pairs), n_resamples, seed)
    mode, threshold = protocol.clip.mode, protocol.clip.error_threshold_deg
    points: list[dict[str, float]] = []
    samples: list[dict[str, np.ndarray]] = []
    for side_scores in scores:
        per_clip = []
        for score in side_scores:
            assert score.per_clip is not None
            per_clip.append(score.per_clip)
        values = seed_clip_metric_samples(
            per_clip,
            seed_counts,
            mode=mode,
            n_resamples=n_resamples,
            seed=seed,
            error_threshold_deg=threshold,
            groups=cluster,
        )
        samples.append(values)
        means = mean_over_seeds([score.metrics.scalars() for score in side_scores])
        points.append({name: value for name, value in means.items() if name in values})
    _require_same_metrics(points, pairs[0][0], pairs[0][1])
    comparison = compare_samples(
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
    # one seed each is the plain comparison of two systems (seed draws are then always that seed)
    return replace(comparison, n_seeds=len(pairs)) if len(pairs) > 1 else comparison


def _clip_units(score: ClipScore, groups: ClipGroups | None) -> tuple[np.ndarray | None, str, int]:
    """The cluster index of each scored clip (None: the clips are the units), the units' name and their number."""
    from seldkit.metrics.stats import cluster_indices

    if groups is None:
        return None, "clips", score.metrics.n_clips
    cluster = cluster_indices(groups.labels_for(score.evaluation.clip_ids))
    n = int(cluster.max()) + 1
    if n < 2:
        raise InputError(f"a clustered comparison needs at least two {groups.column!r} values", file=str(groups.path))
    return cluster, f"clusters of clips ({groups.column})", n


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
