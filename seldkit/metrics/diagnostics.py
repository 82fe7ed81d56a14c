r"""Direction diagnostics: what part of the direction a system gets right, beside ER20 and MAE.

A binaural system hears the lateral position of a source (interaural time and level differences) much more
easily than whether it is in front or behind (spectral cues of one head). Two numbers separate the two, in the
clip-file convention (docs/coordinates.md: azimuth :math:`\phi` counter-clockwise from the right, 90° = front;
elevation :math:`\theta`):

* **lateral MAE**: the mean absolute difference of the lateral angles
  :math:`\lambda = \arcsin(\cos\theta \cos\phi)` (the angle from the median plane, + = right), which ignores
  front/back and up/down;
* **folded MAE**: the mean great-circle error after folding both directions onto the front hemisphere
  (:math:`\phi \to -\phi` where :math:`\sin\phi < 0`), which forgives front/back confusions only.

A system that only confuses front and back has a folded MAE far below its MAE; one that does not hear the side
either has a large lateral MAE.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seldkit.metrics.spherical import great_circle_deg


@dataclass(frozen=True)
class DirectionDiagnostics:
    """Mean lateral-angle error and mean front/back-folded great-circle error, in degrees, over ``n`` clips."""

    lateral_MAE: float
    folded_MAE: float
    n: int

    def as_json(self) -> dict[str, object]:
        """The diagnostics with their definitions."""
        return {
            "lateral_MAE": self.lateral_MAE,
            "folded_MAE": self.folded_MAE,
            "n": self.n,
            "definitions": {
                "lateral_MAE": "mean |asin(cos el cos az)_pred - asin(cos el cos az)_ref| in degrees (0 = right)",
                "folded_MAE": "mean great-circle error with back directions mirrored to the front (az -> -az)",
            },
        }


def lateral_angle_deg(azimuth: np.ndarray, elevation: np.ndarray) -> np.ndarray:
    """The angle from the median plane in degrees (+90 = right, -90 = left) of directions in the clip convention.

    >>> lateral_angle_deg(np.array([0.0, 90.0, 180.0, 300.0]), np.zeros(4)).round(6).tolist()
    [90.0, 0.0, -90.0, 30.0]
    """
    phi, theta = np.deg2rad(np.asarray(azimuth, dtype=np.float64)), np.deg2rad(np.asarray(elevation, dtype=np.float64))
    return np.rad2deg(np.arcsin(np.clip(np.cos(theta) * np.cos(phi), -1.0, 1.0)))


def fold_to_front(azimuth: np.ndarray) -> np.ndarray:
    """Azimuths mirrored onto the front hemisphere (back ones, sin az < 0, become -az), in [0, 360).

    >>> fold_to_front(np.array([0.0, 45.0, 270.0, 315.0])).tolist()
    [0.0, 45.0, 90.0, 45.0]
    """
    wrapped = np.mod(np.asarray(azimuth, dtype=np.float64), 360.0)
    return np.where(wrapped > 180.0, 360.0 - wrapped, wrapped)


def direction_diagnostics(
    azimuth_pred: np.ndarray, elevation_pred: np.ndarray, azimuth_ref: np.ndarray, elevation_ref: np.ndarray
) -> DirectionDiagnostics:
    """Lateral and folded errors of predicted against reference directions (degrees, clip convention).

    >>> d = direction_diagnostics(np.array([270.0]), np.zeros(1), np.array([90.0]), np.zeros(1))  # behind vs front
    >>> round(d.lateral_MAE, 6), round(d.folded_MAE, 6)
    (0.0, 0.0)
    """
    lateral = np.abs(lateral_angle_deg(azimuth_pred, elevation_pred) - lateral_angle_deg(azimuth_ref, elevation_ref))
    folded = great_circle_deg(fold_to_front(azimuth_pred), elevation_pred, fold_to_front(azimuth_ref), elevation_ref)
    n = int(np.size(lateral))
    return DirectionDiagnostics(
        lateral_MAE=float(np.mean(lateral)) if n else float("nan"),
        folded_MAE=float(np.mean(folded)) if n else float("nan"),
        n=n,
    )
