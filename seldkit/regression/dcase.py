"""Runner of the DCASE Task 3 golden suites (``metrics/regression/dcase/<year>``).

Every case runs through :func:`seldkit.scoring.dcase.score_dcase_folders` under the year's protocol in every
configuration the official code was run in, and its metrics, class-wise values and accumulators are compared
with the official outputs; multi-file cases also compare the jackknife intervals.

Tolerances follow each year's README: 1e-9 relative, except angles in degrees (2022/2023: 1e-4 absolute;
2024: 1e-3 absolute, 1e-3 x DE_TP on the angle sum) — near 0 degrees arccos is ill-conditioned and NumPy
versions differ there. SELD contains the angle error divided by 180, so it gets the angle tolerance / 180.

Where the official code silently drops input, seldkit's default is stricter (see :data:`COMPAT_CASES`); those
cases are compared under ``--dcase-compat``, and the tests check the default behaviour. Where the official code
raises, seldkit's documented behaviour is checked instead (:data:`DOCUMENTED_ERRORS`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np

from seldkit.errors import InputError
from seldkit.metrics.dcase.years import YEAR_RULES
from seldkit.protocols import load_protocol, with_settings
from seldkit.regression import CaseOutcome, SuiteOutcome, deviation, read_expected
from seldkit.regression.golden_cases import RegressionCase, Tolerance, metric_groups
from seldkit.scoring.dcase import DcaseReport, score_dcase_folders

# Official silent skips that seldkit's default replaces by an error or by counting misses.
COMPAT_CASES = frozenset(
    {"missing_prediction_file", "class_index_out_of_range", "pred_in_2023_format", "missing_header"}
)
# Official failures -> seldkit's behaviour: "input-error" (exit 2 with a message) or "empty-window" (a reference
# without events is scored over zero frames, as the 2025 code does).
DOCUMENTED_ERRORS = {
    "empty_reference": "empty-window",
    "empty_both": "empty-window",
    "distance_absent": "input-error",
    "pred_in_2022_format": "input-error",
}
ANGLE_TOLERANCE_DEG = {2022: 1e-4, 2023: 1e-4, 2024: 1e-3, 2025: 0.0}
RELATIVE_TOLERANCE = 1e-9
# Jackknife bounds subtract nearly equal numbers (bias = (n-1)(mean - full)), which magnifies last-bit
# differences in the order of summation; 1e-8 relative still pins every digit anyone reports.
JACKKNIFE_RELATIVE_TOLERANCE = 1e-8
_ANGLE_METRICS = frozenset({"LE_CD", "DOAE_CD", "total_DE"})
# How a report groups the scalar metrics of every year (a name a year lacks is left out).
METRIC_GROUPS = {
    "detection": ("ER_20", "F_20"),
    "localisation": ("LE_CD", "DOAE_CD", "LR_CD"),
    "distance": ("DistE_CD", "RDE_CD"),
    "SELD": ("SELD",),
    "onscreen": ("OnscreenAcc",),
}


def run_suite(folder: Path) -> SuiteOutcome:
    """Run one year's DCASE suite in ``folder``: every case in each configuration it has expected values for."""
    expected = read_expected(folder)
    year = expected.get("year")
    if year not in YEAR_RULES:
        raise InputError(
            f"year must be one of {', '.join(map(str, YEAR_RULES))}, not {year!r}", file=str(folder / "expected.json")
        )
    base = load_protocol(f"dcase{year}-task3")
    challenge = expected["configs"][0]["name"]
    outcomes: list[CaseOutcome] = []
    for case in expected["cases"]:
        case_dir = folder / "cases" / case["id"]
        compat = case["id"] in COMPAT_CASES
        reports: dict[str, DcaseReport] = {}
        for config, result in case["results"].items():
            name = f"{case['id']}/{config}"
            try:
                protocol = with_settings(base, configuration=config, compat=compat)
            except InputError as error:
                raise InputError(f"case {case['id']!r}: {error.problem}", file=str(folder / "expected.json")) from None
            try:
                report = score_dcase_folders(case_dir / "pred", case_dir / "ref", protocol)
            except InputError as error:
                outcomes.append(_judge_error(name, case["id"], result, error))
                continue
            reports[config] = report
            if not result["ok"]:
                outcomes.append(_judge_defined_value(name, case["id"], report))
                continue
            outcomes.append(_compare(name, year, report, result))
        jackknife = case.get("jackknife")
        if jackknife and jackknife.get("ok") and challenge in reports:
            outcomes.append(
                _compare_jackknife(f"{case['id']}/jackknife", year, case_dir, reports[challenge], jackknife)
            )
    return SuiteOutcome(folder.parent.name + "/" + folder.name, tuple(outcomes))


def iter_cases(name: str, folder: Path) -> Iterator[RegressionCase]:
    """The suite's cases as :class:`RegressionCase` objects: each case in each configuration, the official values.

    Where the official code silently drops input (:data:`COMPAT_CASES`) the expected values are the official ones
    (seldkit reproduces them under ``--dcase-compat``); where it raises, ``expected`` is None.
    """
    expected = read_expected(folder)
    year = expected.get("year")
    if year not in YEAR_RULES:
        raise InputError(
            f"year must be one of {', '.join(map(str, YEAR_RULES))}, not {year!r}", file=str(folder / "expected.json")
        )
    params = {config["name"]: dict(config.get("params", {})) for config in expected["configs"]}
    for case in expected["cases"]:
        case_dir = folder / "cases" / case["id"]
        tags = tuple(case.get("tags", ())) + (("official-silent-skip",) if case["id"] in COMPAT_CASES else ())
        for config, result in case["results"].items():
            metrics = {key: _value(value) for key, value in result["metrics"].items()} if result["ok"] else None
            names = list(metrics or ())
            yield RegressionCase(
                suite=name,
                case=case["id"],
                config=config,
                description=case.get("description", ""),
                predictions=case_dir / "pred",
                references=case_dir / "ref",
                params=params[config],
                expected=metrics,
                tolerances={key: Tolerance(*_tolerance(year, key)) for key in names},
                groups=metric_groups(METRIC_GROUPS, names),
                no_value="" if result["ok"] else "the official code raises on this input",
                tags=tags,
            )


