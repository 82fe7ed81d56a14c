"""Checking another metric implementation against the golden cases (``seldkit verify --impl-command/--impl-python``).

An implementation is run on every case of the chosen suites and returns ``{metric name: value}``; each expected
metric it returns is compared at the suite's tolerance, group by group (detection, localisation, ... see the
suite runners' ``METRIC_GROUPS``). Three outcomes per case and group:

* **passed**: every returned metric of the group is within tolerance;
* **failed**: one is not (the report names the metric, both values and the deviation), or the implementation
  crashed, or it returned none of the expected metrics;
* **skipped**: the case has no expected value (the official code raises on it), the implementation declined it
  (:class:`SkipCase`, or ``{"skipped": "reason"}`` from a command), or it returned no metric of the group.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from seldkit.errors import InputError
from seldkit.regression.golden_cases import RegressionCase, Tolerance

Status = Literal["passed", "failed", "skipped"]
PLACEHOLDERS = ("preds", "ref", "out", "config", "params", "suite", "case")
COMMAND_TIMEOUT_S = 120.0


class SkipCase(Exception):
    """Raised by an implementation for a case it cannot take (e.g. an input form it does not read): not a failure."""


class ImplementationFailed(Exception):
    """The implementation crashed or returned something that is not a mapping of metric names to numbers."""


@dataclass(frozen=True)
class MetricCheck:
    """One expected metric against the implementation's value."""

    name: str
    got: float | None
    expected: float | None
    deviation: float  # as a fraction of the tolerance: > 1 fails
    tolerance: Tolerance

    @property
    def passed(self) -> bool:
        """Whether the value is within tolerance."""
        return self.deviation <= 1.0

    def describe(self) -> str:
        """``name: got X, expected Y (difference D = R x tolerance T)``."""
        if self.got is None or self.expected is None or not (math.isfinite(self.got) and math.isfinite(self.expected)):
            return f"{self.name}: got {_number(self.got)}, expected {_number(self.expected)}"
        difference = abs(self.got - self.expected)
        ratio = "inf" if math.isinf(self.deviation) else f"{self.deviation:.3g}"
        return (
            f"{self.name}: got {_number(self.got)}, expected {_number(self.expected)} "
            f"(difference {difference:.3g} = {ratio} x tolerance, {self.tolerance.describe()})"
        )


@dataclass(frozen=True)
class GroupResult:
    """The outcome of one metric group of one case."""

    group: str
    status: Status
    checks: tuple[MetricCheck, ...] = ()
    reason: str = ""  # why it failed or was skipped (failed checks are described by ``detail``)

    @property
    def detail(self) -> str:
        """The reason, or the failing metrics with both values and their deviation."""
        failing = [check.describe() for check in self.checks if not check.passed]
        return "; ".join(failing) or self.reason


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case: one result per metric group of the case (all with the same status if it did not run)."""

    case: RegressionCase
    groups: tuple[GroupResult, ...]
    seconds: float = 0.0

    @property
    def status(self) -> Status:
        """``failed`` if a group failed, else ``passed`` if a group passed, else ``skipped``."""
        statuses = {group.status for group in self.groups}
        return "failed" if "failed" in statuses else "passed" if "passed" in statuses else "skipped"

    @property
    def case_reason(self) -> str:
        """Why the case as a whole failed or was skipped (a crash, a declined case), else ``""``."""
        if any(group.checks for group in self.groups):
            return ""
        reasons = {group.reason for group in self.groups}
        return reasons.pop() if len(reasons) == 1 else ""

    @property
    def worst(self) -> float:
        """The largest deviation of the case's checked metrics, as a fraction of its tolerance (0 if none)."""
        return max((check.deviation for group in self.groups for check in group.checks), default=0.0)


@dataclass(frozen=True)
class NameMap:
    """A lab's metric names -> seldkit's (with a factor, e.g. 0.01 for values reported in percent)."""

    entries: Mapping[str, tuple[str, float]]

    def translate(self, values: Mapping[str, float | None]) -> dict[str, float | None]:
        """``values`` under seldkit's names; names without an entry are kept as they are."""
        translated: dict[str, float | None] = {}
        for name, value in values.items():
            target, factor = self.entries.get(name, (name, 1.0))
            translated[target] = value if value is None else value * factor
        return translated


NO_NAMES = NameMap({})


