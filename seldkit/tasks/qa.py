"""SpatialSoundQA scoring (question types A-E) as a task."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seldkit.tasks.base import Task

if TYPE_CHECKING:
    from seldkit.metrics.paired import Comparison
    from seldkit.protocols import Protocol
    from seldkit.report.html import Section
    from seldkit.scoring.qa import QaReport


class QaTask(Task):
    """Answer files against question files; bootstrap intervals over questions."""

    name = "qa"
    inputs_description = "answer files"
    options = frozenset({"embedder"})

    def configure(self, protocol: Protocol, options: Mapping[str, Any]) -> Protocol:
        """Another sentence embedder (the protocol, and its hash, follow)."""
        from seldkit.protocols import with_settings

        return with_settings(protocol, embedder=options["embedder"]) if options.get("embedder") else protocol

    def score(
        self, predictions: Path, references: Path, protocol: Protocol, *, resamples: int | None, jackknife: bool
    ) -> QaReport:
        """Scores of answers against questions."""
        from seldkit.scoring.qa import score_qa_files

        return score_qa_files(predictions, references, protocol, n_resamples=resamples)

    def table(self, scored: QaReport, *, per_class: bool) -> str:
        """The table of the paper's Table 3 columns."""
        from seldkit.cli.format_qa import format_qa_table

        return format_qa_table(scored)

    def compare(
        self, a: Path, b: Path, references: Path, protocol: Protocol, *, n_resamples: int, groups: Any = None
    ) -> Comparison:
        """Paired resamples of the questions within each type."""
        from seldkit.scoring.compare import compare_qa

        bootstrap = protocol.qa.bootstrap
        return compare_qa(a, b, references, protocol, n_resamples, bootstrap.seed, bootstrap.level)

    def report_lines(self, scored: QaReport) -> list[str]:
        """Protocol and number of questions."""
        protocol = scored.protocol
        return [
            f"scored under {protocol.name} (sha256:{protocol.short_hash}) on {scored.scores.results['n']} questions"
        ]

    def report_sections(self, scored: QaReport) -> list[Section]:
        """Scores per question type, and their figure."""
        return self.report_sections_from_json(scored.results_json())

    def report_sections_from_json(self, document: Mapping[str, Any]) -> list[Section]:
        """Scores per question type, and their figure."""
        from seldkit.report.sections import qa_sections

        return qa_sections(document)
