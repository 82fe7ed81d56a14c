"""Building the data set of a training protocol (``seldkit make-dataset``), or reading a copy of the published data.

Synthetic protocols generate their data set; ``published-layout`` protocols read the user's copy of the published
SpatialAST / DSpAST training data in place (:func:`read_published`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from seldkit.cache import cache_dir
from seldkit.data.audio import SAMPLE_RATE
from seldkit.data.layout import (
    AudioRecord,
    DatasetIndex,
    Pair,
    ReverbRecord,
    read_audio_index,
    read_reverb_index,
    read_weights,
)
from seldkit.errors import InputError
from seldkit.io.jsonfile import read_json_file
from seldkit.protocols import Protocol, audioset_classes


def default_dataset_dir(protocol: Protocol) -> Path:
    """The protocol's data set folder in the cache, named by the protocol and a hash (of the data, when generated)."""
    generated = protocol.task == "train" and protocol.train.generator != "published-layout"
    suffix = data_fingerprint(protocol)[:12] if generated else protocol.short_hash
    return cache_dir("datasets", f"{protocol.name}-{suffix}")


def build_dataset(
    protocol: Protocol, out: Path, *, settings: dict[str, str] | None = None, progress: bool = True
) -> tuple[dict[str, Any], bool]:
    """Generate or verify the protocol's data set in ``out``; returns (dataset.json content, reused?)."""
    data = protocol.train.data  # an InputError for protocols of other tasks
    if protocol.train.generator == "published-layout":
        return _check_published(data, settings or {}), True
    if settings:
        raise InputError(f"protocol {protocol.name!r} takes no --set parameters")
    from seldkit.data.synth import config_from_protocol, make_dataset, verify_dataset

    assert protocol.path is not None
    fingerprint = data_fingerprint(protocol)
    existing = verify_dataset(out, fingerprint)
    if existing is not None:
        return existing, True
    check_dataset_target(out)
    config = config_from_protocol(data, protocol.path.parent, labels=audioset_classes())
    return make_dataset(config, out, fingerprint=fingerprint, progress=progress), False


DATASET_ENTRIES = frozenset(
    {"audio", "binaural", "noise", "audio.json", "reverb.json", "manifest.json", "checksums.json", "dataset.json"}
)


def check_dataset_target(out: Path) -> None:
    """``out`` may receive a (re)built data set: it is absent, empty, or a seldkit data set (which is replaced).

    A folder holding anything else is the user's and is refused before any work starts.
    """
    from seldkit.io.atomic import TEMPORARY_SUFFIX, check_output_folder

    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder; give --out a folder for the data set", file=str(out))
    check_output_folder(out, what="data set folder")
    if not out.exists():
        return
    try:
        entries = {entry.name for entry in out.iterdir() if not entry.name.endswith(TEMPORARY_SUFFIX)}
    except OSError as error:
        raise InputError(f"cannot read the folder: {error.strerror or error}", file=str(out)) from None
    if not entries:
        return
    if "dataset.json" not in entries or not entries <= DATASET_ENTRIES:
        foreign = sorted(entries - DATASET_ENTRIES) or sorted(entries)
        raise InputError(
            f"exists and is not a seldkit data set (it holds {foreign[0]!r}); seldkit replaces only its own "
            "data sets: choose another --out or empty this folder",
            file=str(out),
        )


def data_fingerprint(protocol: Protocol) -> str:
    """Hash of what decides the data (the data section and its assets), not of the training recipe.

    Changing the curriculum must not regenerate the data.
    """
    from seldkit.protocols import protocol_hash

    return protocol_hash({"data": protocol.train.data, "assets": protocol.train.assets})


def _check_published(data: Mapping[str, Any], settings: dict[str, str]) -> dict[str, Any]:
    """A user's copy of the published data: check the paths, indexes, weights and manifest; count what exists."""
    copy = read_published(data, settings)
    return {
        "splits": {"train": len(copy.index.split("train")), "test": len(copy.index.split("test"))},
        "classes": list(copy.index.classes),
        "missing": copy.missing_summary(),
        "warning": copy.warning(),
    }


