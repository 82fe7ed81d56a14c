"""Runner of the DCASE Task 3 golden suites (``metrics/regression/dcase/<year>``).

Every case runs through :func:`seldkit.scoring.dcase.score_dcase_folders` under the year's protocol in every
configuration the official code was run in, and its metrics, class-wise values and accumulators are compared
with the official outputs; multi-file cases also compare the jackknife intervals.

Tolerances follow each year's README: 1e-9 relative, except angles in degrees (2019: 1e-6 absolute on DE;
2020-2023: 1e-4 absolute, 1e-3 in the 2020/2021 ``cartesian`` configuration; 2024: 1e-3 absolute) and angle
sums (the angle tolerance per matched block, track or direction) — near 0 degrees arccos is ill-conditioned and
NumPy versions differ there. SELD contains the angle error divided by 180, so it gets the angle tolerance / 180.
Multi-file cases of 2019-2021 also compare the official per-group breakdown.

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

_COMPAT_2022_2025 = frozenset(
    {"missing_prediction_file", "class_index_out_of_range", "pred_in_2023_format", "missing_header"}
)
# Per year, the official silent skips (and silent misreadings) that seldkit's default replaces by an error or by
# counting misses; these cases are compared under --dcase-compat.
COMPAT_CASES: dict[int, frozenset[str]] = {
    2019: frozenset({"missing_prediction_file", "negative_frame_index", "pred_class_minus1", "pred_with_track_column"}),
    2020: frozenset({"missing_prediction_file", "class_index_out_of_range", "pred_with_distance_7col"}),
    2021: frozenset(
        {"missing_prediction_file", "class_index_out_of_range", "pred_with_distance_7col", "pred_polar_5col"}
    ),
    **{year: _COMPAT_2022_2025 for year in (2022, 2023, 2024, 2025)},
}
_ERRORS_2022_2025 = {
    "empty_reference": "empty-window",
    "empty_both": "empty-window",
    "distance_absent": "input-error",
    "pred_in_2022_format": "input-error",
}
# Per year, official failures -> seldkit's behaviour: "input-error" (exit 2 with a message) or "empty-window" (a
# reference without events is scored over zero frames, as the 2025 code does).
DOCUMENTED_ERRORS: dict[int, dict[str, str]] = {
    2019: {
        "pred_class_11": "input-error",
        "pred_float_values": "input-error",
        "pred_header_line": "input-error",
        "ref_unknown_class_name": "input-error",
        "missing_prediction_file": "input-error",  # under --dcase-compat: the official script refuses to score
    },
    2020: {
        "pred_polar_5col": "input-error",
        "pred_header_line": "input-error",
        "pred_file_without_reference": "input-error",
    },
    2021: {
        "pred_polar_5col": "input-error",
        "pred_header_line": "input-error",
        "pred_file_without_reference": "input-error",
    },
    **{year: _ERRORS_2022_2025 for year in (2022, 2023, 2024, 2025)},
}
ANGLE_TOLERANCE_DEG = {2019: 1e-6, 2020: 1e-4, 2021: 1e-4, 2022: 1e-4, 2023: 1e-4, 2024: 1e-3, 2025: 0.0}
CARTESIAN_ANGLE_TOLERANCE_DEG = 1e-3  # 2020/2021 use_polar_format=False: the 1e-10 in each vector norm
RELATIVE_TOLERANCE = 1e-9
# Jackknife bounds subtract nearly equal numbers (bias = (n-1)(mean - full)), which magnifies last-bit
# differences in the order of summation; 1e-8 relative still pins every digit anyone reports.
JACKKNIFE_RELATIVE_TOLERANCE = 1e-8
_ANGLE_METRICS = frozenset({"LE_CD", "DOAE_CD", "DE", "total_DE"})
# Sums of angles, per class (lists) or pooled: the angle tolerance per summed block, track or direction.
_ANGLE_SUMS = {"total_AngE": "DE_TP", "total_DE": "DE_TP", "doa_loss_pred": "doa_loss_pred_cnt"}
# How a report groups the scalar metrics of every year (a name a year lacks is left out).
METRIC_GROUPS = {
    "detection": ("ER_20", "F_20", "ER", "F"),
    "localisation": ("LE_CD", "DOAE_CD", "LR_CD", "DE", "FR"),
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
        compat = case["id"] in COMPAT_CASES[year]
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
                outcomes.append(_judge_error(name, DOCUMENTED_ERRORS[year].get(case["id"]), result, error))
                continue
            reports[config] = report
            if not result["ok"]:
                outcomes.append(_judge_defined_value(name, DOCUMENTED_ERRORS[year].get(case["id"]), report))
                continue
            outcomes.append(_compare(name, year, report, result))
            if "groups" in result or "groups_error" in result:
                outcomes.append(_compare_groups(f"{name}/groups", year, report, result))
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
    class_names = {str(name): int(index) for name, index in (expected.get("class_names") or {}).items()}
    for case in expected["cases"]:
        case_dir = folder / "cases" / case["id"]
        tags = tuple(case.get("tags", ())) + (("official-silent-skip",) if case["id"] in COMPAT_CASES[year] else ())
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
                tolerances={key: Tolerance(*_tolerance(year, config, key)) for key in names},
                groups=metric_groups(METRIC_GROUPS, names),
                no_value="" if result["ok"] else "the official code raises on this input",
                tags=tags,
                class_names=class_names,
            )


def _judge_error(name: str, documented: str | None, result: dict[str, Any], error: InputError) -> CaseOutcome:
    if result["ok"]:
        return CaseOutcome(name, False, math.inf, f"rejected: {error}")
    if documented == "input-error":
        return CaseOutcome(name, True, 0.0)
    return CaseOutcome(
        name, False, math.inf, f"official code raises; seldkit raised instead of its documented value: {error}"
    )


def _judge_defined_value(name: str, documented: str | None, report: DcaseReport) -> CaseOutcome:
    if documented == "empty-window":
        empty_window = report.score.totals.counts["Nref"].sum() == 0 and bool(report.empty_references)
        if empty_window:
            return CaseOutcome(name, True, 0.0)
        return CaseOutcome(name, False, math.inf, "expected an empty evaluation window with a note")
    return CaseOutcome(name, False, math.inf, "official code raises; seldkit has no documented behaviour for this case")


def _tolerance(year: int, config: str, key: str, n_summed: float | None = None) -> tuple[float, float]:
    """(relative, absolute) allowance for one value; ``n_summed``: the number of angles in an angle sum."""
    angle = CARTESIAN_ANGLE_TOLERANCE_DEG if config == "cartesian" else ANGLE_TOLERANCE_DEG[year]
    if key in _ANGLE_SUMS and n_summed is not None:
        return RELATIVE_TOLERANCE, angle * max(n_summed, 1.0)
    if key in _ANGLE_METRICS:
        return RELATIVE_TOLERANCE, angle
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
    """:func:`deviation` of values as the golden files write them (``"inf"`` for infinity)."""
    return deviation(_value(got), _value(expected), rel=rel, abs_=abs_)


def _compare(name: str, year: int, report: DcaseReport, result: dict[str, Any]) -> CaseOutcome:
    deviations: dict[str, float] = {}
    metrics = report.score.metrics
    config = report.score.config.name
    if set(metrics) != set(result["metrics"]):
        return CaseOutcome(name, False, math.inf, f"metrics {sorted(metrics)} but expected {sorted(result['metrics'])}")
    for key, expected_value in result["metrics"].items():
        deviations[key] = _deviation(metrics[key], expected_value, *_tolerance(year, config, key))
    if result.get("classwise"):
        for key, expected_values in result["classwise"].items():
            got = report.score.classwise[key]  # type: ignore[index]
            deviations[f"classwise {key}"] = max(
                _deviation(g, e, *_tolerance(year, config, key))
                for g, e in zip(got.tolist(), expected_values, strict=True)
            )
    counters = result.get("counters")
    if isinstance(counters, dict) and "same_as" not in counters:
        totals = report.score.totals
        got_counters = totals.as_json(pooled=YEAR_RULES[year].scalar_counters)
        if set(got_counters) != set(counters):
            return CaseOutcome(
                name, False, math.inf, f"counters {sorted(got_counters)} but expected {sorted(counters)}"
            )
        for key, expected_value in counters.items():
            got = got_counters[key]
            summed = totals.counts.get(_ANGLE_SUMS.get(key, ""))
            if isinstance(expected_value, list):
                deviations[f"counter {key}"] = max(
                    _deviation(g, e, *_tolerance(year, config, key, None if summed is None else float(summed[index])))
                    for index, (g, e) in enumerate(zip(cast(list, got), expected_value, strict=True))
                )
            else:
                n_summed = None if summed is None else float(np.sum(summed))
                deviations[f"counter {key}"] = _deviation(got, expected_value, *_tolerance(year, config, key, n_summed))
    worst_key = max(deviations, key=deviations.__getitem__)
    worst = deviations[worst_key]
    return CaseOutcome(
        name, worst <= 1.0, worst, "" if worst <= 1.0 else f"{worst_key}: deviation {worst:.3g} x tolerance"
    )


def _compare_groups(name: str, year: int, report: DcaseReport, result: dict[str, Any]) -> CaseOutcome:
    """The official per-group breakdown; where the official script raised on the file names, none and a note."""
    if "groups_error" in result:
        if report.groups is None and any("breakdown" in note for note in report.notes):
            return CaseOutcome(name, True, 0.0)
        return CaseOutcome(name, False, math.inf, "expected no per-group breakdown (file names off the scheme)")
    if report.groups is None:
        return CaseOutcome(name, False, math.inf, "no per-group breakdown")
    config = report.score.config.name
    deviations: dict[str, float] = {}
    for group, expected_groups in result["groups"].items():
        got_groups = report.groups.get(group, {})
        if set(got_groups) != set(expected_groups):
            return CaseOutcome(
                name, False, math.inf, f"{group} groups {sorted(got_groups)}, expected {sorted(expected_groups)}"
            )
        for key, expected in expected_groups.items():
            got = got_groups[key]
            if sorted(got["files"]) != sorted(expected["files"]):
                return CaseOutcome(
                    name, False, math.inf, f"{group} {key}: files {got['files']}, expected {expected['files']}"
                )
            for metric, value in expected["metrics"].items():
                deviations[f"{group} {key} {metric}"] = _deviation(
                    got["metrics"][metric], value, *_tolerance(year, config, metric)
                )
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
    config = report.score.config.name
    for key, bounds in expected["ci"].items():
        abs_ = _tolerance(year, config, key)[1]
        rel = JACKKNIFE_RELATIVE_TOLERANCE
        deviations[key] = max(_deviation(g, e, rel, abs_) for g, e in zip(intervals.bounds[key], bounds))
    for key, rows in (expected.get("classwise_ci") or {}).items():
        abs_ = _tolerance(year, config, key)[1]
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
