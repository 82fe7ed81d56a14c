"""Synthetic binaural scenes in the published layout, from the small real assets seldkit ships.

For each split, shoebox rooms of random size and reverberation time are simulated with the image-source
method (pyroomacoustics) and rendered through measured HRIRs (:mod:`seldkit.data.rooms`) into a bank of
binaural impulse responses with known listener and source positions. Mono source clips are drawn from the
shipped recordings and procedural classes (:mod:`seldkit.data.sources`). The manifest pairs every clip with
one impulse response of its split. The test split uses other rooms and positions (in ``synth-binaural`` also
another head, the KU100 instead of the KEMAR), so test scores measure generalisation.

Everything is drawn from one seed (``numpy.random.SeedSequence``, one child stream per split and stage), and
files are written deterministically, so the same protocol gives the same bytes. Impulse-response banks are
cached (``$SELDKIT_CACHE/brir``) by a hash of everything that decides them.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seldkit.cache import cache_dir, read_cached_array, store_cached_array
from seldkit.data.processes import exit_with_parent
from seldkit.data.rooms import Placement, Room, place_source, room_impulse_response, to_layout
from seldkit.data.sofa import read_sofa
from seldkit.data.sources import ORIGINAL_PROCEDURAL, SourceClass, procedural_classes, real_classes
from seldkit.errors import InputError
from seldkit.io.atomic import make_staging_folder, replace_folder, write_new_file
from seldkit.protocols import ClassSet

FORMAT_VERSION = 2  # 2: positions in the published axes (x right, y up, -z front); 1 had x = front


@dataclass(frozen=True)
class SplitConfig:
    """How one split is generated: clip count, rooms and positions per room, HRTF set, RT60 and room-size ranges."""

    name: str
    clips: int
    rooms: int
    positions_per_room: int
    hrtf: Path
    rt60: tuple[float, float]
    room_size: tuple[tuple[float, float], ...]
    class_skew: float  # 0 = balanced classes; s > 0: class k drawn with weight 1 / (k + 1) ** s


@dataclass(frozen=True)
class SynthConfig:
    """The generator's settings: seed, sample rate, clip and impulse-response lengths, placement ranges, splits."""

    seed: int
    sample_rate: int
    clip_seconds: float
    rir_seconds: float
    distance_m: tuple[float, float]
    elevation_deg: tuple[float, float]
    max_image_order: int
    sounds: Path
    procedural: tuple[str, ...]  # names of the procedural classes to draw from (seldkit.data.sources)
    splits: tuple[SplitConfig, ...]
    labels: ClassSet  # the class ids (and names) the sounds' labels refer to: the models' output classes
    overlap: float = 0.0  # probability that a clip mixes a second source of another class (same position)
    overlap_level_db: tuple[float, float] = (-6.0, 6.0)  # level of the second source relative to the first
    noise_snr_db: tuple[float, float] | None = None  # background noise: SNR drawn per clip from this range
    noise_per_room: int = 2  # background recordings simulated in each room
    noise_sources: int = 4  # incoherent noise sources summed into each background recording

    @property
    def clip_samples(self) -> int:
        """Length of a clip in samples."""
        return int(round(self.clip_seconds * self.sample_rate))

    @property
    def rir_samples(self) -> int:
        """Length of an impulse response in samples."""
        return int(round(self.rir_seconds * self.sample_rate))