PUBLISHED_SETTINGS = {
    "audio_index": "the training audio index JSON (published --audioset_train)",
    "eval_audio_index": "the evaluation audio index JSON (published --audioset_eval)",
    "audio_root": "the folder the audio indexes' folders are under (published --audio_path_root)",
    "reverb_index": "the training reverb index JSON (published --reverb_train_json)",
    "eval_reverb_index": "the evaluation reverb index JSON (published --reverb_val_json)",
    "reverb_root": "the folder holding binaural/ (published --reverb_path_root)",
    "weights": "optional: one sampling weight a line for the training audio index (published --weight_csv)",
    "balanced_audio_index": "optional: a second training audio index, the split 'balanced' (published "
    "balanced.json), for recipes whose stages train on it",
    "manifest": "optional: the evaluation pairs; derived from eval_seed and the evaluation indexes when absent",
    "eval_seed": "optional: the seed of the derived evaluation pairs (default 0)",
}
_REQUIRED_SETTINGS = (
    "audio_index",
    "eval_audio_index",
    "audio_root",
    "reverb_index",
    "eval_reverb_index",
    "reverb_root",
)
MANIFEST_FILE = "eval_manifest.json"
MISSING_FILE = "missing.txt"


@dataclass(frozen=True)
class PublishedCopy:
    """A user's (possibly partial) copy of the published data, read and checked, as seldkit trains on it.

    ``index`` holds the training clips that exist (split ``train``, each drawing a random impulse response of the
    ``train`` pool on every fetch, as the published loader does) and the evaluation pairs whose files exist
    (split ``test``). ``missing`` lists ``(kind, index file, id, path)`` for every file the indexes name that is
    not there. ``manifest`` is the evaluation manifest (given or derived) and ``derived`` whether seldkit
    derived it.
    """

    index: DatasetIndex
    missing: list[tuple[str, str, str, str]]
    manifest: dict[str, Any]
    derived: bool
    files: dict[str, str]  # setting -> path, as given
    digests: dict[str, str]  # setting -> sha256 of the file

    def missing_summary(self) -> dict[str, Any]:
        """Counts of the missing audio files and impulse responses, and the first 20 ids of each (sorted)."""
        summary: dict[str, Any] = {}
        for kind in ("audio", "reverb"):
            ids = sorted({entry[2] for entry in self.missing if entry[0] == kind})
            summary[kind] = {"count": len(ids), "first": ids[:20]}
        return summary

    def subset(self) -> dict[str, Any]:
        """What a run records about the data it used: files, clip counts and digests of the id lists, per split.

        Two runs on different partial copies differ here even though their protocol hash is the same.
        """
        train, test = self.index.split("train"), self.index.split("test")
        balanced = self.index.split("balanced")
        pool = self.index.reverb_pools["train"]
        return {
            "generator": "published-layout",
            "files": {key: value for key, value in self.files.items() if key != "eval_seed"},
            "sha256": self.digests,
            "train": {
                "clips": len(train),
                "ids_sha256": _list_digest(pair.audio for pair in train),
                "reverbs": len(pool),
                "reverbs_sha256": _list_digest(pool),
            },
            **(
                {
                    "balanced": {
                        "clips": len(balanced),
                        "ids_sha256": _list_digest(pair.audio for pair in balanced),
                    }
                }
                if balanced
                else {}
            ),
            "test": {
                "clips": len(test),
                "ids_sha256": _list_digest(pair.audio for pair in test),
                "reverbs": len({pair.reverb for pair in test}),
                "reverbs_sha256": _list_digest({pair.reverb for pair in test}),
                "pairs_sha256": _list_digest(f"{pair.audio}\t{pair.reverb}" for pair in test),
                "manifest": f"derived (eval_seed {self.files.get('eval_seed', '0')})" if self.derived else "given",
                "manifest_sha256": _list_digest([json.dumps(self.manifest, sort_keys=True)]),
            },
            "missing": {kind: value["count"] for kind, value in self.missing_summary().items()},
        }

    def missing_text(self) -> str:
        """The full list of missing files, tab-separated with a header (``missing.txt`` of a run)."""
        lines = ["kind\tindex\tid\tpath"] + ["\t".join(entry) for entry in sorted(self.missing)]
        return "\n".join(lines) + "\n"

    def warning(self) -> str | None:
        """One line on what is missing (None when the copy is complete)."""
        summary = self.missing_summary()
        audio, reverb = summary["audio"], summary["reverb"]
        if not audio["count"] and not reverb["count"]:
            return None
        sample = (audio["first"] or reverb["first"])[:5]
        return (
            f"{audio['count']} audio files and {reverb['count']} impulse responses of the indexes are missing "
            f"(first: {', '.join(sample)}); training and evaluating on the {len(self.index.split('train'))} "
            f"training clips and {len(self.index.split('test'))} evaluation pairs that exist"
        )


