"""Building the data set of a training protocol (``seldkit make-dataset``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from seldkit.cache import cache_dir
from seldkit.errors import InputError
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
    {"audio", "binaural", "audio.json", "reverb.json", "manifest.json", "checksums.json", "dataset.json"}
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
    """A user's copy of the published data: check the paths and the indexes, count the pairs."""
    from seldkit.data.layout import read_audio_index, read_reverb_index

    needed = ("audio_index", "audio_root", "reverb_index", "reverb_root")
    values = {key: settings.get(key) or data.get(key) for key in (*needed, "manifest")}
    missing = [key for key in needed if not values[key]]
    if missing:
        raise InputError(
            f"give the paths of your copy of the published data: --set {missing[0]}=PATH "
            f"(and {', '.join(missing[1:]) or 'no more'})"
        )
    paths = {key: Path(str(values[key])) for key in needed}
    audio = read_audio_index(paths["audio_index"], audio_root=paths["audio_root"])
    reverbs = read_reverb_index(paths["reverb_index"], reverb_root=paths["reverb_root"])
    return {
        "splits": {"audio": len(audio), "reverbs": len(reverbs)},
        "classes": sorted({label for record in audio.values() for label in record.labels}),
    }
