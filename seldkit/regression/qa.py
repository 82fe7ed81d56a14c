"""Runner of the SpatialSoundQA golden suite (``metrics/regression/qa``).

Every case is scored in both answer forms (``answers.jsonl`` against ``questions.json``, and the decode pair)
with every embedder the expected values cover that is available here (trigram256 always; all-MiniLM-L6-v2
when the ``qa`` extra is installed). Error cases must raise the expected kind with its normative fields.
Tolerances from ``expected.json``: counts exact, fractions 1e-12, AP/mAP 1e-9 (trigram256) or 1e-6 (MiniLM).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from seldkit.errors import InputError
from seldkit.metrics.qa.embedders import MiniLM
from seldkit.protocols import load_protocol, with_settings
from seldkit.regression import CaseOutcome, SuiteOutcome, deviation, read_expected
from seldkit.regression.golden_cases import RegressionCase, Tolerance
from seldkit.scoring.qa import score_qa_files

_FRACTIONS = {"direction_acc", "DER", "accuracy", "balanced_accuracy", "E_avg", "E_balanced_avg"}
_FORMS = {"jsonl": ("answers_jsonl", "questions"), "pair": ("pred", "gt")}


def run_suite(folder: Path) -> SuiteOutcome:
    """Run the QA suite in ``folder``: every case in both answer forms, with each embedder available here."""
    expected = read_expected(folder)
    tolerances = expected["tolerances"]
    embedders = ["trigram256"] + (["minilm"] if MiniLM.available() else [])
    base = load_protocol("spatialsoundqa")
    outcomes: list[CaseOutcome] = []
    for case_id, case in expected["cases"].items():
        for form, (prediction_key, reference_key) in _FORMS.items():
            predictions = folder / case["inputs"][prediction_key]
            references = folder / case["inputs"][reference_key]
            for embedder in embedders:
                name = f"{case_id}/{form}/{embedder}"
                protocol = with_settings(base, embedder=embedder)
                error = (case.get("expected_error") or {}).get(form)
                try:
                    report = score_qa_files(predictions, references, protocol)
                except InputError as raised:
                    outcomes.append(_judge_error(name, error, raised))
                    continue
                if error:
                    outcomes.append(CaseOutcome(name, False, math.inf, f"expected {error['kind']}, got results"))
                    continue
                outcomes.append(_compare(name, report.scores.results, case["results"], embedder, tolerances))
    return SuiteOutcome(folder.name, tuple(outcomes))


EMBEDDERS = ("trigram256", "minilm")


def iter_cases(name: str, folder: Path) -> Iterator[RegressionCase]:
    """The suite's cases as :class:`RegressionCase` objects, one per case and embedder (the configuration).

    Inputs are the JSONL answers and the questions file; the expected metrics are named as in seldkit's results
    JSON, flattened with dots (``per_type.DOA.direction_acc``, ``E.E_avg``); one metric group per question type
    and ``E``. Per-class AP lists are left to ``seldkit verify``. Error cases (input seldkit must refuse) have no
    expected values.
    """
    expected = read_expected(folder)
    tolerances = expected["tolerances"]
    for case_id, case in expected["cases"].items():
        error = (case.get("expected_error") or {}).get("jsonl")
        for embedder in EMBEDDERS:
            values, case_tolerances, groups = (
                _flat_expected(case["results"], embedder, tolerances) if not error else ({}, {}, {})
            )
            yield RegressionCase(
                suite=name,
                case=case_id,
                config=embedder,
                description=case.get("description", ""),
                predictions=folder / case["inputs"]["answers_jsonl"],
                references=folder / case["inputs"]["questions"],
                params={"embedder": embedder},
                expected=None if error else values,
                tolerances=case_tolerances,
                groups=groups,
                no_value=f"input to refuse ({error['kind']})" if error else "",
                tags=tuple(case.get("tags", ())),
            )


def _flat_expected(
    results: dict[str, Any], embedder: str, tolerances: dict[str, Any]
) -> tuple[dict[str, float | None], dict[str, Tolerance], dict[str, tuple[str, ...]]]:
    """(values, tolerances, groups) of one case's scalar metrics under ``embedder``, with dotted names."""
    ap = Tolerance(abs=float(tolerances["ap_trigram256" if embedder == "trigram256" else "ap_minilm"]))
    fraction = Tolerance(abs=float(tolerances["fractions"]))
    values: dict[str, float | None] = {}
    limits: dict[str, Tolerance] = {}
    groups: dict[str, tuple[str, ...]] = {}
    for question_type, metrics in results["per_type"].items():
        names = []
        for key, value in metrics.items():
            tolerance = fraction if key in _FRACTIONS else Tolerance()
            if isinstance(value, dict):  # per-embedder values: mAP_all, mAP_present, ap_present
                value, tolerance = value[embedder], ap
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue  # the per-class AP list, the column name
            metric = f"per_type.{question_type}.{key}"
            values[metric], limits[metric] = float(value), tolerance
            names.append(metric)
        groups[question_type] = tuple(names)
    if results.get("E"):
        for key, value in results["E"].items():
            values[f"E.{key}"], limits[f"E.{key}"] = value, fraction
        groups["E"] = tuple(f"E.{key}" for key in results["E"])
    return values, limits, groups


