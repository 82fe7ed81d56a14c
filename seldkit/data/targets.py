r"""Spatial training targets from sensor and source positions.

Coordinates of the published layout (right-handed, metres): x = right, y = up, -z = front, so azimuth class 0
is a source on the right, 90 in front, 180 on the left (docs/coordinates.md). With
:math:`d = \text{source} - \text{sensor}`:

* distance class :math:`\operatorname{round}(2 \lVert d \rVert)` (0.5 m bins),
* azimuth class :math:`(\operatorname{round}(\deg \operatorname{atan2}(-d_z, d_x)) + 360) \bmod 360`,
* elevation class :math:`(\operatorname{round}(\deg \operatorname{atan}(d_y / \sqrt{d_x^2 + d_z^2})) + 90) \bmod 180`,

rounding half to even (Python's ``round``). ``reference`` mode keeps the published code's quirks: +90°
elevation wraps to class 0 (= -90°), and distances beyond 10.25 m give classes above the 21 the models have.
``clean`` mode clips instead: +90° becomes class 179 (+89°), distances become at most class 20.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

LabelMode = Literal["reference", "clean"]
N_DISTANCE_CLASSES = 21
N_AZIMUTH_CLASSES = 360
N_ELEVATION_CLASSES = 180


@dataclass(frozen=True)
class SpatialTargets:
    """The class targets of N positions: distance, azimuth and elevation classes [N] (int64)."""

    distance: np.ndarray  # int64 classes
    azimuth: np.ndarray
    elevation: np.ndarray


def parse_position(text: str) -> np.ndarray:
    """``"x,y,z"`` -> [3] float64."""
    values = [float(value) for value in text.split(",")]
    if len(values) != 3 or not all(np.isfinite(values)):
        raise ValueError(f"a position is 'x,y,z' (three finite numbers), got {text!r}")
    return np.array(values)


def spatial_targets(sensor: np.ndarray, source: np.ndarray, *, mode: LabelMode = "reference") -> SpatialTargets:
    """Targets for positions [N, 3] (or [3]).

    >>> t = spatial_targets(np.zeros(3), np.array([1.25, 0.0, 0.0]))
    >>> int(t.distance), int(t.azimuth), int(t.elevation)
    (2, 0, 90)
    >>> int(spatial_targets(np.zeros(3), np.array([0.0, 5.0, 0.0])).elevation)  # straight up wraps to -90
    0
    >>> int(spatial_targets(np.zeros(3), np.array([0.0, 5.0, 0.0]), mode="clean").elevation)
    179
    """
    if mode not in ("reference", "clean"):
        raise ValueError(f"label mode must be 'reference' or 'clean', not {mode!r}")
    delta = np.atleast_2d(np.asarray(source, dtype=np.float64) - np.asarray(sensor, dtype=np.float64))
    dx, dy, dz = delta[:, 0], delta[:, 1], delta[:, 2]
    if np.any(np.all(delta == 0, axis=1)):
        raise ValueError("source and sensor coincide: the direction is undefined")
    distance = np.round(2.0 * np.sqrt(dx**2 + dy**2 + dz**2))  # np.round rounds half to even, like round()
    azimuth = (np.round(np.degrees(np.arctan2(-dz, dx))) + 360) % 360
    elevation = np.round(np.degrees(np.arctan2(dy, np.sqrt(dx**2 + dz**2))))
    if mode == "reference":
        elevation_class = (elevation + 90) % 180
    else:
        elevation_class = np.clip(elevation + 90, 0, N_ELEVATION_CLASSES - 1)
        distance = np.minimum(distance, N_DISTANCE_CLASSES - 1)
    shape = np.shape(source)[:-1] if np.ndim(source) > 1 else ()
    return SpatialTargets(
        distance=distance.astype(np.int64).reshape(shape),
        azimuth=azimuth.astype(np.int64).reshape(shape),
        elevation=elevation_class.astype(np.int64).reshape(shape),
    )
