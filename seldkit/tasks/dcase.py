"""DCASE Task 3 SELD metrics of the challenge years as a task."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seldkit.errors import InputError
from seldkit.tasks.base import Task

if TYPE_CHECKING:
    from seldkit.metrics.paired import Comparison
    from seldkit.protocols import Protocol
    from seldkit.report.html import Section
    from seldkit.scoring.dcase import DcaseReport


class DcaseTask(Task):
    """Prediction and reference folders; jackknife intervals over recordings."""

    name = "dcase"
    folders = True
    inputs_description = "a prediction folder against a reference folder"
    interval = "jackknife"
    options = frozenset({"config", "average", "dcase_compat"})

    def configure(self, protocol: Protocol, options: Mapping[str, Any]) -> Protocol:
        """Another configuration of the year's scorer, its micro/macro variant, or the official silent skips."""
        from seldkit.metrics.dcase.years import YEAR_RULES
        from seldkit.protocols import with_settings

        settings: dict[str, Any] = {}
        rules = YEAR_RULES[protocol.dcase.year]
        if options.get("config"):
            name = options["config"]
            if name not in {config.name for config in rules.configs}:
                known = ", ".join(config.name for config in rules.configs)
                raise InputError(f"{rules.year} has no configuration {name!r} (known: {known})")
            settings["configuration"] = name
        if options.get("average"):
            current = settings.get("configuration", protocol.dcase.configuration)
            variant = rules.with_average(current, options["average"])
            if variant is None:
                raise InputError(
                    f"{rules.year} has no {options['average']}-averaged variant of configuration {current!r}"
                )
            settings["configuration"] = variant.name
        if options.get("dcase_compat"):
            settings["compat"] = True
        return with_settings(protocol, **settings) if settings else protocol

    def score(
        self, predictions: Path, references: Path, protocol: Protocol, *, resamples: int | None, jackknife: bool
    ) -> DcaseReport:
        """Scores of a prediction folder against a reference folder (jackknife intervals if asked for)."""
        from seldkit.scoring.dcase import score_dcase_folders

        return score_dcase_folders(predictions, references, protocol, with_jackknife=jackknife)

    def table(self, scored: DcaseReport, *, per_class: bool) -> str:
        """The metrics table, and the class-wise table when asked for."""
        from seldkit.cli.format_dcase import format_dcase_per_class, format_dcase_table

        text = format_dcase_table(scored)
        return text + "\n\n" + format_dcase_per_class(scored) if per_class else text

    def notes(self, scored: DcaseReport) -> list[str]:
        """Skipped or empty recordings and reference splits left out."""
        return list(scored.notes)

    def compare(
        self, a: Path, b: Path, references: Path, protocol: Protocol, *, n_resamples: int, groups: Any = None
    ) -> Comparison:
        """Paired resamples of the recordings."""
        from seldkit.scoring.compare import compare_dcase

        bootstrap = protocol.dcase.bootstrap
        return compare_dcase(a, b, references, protocol, n_resamples, bootstrap.seed, bootstrap.level)

    def report_lines(self, scored: DcaseReport) -> list[str]:
        """Protocol, configuration and number of recordings."""
        protocol = scored.protocol
        return [
            f"scored under {protocol.name} (sha256:{protocol.short_hash}, configuration "
            f"{scored.score.config.name}) on {scored.score.n_files} recordings"
        ]

    def report_sections(self, scored: DcaseReport) -> list[Section]:
        """Scores with jackknife intervals where two recordings allow them, and the class-wise figure."""
        from seldkit.metrics.dcase.evaluate import jackknife
        from seldkit.report.sections import dcase_sections

        if scored.intervals is None and scored.score.n_files >= 2:  # leave-one-out intervals need two recordings
            scored = replace(scored, intervals=jackknife(scored.score, level=0.95))
        return dcase_sections(scored.results_json())

    def report_sections_from_json(self, document: Mapping[str, Any]) -> list[Section]:
        """Scores and the class-wise figure."""
        from seldkit.report.sections import dcase_sections

        return dcase_sections(document)
