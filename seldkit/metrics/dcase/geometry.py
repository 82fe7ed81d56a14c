"""Angular errors as each year's official scorer measures them (all in degrees)."""

from __future__ import annotations

import numpy as np

# The official 2024 code adds this inside each vector norm; an exactly right DOA then scores ~8.1e-4 degrees.
NORM_EPSILON = 1e-10


def spherical_error_deg(
    azimuth_a: np.ndarray, elevation_a: np.ndarray, azimuth_b: np.ndarray, elevation_b: np.ndarray
) -> np.ndarray:
    """Law-of-cosines great-circle angle (2022/2023: ``distance_between_spherical_coordinates_rad``)."""
    azimuth_a, azimuth_b = azimuth_a * np.pi / 180.0, azimuth_b * np.pi / 180.0
    elevation_a, elevation_b = elevation_a * np.pi / 180.0, elevation_b * np.pi / 180.0
    cosine = np.sin(elevation_a) * np.sin(elevation_b) + np.cos(elevation_a) * np.cos(elevation_b) * np.cos(
        np.abs(azimuth_a - azimuth_b)
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
