"""The references of a training protocol's data set, in the clip CSV format.

:func:`write_references` writes those of a split (``train-reference`` writes its ``references.csv`` with it).
``seldkit score PREDS`` without ``--ref`` scores against them: :func:`find_dataset` finds the protocol's built
copy (the cache folder ``make-dataset`` and ``train-reference`` use, or a folder given) and verifies it against
its checksums, and :func:`write_split_references` writes the references of one split in the clip CSV format, as a
run writes ``references.csv``. Nothing here builds a data set: that stays ``make-dataset``'s job, and every
error says which command to run.
"""

from __future__ import annotations

import csv
import io
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seldkit.data.layout import BinauralDataset
from seldkit.errors import InputError
from seldkit.io.atomic import write_text_atomic
from seldkit.protocols import SHIPPED_PREFIX, Protocol


def clip_ids(dataset: BinauralDataset) -> list[str]:
    """The ids of the dataset's clips: the source ids, or ``<audio>@<reverb>`` for all when a source occurs twice."""
    names = [pair.audio for pair in dataset.pairs]
    if len(set(names)) == len(names):
        return names
    return [f"{pair.audio}@{pair.reverb}" for pair in dataset.pairs]


def true_directions(dataset: BinauralDataset) -> dict[str, np.ndarray]:
    """Exact azimuth/elevation (degrees) and distance (metres) of each pair, from the stored positions."""
    delta = np.stack(
        [
            dataset.index.reverbs[pair.reverb].source - dataset.index.reverbs[pair.reverb].sensor
            for pair in dataset.pairs
        ]
    )
    dx, dy, dz = delta[:, 0], delta[:, 1], delta[:, 2]
    return {
        "azimuth": np.degrees(np.arctan2(-dz, dx)),
        "elevation": np.degrees(np.arctan2(dy, np.hypot(dx, dz))),
        "distance": np.sqrt(dx**2 + dy**2 + dz**2),
    }


def write_references(dataset: BinauralDataset, path: Path) -> None:
    """The references in the clip CSV format, written atomically."""
    truth = true_directions(dataset)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["clip_id", "labels", "azimuth", "elevation", "distance"])
    for row, (clip_id, pair) in enumerate(zip(clip_ids(dataset), dataset.pairs)):
        labels = ";".join(dataset.index.audio[pair.audio].labels)
        writer.writerow(
            [
                clip_id,
                labels,
                f"{truth['azimuth'][row]:.4f}",
                f"{truth['elevation'][row]:.4f}",
                f"{truth['distance'][row]:.4f}",
            ]
        )
    write_text_atomic(path, buffer.getvalue())


@dataclass(frozen=True)
class DatasetCopy:
    """A verified copy of a training protocol's data set: where it is, its description, fingerprint and digest."""

    protocol: Protocol
    folder: Path
    info: Mapping[str, Any]  # dataset.json
    fingerprint: str  # data_fingerprint(protocol), which dataset.json records
    checksums_sha256: str  # sha256:<hex> of checksums.json: one digest for every file of the copy

    def splits(self) -> list[str]:
        """The names of the data set's splits."""
        return list(self.info["splits"])


def make_dataset_command(protocol: Protocol, folder: Path | None) -> str:
    """The ``seldkit make-dataset`` command that builds ``protocol``'s data set (in ``folder`` when given)."""
    name = protocol.name if protocol.source.startswith(SHIPPED_PREFIX) else str(protocol.path or protocol.source)
    command = f"seldkit make-dataset --protocol {shlex.quote(name)}"
    return command if folder is None else f"{command} --out {shlex.quote(str(folder))}"