def _judge_error(name: str, expected: dict[str, Any] | None, raised: InputError) -> CaseOutcome:
    if expected is None:
        return CaseOutcome(name, False, math.inf, f"rejected: {raised}")
    details = {"kind": raised.code, **(raised.details or {})}
    mismatched = [key for key, value in expected.items() if details.get(key) != value]
    if mismatched:
        return CaseOutcome(name, False, math.inf, f"error {details} differs from expected {expected} in {mismatched}")
    return CaseOutcome(name, True, 0.0)


def _compare(
    name: str, got: dict[str, Any], expected: dict[str, Any], embedder: str, tolerances: dict[str, Any]
) -> CaseOutcome:
    ap_tolerance = float(tolerances["ap_trigram256" if embedder == "trigram256" else "ap_minilm"])
    fraction_tolerance = float(tolerances["fractions"])
    deviations: dict[str, float] = {"n": 0.0 if got["n"] == expected["n"] else math.inf}
    if set(got["per_type"]) != set(expected["per_type"]):
        return CaseOutcome(name, False, math.inf, f"types {sorted(got['per_type'])} != {sorted(expected['per_type'])}")
    for question_type, values in expected["per_type"].items():
        mine = got["per_type"][question_type]
        for key, value in values.items():
            label = f"{question_type}.{key}"
            if isinstance(value, dict):  # per-embedder values (mAP_all, mAP_present, ap_present)
                value = value[embedder]
                if key == "ap_present":
                    if [index for index, _ in mine[key]] != [index for index, _ in value]:
                        deviations[label] = math.inf
                        continue
                    deviations[label] = max(
                        (deviation(a, b, abs_=ap_tolerance) for (_, a), (_, b) in zip(mine[key], value)), default=0.0
                    )
                else:
                    deviations[label] = deviation(mine[key], value, abs_=ap_tolerance)
            elif key in _FRACTIONS:
                deviations[label] = deviation(mine[key], value, abs_=fraction_tolerance)
            else:
                deviations[label] = 0.0 if mine.get(key) == value else math.inf
    for key, value in expected["E"].items():
        deviations[f"E.{key}"] = deviation(got["E"].get(key), value, abs_=fraction_tolerance)
    worst_key = max(deviations, key=deviations.__getitem__)
    worst = deviations[worst_key]
    return CaseOutcome(
        name, worst <= 1.0, worst, "" if worst <= 1.0 else f"{worst_key}: deviation {worst:.3g} x tolerance"
    )
