r"""Slaney-style mel filter bank, built here from its definition (validated against librosa in the tests).

Mel scale (Slaney / Auditory Toolbox): linear below 1 kHz, :math:`m = 3f/200`; logarithmic above,
:math:`m = 15 + \ln(f/1000) / (\ln 6.4 / 27)`. ``n_mels + 2`` points equally spaced in mel between ``fmin`` and
``fmax`` give triangles over the FFT bin frequencies :math:`k \cdot sr / n_{fft}`; each triangle is scaled by
:math:`2 / (f_{i+2} - f_i)` so that every filter has the same area (``norm='slaney'``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOG_STEP = np.log(6.4) / 27.0


def hz_to_mel(frequency: np.ndarray | float) -> np.ndarray:
    """Mel values of frequencies in Hz on the Slaney scale (see the module docstring)."""
    frequency = np.asarray(frequency, dtype=np.float64)
    linear = frequency / _F_SP
    logarithmic = _MIN_LOG_MEL + np.log(np.maximum(frequency, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOG_STEP
    return np.where(frequency >= _MIN_LOG_HZ, logarithmic, linear)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    """Frequencies in Hz of mel values on the Slaney scale (the inverse of :func:`hz_to_mel`)."""
    mel = np.asarray(mel, dtype=np.float64)
    linear = _F_SP * mel
    logarithmic = _MIN_LOG_HZ * np.exp(_LOG_STEP * (np.maximum(mel, _MIN_LOG_MEL) - _MIN_LOG_MEL))
    return np.where(mel >= _MIN_LOG_MEL, logarithmic, linear)


@lru_cache(maxsize=8)
def slaney_mel_matrix(
    *, sample_rate: int = 32_000, n_fft: int = 1024, n_mels: int = 128, fmin: float = 50.0, fmax: float = 14_000.0
) -> np.ndarray:
    """[n_fft // 2 + 1, n_mels] filter bank.

    Values are rounded to float32 as librosa stores them (the published front-ends use that float32-valued matrix);
    returned as float64 holding those values.

    >>> weights = slaney_mel_matrix()
    >>> weights.shape, bool(weights[:2].sum() == 0)
    ((513, 128), True)
    """
    mel_points = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    bin_frequencies = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    spacing = np.diff(mel_points)
    ramps = mel_points[:, None] - bin_frequencies[None, :]
    rising = -ramps[:-2] / spacing[:-1, None]
    falling = ramps[2:] / spacing[1:, None]
    triangles = np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)
    area = 2.0 / (mel_points[2:] - mel_points[:-2])
    # Scaled in float32 like the reference's in-place product on its float32 array.
    weights = (triangles.astype(np.float64) * area[:, None]).astype(np.float32)
    weights.setflags(write=False)
    return weights.T.astype(np.float64)
