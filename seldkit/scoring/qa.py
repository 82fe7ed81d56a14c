"""Scoring SpatialSoundQA answers under a protocol: read either answer form, join, score, package results."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seldkit.errors import InputError
from seldkit.io.qa import pair_items, read_answers_jsonl, read_decode_file, read_question_file
from seldkit.metrics.intervals import Intervals
from seldkit.metrics.qa.embedders import get_embedder
from seldkit.metrics.qa.scoring import ClassNames, QaScores, prepare, score_questions
from seldkit.metrics.qa.stats import bootstrap_qa
from seldkit.protocols import Protocol
from seldkit.results import file_digest, results_document


@dataclass(frozen=True)
class QaReport:
    """SpatialSoundQA scores under a protocol, and what their results JSON records: embedder, answer form, inputs."""

    protocol: Protocol
    scores: QaScores
    embedder_model_id: str
    answer_form: str
    inputs: dict[str, Any]
    intervals: Intervals | None

    def results_json(self) -> dict[str, Any]:
        """The results JSON: scores per type and of type E, intervals, inputs, and the embedder with its class hash."""
        intervals = None
        if self.intervals is not None:
            intervals = self.intervals.as_json()
        document = results_document(
            protocol=self.protocol,
            n=self.scores.results["n"],
            metrics={"per_type": self.scores.results["per_type"], "E": self.scores.results["E"]},
            intervals=intervals,
            inputs=self.inputs,
        )
        document["embedder"] = {
            "name": self.scores.embedder,
            "model_id": self.embedder_model_id,
            "class_embedding_sha256": self.scores.class_matrix_sha256 or None,
        }
        return document


def class_names(protocol: Protocol) -> ClassNames:
    """The display names of the protocol's classes, in class-list order; an error when a class has none."""
    classes = protocol.classes
    if classes is None:
        raise InputError(f"protocol {protocol.name!r} has no class list")
    missing = [class_id for class_id in classes.ids if class_id not in classes.names]
    if missing:
        raise InputError(f"protocol {protocol.name!r}: no display name for class {missing[0]!r}", file=protocol.source)
    return ClassNames(tuple(classes.names[class_id] for class_id in classes.ids))


def read_answer_files(predictions: Path, references: Path) -> tuple[list, list, str]:
    """References and answers from either form: (questions.json, answers.jsonl) or a decode pair."""
    if references.suffix.lower() == ".json":
        return read_question_file(references), read_answers_jsonl(predictions), "jsonl"
    return read_decode_file(references), read_decode_file(predictions), "decode pair"


def score_qa_files(
    predictions: str | Path,
    references: str | Path,
    protocol: Protocol,
    *,
    n_resamples: int | None = None,
) -> QaReport:
    """Score the answers ``predictions`` against ``references`` under ``protocol``; ``n_resamples`` adds intervals."""
    predictions, references = Path(predictions), Path(references)
    reference_items, prediction_items, form = read_answer_files(predictions, references)
    questions = prepare(pair_items(reference_items, prediction_items, prediction_file=predictions))
    backend = get_embedder(protocol.qa.embedder)
    scores = score_questions(questions, class_names(protocol), backend)
    intervals = None
    if n_resamples:
        bootstrap = protocol.qa.bootstrap
        intervals = bootstrap_qa(scores, n_resamples=n_resamples, seed=bootstrap.seed, level=bootstrap.level)
    inputs = {
        "predictions": {"path": str(predictions), "digest": file_digest(predictions)},
        "references": {"path": str(references), "digest": file_digest(references)},
    }
    return QaReport(protocol, scores, backend.model_id, form, inputs, intervals)
