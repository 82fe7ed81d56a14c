"""Clip-level encoder metrics (mAP, ER20, MAE, DER) as a task."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seldkit.tasks.base import Task

if TYPE_CHECKING:
    from seldkit.metrics.paired import Comparison
    from seldkit.protocols import Protocol
    from seldkit.report.html import Section
    from seldkit.scoring.clip import ClipScore


class ClipTask(Task):
    """Clip-level CSV files; bootstrap intervals over clips."""

    name = "clip"
    inputs_description = "clip-level CSV files"
    options = frozenset({"group_by"})  # compare: resample clusters of clips

    def score(
        self, predictions: Path, references: Path, protocol: Protocol, *, resamples: int | None, jackknife: bool
    ) -> ClipScore:
        """Scores of a prediction file against a reference file."""
        from seldkit.scoring.clip import score_clip_files

        return score_clip_files(predictions, references, protocol, n_resamples=resamples)

    def table(self, scored: ClipScore, *, per_class: bool) -> str:
        """The metrics table, and the per-class AP table when asked for."""
        from seldkit.cli.format_clip import format_clip_table, format_per_class_table

        text = format_clip_table(scored)
        return text + "\n\n" + format_per_class_table(scored) if per_class else text

    def notes(self, scored: ClipScore) -> list[str]:
        """Notes of the pairing, and why an mAP interval may exclude its point value."""
        notes = list(scored.evaluation.notes)
        intervals = scored.intervals
        if intervals is None or "mAP" not in intervals.bounds or scored.metrics.mAP is None:
            return notes
        low, high = intervals.bounds["mAP"]
        if not low <= scored.metrics.mAP <= high and scored.mode == "reference":
            notes.append(
                "the mAP interval excludes the point value: reference mode counts a class without positives as "
                "AP 0, so resamples that miss a rare class's only positives pull mAP down (see continuous mode)"
            )
        return notes

    def compare(
        self, a: Path, b: Path, references: Path, protocol: Protocol, *, n_resamples: int, groups: Any = None
    ) -> Comparison:
        """Paired resamples of the clips, or of their clusters (``groups``: a :class:`~seldkit.io.clip.ClipGroups`)."""
        from seldkit.scoring.compare import compare_clip

        bootstrap = protocol.clip.bootstrap
        return compare_clip(a, b, references, protocol, n_resamples, bootstrap.seed, bootstrap.level, groups)

    def report_lines(self, scored: ClipScore) -> list[str]:
        """Protocol and number of clips."""
        protocol = scored.protocol
        return [f"scored under {protocol.name} (sha256:{protocol.short_hash}) on {scored.metrics.n_clips} clips"]

    def report_sections(self, scored: ClipScore) -> list[Section]:
        """Scores, per-class AP, angular and distance errors."""
        from seldkit.report.sections import clip_figures, clip_summary

        return [clip_summary(scored, None), *clip_figures(scored)]

    def report_sections_from_json(self, document: Mapping[str, Any]) -> list[Section]:
        """Scores and per-class AP (per-clip figures need the predictions)."""
        from seldkit.report.sections import clip_sections_from_json

        return clip_sections_from_json(document)
