"""The human table of SpatialSoundQA scores, laid out like the DSpAST paper's Table 3 (values in %)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from seldkit.cli.format_common import number, protocol_line

if TYPE_CHECKING:
    from seldkit.scoring.qa import QaReport

_LETTERS = {
    "CLASSIFICATION": "A",
    "DOA": "B",
    "MIXUP_SINGLE_CLASSIFICATION": "C",
    "MIXUP_SINGLE_DOA": "D",
}


def format_qa_table(report: QaReport) -> str:
    """The human table: each question type's metrics with intervals and unparseable answers, then type E's averages."""
    results = report.scores.results
    intervals = report.intervals.bounds if report.intervals is not None else {}
    detail = f"embedder {report.scores.embedder}"
    counts = [f"{results['n']} questions", f"answers as {report.answer_form}"]
    if report.scores.class_matrix_sha256:
        counts.append(f"class embeddings sha256:{report.scores.class_matrix_sha256[:12]}")
    lines = [protocol_line(report.protocol, detail, *counts)]
    lines.append(f"  {'type':<36}{'n':>5}  {'metric':<18}{'value':>8}  {'unparseable':>11}")

    def add(label: str, n: object, metric: str, value: float | None, key: str, unparseable: object = "") -> None:
        row = f"  {label:<36}{str(n):>5}  {metric:<18}{number(value, 100.0):>8}  {str(unparseable):>11}"
        if key in intervals:
            low, high = intervals[key]
            row += f"  [{number(low, 100.0)}, {number(high, 100.0)}]"
        lines.append(row.rstrip())

    for question_type, values in results["per_type"].items():
        label = f"{_LETTERS.get(question_type, 'E')}  {question_type}"
        if "mAP_all" in values:
            add(label, values["n"], "mAP (all 355)", values["mAP_all"], f"{question_type}.mAP_all")
            add(
                "",
                "",
                f"mAP ({values['n_classes_present']} present)",
                values["mAP_present"],
                f"{question_type}.mAP_present",
            )
        elif "direction_acc" in values:
            add(
                label,
                values["n"],
                "direction acc.",
                values["direction_acc"],
                f"{question_type}.direction_acc",
                values["direction_unparseable"],
            )
            add("", "", "DER", values["DER"], f"{question_type}.DER", values["distance_unparseable"])
        else:
            add(label, values["n"], "accuracy", values["accuracy"], f"{question_type}.accuracy", values["unparseable"])
            if "balanced_accuracy" in values:
                add("", "", "balanced acc.", values["balanced_accuracy"], f"{question_type}.balanced_accuracy")
    summary = results["E"]
    if summary.get("E_avg") is not None:
        add("E  Avg. (direction, distance)", "", "accuracy", summary["E_avg"], "E.E_avg")
        add("", "", "balanced acc.", summary["E_balanced_avg"], "E.E_balanced_avg")
    lines.append("  values in %; unparseable answers count as wrong")
    return "\n".join(lines)
