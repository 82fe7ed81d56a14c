"""SpatialSoundQA question files and answer files, keyed on (question_type, question_id).

Question file: one JSON object whose ``data`` holds records with at least ``question_id``, ``question_type``
and ``answer`` (the reference; other fields are tolerated). Answers come as JSONL records
``{"question_type", "question_id", "answer"}`` or as the BAT decode pair: two text files, one line per question,
``{question_type}-{question_id}<TAB>text`` (``*_pred`` with the answers, ``*_gt`` with the references).

Problems are reported in a fixed order so that a file with several problems always gets the same message:
malformed input, duplicate keys (references, then predictions), keys on one side only, unknown question types.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from seldkit.errors import InputError
from seldkit.io.inputs import check_input_file, read_input_text
from seldkit.metrics.qa.items import QUESTION_TYPES, QaItem


def read_question_file(path: str | Path) -> list[QaItem]:
    """The references of a SpatialSoundQA question file, in file order."""
    source = str(path)
    document = _load_json(path)
    records = document.get("data") if isinstance(document, dict) else None
    if not isinstance(records, list):
        raise _malformed(source, 1, 'a question file is one JSON object whose "data" is a list of records')
    items = []
    for number, record in enumerate(records, start=1):
        items.append(_item_from_record(record, source, number, what="record"))
    return items


def read_answers_jsonl(path: str | Path) -> list[QaItem]:
    """Answers as JSON lines ``{"question_type", "question_id", "answer"}``, in file order."""
    source = str(path)
    items = []
    for number, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise _malformed(source, number, f"not a JSON object ({error.msg})") from None
        except RecursionError:
            raise _malformed(source, number, "not a usable JSON object (nested too deeply)") from None
        items.append(_item_from_record(record, source, number, what="line"))
    return items


def read_decode_file(path: str | Path) -> list[QaItem]:
    """A BAT decode file: ``{question_type}-{question_id}<TAB>text`` per line, in file order."""
    source = str(path)
    items = []
    for number, line in enumerate(_read_lines(path), start=1):
        line = line.rstrip("\n").rstrip("\r")
        if not line.strip():
            continue
        key, tab, text = line.partition("\t")
        question_type, dash, question_id = key.partition("-")
        if not tab or not dash:
            raise _malformed(source, number, "expected '{question_type}-{question_id}<TAB>answer'")
        items.append(QaItem(key, question_type, text, source, number))
    return items


def looks_like_decode_file(path: Path) -> bool:
    """True if the first non-empty line has the decode-pair shape (``TYPE-id<TAB>...``).

    Only the file's first 64 kB are looked at, and a path that is not a regular file is reported as such.
    """
    check_input_file(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16).decode("utf-8", errors="ignore")
    except OSError:
        return False
    for line in head.splitlines():
        if line.strip():
            key, tab, _ = line.partition("\t")
            return bool(tab) and "-" in key and key.split("-", 1)[0].isupper()
    return False


def pair_items(
    references: Sequence[QaItem], predictions: Sequence[QaItem], *, prediction_file: str | Path | None = None
) -> list[tuple[QaItem, QaItem]]:
    """Join answers to references by key, in reference order.

    ``prediction_file`` names the answers in errors when there are none.
    """
    if references and not predictions:
        raise InputError(
            f"no answers in this file ({len(references)} question(s) to answer)",
            file=None if prediction_file is None else str(prediction_file),
            code="key_mismatch",
            details={"missing_predictions": sorted(item.key for item in references), "extra_predictions": []},
        )
    for side, items in (("references", references), ("predictions", predictions)):
        seen: dict[str, QaItem] = {}
        for item in items:
            if item.key in seen:
                first = seen[item.key]
                raise InputError(
                    f"question {item.key!r} appears twice (first at line {first.line})",
                    file=item.source,
                    line=item.line,
                    code="duplicate_key",
                    details={"side": side, "key": item.key},
                )
            seen[item.key] = item
    by_key = {item.key: item for item in predictions}
    reference_keys = {item.key for item in references}
    missing = sorted(key for key in reference_keys if key not in by_key)
    extra = sorted(key for key in by_key if key not in reference_keys)
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{len(missing)} question(s) without an answer (first {missing[0]!r})")
        if extra:
            parts.append(f"{len(extra)} answer(s) to no question (first {extra[0]!r})")
        source = predictions[0].source if predictions else references[0].source if references else None
        raise InputError(
            "; ".join(parts),
            file=source,
            code="key_mismatch",
            details={"missing_predictions": missing, "extra_predictions": extra},
        )
    for item in references:
        if item.question_type not in QUESTION_TYPES:
            raise InputError(
                f"unknown question type {item.question_type!r} (known: {', '.join(QUESTION_TYPES)})",
                file=item.source,
                line=item.line,
                code="unknown_question_type",
                details={"key": item.key, "question_type": item.question_type},
            )
    return [(item, by_key[item.key]) for item in references]


def _item_from_record(record: object, source: str, number: int, *, what: str) -> QaItem:
    if not isinstance(record, dict) or not {"question_type", "question_id", "answer"} <= set(record):
        raise _malformed(source, number, f"{what} needs question_type, question_id and answer")
    question_type, question_id, answer = record["question_type"], record["question_id"], record["answer"]
    if not isinstance(question_type, str) or not isinstance(answer, str):
        raise _malformed(source, number, "question_type and answer must be strings")
    if isinstance(question_id, bool) or not isinstance(question_id, (int, str)):
        raise _malformed(source, number, "question_id must be an integer or a string")
    for name, value in (("question_type", question_type), ("question_id", question_id), ("answer", answer)):
        if isinstance(value, str) and not _encodable(value):
            raise _malformed(
                source, number, f"{name} holds an escaped lone surrogate (\\ud800-\\udfff), which is not a character"
            )
    return QaItem(f"{question_type}-{question_id}", question_type, answer, source, number)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _malformed(source: str, line: int, problem: str) -> InputError:
    return InputError(
        problem, file=source, line=line, row=None, code="malformed_input", details={"file": source, "line": line}
    )


def _read_lines(path: str | Path) -> list[str]:
    text = read_input_text(path)
    return text.split("\n") if text else []


def _load_json(path: str | Path) -> object:
    from seldkit.io.jsonfile import read_json_file

    return read_json_file(Path(path))
