r"""Binaural room impulse responses: image sources of a shoebox room (pyroomacoustics) rendered through measured HRIRs.

pyroomacoustics finds the image sources and their reflection damping; each image then arrives at the head
from its own direction, so it is rendered with the measured HRIR nearest to that direction, delayed by its
path length and attenuated by :math:`\text{damping} / (4 \pi r)`. Fractional delays are split linearly between
the two neighbouring samples. The listener faces +x with +y to the left and +z up (pyroomacoustics' axes);
:func:`to_layout` converts positions to the published layout's axes (x right, y up, -z front), in which the
azimuth class is 0 for a source on the right, 90 in front, 180 on the left and 270 behind.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seldkit.data.sofa import HrirSet, unit_vectors

SPEED_OF_SOUND = 343.0


@dataclass(frozen=True)
class Room:
    """A shoebox room: its size [3] in metres (pyroomacoustics axes) and target reverberation time in s (Sabine)."""

    size: np.ndarray  # [3] metres (pyroomacoustics axes)
    rt60: float  # target reverberation time in seconds (Sabine)


@dataclass(frozen=True)
class Placement:
    """Listener and source positions [3] in a room, in pyroomacoustics axes."""

    listener: np.ndarray  # [3] pyroomacoustics axes
    source: np.ndarray


def to_layout(position: np.ndarray) -> np.ndarray:
    """Pyroomacoustics axes (x front, y left, z up) -> the published layout's axes (x right, y up, z back).

    Right is -left, and the layout's front is -z, so ``(x, y, z) -> (-y, z, -x)``: a source in front of the
    listener gets azimuth class 90, one on its right class 0.

    >>> to_layout(np.array([1.0, 0.0, 0.0])).tolist(), to_layout(np.array([0.0, -1.0, 0.0])).tolist()
    ([-0.0, 0.0, -1.0], [1.0, 0.0, -0.0])
    """
    position = np.asarray(position, dtype=np.float64)
    return np.stack([-position[..., 1], position[..., 2], -position[..., 0]], axis=-1)


def place_source(
    room: Room,
    rng: np.random.Generator,
    *,
    distance_range: tuple[float, float],
    elevation_range: tuple[float, float],
    margin: float = 0.3,
    listener_height: tuple[float, float] = (1.2, 1.8),
    attempts: int = 1000,
) -> Placement:
    """A random listener and a source at a random direction and distance from it, both inside the room."""
    for _ in range(attempts):
        listener = np.array(
            [
                rng.uniform(margin, room.size[0] - margin),
                rng.uniform(margin, room.size[1] - margin),
                rng.uniform(*listener_height) if room.size[2] > listener_height[1] + margin else room.size[2] / 2,
            ]
        )
        azimuth = rng.uniform(-180.0, 180.0)
        elevation = rng.uniform(*elevation_range)
        distance = rng.uniform(*distance_range)
        offset = distance * unit_vectors(azimuth, elevation)
        source = listener + offset
        if np.all(source > margin) and np.all(source < room.size - margin):
            return Placement(listener, source)
    raise RuntimeError(f"could not place a source {distance_range} m away in a room of {room.size} m")


def room_impulse_response(
    room: Room, placement: Placement, hrirs: HrirSet, *, length: int, max_order: int = 20
) -> np.ndarray:
    """[2, length] float32 binaural impulse response at ``hrirs.sample_rate``."""
    import pyroomacoustics as pra

    absorption, sabine_order = pra.inverse_sabine(room.rt60, room.size.tolist())
    simulation = pra.ShoeBox(
        room.size.tolist(),
        fs=hrirs.sample_rate,
        materials=pra.Material(float(absorption)),
        max_order=int(min(sabine_order, max_order)),
        air_absorption=False,
    )
    simulation.add_source(placement.source.tolist())
    simulation.add_microphone(placement.listener.tolist())
    simulation.image_source_model()
    images = simulation.sources[0].images.T  # [n, 3]
    damping = np.asarray(simulation.sources[0].damping).reshape(-1)  # one octave band
    orders = np.asarray(simulation.sources[0].orders).reshape(-1)
    offsets = images - placement.listener
    distances = np.linalg.norm(offsets, axis=1)
    keep = distances * hrirs.sample_rate / SPEED_OF_SOUND < length
    offsets, distances, damping, orders = offsets[keep], distances[keep], damping[keep], orders[keep]
    directions = hrirs.nearest(offsets / distances[:, None])
    gains = (damping / (4 * np.pi * distances)).astype(np.float32)
    delays = distances * hrirs.sample_rate / SPEED_OF_SOUND
    response = np.zeros((2, length + hrirs.ir.shape[-1] + 1), dtype=np.float64)
    # Direct sound and early reflections get the whole HRIR; the many late images a shortened one (its
    # first LATE_TAPS taps hold ~90 % of the energy), which keeps rendering time low.
    early = orders <= EARLY_ORDER
    for selection, taps in ((early, hrirs.ir.shape[-1]), (~early, min(LATE_TAPS, hrirs.ir.shape[-1]))):
        _accumulate(response, hrirs.ir[:, :, :taps], directions[selection], gains[selection], delays[selection])
    return response[:, :length].astype(np.float32)


EARLY_ORDER = 2
LATE_TAPS = 128


def _accumulate(
    response: np.ndarray, ir: np.ndarray, directions: np.ndarray, gains: np.ndarray, delays: np.ndarray
) -> None:
    """Add each image's HRIR, scaled and delayed (fractional delays split linearly), to ``response``."""
    if directions.size == 0:
        return
    whole = np.floor(delays).astype(np.int64)
    fraction = (delays - whole).astype(np.float32)
    taps = ir.shape[-1]
    positions = (whole[:, None] + np.arange(taps)[None, :]).ravel()
    size = response.shape[1]
    for ear in range(2):
        scaled = ir[directions, ear, :] * gains[:, None]
        for shift, weight in ((0, 1.0 - fraction), (1, fraction)):
            response[ear] += np.bincount(positions + shift, weights=(scaled * weight[:, None]).ravel(), minlength=size)[
                :size
            ]
