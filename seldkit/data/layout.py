"""The published SpatialAST / DSpAST data layout, and a torch dataset over it.

A data set is

* an **audio index** JSON: a list ``[{"id", "folder"?, "label": [mids], "file"?}]`` (the published form) or
  ``{"data": [...]}`` (the sources: audio files at ``<audio root>/<folder>/<file>``, ``file`` defaulting to
  ``<id>.wav``),
* a **reverb index** JSON ``{"data": [{"fname", "sensor_position": "x,y,z", "source_position": "x,y,z"}]}``
  (``(2, L)`` impulse responses at ``<reverb root>/binaural/<fname>``),
* a **manifest** (seldkit's addition) fixing which source plays through which impulse response in which
  split, with a sampling weight: ``{"pairs": [{"audio", "reverb", "split", "weight"}]}``. Evaluation always
  uses these pairs — never a random draw. A pair may add a binaural background, ``"noise"`` (a ``(2, N)``
  ``.npy`` file under the data set's ``noise_root``) and ``"snr_db"``: the background is scaled to that
  signal-to-noise ratio against the rendered clip (both ears, whole clip) and added after rendering.

A split may instead draw a random impulse response from a pool on every fetch (``DatasetIndex.reverb_pools``):
that is how the published loader pairs training clips, and how seldkit trains on a copy of the published data
(:mod:`seldkit.data.build`).

Batches hold mono sources and impulse responses; the convolution and the features run batched on the
model's device (:class:`seldkit.features.Frontend`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seldkit.data.audio import SAMPLE_RATE, load_rir, load_source
from seldkit.data.targets import N_DISTANCE_CLASSES, LabelMode, parse_position, spatial_targets
from seldkit.errors import InputError
from seldkit.io.jsonfile import read_json_file


@dataclass(frozen=True)
class AudioRecord:
    """A source of the audio index: its id, the path of its audio file, and its labels (class ids)."""

    id: str
    path: Path
    labels: tuple[str, ...]
    # DSpAST's second rule for a folder of three or more parts: <root>/<first part>/audio/<file>, used when
    # ``path`` does not exist (see :func:`read_audio_index`)
    fallback: Path | None = None


@dataclass(frozen=True)
class ReverbRecord:
    """An impulse response of the reverb index: its file name and path, and the sensor and source positions."""

    fname: str
    path: Path
    sensor: np.ndarray
    source: np.ndarray
    room: str = ""  # the room (scene) it was measured or simulated in: the record's "room", else fname's folder


@dataclass(frozen=True)
class Pair:
    """A manifest entry: the source ``audio`` played through the impulse response ``reverb`` in ``split``, weighted.

    ``reverb`` is empty in a split that draws a random impulse response from its pool on every fetch.
    """

    audio: str
    reverb: str
    split: str
    weight: float = 1.0
    noise: str = ""  # a binaural background (relative to the data set's noise root), or none
    snr_db: float | None = None  # the clip's SNR against ``noise``


@dataclass(frozen=True)
class DatasetIndex:
    """Everything a split needs: sources, impulse responses and the fixed pairs."""

    root: Path
    audio: dict[str, AudioRecord]
    reverbs: dict[str, ReverbRecord]
    pairs: list[Pair]
    classes: tuple[str, ...]
    info: dict[str, Any]
    # split -> impulse responses (file names) a fetch draws from at random, as the published loader pairs clips
    reverb_pools: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def split(self, name: str) -> list[Pair]:
        """The pairs of the split ``name``, in manifest order."""
        return [pair for pair in self.pairs if pair.split == name]


def read_audio_index(path: Path, *, audio_root: Path, classes: Collection[str] | None = None) -> dict[str, AudioRecord]:
    """Sources of an audio index JSON, by id, in file order.

    The file is the published list of records or ``{"data": [...]}``. A record's file is
    ``<audio_root>/<folder>/<file>`` (``file`` defaults to ``<id>.wav``), the published rule. For a ``folder``
    of three or more ``/``-separated parts DSpAST's loader reads ``<audio_root>/<first part>/audio/<file>``
    instead; that path is kept as the record's ``fallback``, used when the first does not exist. With
    ``classes``, every label must be one of them (the published loader fails on any other).
    """
    records = _records(read_json_file(path), path, 'an audio index is a list of records or {"data": [...]}')
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
        if classes is not None:
            unknown = [label for label in labels if label not in classes]
            if unknown:
                raise InputError(
                    f"record {number}: the label {unknown[0]!r} is not one of the {len(classes)} classes",
                    file=str(path),
                )
        name = str(name)
        if name in index:
            raise InputError(f"record {number}: the id {name!r} occurs twice", file=str(path))
        file_name = file or (name if Path(name).suffix else f"{name}.wav")
        parts = folder.split("/") if folder else []
        fallback = audio_root / parts[0] / "audio" / file_name if len(parts) >= 3 else None
        index[name] = AudioRecord(
            name, (audio_root / folder if folder else audio_root) / file_name, tuple(labels), fallback
        )
    return index


def read_weights(path: Path, *, count: int, index_path: Path) -> np.ndarray:
    """The published ``--weight_csv``: one sampling weight a line, in the order of the audio index's records.

    The published file is written by ``numpy.savetxt`` (``%.18e``) and read by ``numpy.loadtxt``; blank lines
    and ``#`` comments are skipped as there. Every weight must be a finite number >= 0, and there must be one for
    each of the ``count`` records of ``index_path``.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("weights file not found", file=str(path)) from None
    except IsADirectoryError:
        raise InputError("a weights file is a file, not a folder", file=str(path)) from None
    except UnicodeDecodeError:
        raise InputError("the weights file is not UTF-8 text", file=str(path)) from None
    except OSError as error:
        raise InputError(f"cannot read the weights file: {error.strerror or error}", file=str(path)) from None
    weights: list[float] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        cell = line.split("#", 1)[0].strip()
        if not cell:
            continue
        try:
            weight = float(cell)
        except ValueError:
            raise InputError(
                f"line {line_number}: {cell[:40]!r} is not a number (one weight a line)", file=str(path)
            ) from None
        if not np.isfinite(weight) or weight < 0:
            raise InputError(f"line {line_number}: a weight is a finite number >= 0, not {cell!r}", file=str(path))
        weights.append(weight)
    if len(weights) != count:
        raise InputError(
            f"holds {len(weights)} weights; the audio index {index_path} has {count} records (one weight each, "
            "in its order)",
            file=str(path),
        )
    return np.array(weights, dtype=np.float64)


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
        room = record.get("room")
        if not isinstance(room, str) or not room:
            room = fname.rsplit("/", 1)[0] if "/" in fname else fname  # SoundSpaces: <scene>/<file>.npy
        index[fname] = ReverbRecord(fname, reverb_root / "binaural" / fname, sensor, source, room)
    return index


