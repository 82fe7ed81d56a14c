"""Reading and conditioning source audio and impulse responses as the published loader does."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from math import gcd
from pathlib import Path

import numpy as np

SAMPLE_RATE = 32_000
TARGET_DBFS = -14.0


def read_audio(path: str | Path, *, dtype: str = "float32") -> tuple[np.ndarray, int]:
    """(first channel, sample rate) of a WAV/FLAC/MP3/OGG file, as ``dtype`` samples.

    Multichannel files keep channel 0 only, with no down-mix (as the published loader does).
    """
    import soundfile

    if Path(path).suffix.lower() == ".mp3":
        with _quiet_stderr():  # libmpg123 warns about ID3 tags on stderr, from C
            data, rate = soundfile.read(str(path), dtype=dtype, always_2d=True)
    else:
        data, rate = soundfile.read(str(path), dtype=dtype, always_2d=True)
    return data[:, 0], int(rate)


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def resample(signal: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Polyphase resampling (``scipy.signal.resample_poly``) by the reduced ratio target / rate.

    The result keeps the precision of ``signal`` (float64 stays float64; anything else becomes float32). SciPy
    reduces the ratio itself, so this equals the published ``resample_poly(x, 32000, sr)``.
    """
    if rate == target:
        return signal
    from scipy.signal import resample_poly

    divisor = gcd(int(rate), int(target))
    resampled = resample_poly(signal, target // divisor, rate // divisor)
    return resampled if signal.dtype == np.float64 else resampled.astype(np.float32)


def normalize_loudness(signal: np.ndarray, dbfs: float = TARGET_DBFS) -> np.ndarray:
    """Scale to an RMS of ``dbfs`` (re full scale 1.0) over the whole signal; silence is left untouched.

    One gain for the whole signal, computed in float64 with the published formula
    ``10 ** ((dbfs - 20 log10(rms)) / 20)``; the result keeps the dtype of ``signal``.
    """
    rms = float(np.sqrt(np.mean(np.square(signal, dtype=np.float64)))) if signal.size else 0.0
    if rms == 0.0:
        return signal
    gain = 10 ** ((dbfs - 20 * np.log10(rms)) / 20)
    return (signal * gain).astype(signal.dtype if signal.dtype == np.float64 else np.float32)


def fit_length(signal: np.ndarray, length: int) -> np.ndarray:
    """Zero-pad or truncate the last axis to ``length``."""
    if signal.shape[-1] >= length:
        return signal[..., :length]
    padding = [(0, 0)] * (signal.ndim - 1) + [(0, length - signal.shape[-1])]
    return np.pad(signal, padding)


def load_source(path: str | Path, *, length: int, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A mono source as the published loader prepares it, ``length`` samples of float32.

    In the published order: read in float64 (soundfile's default there), channel 0 of a multichannel file,
    resampled to ``sample_rate`` only when the file's rate differs, -14 dBFS RMS over the whole file (before
    padding or cutting, so a short file ends up quieter once padded), float32, zero-padded or cut at the end to
    ``length`` samples.
    """
    signal, rate = read_audio(path, dtype="float64")
    if not np.isfinite(signal).all():
        raise ValueError("the audio holds NaN or infinite samples")
    return fit_length(normalize_loudness(resample(signal, rate, sample_rate)).astype(np.float32), length)


def load_rir(path: str | Path, *, length: int) -> np.ndarray:
    """A (2, L) impulse response from ``.npy``, float32, padded/cut to ``length`` taps."""
    rir = np.load(str(path), allow_pickle=False)
    if not isinstance(rir, np.ndarray) or rir.ndim != 2 or rir.shape[0] != 2 or rir.dtype.kind not in "fiu":
        raise ValueError(
            f"a binaural impulse response is a (2, L) array of numbers, not {getattr(rir, 'shape', type(rir).__name__)}"
        )
    rir = rir.astype(np.float32)
    if not np.isfinite(rir).all():
        raise ValueError("the impulse response holds NaN or infinite values")
    return fit_length(rir, length)
