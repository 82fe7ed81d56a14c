"""Scoring DCASE Task 3 output folders under a protocol: pair files, read them, score, package results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seldkit.errors import InputError
from seldkit.io.dcase import FilePair, no_events, pair_folders, read_dcase_file
from seldkit.metrics.dcase.evaluate import DcaseScore, jackknife, score_recordings
from seldkit.metrics.dcase.events import DcaseEvents
from seldkit.metrics.dcase.scores import compute_scores
from seldkit.metrics.dcase.years import YEAR_RULES, YearRules
from seldkit.metrics.intervals import Intervals
from seldkit.protocols import Protocol
from seldkit.results import results_document

# {group type: {group key: {"files": [...], "metrics": {...}}}}, the layout of the official per-group breakdown.
Groups = dict[str, dict[str, dict[str, Any]]]


@dataclass(frozen=True)
class DcaseReport:
    """A DCASE score under a protocol, with the file pairs scored, jackknife intervals and notes for the user."""

    protocol: Protocol
    score: DcaseScore
    files: list[FilePair]
    intervals: Intervals | None
    notes: list[str] = field(default_factory=list)
    empty_references: tuple[str, ...] = ()  # recordings whose reference file has no events (empty window)
    groups: Groups | None = None  # the per-group breakdown of the years whose official script prints one

    def results_json(self) -> dict[str, Any]:
        """The results JSON: metrics, class-wise values, intervals, recordings, notes, configuration, accumulators."""
        score = self.score
        per_class = None
        if score.classwise is not None:
            n_classes = len(next(iter(score.classwise.values())))
            per_class = {
                str(index): {name: values[index] for name, values in score.classwise.items()}
                for index in range(n_classes)
            }
            if self.intervals is not None and self.intervals.per_class is not None:
                for index in range(n_classes):
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
        document["counters"] = score.totals.as_json(pooled=YEAR_RULES[score.year].scalar_counters)
        if self.groups is not None:
            from seldkit.results import jsonable

            document["groups"] = jsonable(self.groups)  # NaN and infinities as null, like every metric
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
    rules = YEAR_RULES[year]
    config = rules.config(settings.configuration)
    pairs, notes = pair_folders(Path(predictions), Path(references))
    pairs = _handle_missing_predictions(pairs, notes, rules, compat=compat)
    references_read = [read_dcase_file(pair.reference, year=year, role="reference", compat=compat) for pair in pairs]
    predictions_read = [
        read_dcase_file(pair.prediction, year=year, role="prediction", compat=compat, config=config)
        if pair.prediction is not None
        else no_events(str(pair.reference), year=year)
        for pair in pairs
    ]
    empty: list[str] = []
    if rules.fixed_window is None:
        empty = [pair.name for pair, events in zip(pairs, references_read) if events.n_events == 0]
        if empty:
            notes.append(
                f"{len(empty)} reference file(s) without events: their evaluation window is empty, nothing in them "
                f"is scored ({', '.join(empty[:5])}{' ...' if len(empty) > 5 else ''})"
            )
    else:
        notes.extend(_outside_window_notes(references_read, predictions_read, rules))
    score = score_recordings(references_read, predictions_read, year=year, config=config)
    intervals = None
    if with_jackknife:
        if len(pairs) < 2:
            raise InputError("--ci jackknife needs at least two recordings")
        intervals = jackknife(score)
    groups = None
    if rules.groups:
        groups, problem = group_breakdown(score, [pair.name for pair in pairs], rules)
        if problem:
            notes.append(problem)
    return DcaseReport(
        protocol=protocol,
        score=score,
        files=pairs,
        intervals=intervals,
        notes=notes,
        empty_references=tuple(empty),
        groups=groups,
    )


def _handle_missing_predictions(
    pairs: list[FilePair], notes: list[str], rules: YearRules, *, compat: bool
) -> list[FilePair]:
    """Reference files without prediction: all misses by default; under compat what the official code does."""
    missing = [pair for pair in pairs if pair.prediction is None]
    if not missing:
        return pairs
    names = ", ".join(pair.name for pair in missing[:5]) + (" ..." if len(missing) > 5 else "")
    if compat and rules.refuses_missing_predictions:
        raise InputError(
            f"{len(missing)} reference file(s) without prediction ({names}); the official {rules.year} script "
            "refuses to score (without --dcase-compat they are scored as all misses)",
            file=str(missing[0].reference),
        )
    if compat:
        notes.append(f"{len(missing)} reference file(s) without prediction skipped, as the official code does: {names}")
        return [pair for pair in pairs if pair.prediction is not None]
    official = "refuses to score" if rules.refuses_missing_predictions else "skips them"
    notes.append(
        f"{len(missing)} reference file(s) without prediction scored as all misses: {names} "
        f"(--dcase-compat {official} like the official code)"
    )
    return pairs


def _outside_window_notes(
    references: Sequence[DcaseEvents], predictions: Sequence[DcaseEvents], rules: YearRules
) -> list[str]:
    """A note for rows past the fixed window, which the official code (and seldkit) never score."""
    window = rules.fixed_window
    assert window is not None
    seconds = window / rules.frames_per_second
    notes = []
    for side, events_list in (("reference", references), ("prediction", predictions)):
        outside = sum(int(np.count_nonzero(events.frame >= window)) for events in events_list)
        if outside:
            what = "frames" if side == "prediction" or not rules.file_format.event_list_reference else "event frames"
            notes.append(
                f"{outside} {side} {what} at or after {seconds:g} s are outside the fixed {seconds:g} s window of "
                f"{rules.year} and not scored"
            )
    return notes


def group_breakdown(score: DcaseScore, names: list[str], rules: YearRules) -> tuple[Groups | None, str]:
    """The official per-group scores: files grouped by the digit at a fixed character of their name.

    Returns the breakdown, or None and a note when a file name has no digit there (the official script raises
    after printing the overall score).
    """
    keys: dict[str, list[int]] = {}
    for group, position in rules.groups:
        digits = []
        for name in names:
            if position >= len(name) or not name[position].isdigit():
                return None, (
                    f"no per-{group} breakdown: {name!r} does not follow the {rules.year} file naming "
                    f"({rules.naming_scheme}; character {position + 1} is the {group} digit)"
                )
            digits.append(int(name[position]))
        keys[group] = digits
    groups: Groups = {}
    for group, digits in keys.items():
        groups[group] = {}
        for key in sorted(set(digits)):
            keep = np.array([digit == key for digit in digits])
            metrics, _ = compute_scores(
                score.counters.total(keep), kind=score.config.kind, average=score.config.average
            )
            files = [name for name, digit in zip(names, digits) if digit == key]
            groups[group][str(key)] = {"files": files, "metrics": metrics}
    return groups, ""
