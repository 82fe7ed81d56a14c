r"""SpatialSoundQA scores per question type, mirroring the layout of the golden results.

* A, C (detection): per class :math:`k` with a positive, AP of the cosine similarities between each answer and
  class name :math:`k`; ``mAP_all`` = :math:`\sum_k AP_k / 355` (absent classes count 0, the published
  convention), ``mAP_present`` = mean over the classes with a positive.
* B, D (localization): ``direction_acc`` = correct direction triples / n; ``DER`` = (distances more than
  0.5 m off + unparseable distances) / n.
* E binary (``direction``, ``distance`` columns): accuracy, balanced accuracy (mean recall over the reference
  answers present, unparseable = miss); ``E_avg`` and ``E_balanced_avg`` average the two columns.
* E non-binary: accuracy of the direction (per-axis equality), distance (B/D rule) and source (label-set
  equality) columns.

Unparseable answers always count as wrong, and are counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from seldkit.errors import InputError
from seldkit.metrics.qa.embedders import Embedder, cosine_matrix
from seldkit.metrics.qa.items import QaItem
from seldkit.metrics.qa.text import (
    LABEL_SEPARATOR,
    distance_correct,
    normalise,
    parse_direction,
    parse_distance,
    parse_partial_direction,
    parse_sources,
    parse_yes_no,
)
from seldkit.metrics.qa.weighted import detection_metrics, e_column_metrics, localization_metrics
from seldkit.metrics.ranking import RankedScores

DETECTION_TYPES = ("CLASSIFICATION", "MIXUP_SINGLE_CLASSIFICATION")
LOCALIZATION_TYPES = ("DOA", "MIXUP_SINGLE_DOA")
E_COLUMNS = {
    "MIXUP_DIRECTION": "direction",
    "MIXUP_DISTANCE_BOTH": "distance",
    "MIXUP_NONBINARY_DIRECTION": "nonbinary_direction",
    "MIXUP_NONBINARY_DISTANCE": "nonbinary_distance",
    "MIXUP_NONBINARY_SOURCE": "nonbinary_source",
}
BINARY_TYPES = ("MIXUP_DIRECTION", "MIXUP_DISTANCE_BOTH")


@dataclass(frozen=True)
class ClassNames:
    """The 355 detection classes: display names in model output order."""

    names: tuple[str, ...]

    def index_of(self) -> dict[str, int]:
        """Class index by lower-cased display name."""
        return {name.lower(): index for index, name in enumerate(self.names)}


@dataclass(frozen=True)
class Question:
    """A question ready for scoring: normalised reference and answer, and where the reference came from."""

    key: str
    question_type: str
    reference: str
    answer: str
    item: QaItem


@dataclass
class QaScores:
    """Results as the golden ``results`` object (plain numbers), plus per-question outcomes for intervals."""

    results: dict[str, Any]
    embedder: str
    class_matrix_sha256: str
    outcomes: dict[str, dict[str, np.ndarray]]  # per type: per-question arrays
    detection: dict[str, tuple[np.ndarray, np.ndarray]]  # per detection type: (scores [n, 355], targets)


def prepare(pairs: Sequence[tuple[QaItem, QaItem]]) -> list[Question]:
    """Questions ready for scoring from (reference, answer) pairs: texts normalised, key and type the reference's."""
    return [Question(ref.key, ref.question_type, normalise(ref.text), normalise(pred.text), ref) for ref, pred in pairs]


@dataclass
class QaAccumulator:
    """Questions answered in batches (or by several processes), scored together.

    Detection AP ranks every answer of a type against all the others, so the scores are computed once all the
    questions are in: :meth:`update` collects prepared questions, :meth:`merge` joins another accumulator's, and
    :meth:`compute` gives what :func:`score_questions` gives for all of them at once.
    """

    questions: list[Question] = field(default_factory=list)

    def update(self, pairs: Sequence[tuple[QaItem, QaItem]]) -> None:
        """Add (reference, answer) pairs."""
        self.questions.extend(prepare(pairs))

    def merge(self, other: QaAccumulator) -> QaAccumulator:
        """This accumulator's questions followed by ``other``'s."""
        return QaAccumulator([*self.questions, *other.questions])

    def compute(self, classes: ClassNames, embedder: Embedder) -> QaScores:
        """The scores of every question added so far."""
        return score_questions(self.questions, classes, embedder)


