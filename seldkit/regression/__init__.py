"""Regression suites: golden cases with expected values under ``metrics/regression/<suite>/``.

``seldkit verify`` runs every suite against the installed implementation. Each suite folder holds an
``expected.json`` with tolerances; a runner module per suite kind (see :data:`SUITE_RUNNERS`) scores its cases
through the same code paths as ``seldkit score`` and compares.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from pathlib import Path

# Suite family (first folder under metrics/regression) -> module with ``run_suite(folder) -> SuiteOutcome``.
SUITE_RUNNERS: dict[str, str] = {
    "clip": "seldkit.regression.clip",
    "dcase": "seldkit.regression.dcase",
    "qa": "seldkit.regression.qa",
}


@dataclass(frozen=True)
class CaseOutcome:
    """One checked case; ``worst`` is the largest deviation as a fraction of its tolerance (> 1 fails)."""

    case: str
    passed: bool
    worst: float
    detail: str = ""


@dataclass(frozen=True)
class SuiteOutcome:
    """The outcome of one suite: its checked cases, or the ``problem`` that kept it from running."""

    suite: str
    cases: tuple[CaseOutcome, ...]
    problem: str = ""  # a suite that could not run at all

    @property
    def n_passed(self) -> int:
        """How many cases passed."""
        return sum(case.passed for case in self.cases)

    @property
    def passed(self) -> bool:
        """Whether the suite ran and every one of its cases (at least one) passed."""
        return not self.problem and bool(self.cases) and all(case.passed for case in self.cases)

    @property
    def worst(self) -> float:
        """The largest ``worst`` of the cases (0 without cases)."""
        return max((case.worst for case in self.cases), default=0.0)


def discover_suites(root: Path) -> dict[str, Path]:
    """The suites under ``root`` by name (``clip``, ``dcase/2024``): folders one or two levels down.

    A suite is a folder holding an ``expected.json``.
    """
    folders = [*root.glob("*/expected.json"), *root.glob("*/*/expected.json")]
    return {path.parent.relative_to(root).as_posix(): path.parent for path in sorted(folders)}


def select_suites(root: Path, wanted: list[str] | None) -> dict[str, Path]:
    """The suites under ``root`` named in ``wanted`` (a name or a family such as ``dcase``); all when None.

    A name that matches no suite, or a folder without suites, is an :class:`~seldkit.errors.InputError`.
    """
    from seldkit.errors import InputError

    if not root.is_dir():
        raise InputError("regression folder not found", file=str(root))
    suites = discover_suites(root)
    if not suites:
        raise InputError("no regression suites (folders with an expected.json) found", file=str(root))
    if not wanted:
        return suites
    selected: dict[str, Path] = {}
    for name in wanted:
        matches = {found: folder for found, folder in suites.items() if found == name or found.startswith(name + "/")}
        if not matches:
            raise InputError(f"unknown suite {name!r} (known: {', '.join(suites)})")
        selected.update(matches)
    return selected


def cases(suite: str, *, regression_dir: Path | None = None) -> list[RegressionCase]:
    """The cases of ``suite`` (``"dcase/2024"``, ``"clip"``; a family such as ``"dcase"`` gives all its years).

    For ``pytest.mark.parametrize``::

        @pytest.mark.parametrize("case", seldkit.regression.cases("dcase/2024"), ids=lambda case: case.id)
        def test_my_scorer(case):
            predictions, references = case.load()
            got = my_scorer(predictions, references, **case.params)
            assert all(deviation <= 1 for deviation in case.deviations(got).values())

    >>> case = cases("dcase/2024")[0]
    >>> case.id, case.expected["ER_20"], case.tolerances["ER_20"].describe()
    ('perfect_3classes/macro', 0.0, '1e-09 relative')

    An unknown suite is an :class:`~seldkit.errors.InputError` listing the known ones.
    """
    from seldkit.regression.golden_cases import suite_cases
    from seldkit.resources import shipped_dir

    root = regression_dir or shipped_dir("metrics") / "regression"
    return [case for name, folder in select_suites(root, [suite]).items() for case in suite_cases(name, folder)]


def run_suite(name: str, folder: Path) -> SuiteOutcome:
    """Run one suite.

    An ``expected.json`` that is not a suite description of its kind (unreadable, another shape, values that are not
    numbers) is an :class:`~seldkit.errors.InputError` naming it.
    """
    from seldkit.errors import InputError

    family = name.split("/")[0]
    module_name = SUITE_RUNNERS.get(family)
    if module_name is None:
        return SuiteOutcome(name, (), problem=f"no runner for suites of kind {family!r}")
    try:
        outcome = importlib.import_module(module_name).run_suite(folder)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        if not _raised_by_a_runner(error):
            raise  # deeper down: a bug, not the suite description
        # The runners read expected.json by using it; a field that does not have the shape of the shipped suites
        # fails right there, and is reported with the field that failed.
        detail = f"no field {error.args[0]!r}" if isinstance(error, KeyError) else " ".join(str(error).split())[:160]
        raise InputError(f"not a {family} suite description ({detail})", file=str(folder / "expected.json")) from None
    return SuiteOutcome(name, outcome.cases, outcome.problem)


def _raised_by_a_runner(error: BaseException) -> bool:
    """Whether ``error`` was raised by a suite runner's own code (where it reads the expected values).

    That is, the innermost Python frame of ``error`` is in a runner, not in a function it called.
    """
    traceback = error.__traceback__
    if traceback is None:
        return False
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    return Path(traceback.tb_frame.f_code.co_filename).resolve().parent == Path(__file__).resolve().parent


def read_expected(folder: Path) -> dict:
    """A suite's ``expected.json``: a JSON object (read with the checks of every input file)."""
    from seldkit.errors import InputError
    from seldkit.io.jsonfile import read_json_file

    path = folder / "expected.json"
    document = read_json_file(path)
    if not isinstance(document, dict) or not isinstance(document.get("cases"), (dict, list)):
        raise InputError("a suite description is a JSON object with its cases", file=str(path))
    return document


