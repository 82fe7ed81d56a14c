"""The published SpatialAST / DSpAST data layout, and a torch dataset over it.

A data set is

* an **audio index** JSON ``{"data": [{"id", "folder"?, "label": [mids], "file"?}]}`` (the sources: mono
  audio files at ``<audio root>/<folder>/<file>``, ``file`` defaulting to ``<id>.wav``),
* a **reverb index** JSON ``{"data": [{"fname", "sensor_position": "x,y,z", "source_position": "x,y,z"}]}``
  (``(2, L)`` impulse responses at ``<reverb root>/binaural/<fname>``),
* a **manifest** (seldkit's addition) fixing which source plays through which impulse response in which
  split, with a sampling weight: ``{"pairs": [{"audio", "reverb", "split", "weight"}]}``. Evaluation always
  uses these pairs — never a random draw.

Batches hold mono sources and impulse responses; the convolution and the features run batched on the
model's device (:class:`seldkit.features.Frontend`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seldkit.data.audio import load_rir, load_source
from seldkit.data.targets import N_DISTANCE_CLASSES, LabelMode, parse_position, spatial_targets
from seldkit.errors import InputError
from seldkit.io.jsonfile import read_json_file


@dataclass(frozen=True)
class AudioRecord:
    """A source of the audio index: its id, the path of its audio file, and its labels (class ids)."""

    id: str
    path: Path
    labels: tuple[str, ...]


@dataclass(frozen=True)
class ReverbRecord:
    """An impulse response of the reverb index: its file name and path, and the sensor and source positions."""

    fname: str
    path: Path
    sensor: np.ndarray
    source: np.ndarray


@dataclass(frozen=True)
class Pair:
    """A manifest entry: the source ``audio`` played through the impulse response ``reverb`` in ``split``, weighted."""

    audio: str
    reverb: str
    split: str
    weight: float = 1.0


@dataclass(frozen=True)
class DatasetIndex:
    """Everything a split needs: sources, impulse responses and the fixed pairs."""

    root: Path
    audio: dict[str, AudioRecord]
    reverbs: dict[str, ReverbRecord]
    pairs: list[Pair]
    classes: tuple[str, ...]
    info: dict[str, Any]

    def split(self, name: str) -> list[Pair]:
        """The pairs of the split ``name``, in manifest order."""
        return [pair for pair in self.pairs if pair.split == name]


def read_audio_index(path: Path, *, audio_root: Path) -> dict[str, AudioRecord]:
    """Sources of an audio index JSON, by id."""
    records = _records(read_json_file(path), path, 'an audio index is {"data": [...]}')
    index: dict[str, AudioRecord] = {}
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict) or "id" not in record or "label" not in record:
            raise InputError(f"record {number} needs 'id' and 'label'", file=str(path))
        name, labels, folder, file = record["id"], record["label"], record.get("folder"), record.get("file")
        if not isinstance(name, (str, int)) or isinstance(name, bool) or not str(name):
            raise InputError(f"record {number}: 'id' must be text", file=str(path))
        if isinstance(labels, str):
            labels = labels.split(",")
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            raise InputError(
                f"record {number}: 'label' must be a list of class ids (or one comma-separated text)", file=str(path)
            )
        for key, value in (("folder", folder), ("file", file)):
            if value is not None and not isinstance(value, str):
                raise InputError(f"record {number}: {key!r} must be text", file=str(path))
        name = str(name)
        if name in index:
            raise InputError(f"record {number}: the id {name!r} occurs twice", file=str(path))
        file_name = file or (name if Path(name).suffix else f"{name}.wav")
        index[name] = AudioRecord(name, (audio_root / folder if folder else audio_root) / file_name, tuple(labels))
    return index


def read_reverb_index(path: Path, *, reverb_root: Path) -> dict[str, ReverbRecord]:
    """Impulse responses of a reverb index JSON, by file name."""
    records = _records(read_json_file(path), path, 'a reverb index is {"data": [...]}')
    index: dict[str, ReverbRecord] = {}
    for number, record in enumerate(records, start=1):
        try:
            fname = record["fname"]
            if not isinstance(fname, str) or not fname:
                raise TypeError("fname must be text")
            sensor, source = parse_position(record["sensor_position"]), parse_position(record["source_position"])
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise InputError(f"record {number}: needs fname and 'x,y,z' positions ({error})", file=str(path)) from None
        if np.array_equal(sensor, source):
            raise InputError(
                f"record {number}: source and sensor coincide (the direction is undefined)", file=str(path)
            )
        index[fname] = ReverbRecord(fname, reverb_root / "binaural" / fname, sensor, source)
    return index


def _records(document: Any, path: Path, form: str) -> list[Any]:
    records = document.get("data") if isinstance(document, dict) else None
    if not isinstance(records, list):
        raise InputError(form, file=str(path))
    return records


def read_dataset(root: str | Path) -> DatasetIndex:
    """A data set written by ``seldkit make-dataset`` (or laid out the same way), read and checked.

    ``dataset.json`` names the audio index, reverb index, manifest and class list.
    """
    from seldkit.io.fields import Fields

    root = Path(root)
    if not root.is_dir():
        raise InputError("not a data set folder" if root.exists() else "data set folder not found", file=str(root))
    info_path = root / "dataset.json"
    info = read_json_file(info_path)
    fields = Fields(info, file=info_path)
    names = {key: fields.string(key) for key in ("audio_index", "reverb_index", "manifest")}
    audio_root, reverb_root = fields.string("audio_root", "audio"), fields.string("reverb_root", ".")
    classes = fields.raw("classes")
    if not isinstance(classes, list) or not all(isinstance(item, str) for item in classes):
        raise fields.error("classes", "must be a list of class ids")
    for key in ("clip_samples", "rir_samples"):  # the lengths a data set was written at (make-dataset records them)
        if fields.has(key):
            fields.integer(key, minimum=1, maximum=1 << 31)
    audio = read_audio_index(root / names["audio_index"], audio_root=root / audio_root)
    reverbs = read_reverb_index(root / names["reverb_index"], reverb_root=root / reverb_root)
    manifest_path = root / names["manifest"]
    manifest = read_json_file(manifest_path)
    entries = manifest.get("pairs") if isinstance(manifest, dict) else None
    if not isinstance(entries, list):
        raise InputError('a manifest is {"pairs": [...]}', file=str(manifest_path))
    pairs = []
    for number, entry in enumerate(entries, start=1):
        pair_fields = Fields(entry, file=manifest_path, where=f"pairs[{number - 1}]")
        pair = Pair(
            pair_fields.string("audio"),
            pair_fields.string("reverb"),
            pair_fields.string("split"),
            pair_fields.number("weight", 1.0, minimum=0.0, exclusive_minimum=True),
        )
        if pair.audio not in audio or pair.reverb not in reverbs:
            raise InputError(
                f"manifest pair {pair.audio} / {pair.reverb} is not in the indexes", file=str(manifest_path)
            )
        pairs.append(pair)
    return DatasetIndex(root, audio, reverbs, pairs, tuple(classes), info)


class BinauralDataset:
    """Pairs of a split as training/evaluation items (a ``torch.utils.data.Dataset``).

    Items: ``waveform`` [1, T] float32, ``reverb`` [2, L] float32, ``sed`` [C] float32 (multi-hot over
    ``classes``), ``distance``, ``azimuth``, ``elevation`` (int64 classes), ``index``. With ``augment=True``
    (training): mixup of two sources with a Beta(``mixup_alpha``) weight on the SED targets (spatial targets
    stay those of the first source, which the impulse response belongs to), and a random circular roll and
    gain of the waveform, as the published loader does.
    """

    def __init__(
        self,
        index: DatasetIndex,
        split: str,
        *,
        clip_samples: int,
        rir_samples: int,
        label_mode: LabelMode = "clean",
        augment: bool = False,
        mixup_probability: float = 0.5,
        mixup_alpha: float = 10.0,
        seed: int = 0,
        cache: bool = False,
    ) -> None:
        self.index = index
        self.pairs = index.split(split)
        if not self.pairs:
            raise InputError(f"split {split!r} has no pairs", file=str(index.root))
        self.clip_samples, self.rir_samples = clip_samples, rir_samples
        self.augment, self.mixup_probability, self.mixup_alpha = augment, mixup_probability, mixup_alpha
        self.channel_swap_probability = 0.0
        self.class_index = {class_id: position for position, class_id in enumerate(index.classes)}
        reverbs = [index.reverbs[pair.reverb] for pair in self.pairs]
        self.targets = spatial_targets(
            np.stack([reverb.sensor for reverb in reverbs]),
            np.stack([reverb.source for reverb in reverbs]),
            mode=label_mode,
        )
        too_far = np.flatnonzero(self.targets.distance >= N_DISTANCE_CLASSES)
        if too_far.size:
            raise InputError(
                f"impulse response {reverbs[too_far[0]].fname}: the source is more than 10.25 m away, beyond "
                f"the {N_DISTANCE_CLASSES} distance classes (use label_mode clean, which clips)",
                file=str(index.root),
            )
        self.rng = np.random.default_rng(seed)
        # Small data sets (the embedded default) fit in memory: decode every file once.
        self._cache: dict[str, np.ndarray] | None = {} if cache else None

    @classmethod
    def for_evaluation(cls, index: DatasetIndex, split: str = "test") -> BinauralDataset:
        """A split as written (no augmentation), at the clip and response lengths the data set records."""
        for key in ("clip_samples", "rir_samples"):
            if key not in index.info:
                raise InputError(
                    f"{key} is missing (the length to cut clips and impulse responses to)",
                    file=str(index.root / "dataset.json"),
                )
        return cls(index, split, clip_samples=index.info["clip_samples"], rir_samples=index.info["rir_samples"])

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def weights(self) -> np.ndarray:
        """The sampling weights of the split's pairs, in order."""
        return np.array([pair.weight for pair in self.pairs])

    def _sed(self, audio_id: str) -> np.ndarray:
        target = np.zeros(len(self.class_index), dtype=np.float32)
        for label in self.index.audio[audio_id].labels:
            if label in self.class_index:
                target[self.class_index[label]] = 1.0
        return target

    def _cached(self, key: str, load) -> np.ndarray:
        if self._cache is None:
            return load()
        if key not in self._cache:
            self._cache[key] = load()
        return self._cache[key]

    def _waveform(self, audio_id: str) -> np.ndarray:
        path = self.index.audio[audio_id].path
        return self._cached(f"audio:{audio_id}", lambda: _readable(load_source, path, length=self.clip_samples))

    def _reverb(self, fname: str) -> np.ndarray:
        path = self.index.reverbs[fname].path
        return self._cached(f"rir:{fname}", lambda: _readable(load_rir, path, length=self.rir_samples))

    def __getitem__(self, position: int) -> dict[str, Any]:
        import torch

        pair = self.pairs[position]
        waveform = self._waveform(pair.audio)
        sed = self._sed(pair.audio)
        if self.augment:
            if self.rng.random() < self.mixup_probability:
                other = self.pairs[int(self.rng.integers(len(self.pairs)))]
                weight = float(self.rng.beta(self.mixup_alpha, self.mixup_alpha))
                waveform = weight * waveform + (1 - weight) * self._waveform(other.audio)
                sed = weight * sed + (1 - weight) * self._sed(other.audio)
            waveform = np.roll(waveform, int(self.rng.integers(len(waveform)))) * float(self.rng.uniform(0.5, 1.5))
        reverb = self._reverb(pair.reverb)
        azimuth = int(self.targets.azimuth[position])
        if self.augment and self.channel_swap_probability > 0 and self.rng.random() < self.channel_swap_probability:
            # the mirror image: left and right ears exchanged, the source mirrored to azimuth -phi
            reverb, azimuth = np.ascontiguousarray(reverb[::-1]), (360 - azimuth) % 360
        return {
            "waveform": torch.from_numpy(np.asarray(waveform, dtype=np.float32)).unsqueeze(0),
            "reverb": torch.from_numpy(reverb),
            "sed": torch.from_numpy(sed),
            "distance": int(self.targets.distance[position]),
            "azimuth": azimuth,
            "elevation": int(self.targets.elevation[position]),
            "index": position,
        }


def _readable(load: Any, path: Path, *, length: int) -> np.ndarray:
    """``load(path, length=length)``; a missing, truncated or undecodable file is an :class:`InputError`."""
    try:
        return load(path, length=length)
    except InputError:
        raise
    except Exception as error:  # soundfile, NumPy and SciPy raise many types for broken files
        detail = " ".join(str(error).split())[:200] or type(error).__name__
        raise InputError(f"cannot read this file of the data set: {detail}", file=str(path)) from None


def collate(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Stack items into a batch: mono sources [B, 1, T], impulse responses [B, 2, L], targets."""
    import torch

    batch = {name: torch.stack([item[name] for item in items]) for name in ("waveform", "reverb", "sed")}
    for name in ("distance", "azimuth", "elevation", "index"):
        batch[name] = torch.tensor([item[name] for item in items], dtype=torch.int64)
    return batch