def find_dataset(protocol: Protocol, folder: Path | None = None) -> DatasetCopy:
    """The verified copy of ``protocol``'s data set in ``folder`` (default: the cache folder make-dataset uses).

    Every checksum is verified. No copy there, a copy of other data, or a damaged one is an :class:`InputError`
    whose one line holds the ``make-dataset`` command that (re)builds it. Published-layout protocols read the
    user's copy of the published data in place and have no built copy: an error that says to give ``--ref``.
    """
    from seldkit.data.build import data_fingerprint, default_dataset_dir
    from seldkit.data.synth import FORMAT_VERSION, UnusableDataset, check_dataset
    from seldkit.results import file_digest

    settings = protocol.train  # an InputError for protocols of other tasks
    if settings.generator == "published-layout":
        raise InputError(
            f"protocol {protocol.name!r} reads your copy of the published data in place, so seldkit has no "
            "built copy to take references from: give --ref REF (a train-reference run writes its references.csv)"
        )
    given = folder is not None
    where = folder if folder is not None else default_dataset_dir(protocol)
    command = make_dataset_command(protocol, where if given else None)
    fingerprint = data_fingerprint(protocol)
    if where.exists() and not where.is_dir():
        raise InputError(f"is not a folder; give --data the folder of a data set ({command} builds one)", file=where)
    try:
        info = check_dataset(where, fingerprint)
    except UnusableDataset as problem:
        if problem.kind == "absent":
            missing = f"no dataset.json in {where}" if where.exists() else f"no folder {where}"
            raise InputError(
                f"the data set of protocol {protocol.name} is not built ({missing}); build it with: {command}"
            ) from None
        if problem.kind == "other":
            raise InputError(
                f"{problem.problem}, not that of protocol {protocol.name} (fingerprint {fingerprint[:12]}, format "
                f"version {FORMAT_VERSION}); build that with: {command}",
                file=where,
            ) from None
        detail = _relative(problem.file, where)
        raise InputError(
            f"the data set fails verification ({detail}: {problem.problem}); rebuild it with: {command}", file=where
        ) from None
    return DatasetCopy(protocol, where, info, fingerprint, file_digest(where / "checksums.json"))


def _relative(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder))
    except ValueError:
        return str(path)


def write_split_references(copy: DatasetCopy, split: str, path: Path) -> int:
    """Write the references of ``split`` of the data set to ``path`` (clip CSV), as train-reference writes them.

    Returns the number of clips. A split the data set does not have is an :class:`InputError` listing those it has.
    """
    from seldkit.data.layout import read_dataset

    if split not in copy.splits():
        raise InputError(
            f"the data set has no split {split!r} (it has: {', '.join(copy.splits())}); give --split NAME",
            file=copy.folder,
        )
    dataset = BinauralDataset.for_evaluation(read_dataset(copy.folder), split)
    write_references(dataset, path)
    return len(dataset)


def evaluation_protocol_name(protocol: Protocol, recorded: str | None = None, *, file: Path | None = None) -> str:
    """The evaluation protocol a run of the training ``protocol`` scores under.

    ``recorded`` (from a sidecar ``file``) must be one of its recipes'; without it, the recipes must agree.
    """
    names = _evaluation_protocols(protocol)
    if recorded is not None:
        if recorded not in names:
            raise InputError(
                f"evaluation_protocol {recorded!r} is not one that training protocol {protocol.name!r} scores under "
                f"({', '.join(names) or 'it has no recipes'})",
                file=file,
            )
        return recorded
    if len(names) == 1:
        return names[0]
    if not names:
        raise InputError(
            f"training protocol {protocol.name!r} has no training recipes, hence no evaluation protocol: give --ref "
            "REF and --protocol NAME of a clip protocol"
        )
    raise InputError(
        f"the recipes of training protocol {protocol.name!r} score under different evaluation protocols "
        f"({', '.join(names)}): give --ref REF and --protocol NAME of one of them"
    )


def agreed_evaluation_protocol(protocol: Protocol) -> str | None:
    """The evaluation protocol every recipe of the training ``protocol`` scores under; None if they differ."""
    names = _evaluation_protocols(protocol)
    return names[0] if len(names) == 1 else None


def _evaluation_protocols(protocol: Protocol) -> list[str]:
    return sorted({config.evaluation_protocol for config in protocol.train.recipes.values()})


def protocol_for_fingerprint(fingerprint: str) -> Protocol | None:
    """The shipped training protocol whose data set has ``fingerprint`` (dataset.json's), if there is one."""
    from seldkit.data.build import data_fingerprint
    from seldkit.protocols import available_protocols, load_protocol

    for name in available_protocols():
        try:
            protocol = load_protocol(name)
        except InputError:  # a shipped protocol that does not load here is not the one
            continue
        if protocol.task == "train" and data_fingerprint(protocol) == fingerprint:
            return protocol
    return None