def _list_digest(items: Iterable[str]) -> str:
    """sha256 of the sorted items, one a line."""
    return "sha256:" + hashlib.sha256("".join(f"{item}\n" for item in sorted(items)).encode()).hexdigest()


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def published_settings(data: Mapping[str, Any], settings: Mapping[str, str]) -> dict[str, str]:
    """The paths and seed of a published-layout protocol: ``--set`` values over the data section's; checked."""
    unknown = sorted(set(settings) - set(PUBLISHED_SETTINGS))
    if unknown:
        raise InputError(f"unknown --set key {unknown[0]!r} (known: {', '.join(PUBLISHED_SETTINGS)})")
    values = {key: str(settings.get(key) or data.get(key) or "") for key in PUBLISHED_SETTINGS}
    missing = [key for key in _REQUIRED_SETTINGS if not values[key]]
    if missing:
        raise InputError(
            f"give the paths of your copy of the published data: --set {missing[0]}=PATH "
            f"(and {', '.join(missing[1:]) or 'no more'})"
        )
    seed = values["eval_seed"] or "0"
    if not seed.isdigit() or int(seed) >= 2**63:
        raise InputError(f"--set eval_seed takes a whole number >= 0, not {seed!r}")
    values["eval_seed"] = str(int(seed))
    return {key: value for key, value in values.items() if value}


def derive_manifest(audio_ids: Sequence[str], reverb_names: Sequence[str], *, seed: int) -> dict[str, Any]:
    """The evaluation pairs seldkit fixes when the user gives none: one impulse response per evaluation clip.

    Clip ``id`` gets the response at position ``int(sha256(f"{seed}:{id}")[:16], 16) mod N`` of the evaluation
    reverb index (N records, file order). A clip's response depends only on the seed, its id and the reverb
    index, not on the other clips, so two partial copies pair the clips they share alike.
    """
    pairs = []
    for audio_id in audio_ids:
        slot = int(hashlib.sha256(f"{seed}:{audio_id}".encode()).hexdigest()[:16], 16) % len(reverb_names)
        pairs.append({"audio": audio_id, "reverb": reverb_names[slot], "split": "test"})
    return {
        "description": "evaluation pairs derived by seldkit: clip id -> impulse response "
        "int(sha256(f'{seed}:{id}')[:16], 16) mod (records in the evaluation reverb index)",
        "seed": seed,
        "pairs": pairs,
    }


