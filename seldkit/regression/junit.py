"""JUnit XML reports of ``seldkit verify`` (``--junit FILE``), as GitHub Actions, GitLab and Jenkins read them.

One ``<testsuite>`` per regression suite, one ``<testcase>`` per case and metric group (or per case when seldkit
checks itself), with ``<failure message=...>`` or ``<skipped message=...>``. The file is written atomically.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class JunitCase:
    """One test case of the report."""

    name: str
    status: Literal["passed", "failed", "skipped"]
    message: str = ""
    seconds: float = 0.0


def junit_document(suites: Sequence[tuple[str, Sequence[JunitCase]]]) -> bytes:
    """The JUnit XML of ``suites`` (name, cases) as UTF-8 bytes with an XML declaration.

    >>> report = junit_document([("dcase/2024", [JunitCase("a/macro [SELD]", "failed", "SELD: got 1, expected 2")])])
    >>> print(report.decode().splitlines()[3])
        <testcase name="a/macro [SELD]" classname="seldkit.dcase.2024" time="0.000">
    """
    root = ElementTree.Element("testsuites", name="seldkit verify")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    total_seconds = 0.0
    for suite_name, cases in suites:
        failures = sum(case.status == "failed" for case in cases)
        skipped = sum(case.status == "skipped" for case in cases)
        seconds = sum(case.seconds for case in cases)
        suite = ElementTree.SubElement(
            root,
            "testsuite",
            name=suite_name,
            tests=str(len(cases)),
            failures=str(failures),
            errors="0",
            skipped=str(skipped),
            time=f"{seconds:.3f}",
        )
        classname = "seldkit." + suite_name.replace("/", ".")
        for case in cases:
            element = ElementTree.SubElement(
                suite, "testcase", name=case.name, classname=classname, time=f"{case.seconds:.3f}"
            )
            if case.status == "failed":
                ElementTree.SubElement(element, "failure", message=_clean(case.message)).text = _clean(case.message)
            elif case.status == "skipped":
                ElementTree.SubElement(element, "skipped", message=_clean(case.message))
        totals["tests"] += len(cases)
        totals["failures"] += failures
        totals["skipped"] += skipped
        total_seconds += seconds
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", "0")
    root.set("time", f"{total_seconds:.3f}")
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def write_junit(path: Path, suites: Sequence[tuple[str, Sequence[JunitCase]]]) -> None:
    """Write the report of ``suites`` to ``path`` atomically."""
    from seldkit.io.atomic import write_bytes_atomic

    write_bytes_atomic(path, junit_document(suites))


def _clean(text: str) -> str:
    """``text`` without the control characters XML 1.0 cannot hold (a crashing implementation may print them)."""
    return "".join(character for character in text if character in "\t\n\r" or ord(character) >= 0x20)
