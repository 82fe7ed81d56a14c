"""Runner of the clip-metric golden suite (``metrics/regression/clip``): every case in both modes.

Cases whose class columns are exactly the 355 AudioSet classes run under ``bat-encoder`` /
``bat-encoder-continuous``, the others under ``clip`` / ``clip-continuous``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from seldkit.errors import InputError
from seldkit.protocols import Protocol, load_protocol
from seldkit.regression import CaseOutcome, SuiteOutcome, deviation, read_expected
from seldkit.regression.golden_cases import RegressionCase, Tolerance, metric_groups
from seldkit.results import file_digest
from seldkit.scoring.clip import score_clip_files

_PROTOCOLS = {
    ("generic", "reference"): "clip",
    ("generic", "continuous"): "clip-continuous",
    ("audioset", "reference"): "bat-encoder",
    ("audioset", "continuous"): "bat-encoder-continuous",
}
_EXACT = ("n_clips", "n_classes_scored")
# How a report groups the scalar metrics (per_class_AP is checked by `seldkit verify`, not offered to others).
METRIC_GROUPS = {
    "events": ("mAP", "n_classes_scored"),
    "direction": ("ER20", "MAE"),
    "distance": ("DER",),
    "clips": ("n_clips",),
}


def run_suite(folder: Path) -> SuiteOutcome:
    """Run the clip suite in ``folder``: every case in each mode it has expected values for, under its protocol."""
    expected = read_expected(folder)
    tolerances = expected["tolerances"]
    protocols = {key: load_protocol(name) for key, name in _PROTOCOLS.items()}
    audioset = set(protocols[("audioset", "reference")].classes.ids)  # type: ignore[union-attr]
    outcomes: list[CaseOutcome] = []
    for case_id, case in expected["cases"].items():
        case_dir = folder / "cases" / case_id
        integrity = _check_files(case_dir, case.get("files", {}))
        class_kind = "audioset" if set(case.get("classes", [])) == audioset else "generic"
        for mode in ("reference", "continuous"):
            if mode not in case:
                continue
            name = f"{case_id}/{mode}"
            if integrity:
                outcomes.append(CaseOutcome(name, False, math.inf, integrity))
                continue
            outcomes.append(_run_case(name, case_dir, case, case[mode], protocols[(class_kind, mode)], tolerances))
    return SuiteOutcome(folder.name, tuple(outcomes))


def iter_cases(name: str, folder: Path) -> Iterator[RegressionCase]:
    """The suite's cases as :class:`RegressionCase` objects, one per case and mode (``reference``, ``continuous``).

    ``params`` holds the ``mode`` and the ``classes`` (the class-score columns in order); the expected values are
    the scalar metrics (``per_class_AP`` is left to ``seldkit verify``).
    """
    expected = read_expected(folder)
    tolerances = expected["tolerances"]
    for case_id, case in expected["cases"].items():
        case_dir = folder / "cases" / case_id
        for mode in ("reference", "continuous"):
            if mode not in case:
                continue
            values = {key: value for key, value in case[mode].items() if key != "per_class_AP"}
            yield RegressionCase(
                suite=name,
                case=case_id,
                config=mode,
                description=case.get("description", ""),
                predictions=case_dir / "preds.csv",
                references=case_dir / "refs.csv",
                params={"mode": mode, "classes": list(case.get("classes", []))},
                expected=values,
                tolerances={key: Tolerance(*_tolerance(tolerances, key)) for key in values},
                groups=metric_groups(METRIC_GROUPS, values),
                tags=tuple(case.get("tags", ())),
            )


def _check_files(case_dir: Path, digests: dict[str, str]) -> str:
    for file_name, digest in digests.items():
        path = case_dir / file_name
        if not path.is_file():
            return f"{file_name} is missing"
        if file_digest(path) != f"sha256:{digest}":
            return f"{file_name} differs from the file the expected values were computed on"
    return ""


def _run_case(
    name: str,
    case_dir: Path,
    case: dict[str, Any],
    expected: dict[str, Any],
    protocol: Protocol,
    tolerances: dict[str, dict[str, float]],
) -> CaseOutcome:
    try:
        score = score_clip_files(case_dir / "preds.csv", case_dir / "refs.csv", protocol)
    except InputError as error:
        return CaseOutcome(name, False, math.inf, f"rejected: {error}")
    got: dict[str, Any] = dict(score.metrics.scalars())
    if score.metrics.per_class_AP is not None:
        got["per_class_AP"] = list(score.metrics.per_class_AP)
    if set(got) != set(expected):
        return CaseOutcome(name, False, math.inf, f"metrics {sorted(got)} but expected {sorted(expected)}")
    if "classes" in case and list(score.evaluation.class_ids) != list(case["classes"]):
        return CaseOutcome(name, False, math.inf, "class order differs from the expected per-class order")

    deviations: dict[str, float] = {}
    for key, expected_value in expected.items():
        if key in _EXACT:
            deviations[key] = 0.0 if got[key] == expected_value else math.inf
        elif key == "per_class_AP":
            rel, abs_ = _tolerance(tolerances, key)
            pairs = zip(got[key], expected_value, strict=True)
            deviations[key] = max((deviation(g, e, rel=rel, abs_=abs_) for g, e in pairs), default=0.0)
        else:
            rel, abs_ = _tolerance(tolerances, key)
            deviations[key] = deviation(got[key], expected_value, rel=rel, abs_=abs_)
    worst_key = max(deviations, key=deviations.__getitem__)
    worst = deviations[worst_key]
    passed = worst <= 1.0
    detail = "" if passed else f"{worst_key}: deviation {worst:.3g} x tolerance"
    return CaseOutcome(name, passed, worst, detail)


def _tolerance(tolerances: dict[str, dict[str, float]], key: str) -> tuple[float, float]:
    spec = tolerances.get(key, {})
    return float(spec.get("rel", 0.0)), float(spec.get("abs_deg", spec.get("abs", 0.0)))