def _judge_error(name: str, case_id: str, result: dict[str, Any], error: InputError) -> CaseOutcome:
    if result["ok"]:
        return CaseOutcome(name, False, math.inf, f"rejected: {error}")
    if DOCUMENTED_ERRORS.get(case_id) == "input-error":
        return CaseOutcome(name, True, 0.0)
    return CaseOutcome(
        name, False, math.inf, f"official code raises; seldkit raised instead of its documented value: {error}"
    )


def _judge_defined_value(name: str, case_id: str, report: DcaseReport) -> CaseOutcome:
    if DOCUMENTED_ERRORS.get(case_id) == "empty-window":
        empty_window = report.score.totals.counts["Nref"].sum() == 0 and bool(report.empty_references)
        if empty_window:
            return CaseOutcome(name, True, 0.0)
        return CaseOutcome(name, False, math.inf, "expected an empty evaluation window with a note")
    return CaseOutcome(name, False, math.inf, "official code raises; seldkit has no documented behaviour for this case")


def _tolerance(year: int, key: str, de_tp: float | None = None) -> tuple[float, float]:
    """(relative, absolute) allowance for one value."""
    angle = ANGLE_TOLERANCE_DEG[year]
    if key in _ANGLE_METRICS:
        return RELATIVE_TOLERANCE, angle
    if key == "total_AngE":
        return RELATIVE_TOLERANCE, angle * max(de_tp or 0.0, 1.0)
    if key == "SELD":
        return RELATIVE_TOLERANCE, angle / 180.0
    return RELATIVE_TOLERANCE, 0.0


def _value(value: Any) -> float | None:
    if value is None:
        return None
    if value == "inf":
        return math.inf
    return float(value)


def _deviation(got: Any, expected: Any, rel: float, abs_: float) -> float:
    got_value, expected_value = _value(got), _value(expected)
    if got_value is not None and expected_value is not None and math.isinf(expected_value):
        return 0.0 if got_value == expected_value else math.inf
    return deviation(got_value, expected_value, rel=rel, abs_=abs_)


def _compare(name: str, year: int, report: DcaseReport, result: dict[str, Any]) -> CaseOutcome:
    deviations: dict[str, float] = {}
    metrics = report.score.metrics
    if set(metrics) != set(result["metrics"]):
        return CaseOutcome(name, False, math.inf, f"metrics {sorted(metrics)} but expected {sorted(result['metrics'])}")
    for key, expected_value in result["metrics"].items():
        deviations[key] = _deviation(metrics[key], expected_value, *_tolerance(year, key))
    if result.get("classwise"):
        for key, expected_values in result["classwise"].items():
            got = report.score.classwise[key]  # type: ignore[index]
            deviations[f"classwise {key}"] = max(
                _deviation(g, e, *_tolerance(year, key)) for g, e in zip(got.tolist(), expected_values, strict=True)
            )
    counters = result.get("counters")
    if isinstance(counters, dict) and "same_as" not in counters:
        got_counters = report.score.totals.as_json()
        de_tp = report.score.totals.counts["DE_TP"]
        if set(got_counters) != set(counters):
            return CaseOutcome(
                name, False, math.inf, f"counters {sorted(got_counters)} but expected {sorted(counters)}"
            )
        for key, expected_value in counters.items():
            got = got_counters[key]
            if isinstance(expected_value, list):
                deviations[f"counter {key}"] = max(
                    _deviation(g, e, *_tolerance(year, key, float(de_tp[index])))
                    for index, (g, e) in enumerate(zip(cast(list, got), expected_value, strict=True))
                )
            else:
                deviations[f"counter {key}"] = _deviation(got, expected_value, *_tolerance(year, key))
    worst_key = max(deviations, key=deviations.__getitem__)
    worst = deviations[worst_key]
    return CaseOutcome(
        name, worst <= 1.0, worst, "" if worst <= 1.0 else f"{worst_key}: deviation {worst:.3g} x tolerance"
    )


def _compare_jackknife(
    name: str, year: int, case_dir: Path, report: DcaseReport, expected: dict[str, Any]
) -> CaseOutcome:
    from seldkit.metrics.dcase.evaluate import jackknife

    intervals = jackknife(report.score)
    deviations: dict[str, float] = {}
    for key, bounds in expected["ci"].items():
        abs_ = _tolerance(year, key)[1]
        rel = JACKKNIFE_RELATIVE_TOLERANCE
        deviations[key] = max(_deviation(g, e, rel, abs_) for g, e in zip(intervals.bounds[key], bounds))
    for key, rows in (expected.get("classwise_ci") or {}).items():
        abs_ = _tolerance(year, key)[1]
        rel = JACKKNIFE_RELATIVE_TOLERANCE
        got = np.asarray(intervals.per_class[key])  # type: ignore[index]
        deviations[f"classwise {key}"] = max(
            _deviation(g, e, rel, abs_) for got_row, row in zip(got.tolist(), rows) for g, e in zip(got_row, row)
        )
    worst_key = max(deviations, key=deviations.__getitem__)
    worst = deviations[worst_key]
    return CaseOutcome(
        name, worst <= 1.0, worst, "" if worst <= 1.0 else f"{worst_key}: deviation {worst:.3g} x tolerance"
    )