def deviation(got: float | None, expected: float | None, *, rel: float = 0.0, abs_: float = 0.0) -> float:
    """|got - expected| as a fraction of the allowed difference ``max(abs_, rel * max(|got|, |expected|))``.

    None and NaN mean "undefined" and match only each other, an infinity only the same infinity; an allowed
    difference of 0 demands equality (deviation 0 or infinity).

    >>> deviation(1.5, 1.0, abs_=1.0)
    0.5
    >>> deviation(None, float("nan"))
    0.0
    >>> deviation(0.0, 1e-300, rel=1e-9) > 1  # an expected value near 0 still demands a near match
    True
    >>> deviation(float("inf"), float("inf"), rel=1e-9), deviation(1e300, float("inf"), rel=1e-9)
    (0.0, inf)
    """
    got_missing = got is None or (isinstance(got, float) and math.isnan(got))
    expected_missing = expected is None or (isinstance(expected, float) and math.isnan(expected))
    if got_missing or expected_missing:
        return 0.0 if got_missing and expected_missing else math.inf
    assert got is not None and expected is not None
    if math.isinf(got) or math.isinf(expected):  # the arithmetic below would give NaN
        return 0.0 if float(got) == float(expected) else math.inf
    difference = abs(float(got) - float(expected))
    allowed = max(abs_, rel * max(abs(float(got)), abs(float(expected))))
    if difference == 0.0:
        return 0.0
    return difference / allowed if allowed > 0 else math.inf


# The names a lab's code and tests use (``seldkit.regression.SkipCase``, ``seldkit.regression.RegressionCase``).
from seldkit.regression.external import SkipCase  # noqa: E402
from seldkit.regression.golden_cases import RegressionCase  # noqa: E402

__all__ = ["RegressionCase", "SkipCase", "cases", "deviation", "discover_suites", "run_suite", "select_suites"]