def read_name_map(path: Path, *, known: Iterable[str]) -> NameMap:
    """A ``--names`` file: YAML mapping each of the lab's names to a seldkit metric name or ``{name, scale}``.

    ::

        ER: ER_20
        F: {name: F_20, scale: 0.01}   # the lab reports F in percent

    Anything else (another shape, a target that is not a metric of the chosen suites, a scale that is not a
    finite non-zero number) is an :class:`InputError` naming the file and the entry.
    """
    from seldkit.io.yamlfile import read_yaml_file

    document = read_yaml_file(path, what="metric name map")
    if not isinstance(document, dict) or not document:
        raise InputError("a metric name map is a YAML mapping of your metric names to seldkit's", file=str(path))
    known_names = set(known)
    entries: dict[str, tuple[str, float]] = {}
    for source, target in document.items():
        where = f"entry {source!r}"
        scale: Any = 1.0
        if isinstance(target, dict):
            if set(target) - {"name", "scale"} or "name" not in target:
                raise InputError(f"{where}: give a metric name or {{name: ..., scale: ...}}", file=str(path))
            target, scale = target["name"], target.get("scale", 1.0)
        if not isinstance(source, str) or not isinstance(target, str):
            raise InputError(f"{where}: names are strings", file=str(path))
        if target not in known_names:
            raise InputError(
                f"{where}: {target!r} is not a metric of the chosen suites ({', '.join(sorted(known_names))})",
                file=str(path),
            )
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale == 0:
            raise InputError(f"{where}: scale must be a finite non-zero number, not {scale!r}", file=str(path))
        entries[source] = (target, float(scale))
    return NameMap(entries)


Implementation = Callable[[RegressionCase], Mapping[str, Any]]


def python_implementation(spec: str) -> Implementation:
    """``module:function`` or ``path/to/file.py:function``: a callable ``function(predictions, references, ...)``.

    It receives the case's inputs in their in-memory forms (:meth:`RegressionCase.load`) and, where its signature
    takes them, the keywords ``config`` (the configuration name) and ``params`` (its parameters); it returns the
    metrics as a mapping, and for a case it cannot take raises :class:`SkipCase` or returns
    ``{"skipped": "reason"}``. The current folder is importable,
    as under ``python -m``.
    """
    module_name, colon, attribute = spec.rpartition(":")
    if not colon or not module_name or not attribute:
        raise InputError(f"--impl-python takes MODULE:FUNCTION or FILE.py:FUNCTION, not {spec!r}")
    module = _import(module_name)
    function = getattr(module, attribute, None)
    if not callable(function):
        raise InputError(f"--impl-python: {module_name} has no function {attribute!r}")
    keywords = _accepted_keywords(function, ("config", "params"))

    def run(case: RegressionCase) -> Mapping[str, Any]:
        predictions, references = case.load()
        options = {"config": case.config, "params": dict(case.params)}
        try:
            return function(predictions, references, **{key: options[key] for key in keywords})
        except SkipCase:
            raise
        except Exception as error:  # noqa: BLE001 - the implementation under test failed on this case
            raise ImplementationFailed(f"raised {type(error).__name__}: {_one_line(str(error))}") from None

    return run


def command_implementation(template: str, *, timeout_s: float = COMMAND_TIMEOUT_S) -> Implementation:
    """A command line with placeholders, run once per case (no shell; arguments are split as a POSIX shell would).

    ``{preds}`` and ``{ref}`` are the case's input paths (DCASE: folders of CSV files; clip: CSV files), ``{out}``
    the JSON file the program writes (without ``{out}`` the JSON is read from its standard output), ``{config}``
    the configuration name, ``{params}`` a JSON file of its parameters, ``{suite}`` and ``{case}`` the names.
    The JSON is ``{metric: value}``, a seldkit results JSON (its ``metrics``), or ``{"skipped": "reason"}``.
    A non-zero exit status is a failed case.
    """
    try:
        arguments = shlex.split(template)
    except ValueError as error:
        raise InputError(f"--impl-command: cannot split the command line: {error}") from None
    used = {name for argument in arguments for name in re.findall(r"\{(\w*)\}", argument)}
    unknown = sorted(used - set(PLACEHOLDERS))
    if unknown:
        raise InputError(
            f"--impl-command: unknown placeholder {{{unknown[0]}}} (known: "
            + ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
            + ")"
        )
    if not {"preds", "ref"} <= used:
        raise InputError("--impl-command needs the placeholders {preds} and {ref}")
    if not arguments or shutil.which(arguments[0]) is None:
        raise InputError(f"--impl-command: program {arguments[0] if arguments else ''!r} not found")

    def run(case: RegressionCase) -> Mapping[str, Any]:
        with tempfile.TemporaryDirectory(prefix="seldkit-impl-") as scratch:
            out = Path(scratch) / "metrics.json"
            params = Path(scratch) / "params.json"
            params.write_text(json.dumps(dict(case.params)), encoding="utf-8")
            values = {
                "preds": str(case.predictions),
                "ref": str(case.references),
                "out": str(out),
                "config": case.config,
                "params": str(params),
                "suite": case.suite,
                "case": case.case,
            }
            command = [re.sub(r"\{(\w+)\}", lambda match: values[match.group(1)], part) for part in arguments]
            try:
                completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
            except subprocess.TimeoutExpired:
                raise ImplementationFailed(f"did not finish within {timeout_s:g} s") from None
            except OSError as error:
                raise ImplementationFailed(f"could not start: {error.strerror or error}") from None
            if "out" in used:
                text = out.read_text(encoding="utf-8", errors="replace") if out.is_file() else ""
            else:
                text = completed.stdout
            document = _parse_output(text)
            if isinstance(document, dict) and isinstance(document.get("skipped"), str):
                raise SkipCase(document["skipped"])
            if completed.returncode != 0:
                last = _last_line(completed.stderr) or _last_line(completed.stdout)
                raise ImplementationFailed(f"exited with status {completed.returncode}: {last}")
            if document is None:
                raise ImplementationFailed("wrote no JSON" + (" to {out}" if "out" in used else " on its output"))
            return document

    return run


