"""Choosing a report's sections from its input.

The input is a ``train-reference`` run folder (:mod:`seldkit.report.run`), a results JSON, or a prediction
file/folder scored on the fly exactly as ``seldkit score`` scores it; the protocol's task
(:mod:`seldkit.tasks`) provides the sections.
"""

from __future__ import annotations

import os
from pathlib import Path

from seldkit.errors import InputError
from seldkit.io.jsonfile import read_json_file
from seldkit.report.html import Report
from seldkit.report.run import run_report

DEFAULT_RESAMPLES = 1000


def build_report(
    source: Path,
    *,
    references: Path | None = None,
    protocol: str | None = None,
    compare_with: Path | None = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    embedder: str | None = None,
) -> Report:
    """The report on ``source`` (see the module docstring).

    ``compare_with`` adds a paired comparison (``source`` = A, ``compare_with`` = B) on the same references.

    Labels come from the inputs (class ids, stage names) and are drawn as plain text: matplotlib's mathtext
    is off, so a ``$`` in a class id is a dollar sign, not a formula that fails to parse.
    """
    import matplotlib

    with matplotlib.rc_context({"text.parse_math": False}):
        return _build_report(
            source,
            references=references,
            protocol=protocol,
            compare_with=compare_with,
            n_resamples=n_resamples,
            embedder=embedder,
        )


def _build_report(
    source: Path,
    *,
    references: Path | None,
    protocol: str | None,
    compare_with: Path | None,
    n_resamples: int,
    embedder: str | None,
) -> Report:
    if not os.path.lexists(source):
        raise InputError("not found", file=str(source))
    if source.is_dir() and (source / "run.json").is_file():
        if references is not None or protocol is not None:
            raise InputError(
                "a run folder is scored under its own protocol against its own references: "
                "leave out --ref and --protocol",
                file=str(source),
            )
        return run_report(source, compare_with, n_resamples)
    if references is None:
        if source.is_file() and source.suffix.lower() == ".json":
            if compare_with is not None:
                raise InputError("--compare needs predictions, not a results JSON", file=str(source))
            return _results_report(source)
        raise InputError(
            "give --ref REF to score these predictions (or pass a run folder or a results JSON)", file=str(source)
        )
    return _predictions_report(source, references, protocol, compare_with, n_resamples, embedder)


# -- predictions scored on the fly -------------------------------------------------------------------------
def _predictions_report(
    source: Path,
    references: Path,
    protocol_name: str | None,
    compare_with: Path | None,
    n_resamples: int,
    embedder: str | None,
) -> Report:
    from seldkit.protocols import load_protocol
    from seldkit.report.sections import comparison_section
    from seldkit.scoring.detect import infer_protocol_name
    from seldkit.tasks import compare_systems, task_for

    if not os.path.lexists(references):
        raise InputError("not found", file=str(references))
    protocol = load_protocol(protocol_name or infer_protocol_name(source, references))
    task = task_for(protocol)
    if embedder and "embedder" not in task.options:
        raise InputError(f"--embedder does not apply to protocol {protocol.name!r} (task {protocol.task})")
    protocol = task.configure(protocol, {"embedder": embedder})
    task.check_inputs(source, references, protocol)
    scored = task.score(source, references, protocol, resamples=n_resamples, jackknife=False)
    lines = [f"predictions: {source}", f"references: {references}", *task.report_lines(scored)]
    sections = task.report_sections(scored)
    if compare_with is not None:
        sections.append(
            comparison_section(compare_systems(source, compare_with, references, protocol, n_resamples=n_resamples))
        )
    return Report(f"seldkit report: {source.name}", tuple(lines), sections)


# -- results JSON ------------------------------------------------------------------------------------------
def _results_report(path: Path) -> Report:
    from seldkit.tasks import TASKS

    document = read_json_file(path)
    try:
        task_name, name = document["protocol"]["task"], document["protocol"]["name"]
        if not isinstance(document["metrics"], dict) or not isinstance(task_name, str) or not isinstance(name, str):
            raise TypeError("metrics")
    except (KeyError, TypeError):
        raise InputError("not a seldkit results JSON (no protocol/metrics)", file=str(path)) from None
    if task_name not in TASKS:
        raise InputError(f"no report for results of task {task_name!r}", file=str(path))
    hash_text = document["protocol"].get("hash", "")
    lines = (f"results: {path}", f"protocol: {name} ({str(hash_text)[:19]}), n = {document.get('n')}")
    try:
        sections = TASKS[task_name].report_sections_from_json(document)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        # The document's structure is checked by reading it: whatever does not have the shape seldkit writes
        # is reported with the field that failed, not as a traceback.
        detail = f"field {error.args[0]!r}" if isinstance(error, KeyError) else " ".join(str(error).split())[:160]
        raise InputError(f"not a seldkit results JSON of task {task_name} ({detail})", file=str(path)) from None
    return Report(f"seldkit report: {path.name}", lines, sections)