def config_from_protocol(data: Mapping[str, Any], protocol_dir: Path, *, labels: ClassSet) -> SynthConfig:
    """The generator's settings from a protocol's ``data`` section; asset paths are relative to ``protocol_dir``.

    ``procedural`` is true (the original five procedural classes), false (none) or a list of class names.
    """
    procedural = data.get("procedural", True)
    names = ORIGINAL_PROCEDURAL if procedural is True else () if procedural is False else tuple(procedural)
    noise = data.get("noise_snr_db")
    splits = tuple(
        SplitConfig(
            name=name,
            clips=int(spec["clips"]),
            rooms=int(spec["rooms"]),
            positions_per_room=int(spec["positions_per_room"]),
            hrtf=protocol_dir / spec["hrtf"],
            rt60=tuple(spec["rt60"]),
            room_size=tuple(tuple(axis) for axis in spec["room_size"]),
            class_skew=float(spec.get("class_skew", 0.0)),
        )
        for name, spec in data["splits"].items()
    )
    return SynthConfig(
        seed=int(data["seed"]),
        sample_rate=int(data.get("sample_rate", 32_000)),
        clip_seconds=float(data["clip_seconds"]),
        rir_seconds=float(data["rir_seconds"]),
        distance_m=tuple(data["distance_m"]),
        elevation_deg=tuple(data["elevation_deg"]),
        max_image_order=int(data.get("max_image_order", 20)),
        sounds=protocol_dir / data["sounds"],
        procedural=names,
        splits=splits,
        labels=labels,
        overlap=float(data.get("overlap", 0.0)),
        noise_snr_db=None if noise is None else (float(noise[0]), float(noise[1])),
    )


def source_classes(config: SynthConfig) -> list[SourceClass]:
    """The sound classes to draw from: one per shipped recording, and the procedural ones named in the config."""
    audioset = config.labels
    classes = real_classes(config.sounds, list(audioset.ids))
    if config.procedural:
        classes += procedural_classes({name: mid for mid, name in audioset.names.items()}, config.procedural)
    return classes


def make_dataset(config: SynthConfig, out: Path, *, fingerprint: str, progress: bool = True) -> dict[str, Any]:
    """Write the data set to ``out`` (atomically) unless an intact copy with the same ``fingerprint`` is there.

    Returns the ``dataset.json`` content. ``fingerprint`` identifies the protocol content (its hash). The data
    set is built in a staging folder beside ``out`` and put in place when complete; a staging folder left by a
    killed build is removed by the next one.
    """
    out = Path(out)
    existing = verify_dataset(out, fingerprint)
    if existing is not None:
        return existing
    staging = make_staging_folder(out)
    try:
        info = _write(config, staging, fingerprint=fingerprint, progress=progress)
        replace_folder(staging, out)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        # A path inside the hidden staging folder means nothing to the user: name the folder they asked for.
        where = error.filename if isinstance(error.filename, str) and staging.name not in error.filename else out
        raise InputError(f"cannot write the data set: {error.strerror or error}", file=str(where)) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return info


_INFO_KEYS = {"classes": list, "splits": dict, "clip_samples": int, "rir_samples": int}


class UnusableDataset(Exception):
    """Why a folder does not hold an intact copy of a data set (:func:`check_dataset`).

    ``kind`` is ``absent`` (no ``dataset.json``), ``other`` (a data set of another fingerprint or format version)
    or ``damaged`` (incomplete, unreadable, or a file that differs from its checksum); ``file`` names the file.
    """

    def __init__(self, kind: str, problem: str, file: Path) -> None:
        super().__init__(problem)
        self.kind, self.problem, self.file = kind, problem, file


def verify_dataset(out: Path, fingerprint: str) -> dict[str, Any] | None:
    """The data set's description if ``out`` holds a complete copy for ``fingerprint`` (checksums verified).

    None for anything else, a damaged or foreign copy included.
    """
    try:
        return check_dataset(out, fingerprint)
    except UnusableDataset:
        return None


