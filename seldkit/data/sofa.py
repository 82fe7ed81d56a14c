"""Measured head-related impulse responses from SOFA files (SimpleFreeFieldHRIR), read with h5py.

Convention of the shipped sets: receiver 1 = left ear, receiver 2 = right ear; source positions spherical
(azimuth degrees counter-clockwise, +90 = left; elevation degrees, +90 = up; radius metres).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from seldkit.errors import InputError


@dataclass(frozen=True)
class HrirSet:
    """Measured HRIRs: both ears' responses ``ir`` [M, 2, N] for M directions (azimuth, elevation in degrees)."""

    name: str
    sample_rate: int
    azimuth: np.ndarray  # [M] degrees
    elevation: np.ndarray  # [M] degrees
    ir: np.ndarray  # [M, 2, N] float32

    @property
    def directions(self) -> np.ndarray:
        """[M, 3] unit vectors (x front, y left, z up)."""
        return unit_vectors(self.azimuth, self.elevation)

    def nearest(self, vectors: np.ndarray) -> np.ndarray:
        """Index of the measured direction closest (largest cosine) to each of [N, 3] unit vectors."""
        return np.argmax(vectors @ self.directions.T, axis=1)

    def resampled(self, rate: int) -> HrirSet:
        """The same set at the sample rate ``rate`` (itself when it has that rate already)."""
        if rate == self.sample_rate:
            return self
        from seldkit.data.audio import resample

        ir = np.stack([np.stack([resample(channel, self.sample_rate, rate) for channel in pair]) for pair in self.ir])
        return HrirSet(self.name, rate, self.azimuth, self.elevation, ir.astype(np.float32))


def unit_vectors(azimuth_deg: np.ndarray | float, elevation_deg: np.ndarray | float) -> np.ndarray:
    """Unit vectors [..., 3] (x front, y left, z up) of azimuths and elevations in degrees."""
    azimuth, elevation = np.radians(azimuth_deg), np.radians(elevation_deg)
    return np.stack(
        [np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth), np.sin(elevation)], axis=-1
    )


@lru_cache(maxsize=4)
def read_sofa(path: str | Path, sample_rate: int | None = None) -> HrirSet:
    """Read a SimpleFreeFieldHRIR file.

    Optionally resamples the responses to ``sample_rate``. A file that is not one (unreadable, other layout, non-finite
    values) is an :class:`InputError` naming it.
    """
    import h5py

    try:
        with h5py.File(str(path), "r") as handle:
            ir = np.asarray(handle["Data.IR"], dtype=np.float32)
            positions = np.asarray(handle["SourcePosition"], dtype=np.float64)
            rate = np.asarray(handle["Data.SamplingRate"], dtype=np.float64).ravel()[0]
    except Exception as error:  # h5py raises OSError, KeyError, TypeError, ValueError for foreign files
        detail = " ".join(str(error).split())[:160] or type(error).__name__
        raise InputError(
            f"not a readable SOFA HRIR set (Data.IR, SourcePosition, Data.SamplingRate): {detail}", file=str(path)
        ) from None
    if ir.ndim != 3 or ir.shape[1] != 2 or ir.shape[0] == 0 or ir.shape[2] == 0:
        raise InputError(f"Data.IR must have shape [measurements, 2 ears, taps], not {ir.shape}", file=str(path))
    if positions.ndim != 2 or positions.shape[0] != ir.shape[0] or positions.shape[1] < 2:
        raise InputError(
            f"SourcePosition must hold one (azimuth, elevation, ...) row per measurement, not {positions.shape}",
            file=str(path),
        )
    if not (
        np.isfinite(ir).all()
        and np.isfinite(positions).all()
        and np.isfinite(rate)
        and rate == int(rate)
        and 1000 <= rate <= 768_000
    ):
        raise InputError("the HRIR set holds non-finite values or an unusable sampling rate", file=str(path))
    hrirs = HrirSet(Path(path).stem, int(rate), positions[:, 0], positions[:, 1], ir)
    return hrirs.resampled(sample_rate) if sample_rate else hrirs
