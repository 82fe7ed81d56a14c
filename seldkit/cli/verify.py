"""``seldkit verify [--suite NAME] [--impl-command CMD | --impl-python MOD:FUNC] [--names MAP] [--junit XML]``.

Without ``--impl-*`` it runs the golden regression suites against seldkit itself; with one, it checks another
implementation (a lab's own metric code) against the same cases (:mod:`seldkit.regression.external`).
"""

from __future__ import annotations

import argparse
import math
import os
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seldkit.regression import SuiteOutcome
    from seldkit.regression.external import CaseResult


def register(commands: Any) -> None:
    """Add the ``verify`` command to the subcommand parsers ``commands``."""
    parser = commands.add_parser(
        "verify",
        help="run the metric regression suites against this installation or another implementation",
        description="Run the regression suites under metrics/regression (golden cases from the published "
        "implementations) against seldkit, or with --impl-command / --impl-python against another metric "
        "implementation; print one row per suite and every failure; exit 0 only if every case that ran passed.",
    )
    parser.add_argument(
        "--suite",
        metavar="NAME",
        action="append",
        help="run only this suite or family, e.g. clip, dcase, dcase/2024 (repeatable)",
    )
    parser.add_argument(
        "--regression-dir",
        metavar="DIR",
        type=Path,
        help="run the suites found in DIR instead of the ones shipped with seldkit",
    )
    impl = parser.add_mutually_exclusive_group()
    impl.add_argument(
        "--impl-command",
        metavar="CMD",
        help="check this program instead of seldkit, run once per case: placeholders {preds} {ref} {out} "
        "{config} {params} {suite} {case}; it writes a JSON of metric names to values to {out}",
    )
    impl.add_argument(
        "--impl-python",
        metavar="MODULE:FUNCTION",
        help="check this Python function instead of seldkit: function(predictions, references[, config=, "
        "params=]) -> {metric: value}, given the case's inputs in memory (FILE.py:FUNCTION also works)",
    )
    parser.add_argument(
        "--names",
        metavar="MAP.yaml",
        type=Path,
        help="YAML mapping the implementation's metric names to seldkit's (NAME: SELDKIT_NAME or "
        "NAME: {name: SELDKIT_NAME, scale: 0.01})",
    )
    parser.add_argument(
        "--case",
        metavar="PATTERN",
        action="append",
        help="with --impl-*: only the cases whose id (CASE/CONFIG, e.g. random_003/macro) matches this shell "
        "pattern (repeatable)",
    )
    parser.add_argument("--junit", metavar="XML", type=Path, help="also write a JUnit XML report here")
    parser.add_argument(
        "--jobs",
        metavar="N",
        type=_job_count,
        help="cases run at a time with --impl-command (default: the number of CPUs, at most 8)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``seldkit verify``: one row per suite, then each failure; the exit code (0: every case that ran passed)."""
    from seldkit.cli.options import output_file
    from seldkit.errors import InputError
    from seldkit.regression import select_suites
    from seldkit.resources import shipped_dir

    implementation = args.impl_command or args.impl_python
    if not implementation and (args.names or args.jobs or args.case):
        raise InputError("--names, --jobs and --case apply to --impl-command / --impl-python")
    output_file(args.junit, what="JUnit report")
    root = args.regression_dir or shipped_dir("metrics") / "regression"
    suites = select_suites(root, args.suite)
    if implementation:
        return _run_implementation(args, suites)
    return _run_seldkit(args, suites)


def _run_seldkit(args: argparse.Namespace, suites: dict[str, Path]) -> int:
    from seldkit.regression import run_suite

    outcomes = [run_suite(name, folder) for name, folder in suites.items()]
    width = max(5, *(len(outcome.suite) for outcome in outcomes))
    print(f"{'suite':<{width}}  {'passed':>9}  {'worst deviation / tolerance':>27}  result")
    for outcome in outcomes:
        passed = f"{outcome.n_passed}/{len(outcome.cases)}"
        worst = "—" if outcome.problem else _ratio(outcome.worst)
        verdict = "ok" if outcome.passed else "FAIL"
        print(f"{outcome.suite:<{width}}  {passed:>9}  {worst:>27}  {verdict}")
    for outcome in outcomes:
        if outcome.problem:
            print(f"{outcome.suite}: {outcome.problem}")
        for case in outcome.cases:
            if not case.passed:
                print(f"{outcome.suite}/{case.case}: {case.detail}")
    if args.junit:
        from seldkit.regression.junit import write_junit

        write_junit(args.junit, [(outcome.suite, _own_junit_cases(outcome)) for outcome in outcomes])
    return 0 if all(outcome.passed for outcome in outcomes) else 1


def _own_junit_cases(outcome: SuiteOutcome) -> list[Any]:
    from seldkit.regression.junit import JunitCase

    if outcome.problem:
        return [JunitCase("suite", "failed", outcome.problem)]
    return [JunitCase(case.case, "passed" if case.passed else "failed", case.detail) for case in outcome.cases]


def _run_implementation(args: argparse.Namespace, suites: dict[str, Path]) -> int:
    import fnmatch

    from seldkit.errors import InputError
    from seldkit.regression.external import (
        NO_NAMES,
        check_cases,
        command_implementation,
        python_implementation,
        read_name_map,
    )
    from seldkit.regression.golden_cases import suite_cases

    chosen = {name: list(suite_cases(name, folder)) for name, folder in suites.items()}
    if args.case:
        chosen = {
            name: [case for case in cases if any(fnmatch.fnmatchcase(case.id, pattern) for pattern in args.case)]
            for name, cases in chosen.items()
        }
        chosen = {name: cases for name, cases in chosen.items() if cases}
        if not chosen:
            raise InputError(f"no case matches --case {' '.join(args.case)}")
    known = {metric for cases in chosen.values() for case in cases for metric in case.tolerances}
    names = read_name_map(args.names, known=known) if args.names else NO_NAMES
    if args.impl_command:
        implementation = command_implementation(args.impl_command)
        jobs = args.jobs or min(8, os.cpu_count() or 1)
        print(f"implementation: command {args.impl_command}")
    else:
        implementation = python_implementation(args.impl_python)
        jobs = 1  # a Python function runs in this process; its own code decides about threads
        print(f"implementation: python {args.impl_python}")
    results = {name: check_cases(cases, implementation, names=names, jobs=jobs) for name, cases in chosen.items()}

    width = max(5, *(len(name) for name in results))
    header = ("cases", "passed", "failed", "skipped", "worst / tolerance")
    print(f"{'suite':<{width}}  " + "  ".join(f"{title:>{len(title)}}" for title in header) + "  result")
    for name, checked in results.items():
        counts = {
            status: sum(result.status == status for result in checked) for status in ("passed", "failed", "skipped")
        }
        compared = [result.worst for result in checked if any(group.checks for group in result.groups)]
        worst = _ratio(max(compared)) if compared else "—"  # nothing compared: every case crashed or was skipped
        cells = (len(checked), counts["passed"], counts["failed"], counts["skipped"], worst)
        row = "  ".join(f"{cell:>{len(title)}}" for cell, title in zip(cells, header))
        print(f"{name:<{width}}  {row}  {_verdict(checked)}")
    for name, checked in results.items():
        for result in checked:
            if result.status == "failed" and result.case_reason:
                print(f"FAIL {name}/{result.case.id}: {result.case_reason}")
                continue
            for group in result.groups:
                if group.status == "failed":
                    print(f"FAIL {name}/{result.case.id} [{group.group}]: {group.detail}")
    for name, checked in results.items():
        for reason, ids in _skip_reasons(checked).items():
            shown = ", ".join(ids[:4]) + (f", ... ({len(ids)} in all)" if len(ids) > 4 else "")
            print(f"skipped {name}: {reason}: {shown}")
    if args.junit:
        from seldkit.regression.junit import write_junit

        write_junit(args.junit, [(name, _impl_junit_cases(checked)) for name, checked in results.items()])
    return 0 if all(_verdict(checked) == "ok" for checked in results.values()) else 1


def _verdict(checked: list[CaseResult]) -> str:
    """``ok`` when no case failed and at least one ran and passed."""
    statuses = {result.status for result in checked}
    return "ok" if "failed" not in statuses and "passed" in statuses else "FAIL"


def _skip_reasons(checked: list[CaseResult]) -> dict[str, list[str]]:
    """Skipped cases by reason (a case counts once per reason, under the reason of its first skipped group)."""
    reasons: dict[str, list[str]] = defaultdict(list)
    for result in checked:
        if result.status == "skipped" and result.groups:
            reasons[result.groups[0].reason].append(result.case.id)
    return dict(reasons)


def _impl_junit_cases(checked: list[CaseResult]) -> list[Any]:
    from seldkit.regression.junit import JunitCase

    cases = []
    for result in checked:
        share = result.seconds / max(1, len(result.groups))
        for group in result.groups:
            cases.append(JunitCase(f"{result.case.id} [{group.group}]", group.status, group.detail, share))
    return cases


def _job_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of jobs, got {text!r}") from None
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(f"--jobs must lie in 1..256, got {text!r}")
    return value


def _ratio(value: float) -> str:
    if math.isinf(value):
        return "inf"
    return "0" if value == 0.0 else f"{value:.2e}"
