"""``seldkit verify [--suite NAME] [--regression-dir DIR]``: run the golden regression suites."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    """Add the ``verify`` command to the subcommand parsers ``commands``."""
    parser = commands.add_parser(
        "verify",
        help="run the metric regression suites against this installation",
        description="Run every regression suite under metrics/regression (golden cases from the published "
        "implementations) and print one row per suite; exit 0 only if every case passes.",
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
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``seldkit verify``: one row per suite, then each failure; the exit code is 0 only if every case passed."""
    from seldkit.errors import InputError
    from seldkit.regression import discover_suites, run_suite
    from seldkit.resources import shipped_dir

    root = args.regression_dir or shipped_dir("metrics") / "regression"
    if not root.is_dir():
        raise InputError("regression folder not found", file=str(root))
    suites = discover_suites(root)
    if args.suite:
        selected: dict[str, Path] = {}
        for wanted in args.suite:
            matches = {
                name: folder for name, folder in suites.items() if name == wanted or name.startswith(wanted + "/")
            }
            if not matches:
                raise InputError(f"unknown suite {wanted!r} (known: {', '.join(suites) or 'none'})")
            selected.update(matches)
        suites = selected
    if not suites:
        raise InputError("no regression suites (folders with an expected.json) found", file=str(root))

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
    return 0 if all(outcome.passed for outcome in outcomes) else 1


def _ratio(value: float) -> str:
    if math.isinf(value):
        return "inf"
    return "0" if value == 0.0 else f"{value:.2e}"
