"""Source material for synthetic scenes: the shipped real recordings and a few procedural sound classes.

Real recordings (``protocols/assets/sounds``, labels in its ``labels.csv``) give random crops with a random
gain and a small pitch change (resampling by 0.94-1.06). Procedural classes draw their parameters at random
for every clip, so no class is a single recording; each stands in for the AudioSet class it resembles most:

=================  ===============  ======================================================
procedural class   AudioSet label   construction
=================  ===============  ======================================================
harmonic tones     Beep, bleep      1-3 tone bursts, 200-2000 Hz fundamental, 2-8 harmonics
noise bursts       Clapping         2-8 short decaying white-noise bursts
chirps             Siren            frequency sweeps up and down, 300-3000 Hz, vibrato
click trains       Tick             periodic clicks at 2-12 Hz
AM noise           Buzz             band-limited noise, amplitude-modulated at 20-120 Hz
bells              Bell             1-3 strikes of 5 inharmonic partials (bell-like ratios), 300-1200 Hz, decaying
whistle            Whistling        a 900-2800 Hz tone gliding up or down, with vibrato and breath noise
engine             Engine           firing pulses at 20-60 Hz through a low resonance, plus rumble
drum               Drum             2-6 hits of a pitch-dropping 50-200 Hz sine with a noise attack
knock              Knock            groups of 2-4 short resonant (300-1500 Hz) impulses
=================  ===============  ======================================================

The first five are the original set (``procedural: true`` in a protocol); a protocol may name any of them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from seldkit.data.audio import SAMPLE_RATE, read_audio, resample
from seldkit.errors import InputError
from seldkit.io.inputs import check_input_file, read_input_bytes

PROCEDURAL_LABELS = {
    "harmonic_tones": "Beep, bleep",
    "noise_bursts": "Clapping",
    "chirps": "Siren",
    "click_trains": "Tick",
    "am_noise": "Buzz",
    "bells": "Bell",
    "whistle": "Whistling",
    "engine": "Engine",
    "drum": "Drum",
    "knock": "Knock",
}
ORIGINAL_PROCEDURAL = ("harmonic_tones", "noise_bursts", "chirps", "click_trains", "am_noise")


@dataclass(frozen=True)
class SourceClass:
    """A sound class of the generator: a name, its AudioSet mids, and how to draw one clip of it."""

    name: str
    mids: tuple[str, ...]
    draw: Callable[[np.random.Generator, int], np.ndarray]


def real_classes(sounds_dir: Path, spatial_mids: list[str]) -> list[SourceClass]:
    """One class per shipped recording, labelled with its AudioSet mids (via the 355-class positions)."""
    labels = sounds_dir / "labels.csv"
    classes = []
    try:
        text = read_input_bytes(labels, what="sound labels").decode("utf-8")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        for row in reader:
            try:
                positions = [int(position) for position in row["subset355_positions"].split(";")]
                if not row["file"] or not all(0 <= position < len(spatial_mids) for position in positions):
                    raise ValueError
            except (KeyError, ValueError, TypeError, AttributeError):
                raise InputError(
                    "needs a file name and subset355_positions "
                    f"(';'-joined class positions 0..{len(spatial_mids) - 1})",
                    file=str(labels),
                    row=reader.line_num - 1,
                ) from None
            path = sounds_dir / row["file"]
            check_input_file(path, what="recording")
            _recording(path)  # decoded now: a broken recording is named here, not in the middle of a build
            classes.append(
                SourceClass(
                    Path(row["file"]).stem, tuple(spatial_mids[position] for position in positions), _crop_drawer(path)
                )
            )
    except (UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"not a readable CSV file: {error}", file=str(labels)) from None
    return classes


@lru_cache(maxsize=64)
def _recording(path: Path) -> np.ndarray:
    try:
        signal, rate = read_audio(path)
    except Exception as error:  # soundfile raises several types for undecodable files
        raise InputError(
            f"cannot decode this recording: {' '.join(str(error).split())[:160]}", file=str(path)
        ) from None
    if signal.size == 0 or not np.isfinite(signal).all():
        raise InputError("the recording is empty or holds NaN or infinite samples", file=str(path))
    return resample(signal, rate, SAMPLE_RATE).astype(np.float32)


def _crop_drawer(path: Path) -> Callable[[np.random.Generator, int], np.ndarray]:
    def draw(rng: np.random.Generator, length: int) -> np.ndarray:
        recording = _recording(path)
        factor = rng.uniform(0.94, 1.06)  # pitch and speed change by resampling
        up = 100
        down = int(round(up * factor))
        from scipy.signal import resample_poly

        shifted = resample_poly(recording, up, down).astype(np.float32)
        active = _active_span(shifted)
        if len(active) >= length:
            # Sparse recordings (hoots, barks) have quiet stretches: the loudest of a few random crops keeps
            # the label honest.
            starts = rng.integers(0, len(active) - length + 1, size=4)
            energies = [float(np.sum(np.square(active[start : start + length], dtype=np.float64))) for start in starts]
            start = int(starts[int(np.argmax(energies))])
            clip = active[start : start + length]
        else:
            clip = np.zeros(length, dtype=np.float32)
            start = int(rng.integers(0, length - len(active) + 1))
            clip[start : start + len(active)] = active
        return clip

    return draw


def _active_span(signal: np.ndarray, threshold_db: float = -40.0) -> np.ndarray:
    """The signal without leading and trailing near-silence."""
    envelope = np.abs(signal)
    loud = (
        np.flatnonzero(envelope > envelope.max() * 10 ** (threshold_db / 20))
        if envelope.max() > 0
        else np.zeros(0, dtype=np.int64)
    )
    if len(loud) == 0:
        return signal
    return signal[loud[0] : loud[-1] + 1]


def procedural_classes(mid_of: dict[str, str], names: tuple[str, ...] = ORIGINAL_PROCEDURAL) -> list[SourceClass]:
    """The procedural classes ``names`` (in that order), labelled with the mids of their stand-in AudioSet classes."""
    drawers = {
        "harmonic_tones": _harmonic_tones,
        "noise_bursts": _noise_bursts,
        "chirps": _chirps,
        "click_trains": _click_trains,
        "am_noise": _am_noise,
        "bells": _bells,
        "whistle": _whistle,
        "engine": _engine,
        "drum": _drum,
        "knock": _knock,
    }
    return [SourceClass(name, (mid_of[PROCEDURAL_LABELS[name]],), drawers[name]) for name in names]


def _time(length: int) -> np.ndarray:
    return np.arange(length) / SAMPLE_RATE


def _harmonic_tones(rng: np.random.Generator, length: int) -> np.ndarray:
    t = _time(length)
    signal = np.zeros(length)
    for _ in range(int(rng.integers(1, 4))):
        f0 = rng.uniform(200, 2000)
        onset = rng.uniform(0, 0.6) * length
        duration = rng.uniform(0.15, 0.6) * length
        envelope = ((t * SAMPLE_RATE >= onset) & (t * SAMPLE_RATE < onset + duration)).astype(float)
        envelope = np.convolve(envelope, np.hanning(401) / np.hanning(401).sum(), mode="same")
        for harmonic in range(1, int(rng.integers(2, 9)) + 1):
            if f0 * harmonic < SAMPLE_RATE / 2.2:
                signal += envelope * np.sin(2 * np.pi * f0 * harmonic * t + rng.uniform(0, 2 * np.pi)) / harmonic
    return signal.astype(np.float32)


def _noise_bursts(rng: np.random.Generator, length: int) -> np.ndarray:
    signal = np.zeros(length)
    for _ in range(int(rng.integers(2, 9))):
        start = int(rng.integers(0, max(length - 2000, 1)))
        size = int(rng.integers(800, 4000))
        burst = rng.normal(size=size) * np.exp(-np.arange(size) / rng.uniform(100, 800))
        signal[start : start + size] += burst[: length - start]
    return signal.astype(np.float32)


def _chirps(rng: np.random.Generator, length: int) -> np.ndarray:
    t = _time(length)
    low, high = rng.uniform(300, 900), rng.uniform(1200, 3000)
    rate = rng.uniform(0.5, 3.0)  # sweeps per second
    frequency = low + (high - low) * 0.5 * (1 - np.cos(2 * np.pi * rate * t))
    frequency *= 1 + 0.02 * np.sin(2 * np.pi * rng.uniform(4, 8) * t)
    phase = 2 * np.pi * np.cumsum(frequency) / SAMPLE_RATE
    return (np.sin(phase) + 0.3 * np.sin(2 * phase)).astype(np.float32)


def _click_trains(rng: np.random.Generator, length: int) -> np.ndarray:
    signal = np.zeros(length)
    period = int(SAMPLE_RATE / rng.uniform(2, 12))
    click = rng.normal(size=64) * np.exp(-np.arange(64) / 8)
    for start in range(int(rng.integers(0, period)), length - 64, period):
        signal[start : start + 64] += click * rng.uniform(0.7, 1.0)
    return signal.astype(np.float32)


def _am_noise(rng: np.random.Generator, length: int) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    low = rng.uniform(100, 1500)
    band = butter(4, [low, min(low * rng.uniform(2, 6), SAMPLE_RATE / 2.5)], btype="band", fs=SAMPLE_RATE, output="sos")
    noise = sosfilt(band, rng.normal(size=length))
    modulation = 1 + rng.uniform(0.5, 1.0) * np.sin(2 * np.pi * rng.uniform(20, 120) * _time(length))
    return (noise * modulation).astype(np.float32)


def _decay(length: int, start: int, seconds: float) -> np.ndarray:
    """An exponential decay with time constant ``seconds`` starting at sample ``start`` (zero before)."""
    t = (np.arange(length) - start) / SAMPLE_RATE
    return np.where(t >= 0, np.exp(-np.maximum(t, 0) / seconds), 0.0)


def _bells(rng: np.random.Generator, length: int) -> np.ndarray:
    t = _time(length)
    signal = np.zeros(length)
    # hum, prime, tierce, quint and nominal partials, each slightly detuned
    ratios = np.array([0.5, 1.0, 1.19, 1.5, 2.0]) * rng.uniform(0.97, 1.03, size=5)
    for _ in range(int(rng.integers(1, 4))):
        f0 = rng.uniform(300, 1200)
        start = int(rng.uniform(0, 0.7) * length)
        decay = _decay(length, start, rng.uniform(0.15, 0.6))
        for ratio, level in zip(ratios, (0.5, 1.0, 0.6, 0.4, 0.7)):
            if f0 * ratio < SAMPLE_RATE / 2.2:
                signal += level * decay * np.sin(2 * np.pi * f0 * ratio * t + rng.uniform(0, 2 * np.pi))
    return signal.astype(np.float32)


def _whistle(rng: np.random.Generator, length: int) -> np.ndarray:
    t = _time(length)
    start, end = rng.uniform(900, 2800), rng.uniform(900, 2800)
    frequency = start + (end - start) * t / t[-1] + rng.uniform(10, 40) * np.sin(2 * np.pi * rng.uniform(4, 7) * t)
    phase = 2 * np.pi * np.cumsum(frequency) / SAMPLE_RATE
    onset, offset = sorted(rng.uniform(0, 1, size=2) * length)
    if offset - onset < 0.25 * length:
        onset, offset = 0.0, float(length)
    envelope = ((np.arange(length) >= onset) & (np.arange(length) < offset)).astype(float)
    envelope = np.convolve(envelope, np.hanning(801) / np.hanning(801).sum(), mode="same")
    return (envelope * (np.sin(phase) + 0.05 * rng.normal(size=length))).astype(np.float32)


def _engine(rng: np.random.Generator, length: int) -> np.ndarray:
    from scipy.signal import butter, lfilter, sosfilt

    rate = rng.uniform(20, 60)  # firing pulses per second
    pulses = np.zeros(length)
    period = SAMPLE_RATE / rate
    for position in np.arange(rng.uniform(0, period), length, period):
        pulses[int(position)] += rng.uniform(0.7, 1.0)
    resonance = rng.uniform(80, 300)
    radius = np.exp(-np.pi * resonance * 0.3 / SAMPLE_RATE)
    angle = 2 * np.pi * resonance / SAMPLE_RATE
    body = lfilter([1.0], [1.0, -2 * radius * np.cos(angle), radius**2], pulses)
    rumble = sosfilt(butter(2, 400, btype="low", fs=SAMPLE_RATE, output="sos"), rng.normal(size=length))
    body /= np.max(np.abs(body)) or 1.0
    rumble /= np.max(np.abs(rumble)) or 1.0
    return (body + rng.uniform(0.1, 0.4) * rumble).astype(np.float32)


def _drum(rng: np.random.Generator, length: int) -> np.ndarray:
    signal = np.zeros(length)
    for _ in range(int(rng.integers(2, 7))):
        start = int(rng.integers(0, max(length - 4000, 1)))
        size = min(length - start, int(rng.uniform(0.1, 0.3) * SAMPLE_RATE))
        t = np.arange(size) / SAMPLE_RATE
        pitch = rng.uniform(50, 200) * (1 + np.exp(-t / 0.03))  # the pitch drops to its rest value
        hit = np.sin(2 * np.pi * np.cumsum(pitch) / SAMPLE_RATE) * np.exp(-t / rng.uniform(0.05, 0.2))
        hit += 0.3 * rng.normal(size=size) * np.exp(-t / 0.005)
        signal[start : start + size] += hit * rng.uniform(0.6, 1.0)
    return signal.astype(np.float32)


def _knock(rng: np.random.Generator, length: int) -> np.ndarray:
    from scipy.signal import lfilter

    impulses = np.zeros(length)
    for _ in range(int(rng.integers(1, 3))):  # 1-2 groups
        position = rng.uniform(0, 0.6) * length
        for _ in range(int(rng.integers(2, 5))):
            if position < length:
                impulses[int(position)] += rng.uniform(0.7, 1.0)
            position += rng.uniform(0.1, 0.25) * SAMPLE_RATE
    resonance = rng.uniform(300, 1500)
    radius = np.exp(-np.pi * resonance * rng.uniform(0.02, 0.08) / SAMPLE_RATE)
    angle = 2 * np.pi * resonance / SAMPLE_RATE
    return lfilter([1.0], [1.0, -2 * radius * np.cos(angle), radius**2], impulses).astype(np.float32)
