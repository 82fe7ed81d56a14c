"""Angular errors as each year's official scorer measures them (all in degrees)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The official 2024 code adds this inside each vector norm; an exactly right DOA then scores ~8.1e-4 degrees.
NORM_EPSILON = 1e-10


def spherical_error_deg(
    azimuth_a: np.ndarray, elevation_a: np.ndarray, azimuth_b: np.ndarray, elevation_b: np.ndarray
) -> np.ndarray:
    """Law-of-cosines great-circle angle (2019-2023: ``distance_between_spherical_coordinates_rad``)."""
    a, b = SphericalTerms.of(azimuth_a, elevation_a), SphericalTerms.of(azimuth_b, elevation_b)
    return a.angle_to(b)


@dataclass(frozen=True)
class SphericalTerms:
    """Directions prepared for the law of cosines: azimuth in radians, sine and cosine of the elevation.

    The official formula evaluates these per pair; computing them once per direction gives the same numbers.
    """

    azimuth: np.ndarray
    sin_elevation: np.ndarray
    cos_elevation: np.ndarray

    @classmethod
    def of(cls, azimuth_deg: np.ndarray, elevation_deg: np.ndarray) -> SphericalTerms:
        """From degrees, converted as the official code does (``x * pi / 180``)."""
        elevation = elevation_deg * np.pi / 180.0
        return cls(azimuth_deg * np.pi / 180.0, np.sin(elevation), np.cos(elevation))

    def take(self, index: np.ndarray) -> SphericalTerms:
        """The directions at ``index``."""
        return SphericalTerms(self.azimuth[index], self.sin_elevation[index], self.cos_elevation[index])

    def angle_to(self, other: SphericalTerms) -> np.ndarray:
        r"""Degrees between each direction and its counterpart in ``other``.

        :math:`\arccos(\sin e_a \sin e_b + \cos e_a \cos e_b \cos|a_a - a_b|)`, the cosine clipped to [-1, 1].
        """
        cosine = self.sin_elevation * other.sin_elevation + self.cos_elevation * other.cos_elevation * np.cos(
            np.abs(self.azimuth - other.azimuth)
        )
        return np.arccos(np.clip(cosine, -1.0, 1.0)) * 180.0 / np.pi


def polar_to_vector(azimuth: np.ndarray, elevation: np.ndarray) -> np.ndarray:
    """Unit vectors [n, 3] from azimuth/elevation in degrees (x front, y left, z up), as the official scorers make them.

    The degree-to-radian arithmetic is the official scorers' (``* pi / 180``), whose last bits the golden cases pin
    (the data generator's :func:`seldkit.data.sofa.unit_vectors` uses ``np.radians``).
    """
    azimuth, elevation = azimuth * np.pi / 180.0, elevation * np.pi / 180.0
    horizontal = np.cos(elevation)
    return np.stack([np.cos(azimuth) * horizontal, np.sin(azimuth) * horizontal, np.sin(elevation)], axis=-1)


def vector_error_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle between direction vectors [n, 3], normalised with the official epsilon (2024)."""
    # Component by component, in the official order: near 0 degrees arccos turns one rounding step of the
    # cosine into ~5e-10 degrees, so the summation order shows.
    x1, y1, z1 = a[:, 0], a[:, 1], a[:, 2]
    x2, y2, z2 = b[:, 0], b[:, 1], b[:, 2]
    norm_a = np.sqrt(x1**2 + y1**2 + z1**2 + NORM_EPSILON)
    norm_b = np.sqrt(x2**2 + y2**2 + z2**2 + NORM_EPSILON)
    cosine = (x1 / norm_a) * (x2 / norm_b) + (y1 / norm_a) * (y2 / norm_b) + (z1 / norm_a) * (z2 / norm_b)
    return np.arccos(np.clip(cosine, -1.0, 1.0)) * 180.0 / np.pi


def fold_azimuth_deg(azimuth: np.ndarray) -> np.ndarray:
    """Mirror front/back into [-90, 90] (2025 stereo): 180 - a above 90, -180 - a below -90."""
    return np.where(azimuth > 90.0, 180.0 - azimuth, np.where(azimuth < -90.0, -180.0 - azimuth, azimuth))


def folded_azimuth_error_deg(azimuth_a: np.ndarray, azimuth_b: np.ndarray) -> np.ndarray:
    """|fold(a) - fold(b)| (2025)."""
    return np.abs(fold_azimuth_deg(azimuth_a) - fold_azimuth_deg(azimuth_b))
