"""Scoring DCASE Task 3 output folders under a protocol: pair files, read them, score, package results."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seldkit.errors import InputError
from seldkit.io.dcase import FilePair, no_events, pair_folders, read_dcase_file
from seldkit.metrics.dcase.evaluate import DcaseScore, jackknife, score_recordings
from seldkit.metrics.dcase.events import N_CLASSES
from seldkit.metrics.intervals import Intervals
from seldkit.protocols import Protocol
from seldkit.results import results_document


@dataclass(frozen=True)
class DcaseReport:
    """A DCASE score under a protocol, with the file pairs scored, jackknife intervals and notes for the user."""

    protocol: Protocol
    score: DcaseScore
    files: list[FilePair]
    intervals: Intervals | None
    notes: list[str] = field(default_factory=list)
    empty_references: tuple[str, ...] = ()  # recordings whose reference file has no events (empty window)

    def results_json(self) -> dict[str, Any]:
        """The results JSON: metrics, class-wise values, intervals, recordings, notes, configuration, accumulators."""
        score = self.score
        per_class = None
        if score.classwise is not None:
            per_class = {
                str(index): {name: values[index] for name, values in score.classwise.items()}
                for index in range(N_CLASSES)
            }
            if self.intervals is not None and self.intervals.per_class is not None:
                for index in range(N_CLASSES):
                    per_class[str(index)]["intervals"] = {
                        name: values[index] for name, values in self.intervals.per_class.items()
                    }
        intervals = self.intervals.as_json() if self.intervals is not None else None
        document = results_document(
            protocol=self.protocol,
            n=score.n_files,
            metrics=dict(score.metrics),
            per_class=per_class,
            intervals=intervals,
            inputs={
                "recordings": [
                    {
                        "name": pair.name,
                        "reference": str(pair.reference),
                        "prediction": str(pair.prediction) if pair.prediction else None,
                    }
                    for pair in self.files
                ]
            },
            notes=self.notes,
        )
        document["configuration"] = score.config.name
        document["counters"] = score.totals.as_json()
        return document


def score_dcase_folders(
    predictions: str | Path,
    references: str | Path,
    protocol: Protocol,
    *,
    with_jackknife: bool = False,
) -> DcaseReport:
    """Score a prediction folder against a reference folder under a ``dcase`` protocol."""
    settings = protocol.dcase
    year, compat = settings.year, settings.compat
    pairs, notes = pair_folders(Path(predictions), Path(references))
    missing = [pair for pair in pairs if pair.prediction is None]
    if missing:
        if compat:
            notes.append(
                f"{len(missing)} reference file(s) without prediction skipped, as the official code does: "
                + ", ".join(pair.name for pair in missing[:5])
                + (" ..." if len(missing) > 5 else "")
            )
            pairs = [pair for pair in pairs if pair.prediction is not None]
        else:
            notes.append(
                f"{len(missing)} reference file(s) without prediction scored as all misses: "
                + ", ".join(pair.name for pair in missing[:5])
                + (" ..." if len(missing) > 5 else "")
                + " (--dcase-compat skips them like the official code)"
            )
    references_read = [read_dcase_file(pair.reference, year=year, role="reference", compat=compat) for pair in pairs]
    predictions_read = [
        read_dcase_file(pair.prediction, year=year, role="prediction", compat=compat)
        if pair.prediction is not None
        else no_events(str(pair.reference), year=year)
        for pair in pairs
    ]
    empty = [pair.name for pair, events in zip(pairs, references_read) if events.n_events == 0]
    if empty:
        notes.append(
            f"{len(empty)} reference file(s) without events: their evaluation window is empty, nothing in them is "
            f"scored ({', '.join(empty[:5])}{' ...' if len(empty) > 5 else ''})"
        )
    score = score_recordings(references_read, predictions_read, year=year, config=settings.configuration)
    intervals = None
    if with_jackknife:
        if len(pairs) < 2:
            raise InputError("--ci jackknife needs at least two recordings")
        intervals = jackknife(score)
    return DcaseReport(
        protocol=protocol, score=score, files=pairs, intervals=intervals, notes=notes, empty_references=tuple(empty)
    )