def score_questions(questions: Sequence[Question], classes: ClassNames, embedder: Embedder) -> QaScores:
    """Score every question type present; reference problems raise :class:`InputError` in reference order."""
    by_type: dict[str, list[Question]] = {}
    for question in questions:
        by_type.setdefault(question.question_type, []).append(question)
    _check_references(questions, classes)

    per_type: dict[str, Any] = {}
    outcomes: dict[str, dict[str, np.ndarray]] = {}
    detection: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    class_matrix = None
    digest = ""
    if any(kind in by_type for kind in DETECTION_TYPES):
        class_matrix = embedder.embed_classes(classes.names)
        digest = embedder.matrix_digest(class_matrix)
    for question_type in _ordered_types(by_type):
        group = by_type[question_type]
        if question_type in DETECTION_TYPES:
            scores, targets = _detection_inputs(group, classes, embedder, class_matrix)
            detection[question_type] = (scores, targets)
            per_type[question_type] = _detection_results(scores, targets, group)
        elif question_type in LOCALIZATION_TYPES:
            per_type[question_type], outcomes[question_type] = _localization(group)
        else:
            per_type[question_type], outcomes[question_type] = _e_column(question_type, group)
    results = {"n": len(questions), "per_type": per_type, "E": e_summary(per_type)}
    return QaScores(results, embedder.name, digest, outcomes, detection)


def e_summary(per_type: dict[str, Any]) -> dict[str, float | None]:
    """The E row of the paper's table: the five column accuracies, E_avg and E_balanced_avg."""
    summary: dict[str, float | None] = {}
    for question_type, column in E_COLUMNS.items():
        summary[column] = per_type[question_type]["accuracy"] if question_type in per_type else None
    binary = [per_type[question_type] for question_type in BINARY_TYPES if per_type.get(question_type)]
    if len(binary) == len(BINARY_TYPES):
        summary["E_avg"] = (binary[0]["accuracy"] + binary[1]["accuracy"]) / 2
        summary["E_balanced_avg"] = (binary[0]["balanced_accuracy"] + binary[1]["balanced_accuracy"]) / 2
    else:
        summary["E_avg"] = summary["E_balanced_avg"] = None
    return summary


def _ordered_types(by_type: dict[str, list[Question]]) -> list[str]:
    order = ("CLASSIFICATION", "DOA", "MIXUP_SINGLE_CLASSIFICATION", "MIXUP_SINGLE_DOA", *E_COLUMNS)  # A, B, C, D, E
    return [question_type for question_type in order if question_type in by_type]


def _reference_error(question: Question, code: str, problem: str, **details: object) -> InputError:
    return InputError(
        f"reference of {question.key!r}: {problem}",
        file=question.item.source,
        line=question.item.line,
        code=code,
        details={"key": question.key, **details},
    )


def _check_references(questions: Sequence[Question], classes: ClassNames) -> None:
    """References must be usable: known class labels (A, C) and parseable answers (the other types)."""
    lookup = classes.index_of()
    for question in questions:
        kind, reference = question.question_type, question.reference
        if kind in DETECTION_TYPES:
            for label in reference.split(LABEL_SEPARATOR):
                if label not in lookup:
                    raise _reference_error(
                        question, "unknown_reference_label", f"{label!r} is not a class display name", label=label
                    )
            continue
        if kind in LOCALIZATION_TYPES:
            usable = parse_direction(reference) is not None and parse_distance(reference) is not None
        elif kind in BINARY_TYPES:
            usable = parse_yes_no(reference) is not None
        elif kind == "MIXUP_NONBINARY_DISTANCE":
            usable = parse_distance(reference) is not None
        elif kind == "MIXUP_NONBINARY_DIRECTION":
            usable = parse_partial_direction(reference) is not None
        else:
            usable = parse_sources(reference) is not None
        if not usable:
            raise _reference_error(question, "unparseable_reference", f"cannot parse {reference!r} as a {kind} answer")


