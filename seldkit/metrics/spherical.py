r"""Angles between directions on the sphere, in the two clip-metric modes.

Directions are (azimuth, elevation) in degrees: azimuth counter-clockwise seen from above (clip files: 0 =
right, 90 = front, docs/coordinates.md; any real value, taken mod 360), elevation in [-90, 90] with +90 = up.
The angles here depend only on differences, so the reference direction of the azimuth does not matter.
"""

from __future__ import annotations

import numpy as np


def great_circle_deg(
    azimuth_a: np.ndarray, elevation_a: np.ndarray, azimuth_b: np.ndarray, elevation_b: np.ndarray
) -> np.ndarray:
    r"""Great-circle angle in degrees, accurate at every separation (the atan2 / Vincenty form).

    With :math:`\Delta\lambda` the azimuth difference wrapped to [-180°, 180°] and :math:`\varphi` elevations,

    .. math:: \theta = \operatorname{atan2}\Bigl(\sqrt{(\cos\varphi_b \sin\Delta\lambda)^2
              + (\cos\varphi_a \sin\varphi_b - \sin\varphi_a \cos\varphi_b \cos\Delta\lambda)^2},\;
              \sin\varphi_a \sin\varphi_b + \cos\varphi_a \cos\varphi_b \cos\Delta\lambda\Bigr)

    >>> float(great_circle_deg(np.array(359.0), np.array(0.0), np.array(1.0), np.array(0.0)))
    2.0
    """
    delta = np.deg2rad(_wrap_deg(np.asarray(azimuth_b, dtype=np.float64) - azimuth_a))
    phi_a = np.deg2rad(np.asarray(elevation_a, dtype=np.float64))
    phi_b = np.deg2rad(np.asarray(elevation_b, dtype=np.float64))
    sin_a, cos_a = np.sin(phi_a), np.cos(phi_a)
    sin_b, cos_b = np.sin(phi_b), np.cos(phi_b)
    cos_delta = np.cos(delta)
    across = np.hypot(cos_b * np.sin(delta), cos_a * sin_b - sin_a * cos_b * cos_delta)
    along = sin_a * sin_b + cos_a * cos_b * cos_delta
    return np.rad2deg(np.arctan2(across, along))


def reference_direction_classes(azimuth: np.ndarray, elevation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The published models' direction classes of azimuths and elevations in degrees.

    Azimuth ``round(az) mod 360`` (360 classes of 1°) and elevation ``(round(el) + 90) mod 180`` (180 classes),
    rounding half to even.

    The mod 180 maps +90° (and anything rounding to ±90°) to class 0, i.e. -90°: a quirk of the published
    label code that the ``reference`` mode keeps.

    >>> azimuth_class, elevation_class = reference_direction_classes(np.array([-1.5, 359.5, 2.5]),
    ...                                                              np.array([89.5, -0.5, 3.5]))
    >>> azimuth_class.tolist(), elevation_class.tolist()
    ([358, 0, 2], [0, 90, 94])
    """
    azimuth_class = np.mod(np.round(np.asarray(azimuth, dtype=np.float64)), 360.0).astype(np.int64)
    elevation_class = np.mod(np.round(np.asarray(elevation, dtype=np.float64)) + 90.0, 180.0).astype(np.int64)
    return azimuth_class, elevation_class


def reference_class_angle_deg(
    azimuth_class_a: np.ndarray,
    elevation_class_a: np.ndarray,
    azimuth_class_b: np.ndarray,
    elevation_class_b: np.ndarray,
) -> np.ndarray:
    r"""Angle between direction classes as the published evaluation computes it (law of cosines).

    Azimuth classes above 180 become negative (:math:`a - 360`), elevation classes become
    :math:`e - 90` degrees, and

    .. math:: \theta = \arccos\bigl(\operatorname{clip}(\sin\varphi_a\sin\varphi_b
              + \cos\varphi_a\cos\varphi_b\cos|\lambda_a - \lambda_b|, -1, 1)\bigr).

    In float64 identical classes can give 8.5e-7° or 1.2e-6° instead of 0 — kept, as published.
    """
    # x * pi / 180 rather than np.deg2rad: the published rounding, which decides whether identical classes
    # give 0 or 1.2e-6 degrees.
    lambda_a = _signed_azimuth(azimuth_class_a) * np.pi / 180.0
    lambda_b = _signed_azimuth(azimuth_class_b) * np.pi / 180.0
    phi_a = (np.asarray(elevation_class_a, dtype=np.float64) - 90.0) * np.pi / 180.0
    phi_b = (np.asarray(elevation_class_b, dtype=np.float64) - 90.0) * np.pi / 180.0
    cosine = np.sin(phi_a) * np.sin(phi_b) + np.cos(phi_a) * np.cos(phi_b) * np.cos(np.abs(lambda_a - lambda_b))
    return np.rad2deg(np.arccos(np.clip(cosine, -1.0, 1.0)))


def _signed_azimuth(azimuth_class: np.ndarray) -> np.ndarray:
    azimuth_class = np.asarray(azimuth_class, dtype=np.float64)
    return np.where(azimuth_class > 180.0, azimuth_class - 360.0, azimuth_class)


def _wrap_deg(angle: np.ndarray) -> np.ndarray:
    """Wrap to [-180, 180)."""
    return np.mod(angle + 180.0, 360.0) - 180.0