def _records(document: Any, path: Path, form: str) -> list[Any]:
    records = document if isinstance(document, list) else document.get("data") if isinstance(document, dict) else None
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
        noise = pair_fields.string("noise", "", nonempty=False)
        if noise and (Path(noise).is_absolute() or ".." in Path(noise).parts):
            raise pair_fields.error("noise", "must be a path inside the data set's noise folder")
        pair = Pair(
            pair_fields.string("audio"),
            pair_fields.string("reverb"),
            pair_fields.string("split"),
            pair_fields.number("weight", 1.0, minimum=0.0, exclusive_minimum=True),
            noise,
            pair_fields.number("snr_db", minimum=-60.0, maximum=120.0) if noise else None,
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
    ``classes``), ``distance``, ``azimuth``, ``elevation`` (int64 classes), ``index``.

    A split with a reverb pool (``index.reverb_pools``) pairs each fetch with a random impulse response of the
    pool, as the published loader pairs every clip; a split without one plays each pair's own response.

    With ``augment=True`` (training), as the published loader's training set (``--roll_mag_aug``, ``--mixup``):

    * a gain ``Beta(10, 10) + 0.5`` on each source (mean 1, within (0.5, 1.5)). The published augmentation is
      named "roll" too, but its shift is ``randint(len(waveform))`` on a (1, N) tensor, which is always 0: it never
      rolls, so neither does this;
    * with probability ``mixup_probability``, a mix-up before rendering: a partner uniform over the split (it may
      be the clip itself) with its own gain, ``lambda ~ Beta(mixup_alpha, mixup_alpha)``, waveform
      ``lambda x1 + (1 - lambda) x2``, SED targets ``lambda`` on the first clip's labels plus ``1 - lambda`` on the
      partner's (1.0 for a label of both). Both play through the same impulse response, so the spatial targets
      are those of that response;
    * with probability ``channel_swap_probability`` (not in the published recipe), the ears exchanged.

    Evaluation (``augment=False``) reads the pairs as they are.
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
        sample_rate: int = SAMPLE_RATE,
    ) -> None:
        self.index = index
        self.pairs = index.split(split)
        if not self.pairs:
            raise InputError(f"split {split!r} has no pairs", file=str(index.root))
        self.clip_samples, self.rir_samples, self.sample_rate = clip_samples, rir_samples, sample_rate
        self.augment, self.mixup_probability, self.mixup_alpha = augment, mixup_probability, mixup_alpha
        self.channel_swap_probability = 0.0
        self.class_index = {class_id: position for position, class_id in enumerate(index.classes)}
        # with a pool, the targets are those of the pool's responses (the directions training sees)
        self.pool: tuple[str, ...] | None = tuple(index.reverb_pools.get(split, ())) or None
        names = self.pool if self.pool is not None else [pair.reverb for pair in self.pairs]
        if not all(names):
            raise InputError(f"split {split!r} has pairs without an impulse response", file=str(index.root))
        reverbs = [index.reverbs[name] for name in names]
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
        self.noise_root = index.root / str(index.info.get("noise_root", "."))
        self.has_noise = any(pair.noise for pair in self.pairs)  # then every item carries a background (maybe silent)
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
        record = self.index.audio[audio_id]
        path = record.path if record.fallback is None or record.path.exists() else record.fallback

        def load() -> np.ndarray:
            return _readable(load_source, path, length=self.clip_samples, sample_rate=self.sample_rate)

        return self._cached(f"audio:{audio_id}", load)

    def _reverb(self, fname: str) -> np.ndarray:
        path = self.index.reverbs[fname].path
        return self._cached(f"rir:{fname}", lambda: _readable(load_rir, path, length=self.rir_samples))

    def _noise(self, name: str) -> np.ndarray:
        path = self.noise_root / name
        return self._cached(f"noise:{name}", lambda: _readable(_load_noise, path, length=self.clip_samples))

    def _gain(self) -> float:
        return float(self.rng.beta(10.0, 10.0)) + 0.5

    def __getitem__(self, position: int) -> dict[str, Any]:
        import torch

        pair = self.pairs[position]
        if self.pool is not None:  # the published pairing: any response of the pool, drawn on every fetch
            slot = int(self.rng.integers(len(self.pool)))
            fname = self.pool[slot]
        else:
            slot, fname = position, pair.reverb
        waveform = self._waveform(pair.audio)  # the cached array is never changed in place
        sed = self._sed(pair.audio)
        if self.augment:
            waveform = waveform * np.float32(self._gain())
            if self.rng.random() < self.mixup_probability:
                partner = self.pairs[int(self.rng.integers(len(self.pairs)))]
                other = self._waveform(partner.audio) * np.float32(self._gain())
                weight = float(self.rng.beta(self.mixup_alpha, self.mixup_alpha))
                waveform = (weight * waveform + (1 - weight) * other).astype(np.float32)
                # in float64 as the published label sums: a label of both clips adds up to 1.0 in float32
                sed = (weight * sed.astype(np.float64) + (1 - weight) * self._sed(partner.audio)).astype(np.float32)
        reverb = self._reverb(fname)
        azimuth = int(self.targets.azimuth[slot])
        if self.augment and self.channel_swap_probability > 0 and self.rng.random() < self.channel_swap_probability:
            # Exchanging the ears mirrors the scene left <-> right (x -> -x). In the published convention
            # (x = right, y = up, -z = front; azimuth 0 = right, 90 = front, 180 = left) atan2(-dz, -dx) is
            # 180 - atan2(-dz, dx): front and back stay, right and left trade places. Elevation is unchanged.
            reverb, azimuth = np.ascontiguousarray(reverb[::-1]), (180 - azimuth) % 360
            swapped = True
        else:
            swapped = False
        item = {
            "waveform": torch.from_numpy(np.asarray(waveform, dtype=np.float32)).unsqueeze(0),
            "reverb": torch.from_numpy(reverb),
            "sed": torch.from_numpy(sed),
            "distance": int(self.targets.distance[slot]),
            "azimuth": azimuth,
            "elevation": int(self.targets.elevation[slot]),
            "index": position,
        }
        if self.has_noise:
            if pair.noise:
                noise = self._noise(pair.noise)
                item["noise"] = torch.from_numpy(np.ascontiguousarray(noise[::-1]) if swapped else noise)
                item["snr_db"] = float(pair.snr_db if pair.snr_db is not None else np.inf)
            else:
                item["noise"] = torch.zeros((2, self.clip_samples), dtype=torch.float32)
                item["snr_db"] = float("inf")
        return item


def _load_noise(path: Path, *, length: int) -> np.ndarray:
    """A background recording: a (2, N) float array in an ``.npy`` file, cut or zero-padded to ``length``."""
    array = np.load(path, allow_pickle=False)
    if array.ndim != 2 or array.shape[0] != 2 or not np.issubdtype(array.dtype, np.floating):
        raise InputError(
            f"a background recording is a (2, N) float array, not {array.dtype} {array.shape}", file=str(path)
        )
    if not np.all(np.isfinite(array)):
        raise InputError("the background recording holds non-finite values", file=str(path))
    out = np.zeros((2, length), dtype=np.float32)
    out[:, : min(length, array.shape[1])] = array[:, :length]
    return out


def _readable(load: Any, path: Path, **options: Any) -> np.ndarray:
    """``load(path, **options)``; a missing, truncated or undecodable file is an :class:`InputError`."""
    try:
        return load(path, **options)
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
    if "noise" in items[0]:
        batch["noise"] = torch.stack([item["noise"] for item in items])
        batch["snr_db"] = torch.tensor([item["snr_db"] for item in items], dtype=torch.float32)
    return batch