def check_cases(
    cases: list[RegressionCase], implementation: Implementation, *, names: NameMap = NO_NAMES, jobs: int = 1
) -> list[CaseResult]:
    """Run ``implementation`` on every case (``jobs`` at a time) and compare; results in the order of ``cases``."""
    if jobs <= 1:
        return [check_case(case, implementation, names=names) for case in cases]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda case: check_case(case, implementation, names=names), cases))


def check_case(case: RegressionCase, implementation: Implementation, *, names: NameMap = NO_NAMES) -> CaseResult:
    """Run ``implementation`` on one case and compare each expected metric it returns, group by group."""
    if case.expected is None:
        return _all(case, "skipped", f"no expected value: {case.no_value}")
    start = time.perf_counter()
    try:
        returned = implementation(case)
        if isinstance(returned, Mapping) and isinstance(returned.get("skipped"), str):
            raise SkipCase(returned["skipped"])
        values = names.translate(_metric_values(returned))
    except SkipCase as skip:
        return _all(case, "skipped", f"declined by the implementation: {_one_line(str(skip)) or 'no reason given'}")
    except ImplementationFailed as failure:
        return _all(case, "failed", str(failure))
    seconds = time.perf_counter() - start
    deviations = case.deviations(values)
    if not deviations:
        returned_names = ", ".join(sorted(values)) or "nothing"
        return _all(
            case,
            "failed",
            f"returned none of the expected metrics ({', '.join(case.expected)}); it returned {returned_names} "
            "(translate names with --names)",
        )
    groups = []
    for group, metrics in case.groups.items():
        checks = tuple(
            MetricCheck(name, values[name], case.expected[name], deviations[name], case.tolerances[name])
            for name in metrics
            if name in deviations
        )
        if not checks:
            groups.append(GroupResult(group, "skipped", reason="not returned by the implementation"))
        else:
            status: Status = "passed" if all(check.passed for check in checks) else "failed"
            groups.append(GroupResult(group, status, checks))
    return CaseResult(case, tuple(groups), seconds)


def _all(case: RegressionCase, status: Status, reason: str) -> CaseResult:
    """Every group of ``case`` with one status (one group ``all`` for a case without expected values)."""
    groups = case.groups or {"all": ()}
    return CaseResult(case, tuple(GroupResult(group, status, reason=reason) for group in groups))


def _metric_values(document: Any) -> dict[str, float | None]:
    """The ``{name: value}`` of an implementation's result (a seldkit results JSON gives its ``metrics``)."""
    if isinstance(document, Mapping) and isinstance(document.get("metrics"), Mapping):
        document = document["metrics"]
    if not isinstance(document, Mapping):
        raise ImplementationFailed(f"returned {type(document).__name__}, not a mapping of metric names to values")
    values: dict[str, float | None] = {}
    for name, value in _flattened(document).items():
        if value is None:
            values[str(name)] = None
            continue
        if isinstance(value, str) and value.lower() in ("inf", "infinity", "nan"):
            value = float(value)
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue  # not a metric (a note, a per-class list): ignored
        values[str(name)] = None if math.isnan(number) else number
    return values


def _flattened(document: Mapping[Any, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one mapping with dotted names (``{"E": {"E_avg": 0.8}}`` -> ``{"E.E_avg": 0.8}``)."""
    flat: dict[str, Any] = {}
    for key, value in document.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flattened(value, prefix=name + "."))
        else:
            flat[name] = value
    return flat


def _parse_output(text: str) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise ImplementationFailed(f"wrote output that is not JSON: {_one_line(text)[:80]!r}") from None


def _import(name: str) -> Any:
    path = Path(name)
    try:
        if name.endswith(".py"):
            if not path.is_file():
                raise InputError("not found", file=name)
            spec = importlib.util.spec_from_file_location(f"seldkit_impl_{path.stem}", path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())  # as `python -m` would: a lab's package in the current folder
        return importlib.import_module(name)
    except InputError:
        raise
    except Exception as error:  # noqa: BLE001 - any failure to import the implementation is the user's to fix
        raise InputError(
            f"--impl-python: cannot import {name}: {type(error).__name__}: {_one_line(str(error))}"
        ) from None


def _accepted_keywords(function: Callable[..., Any], names: tuple[str, ...]) -> tuple[str, ...]:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return ()
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters.values()):
        return names
    return tuple(name for name in names if name in parameters)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def _number(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.10g}"