def _detection_inputs(
    group: Sequence[Question], classes: ClassNames, embedder: Embedder, class_matrix: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    lookup = classes.index_of()
    targets = np.zeros((len(group), len(classes.names)), dtype=bool)
    for row, question in enumerate(group):
        for label in question.reference.split(LABEL_SEPARATOR):
            targets[row, lookup[label]] = True
    # Each distinct answer is embedded once: equal answers must score exactly equal (ties matter to AP).
    distinct, inverse = np.unique(np.array([question.answer for question in group], dtype=object), return_inverse=True)
    vectors = embedder.embed(list(distinct))
    assert class_matrix is not None
    scores = cosine_matrix(vectors, class_matrix)[inverse.ravel()]
    return scores, targets


def _unit_weights(n: int) -> np.ndarray:
    """Every question once: the point values are the resample formulas at these weights."""
    return np.ones((1, n))


def _detection_results(scores: np.ndarray, targets: np.ndarray, group: Sequence[Question]) -> dict[str, Any]:
    ranked = RankedScores.from_scores(scores, targets, for_weights=True)
    metrics, ap_rows = detection_metrics(ranked, _unit_weights(len(group)))
    ap = ap_rows[0]
    present = np.flatnonzero(~np.isnan(ap))
    return {
        "n": len(group),
        "n_classes_present": int(present.size),
        "n_distinct_predictions": len({question.answer for question in group}),
        "mAP_all": float(metrics["mAP_all"][0]),
        "mAP_present": float(metrics["mAP_present"][0]) if present.size else None,
        "ap_present": [[int(index), float(ap[index])] for index in present],
    }


def _localization(group: Sequence[Question]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    n = len(group)
    direction_ok = np.zeros(n, dtype=bool)
    direction_unparseable = np.zeros(n, dtype=bool)
    distance_ok = np.zeros(n, dtype=bool)
    distance_unparseable = np.zeros(n, dtype=bool)
    for row, question in enumerate(group):
        reference_direction = parse_direction(question.reference)
        reference_distance = parse_distance(question.reference)
        direction = parse_direction(question.answer)
        distance = parse_distance(question.answer)
        direction_unparseable[row] = direction is None
        direction_ok[row] = direction is not None and direction == reference_direction
        distance_unparseable[row] = distance is None
        distance_ok[row] = distance is not None and distance_correct(distance, reference_distance)  # type: ignore[arg-type]
    distance_wrong = ~distance_ok & ~distance_unparseable
    results: dict[str, Any] = {
        "n": n,
        "direction_correct": int(direction_ok.sum()),
        "direction_unparseable": int(direction_unparseable.sum()),
        "distance_correct": int(distance_ok.sum()),
        "distance_wrong": int(distance_wrong.sum()),
        "distance_unparseable": int(distance_unparseable.sum()),
    }
    outcome = {"direction_correct": direction_ok, "distance_error": ~distance_ok}
    results.update({name: float(values[0]) for name, values in localization_metrics(outcome, _unit_weights(n)).items()})
    return results, outcome


def _e_column(question_type: str, group: Sequence[Question]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    n = len(group)
    correct = np.zeros(n, dtype=bool)
    unparseable = np.zeros(n, dtype=bool)
    reference_yes = np.zeros(n, dtype=bool)
    for row, question in enumerate(group):
        parsed, expected = _parse_e(question_type, question.answer), _parse_e(question_type, question.reference)
        unparseable[row] = parsed is None
        correct[row] = parsed is not None and _e_equal(question_type, parsed, expected)
        reference_yes[row] = expected == "yes"
    results: dict[str, Any] = {
        "column": E_COLUMNS[question_type],
        "n": n,
        "correct": int(correct.sum()),
        "unparseable": int(unparseable.sum()),
    }
    outcome = {"correct": correct}
    if question_type in BINARY_TYPES:
        outcome["reference_yes"] = reference_yes
    metrics = e_column_metrics(outcome, _unit_weights(n))
    results["accuracy"] = float(metrics["accuracy"][0])
    if question_type in BINARY_TYPES:
        results["balanced_accuracy"] = float(metrics["balanced_accuracy"][0])
        results["n_reference_yes"] = int(reference_yes.sum())
    return results, outcome


def _parse_e(question_type: str, text: str) -> object:
    if question_type in BINARY_TYPES:
        return parse_yes_no(text)
    if question_type == "MIXUP_NONBINARY_DISTANCE":
        return parse_distance(text)
    if question_type == "MIXUP_NONBINARY_DIRECTION":
        return parse_partial_direction(text)
    return parse_sources(text)


def _e_equal(question_type: str, parsed: object, expected: object) -> bool:
    if question_type == "MIXUP_NONBINARY_DISTANCE":
        assert isinstance(parsed, Decimal) and isinstance(expected, Decimal)
        return distance_correct(parsed, expected)
    return parsed == expected