def check_dataset(out: Path, fingerprint: str) -> dict[str, Any]:
    """The data set's description if ``out`` holds a complete copy for ``fingerprint`` (checksums verified).

    Anything else raises :class:`UnusableDataset` saying what is wrong and with which file.
    """
    description, listing = out / "dataset.json", out / "checksums.json"
    if not description.is_file():
        raise UnusableDataset("absent", "no dataset.json", description)
    info, checksums = _read_json(description), _read_json(listing)
    if not isinstance(info, dict):
        raise UnusableDataset("damaged", "not a data set description", description)
    if info.get("fingerprint") != fingerprint or info.get("format_version") != FORMAT_VERSION:
        found = str(info.get("fingerprint"))[:12]
        raise UnusableDataset(
            "other", f"holds another data set (fingerprint {found}, format version {info.get('format_version')})", out
        )
    if not all(isinstance(info.get(key), kind) for key, kind in _INFO_KEYS.items()):
        raise UnusableDataset("damaged", "incomplete data set description", description)
    if not isinstance(checksums, dict) or not checksums:
        raise UnusableDataset("damaged", "not a list of checksums", listing)
    for relative, digest in checksums.items():
        parts = Path(relative).parts
        if not isinstance(digest, str) or not parts or Path(relative).is_absolute() or ".." in parts:
            raise UnusableDataset("damaged", f"holds an invalid entry {relative!r}", listing)
        path = out / relative
        if not path.is_file():
            raise UnusableDataset("damaged", "missing", path)
        try:
            actual = _sha256(path)
        except OSError as error:
            raise UnusableDataset("damaged", f"cannot be read: {error.strerror or error}", path) from None
        if actual != digest:
            raise UnusableDataset("damaged", "differs from its checksum", path)
    return info


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        raise UnusableDataset("damaged", "missing or unreadable", path) from None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Files:
    """Writes the data set's files into the staging folder and keeps the sha256 of each.

    The checksum is of the bytes written, not of what a later read finds: a write that fails raises, and a file damaged
    afterwards fails verification.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.checksums: dict[str, str] = {}

    def write(self, relative: str, data: bytes) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        write_new_file(path, data)
        self.checksums[relative] = hashlib.sha256(data).hexdigest()

    def json(self, relative: str, document: Any) -> None:
        self.write(relative, (json.dumps(document, indent=1, sort_keys=True) + "\n").encode("utf-8"))


def _flac_bytes(signal: np.ndarray, sample_rate: int) -> bytes:
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, signal.astype(np.float32), sample_rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _write(config: SynthConfig, root: Path, *, fingerprint: str, progress: bool) -> dict[str, Any]:
    from tqdm import tqdm

    files = _Files(root)
    classes = source_classes(config)
    seeds = np.random.SeedSequence(config.seed).spawn(2 * len(config.splits))
    audio_records, reverb_records, pairs = [], [], []
    for number, split in enumerate(config.splits):
        bank = _impulse_response_bank(config, split, seeds[2 * number], progress=progress)
        for index, (placement, room, response) in enumerate(bank):
            room_number, position_number = divmod(index, split.positions_per_room)
            fname = f"{split.name}/room{room_number:02d}_pos{position_number:03d}.npy"
            files.write(f"binaural/{fname}", _npy_bytes(response))
            reverb_records.append(
                {
                    "fname": fname,
                    "sensor_position": ",".join(f"{value:.6f}" for value in to_layout(placement.listener)),
                    "source_position": ",".join(f"{value:.6f}" for value in to_layout(placement.source)),
                    "room": f"{split.name}/room{room_number:02d}",
                    "room_size": [round(float(value), 6) for value in room.size],
                    "rt60": round(room.rt60, 6),
                    **_intended_direction(placement),
                }
            )
        rng = np.random.default_rng(seeds[2 * number + 1])
        noise_files = _write_background(config, split, bank, rng, files) if config.noise_snr_db else {}
        weights = 1.0 / np.arange(1, len(classes) + 1) ** split.class_skew
        class_order = rng.permutation(len(classes))  # which classes are frequent differs by seed, not by name
        drawn = class_order[rng.choice(len(classes), size=split.clips, p=weights / weights.sum())]
        counts = Counter(drawn.tolist())
        for clip in tqdm(
            range(split.clips), desc=f"{split.name} clips", disable=None if progress else True, leave=False
        ):
            sources = [classes[int(drawn[clip])]]
            signal = _normalised(sources[0].draw(rng, config.clip_samples))
            if config.overlap and rng.random() < config.overlap:
                # a second source of another class, mixed before rendering as the published loader mixes clips:
                # both play from the same position, and the clip carries both labels
                other = int(rng.integers(len(classes) - 1))
                sources.append(classes[other + (other >= int(drawn[clip]))])
                level = 10 ** (rng.uniform(*config.overlap_level_db) / 20)
                signal = _normalised(signal + level * _normalised(sources[1].draw(rng, config.clip_samples)))
            signal = signal * 10 ** (rng.uniform(-12.0, -1.0) / 20)  # random level, never clipping
            clip_id = f"{split.name}_{clip:05d}"
            files.write(f"audio/{split.name}/{clip_id}.flac", _flac_bytes(signal, config.sample_rate))
            audio_records.append(
                {
                    "id": clip_id,
                    "folder": split.name,
                    "file": f"{clip_id}.flac",
                    "label": list(dict.fromkeys(mid for source in sources for mid in source.mids)),
                    "class": "+".join(source.name for source in sources),
                }
            )
            reverb = reverb_records[-len(bank) + int(rng.integers(len(bank)))]
            pair: dict[str, Any] = {
                "audio": clip_id,
                "reverb": reverb["fname"],
                "split": split.name,
                "weight": round(1.0 / counts[int(drawn[clip])], 9),
            }
            if noise_files:
                choices = noise_files[str(reverb["room"])]
                pair["noise"] = choices[int(rng.integers(len(choices)))]
                low, high = config.noise_snr_db  # type: ignore[misc]  # set whenever there are noise files
                pair["snr_db"] = round(float(rng.uniform(low, high)), 3)
            pairs.append(pair)

    class_ids = sorted({mid for source in classes for mid in source.mids})
    files.json("audio.json", {"data": audio_records})
    files.json("reverb.json", {"data": reverb_records})
    files.json("manifest.json", {"pairs": pairs})
    files.json("checksums.json", dict(sorted(files.checksums.items())))
    info = {
        "format_version": FORMAT_VERSION,
        "fingerprint": fingerprint,
        "classes": class_ids,
        "class_names": {source.name: list(source.mids) for source in classes},
        "audio_index": "audio.json",
        "audio_root": "audio",
        "reverb_index": "reverb.json",
        "reverb_root": ".",
        **({"noise_root": "."} if config.noise_snr_db else {}),
        "manifest": "manifest.json",
        "sample_rate": config.sample_rate,
        "clip_samples": config.clip_samples,
        "rir_samples": config.rir_samples,
        "splits": {split.name: split.clips for split in config.splits},
    }
    files.json("dataset.json", info)
    return info


def _normalised(signal: np.ndarray) -> np.ndarray:
    """``signal`` scaled to a peak of 1 (a silent one unchanged)."""
    peak = float(np.max(np.abs(signal)))
    return signal / peak if peak > 0 else signal


def _write_background(
    config: SynthConfig,
    split: SplitConfig,
    bank: list[tuple[Placement, Room, np.ndarray]],
    rng: np.random.Generator,
    files: _Files,
) -> dict[str, list[str]]:
    """Background recordings of each room of the split; their file names by room.

    Each is ``config.noise_sources`` independent coloured noises (spectral slopes from white to brown), each played
    from a random position of the room through its binaural response and summed: a reverberant, spatially spread
    background that fits the room. It is scaled to unit power (over both ears), so that the loader sets the SNR.
    """
    from scipy.signal import fftconvolve

    length, tail = config.clip_samples, config.rir_samples
    names: dict[str, list[str]] = {}
    for room_number in range(split.rooms):
        first = room_number * split.positions_per_room
        responses = [entry[2] for entry in bank[first : first + split.positions_per_room]]
        room = f"{split.name}/room{room_number:02d}"
        for take in range(config.noise_per_room):
            mix = np.zeros((2, length))
            for _ in range(config.noise_sources):
                noise = _coloured_noise(rng, length + tail, slope=float(rng.uniform(0.0, 2.0)))
                response = responses[int(rng.integers(len(responses)))].astype(np.float64)
                # the first ``tail`` samples are the response building up: keep the steady part
                mix += fftconvolve(noise[None, :], response, axes=1)[:, tail : tail + length]
            mix /= np.sqrt(np.mean(mix**2)) or 1.0
            name = f"noise/{room}_noise{take}.npy"
            files.write(name, _npy_bytes(mix.astype(np.float32)))
            names.setdefault(room, []).append(name)
    return names


def _coloured_noise(rng: np.random.Generator, length: int, *, slope: float) -> np.ndarray:
    """Gaussian noise with a power spectrum falling as 1 / f ** ``slope`` (0 white, 1 pink, 2 brown), unit power."""
    spectrum = np.fft.rfft(rng.normal(size=length))
    frequencies = np.fft.rfftfreq(length)
    frequencies[0] = frequencies[1]
    noise = np.fft.irfft(spectrum / frequencies ** (slope / 2), n=length)
    return noise / (np.sqrt(np.mean(noise**2)) or 1.0)


def _intended_direction(placement: Placement) -> dict[str, float]:
    """Direction and distance of the source as placed, the azimuth in the published convention (0 = right, 90 = front).

    The head frame of the placement is x front, y left, z up: measured from the right (-y) towards the front (+x).
    """
    offset = placement.source - placement.listener
    return {
        "azimuth_deg": round(float(np.degrees(np.arctan2(offset[0], -offset[1]))), 6),
        "elevation_deg": round(float(np.degrees(np.arctan2(offset[2], np.hypot(offset[0], offset[1])))), 6),
        "distance_m": round(float(np.linalg.norm(offset)), 6),
    }


def _impulse_response_bank(
    config: SynthConfig, split: SplitConfig, seed: np.random.SeedSequence, *, progress: bool
) -> list[tuple[Placement, Room, np.ndarray]]:
    """Rooms and placements drawn from ``seed``; responses computed in parallel (or read from the cache)."""
    import pyroomacoustics as pra
    from tqdm import tqdm

    read_sofa(split.hrtf, config.sample_rate)  # a broken HRIR set is reported here, not from a worker process
    rng = np.random.default_rng(seed)
    jobs = []
    for number in range(split.rooms):
        room = Room(np.array([rng.uniform(*axis) for axis in split.room_size]), float(rng.uniform(*split.rt60)))
        try:
            pra.inverse_sabine(room.rt60, room.size.tolist())
            for _ in range(split.positions_per_room):
                placement = place_source(
                    room, rng, distance_range=config.distance_m, elevation_range=config.elevation_deg
                )
                jobs.append((room, placement))
        except (ValueError, RuntimeError) as error:
            raise InputError(
                f"split {split.name!r}, room {number}: cannot simulate it ({error}); change the protocol's "
                "room_size, rt60 or distance_m"
            ) from None
    key = hashlib.sha256(
        json.dumps(
            {
                "jobs": [
                    [job[0].size.tolist(), job[0].rt60, job[1].listener.tolist(), job[1].source.tolist()]
                    for job in jobs
                ],
                "hrtf": hashlib.sha256(split.hrtf.read_bytes()).hexdigest(),
                "rate": config.sample_rate,
                "length": config.rir_samples,
                "order": config.max_image_order,
                "version": FORMAT_VERSION,
            }
        ).encode()
    ).hexdigest()[:24]
    cache = cache_dir("brir", f"{split.name}-{key}.npy")
    responses = read_cached_array(cache, shape=(len(jobs), 2, config.rir_samples))
    if responses is None:
        arguments = [
            (room, placement, str(split.hrtf), config.sample_rate, config.rir_samples, config.max_image_order)
            for room, placement in jobs
        ]
        workers = max(1, min(os.cpu_count() or 1, 8))
        if workers > 1 and len(arguments) > 8:
            with ProcessPoolExecutor(max_workers=workers, initializer=exit_with_parent) as pool:
                results = list(
                    tqdm(
                        pool.map(_render, arguments, chunksize=4),
                        total=len(arguments),
                        desc=f"{split.name} rooms",
                        disable=None if progress else True,
                        leave=False,
                    )
                )
        else:
            results = [
                _render(argument)
                for argument in tqdm(
                    arguments, desc=f"{split.name} rooms", disable=None if progress else True, leave=False
                )
            ]
        responses = np.stack(results)
        store_cached_array(cache, responses)
    return [(placement, room, responses[index]) for index, (room, placement) in enumerate(jobs)]


def _render(argument: tuple[Room, Placement, str, int, int, int]) -> np.ndarray:
    room, placement, hrtf, rate, length, order = argument
    return room_impulse_response(room, placement, read_sofa(hrtf, rate), length=length, max_order=order)
