"""The description seldkit writes beside a predictions CSV: ``<file>.seldkit.json``, the predictions' *sidecar*.

``seldkit predict`` and ``seldkit train-reference`` write one next to every predictions CSV they write (the CSV
itself stays a plain CSV that any reader takes). It says which training protocol's data set the predictions are
for, that data set's fingerprint and folder, the split, and the evaluation protocol the run scores under, so that
``seldkit score PREDS`` can build the references without ``--ref``. It also holds the sha256 of the CSV it
describes: a CSV rewritten since then by other means no longer matches its sidecar, and the stale sidecar is
refused rather than trusted.

A sidecar is read as untrusted input: every field is checked, and a wrong one is an
:class:`~seldkit.errors.InputError` naming the file and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SIDECAR_SUFFIX = ".seldkit.json"
FORMAT = "seldkit-predictions"
VERSION = 1
_SHA256 = re.compile(r"sha256:[0-9a-f]{64}")
FINGERPRINT_PATTERN = re.compile(r"[0-9a-f]{64}")  # a data set's fingerprint, as dataset.json records it
_SPLIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class PredictionsSidecar:
    """What a sidecar records about the predictions CSV it sits beside.

    ``training_protocol`` is the summary (:meth:`seldkit.protocols.Protocol.summary`) of the training protocol whose
    data set the predictions are for, None when the writer could not tell; ``data_fingerprint`` and
    ``data_folder`` identify that data set (None when it has no fingerprint); ``evaluation_protocol`` names the
    protocol a run scores them under (None when unknown).
    """

    split: str
    training_protocol: dict[str, str] | None
    evaluation_protocol: str | None
    data_fingerprint: str | None
    data_folder: str | None
    predictions_sha256: str = ""  # filled in when written, checked when read
    path: Path | None = None  # the file it was read from

    def document(self, predictions: Path, written_by: str) -> dict[str, Any]:
        """The JSON document of the sidecar of ``predictions`` (whose digest it records)."""
        from seldkit import __version__
        from seldkit.results import file_digest

        return {
            "format": FORMAT,
            "version": VERSION,
            "predictions": {"file": predictions.name, "sha256": file_digest(predictions)},
            "split": self.split,
            "training_protocol": self.training_protocol,
            "evaluation_protocol": self.evaluation_protocol,
            "data": {"fingerprint": self.data_fingerprint, "folder": self.data_folder},
            "written_by": f"seldkit {__version__} {written_by}",
        }


def sidecar_path(predictions: Path) -> Path:
    """Where the sidecar of the CSV ``predictions`` is: beside it, named ``<file name>.seldkit.json``."""
    return predictions.with_name(predictions.name + SIDECAR_SUFFIX)


def write_sidecar(predictions: Path, sidecar: PredictionsSidecar, *, written_by: str) -> Path:
    """Write the sidecar of the (already written) CSV ``predictions`` atomically; returns its path.

    ``written_by`` names the command (``predict``, ``train-reference``).
    """
    from seldkit.results import write_json_atomic

    path = sidecar_path(predictions)
    write_json_atomic(path, sidecar.document(predictions, written_by))
    return path


def read_sidecar(predictions: Path) -> PredictionsSidecar | None:
    """The sidecar of ``predictions``, checked field by field; None when there is none.

    A malformed sidecar, or one that describes another version of the CSV (its recorded sha256 differs), is an
    :class:`InputError` naming the sidecar and the field.
    """
    from seldkit.io.fields import Fields, describe
    from seldkit.io.jsonfile import read_json_file
    from seldkit.protocols import is_protocol_name
    from seldkit.results import file_digest

    path = sidecar_path(predictions)
    if not path.exists() and not path.is_symlink():
        return None
    fields = Fields(read_json_file(path), file=path)
    fields.string("format", choices=(FORMAT,))
    version = fields.integer("version", minimum=1)
    if version != VERSION:
        raise fields.error("version", f"is {version}; this seldkit reads version {VERSION} (a newer seldkit wrote it)")
    described = fields.section("predictions")
    described.string("file")
    recorded = _matching(described, "sha256", _SHA256, "sha256:<64 hex digits>")
    described.finish()
    split = _matching(fields, "split", _SPLIT, "a split name (letters, digits, '_', '.', '-')")
    training = _protocol_summary(fields)
    evaluation = _optional_text(fields, "evaluation_protocol")
    if evaluation is not None and not is_protocol_name(evaluation):
        raise fields.error("evaluation_protocol", f"must name a shipped protocol, not {evaluation[:80]!r}")
    data = fields.section("data")
    fingerprint = _optional_text(data, "fingerprint")
    if fingerprint is not None and not FINGERPRINT_PATTERN.fullmatch(fingerprint):
        raise data.error("fingerprint", f"must be 64 hex digits or null, not {describe(fingerprint)}")
    folder = _optional_text(data, "folder")
    data.finish()
    fields.string("written_by", "", nonempty=False)
    fields.finish()
    if file_digest(predictions) != recorded:
        raise described.error(
            "sha256",
            f"is not that of {predictions.name}: the sidecar describes another version of the file (rewritten "
            "since seldkit wrote it); delete the sidecar, or give --ref REF",
        )
    return PredictionsSidecar(split, training, evaluation, fingerprint, folder, recorded, path)


def _matching(fields: Any, key: str, pattern: re.Pattern[str], what: str) -> str:
    value: str = fields.string(key)
    if not pattern.fullmatch(value):
        raise fields.error(key, f"must be {what}, not {value[:80]!r}")
    return value


def _optional_text(fields: Any, key: str) -> str | None:
    """Text, or None for an absent key or null."""
    if fields.raw(key, None) is None:
        return None
    value: str = fields.string(key)
    return value


def _protocol_summary(fields: Any) -> dict[str, str] | None:
    """``training_protocol``: null, or the summary (name, task ``train``, hash, source) of a training protocol."""
    from seldkit.protocols import read_protocol_summary

    if fields.raw("training_protocol", None) is None:
        return None
    return read_protocol_summary(fields.section("training_protocol"), task="train")
