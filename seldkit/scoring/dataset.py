"""Scoring predictions against a training protocol's data set: ``seldkit score PREDS`` without ``--ref``.

The training protocol is the one named with ``--protocol``, else the one the predictions' sidecar records
(:mod:`seldkit.io.sidecar`). Its built data set is found and verified (:func:`seldkit.data.references.find_dataset`;
``--data``, else the folder the sidecar records when it is there, else the cache folder), the references of the
split are built as ``train-reference`` builds its ``references.csv``, and the predictions are scored under the
protocol's evaluation protocol, as ``train-reference`` scores its test split. A sidecar whose data fingerprint
is not that of the data set found is refused: its predictions were made on other data.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seldkit.data.references import DatasetCopy, evaluation_protocol_name, find_dataset, write_split_references
from seldkit.errors import InputError
from seldkit.io.sidecar import PredictionsSidecar, read_sidecar
from seldkit.protocols import Protocol, load_protocol, protocol_from_summary
from seldkit.scoring.clip import ClipScore

DEFAULT_SPLIT = "test"
NO_REFERENCES = "give --ref REF, or --protocol NAME of a training protocol (whose data set holds the references)"


@dataclass(frozen=True)
class DatasetTarget:
    """What predictions are scored against without ``--ref``: a split of a verified data set, and how."""

    copy: DatasetCopy
    split: str
    evaluation: Protocol
    sidecar: PredictionsSidecar | None

    @property
    def training(self) -> Protocol:
        """The training protocol whose data set holds the references."""
        return self.copy.protocol

    def description(self) -> str:
        """One line on where the references come from."""
        return (
            f"references: split {self.split} of the {self.training.name} data set in {self.copy.folder} "
            f"(fingerprint {self.copy.fingerprint[:12]}, checksums verified)"
        )


def resolve_target(predictions: Path, *, protocol: str | None, data: Path | None, split: str | None) -> DatasetTarget:
    """The data set, split and evaluation protocol to score ``predictions`` against (see the module docstring).

    ``protocol`` (``--protocol``) wins over the sidecar's; ``split`` (``--split``) over the sidecar's split, else
    ``test``. Every way this can fail is an :class:`InputError` of one line.
    """
    sidecar = read_sidecar(predictions)
    training = _training_protocol(protocol, sidecar, predictions)
    recorded = sidecar if sidecar is not None and _same_protocol(sidecar, training) else None
    folder = data if data is not None else _recorded_folder(recorded)
    copy = find_dataset(training, folder)
    made_on = sidecar.data_fingerprint if sidecar is not None else None
    if sidecar is not None and made_on is not None and made_on != copy.fingerprint:
        raise InputError(
            f"data.fingerprint {made_on[:12]} (the data the predictions were made on) is not that "
            f"of the data set in {copy.folder} ({copy.fingerprint[:12]}, protocol {training.name}): score them "
            "against the data set they were made on (--data DIR, --protocol NAME)",
            file=sidecar.path,
        )
    evaluation = evaluation_protocol_name(
        training,
        recorded.evaluation_protocol if recorded is not None else None,
        file=sidecar.path if sidecar is not None else None,
    )
    chosen = split or (sidecar.split if sidecar is not None else DEFAULT_SPLIT)
    return DatasetTarget(copy, chosen, load_protocol(evaluation), sidecar)


def _training_protocol(name: str | None, sidecar: PredictionsSidecar | None, predictions: Path) -> Protocol:
    """``--protocol``, else the sidecar's training protocol (loaded again: its content must hash as recorded)."""
    if name is not None:
        protocol = load_protocol(name)
    elif sidecar is not None and sidecar.training_protocol is not None:
        protocol = protocol_from_summary(sidecar.training_protocol, file=sidecar.path)
    elif sidecar is not None:
        raise InputError(f"records no training protocol: {NO_REFERENCES}", file=sidecar.path)
    else:
        raise InputError(f"no references: {NO_REFERENCES}; {predictions.name} has no sidecar that names one")
    if protocol.task != "train":
        raise InputError(f"protocol {protocol.name!r} is a {protocol.task} protocol: {NO_REFERENCES}")
    return protocol


def _same_protocol(sidecar: PredictionsSidecar, protocol: Protocol) -> bool:
    """Whether the sidecar describes predictions for ``protocol`` (its recorded hash is the protocol's)."""
    recorded = sidecar.training_protocol
    return recorded is not None and recorded["hash"] == f"sha256:{protocol.hash}"


def _recorded_folder(sidecar: PredictionsSidecar | None) -> Path | None:
    """The data folder the sidecar records, if it is still there (else the cache folder is looked in)."""
    if sidecar is None or sidecar.data_folder is None:
        return None
    folder = Path(sidecar.data_folder)
    return folder if folder.is_dir() else None


@dataclass(frozen=True)
class DatasetScore:
    """Scores of predictions against a data set's references: the clip scores and where the references came from."""

    score: ClipScore
    target: DatasetTarget
    n_references: int
    references_digest: str  # sha256 of the references as built: that of the run's references.csv for the same split

    @property
    def protocol(self) -> Protocol:
        """The evaluation protocol the scores were computed under."""
        return self.score.protocol

    def results_json(self) -> dict[str, Any]:
        """The clip results JSON, with the data set (protocol, fingerprint, checksums digest, folder, split)."""
        target, copy = self.target, self.target.copy
        document = self.score.results_json()
        document["inputs"]["references"] = {
            "dataset": str(copy.folder),
            "split": target.split,
            "digest": self.references_digest,
        }
        if target.sidecar is not None and target.sidecar.path is not None:
            document["inputs"]["sidecar"] = {"path": str(target.sidecar.path)}
        document["dataset"] = {
            "training_protocol": target.training.summary(),
            "name": target.training.name,
            "fingerprint": copy.fingerprint,
            "checksums_sha256": copy.checksums_sha256,
            "folder": str(copy.folder),
            "split": target.split,
            "n_clips": self.n_references,
        }
        return document


def score_against_dataset(predictions: Path, target: DatasetTarget, *, resamples: int | None = None) -> DatasetScore:
    """Build the references of ``target`` into a temporary file and score ``predictions`` against them.

    Predictions for another split or with clips missing fail as against any reference file: the clip scorer
    pairs every reference clip with exactly one prediction row.
    """
    from seldkit.results import file_digest
    from seldkit.scoring.clip import score_clip_files

    with tempfile.TemporaryDirectory(prefix="seldkit-references-") as folder:
        references = Path(folder) / "references.csv"
        count = write_split_references(target.copy, target.split, references)
        score = score_clip_files(
            predictions,
            references,
            target.evaluation,
            n_resamples=resamples,
            references_name=f"the {target.split} references of {target.copy.folder}",
        )
        digest = file_digest(references)
    return DatasetScore(score, target, count, digest)