def _manifest_pairs(
    path: Path, audio: Mapping[str, AudioRecord], reverbs: Mapping[str, ReverbRecord]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """A given evaluation manifest: ``{"pairs": [{"audio", "reverb", "split"?}]}``, every pair of split ``test``."""
    from seldkit.io.fields import Fields

    document = read_json_file(path)
    entries = document.get("pairs") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise InputError(
            'an evaluation manifest is {"pairs": [{"audio", "reverb"}, ...]} with one pair or more', file=str(path)
        )
    pairs = []
    for number, entry in enumerate(entries):
        fields = Fields(entry, file=path, where=f"pairs[{number}]")
        audio_id, reverb = fields.string("audio"), fields.string("reverb")
        fields.string("split", "test", choices=("test",))
        fields.number("weight", 1.0)
        fields.finish()
        if audio_id not in audio:
            raise InputError(
                f"pairs[{number}]: the clip {audio_id!r} is not in the evaluation audio index", file=str(path)
            )
        if reverb not in reverbs:
            raise InputError(
                f"pairs[{number}]: the impulse response {reverb!r} is not in the evaluation reverb index",
                file=str(path),
            )
        pairs.append((audio_id, reverb))
    return document, pairs


class _Listing:
    """Whether files exist, listing each folder once (far faster than one stat per file on large copies)."""

    def __init__(self) -> None:
        self.folders: dict[Path, frozenset[str]] = {}

    def exists(self, path: Path) -> bool:
        folder = path.parent
        if folder not in self.folders:
            try:
                self.folders[folder] = frozenset(entry.name for entry in os.scandir(folder) if not entry.is_dir())
            except OSError:
                self.folders[folder] = frozenset()
        return path.name in self.folders[folder]


def read_published(data: Mapping[str, Any], settings: Mapping[str, str]) -> PublishedCopy:
    """Read a user's copy of the published data (the protocol's ``data`` section and the ``--set`` values).

    Checks every index, the weights and the evaluation manifest (any problem is an :class:`InputError` naming
    the file, and the record or line), then lists the files the indexes name that are not there. Training uses
    the training clips that exist, each drawing a random impulse response of the training reverb index on every
    fetch (the published pairing); evaluation uses the manifest's pairs whose files exist. An index none of
    whose files exist is an error naming it. Nothing is written.
    """
    values = published_settings(data, settings)
    paths = {key: Path(value) for key, value in values.items() if key != "eval_seed"}
    for key in ("audio_root", "reverb_root"):
        if not paths[key].is_dir():
            raise InputError(
                f"--set {key}: not a folder" if paths[key].exists() else f"--set {key}: folder not found",
                file=str(paths[key]),
            )
    classes = audioset_classes().ids
    known = frozenset(classes)
    train_audio = read_audio_index(paths["audio_index"], audio_root=paths["audio_root"], classes=known)
    balanced_audio = (
        read_audio_index(paths["balanced_audio_index"], audio_root=paths["audio_root"], classes=known)
        if "balanced_audio_index" in paths
        else {}
    )
    eval_audio = read_audio_index(paths["eval_audio_index"], audio_root=paths["audio_root"], classes=known)
    train_reverbs = read_reverb_index(paths["reverb_index"], reverb_root=paths["reverb_root"])
    eval_reverbs = read_reverb_index(paths["eval_reverb_index"], reverb_root=paths["reverb_root"])
    audio_indexes = [("audio_index", train_audio), ("eval_audio_index", eval_audio)]
    if "balanced_audio_index" in paths:
        audio_indexes.append(("balanced_audio_index", balanced_audio))
    for key, records in audio_indexes:
        if not records:
            raise InputError("the audio index has no records", file=str(paths[key]))
    for key, reverbs in (("reverb_index", train_reverbs), ("eval_reverb_index", eval_reverbs)):
        if not reverbs:
            raise InputError("the reverb index has no records", file=str(paths[key]))
    weights = (
        read_weights(paths["weights"], count=len(train_audio), index_path=paths["audio_index"])
        if "weights" in paths
        else np.ones(len(train_audio))
    )
    audio = _merge(train_audio, eval_audio, paths["eval_audio_index"], "clip")
    if balanced_audio:
        audio = _merge(audio, balanced_audio, paths["balanced_audio_index"], "clip")
    reverbs = _merge(train_reverbs, eval_reverbs, paths["eval_reverb_index"], "impulse response")
    if "manifest" in paths:
        manifest, chosen = _manifest_pairs(paths["manifest"], eval_audio, eval_reverbs)
        derived = False
    else:
        manifest = derive_manifest(list(eval_audio), list(eval_reverbs), seed=int(values["eval_seed"]))
        chosen = [(pair["audio"], pair["reverb"]) for pair in manifest["pairs"]]
        derived = True

    listing = _Listing()
    missing: list[tuple[str, str, str, str]] = []
    present: dict[str, bool] = {}
    for key, records in audio_indexes:
        for name, record in records.items():
            if name not in present:
                present[name] = listing.exists(record.path) or (
                    record.fallback is not None and listing.exists(record.fallback)
                )
            if not present[name]:
                missing.append(("audio", str(paths[key]), name, str(record.path)))
    for key, reverb_records in (("reverb_index", train_reverbs), ("eval_reverb_index", eval_reverbs)):
        for name, reverb in reverb_records.items():
            if f"rir:{name}" not in present:
                present[f"rir:{name}"] = listing.exists(reverb.path)
            if not present[f"rir:{name}"]:
                missing.append(("reverb", str(paths[key]), name, str(reverb.path)))
    for key, names in ((key, list(records)) for key, records in audio_indexes):
        if not any(present[name] for name in names):
            first = audio[names[0]].path
            raise InputError(
                f"none of the {len(names)} audio files of this index exist under --set audio_root "
                f"(the first would be {first})",
                file=str(paths[key]),
            )
    for key, names in (("reverb_index", list(train_reverbs)), ("eval_reverb_index", list(eval_reverbs))):
        if not any(present[f"rir:{name}"] for name in names):
            raise InputError(
                f"none of the {len(names)} impulse responses of this index exist under --set reverb_root "
                f"(the first would be {reverbs[names[0]].path})",
                file=str(paths[key]),
            )
    train_pairs = [
        Pair(name, "", "train", float(weight)) for name, weight in zip(train_audio, weights) if present[name]
    ]
    if not sum(pair.weight for pair in train_pairs) > 0:
        raise InputError("every training clip that exists has weight 0", file=str(paths["weights"]))
    balanced_pairs = [Pair(name, "", "balanced") for name in balanced_audio if present[name]]
    test_pairs = [Pair(name, reverb, "test") for name, reverb in chosen if present[name] and present[f"rir:{reverb}"]]
    if not test_pairs:
        where = paths.get("manifest", paths["eval_audio_index"])
        raise InputError("no evaluation pair has both its audio file and its impulse response", file=str(where))
    pool = tuple(name for name in train_reverbs if present[f"rir:{name}"])
    sample_rate = int(data.get("sample_rate") or SAMPLE_RATE)
    info = {
        "generator": "published-layout",
        "sample_rate": sample_rate,
        "clip_samples": int(round(float(data["clip_seconds"]) * sample_rate)),
        "rir_samples": int(round(float(data["rir_seconds"]) * sample_rate)),
        "classes": list(classes),
    }
    pools = {"train": pool, **({"balanced": pool} if balanced_pairs else {})}  # the published loader's one json
    index = DatasetIndex(
        paths["audio_root"], audio, reverbs, train_pairs + balanced_pairs + test_pairs, tuple(classes), info, pools
    )
    files: dict[str, str] = dict(values)
    digests: dict[str, str] = {
        key: _file_digest(paths[key])
        for key in (
            "audio_index",
            "balanced_audio_index",
            "eval_audio_index",
            "reverb_index",
            "eval_reverb_index",
            "weights",
            "manifest",
        )
        if key in paths
    }
    return PublishedCopy(index, missing, manifest, derived, files, digests)


_Record = TypeVar("_Record", AudioRecord, ReverbRecord)


def _merge(first: dict[str, _Record], second: dict[str, _Record], second_path: Path, what: str) -> dict[str, _Record]:
    """The training and evaluation records by name; a name in both must name the same record."""
    merged = dict(first)
    for name, record in second.items():
        if merged.setdefault(name, record) != record:
            raise InputError(
                f"the {what} {name!r} is in the training index too, with another record", file=str(second_path)
            )
    return merged
