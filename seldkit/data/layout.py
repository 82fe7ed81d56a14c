"""The published SpatialAST / DSpAST data layout, and a torch dataset over it (SPEC §5).

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
from seldkit.data.targets import LabelMode, parse_position, spatial_targets
from seldkit.errors import InputError
from seldkit.io.jsonfile import read_json_file


@dataclass(frozen=True)
class AudioRecord:
    id: str
    path: Path
    labels: tuple[str, ...]


@dataclass(frozen=True)
class ReverbRecord:
    fname: str
    path: Path
    sensor: np.ndarray
    source: np.ndarray


@dataclass(frozen=True)
class Pair:
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
        return [pair for pair in self.pairs if pair.split == name]


def read_audio_index(path: Path, *, audio_root: Path) -> dict[str, AudioRecord]:
    """Sources of an audio index JSON, by id."""
    records = read_json_file(path).get("data")
    if not isinstance(records, list):
        raise InputError('an audio index is {"data": [...]}', file=str(path))
    index: dict[str, AudioRecord] = {}
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict) or "id" not in record or "label" not in record:
            raise InputError(f"record {number} needs 'id' and 'label'", file=str(path))
        name = str(record["id"])
        file_name = str(record.get("file") or (name if Path(name).suffix else f"{name}.wav"))
        folder = audio_root / record["folder"] if record.get("folder") else audio_root
        labels = record["label"] if isinstance(record["label"], list) else str(record["label"]).split(",")
        index[name] = AudioRecord(name, folder / file_name, tuple(labels))
    return index


def read_reverb_index(path: Path, *, reverb_root: Path) -> dict[str, ReverbRecord]:
    """Impulse responses of a reverb index JSON, by file name."""
    records = read_json_file(path).get("data")
    if not isinstance(records, list):
        raise InputError('a reverb index is {"data": [...]}', file=str(path))
    index: dict[str, ReverbRecord] = {}
    for number, record in enumerate(records, start=1):
        try:
            fname = str(record["fname"])
            sensor, source = parse_position(record["sensor_position"]), parse_position(record["source_position"])
        except (KeyError, TypeError, ValueError) as error:
            raise InputError(f"record {number}: needs fname and 'x,y,z' positions ({error})", file=str(path)) from None
        index[fname] = ReverbRecord(fname, reverb_root / "binaural" / fname, sensor, source)
    return index


def read_dataset(root: str | Path) -> DatasetIndex:
    """A data set written by ``seldkit make-dataset`` (or laid out the same way): ``dataset.json`` names the
    audio index, reverb index, manifest and class list."""
    root = Path(root)
    info = read_json_file(root / "dataset.json")
    audio = read_audio_index(root / info["audio_index"], audio_root=root / info.get("audio_root", "audio"))
    reverbs = read_reverb_index(root / info["reverb_index"], reverb_root=root / info.get("reverb_root", "."))
    manifest = read_json_file(root / info["manifest"])
    pairs = [Pair(p["audio"], p["reverb"], p["split"], float(p.get("weight", 1.0))) for p in manifest["pairs"]]
    for pair in pairs:
        if pair.audio not in audio or pair.reverb not in reverbs:
            raise InputError(f"manifest pair {pair.audio} / {pair.reverb} is not in the indexes", file=str(root / info["manifest"]))
    return DatasetIndex(root, audio, reverbs, pairs, tuple(info["classes"]), info)


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
            np.stack([reverb.sensor for reverb in reverbs]), np.stack([reverb.source for reverb in reverbs]), mode=label_mode
        )
        self.rng = np.random.default_rng(seed)
        # Small data sets (the embedded default) fit in memory: decode every file once.
        self._cache: dict[str, np.ndarray] | None = {} if cache else None

    @classmethod
    def for_evaluation(cls, index: DatasetIndex, split: str = "test") -> BinauralDataset:
        """A split as written (no augmentation), at the clip and response lengths the data set records."""
        return cls(index, split, clip_samples=index.info["clip_samples"], rir_samples=index.info["rir_samples"])

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def weights(self) -> np.ndarray:
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
        return self._cached(f"audio:{audio_id}", lambda: load_source(self.index.audio[audio_id].path, length=self.clip_samples))

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
        reverb = self._cached(f"rir:{pair.reverb}", lambda: load_rir(self.index.reverbs[pair.reverb].path, length=self.rir_samples))
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


def collate(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Stack items into a batch: mono sources [B, 1, T], impulse responses [B, 2, L], targets."""
    import torch

    batch = {name: torch.stack([item[name] for item in items]) for name in ("waveform", "reverb", "sed")}
    for name in ("distance", "azimuth", "elevation", "index"):
        batch[name] = torch.tensor([item[name] for item in items], dtype=torch.int64)
    return batch


def weighted_sampler(dataset: BinauralDataset, *, num_samples: int, seed: int = 0):
    """Sampling with replacement in proportion to the manifest weights (the published stage-1 scheme)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    return torch.utils.data.WeightedRandomSampler(
        torch.as_tensor(dataset.weights, dtype=torch.double), num_samples=num_samples, replacement=True, generator=generator
    )
