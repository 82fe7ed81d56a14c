"""The published coordinate convention end to end: generator axes -> layout positions -> targets -> ear cues.

The layout's axes are x = right, y = up, -z = front, so azimuth class 0 is a source on the listener's right,
90 in front, 180 on the left. The checks render real responses through the measured KEMAR HRIRs and read the
interaural cues from them, independently of the code that assigns the labels.
"""

from __future__ import annotations

import numpy as np
import pytest

from seldkit.data.rooms import Placement, Room, room_impulse_response, to_layout
from seldkit.data.sofa import read_sofa
from seldkit.data.targets import spatial_targets
from seldkit.resources import shipped_dir

HRTF = shipped_dir("protocols") / "assets" / "hrtf" / "mit_kemar_normal_pinna.sofa"
RATE = 32000


def from_layout(offset: np.ndarray) -> np.ndarray:
    """Layout axes (x right, y up, z back) -> the simulator's (x front, y left, z up), written from the definitions."""
    right, up, back = offset
    return np.array([-back, -right, up])


def direct_sound(offset_in_layout: np.ndarray) -> tuple[np.ndarray, int]:
    """The first 4 ms after the onset of the response to a source at ``offset_in_layout`` from the listener."""
    room = Room(np.array([8.0, 7.0, 3.0]), 0.3)
    listener = np.array([4.0, 3.5, 1.5])
    source = listener + from_layout(np.asarray(offset_in_layout, dtype=np.float64))
    response = room_impulse_response(room, Placement(listener, source), read_sofa(HRTF, RATE), length=8000)
    onset = int(np.argmax(np.abs(response).max(axis=0)))
    start = max(onset - 64, 0)
    return response[:, start : onset + int(0.004 * RATE)], source


def interaural_delay_ms(direct: np.ndarray) -> float:
    """t_left - t_right in ms from the cross-correlation peak (positive: the right ear hears it first)."""
    left, right = direct
    correlation = np.correlate(left, right, mode="full")
    lag = int(np.argmax(correlation)) - (len(right) - 1)  # lag > 0: left lags right
    return 1000.0 * lag / RATE


def level_difference_db(direct: np.ndarray) -> float:
    """Right minus left energy of the direct sound in dB."""
    return float(10 * np.log10(np.sum(direct[1] ** 2) / np.sum(direct[0] ** 2)))


def test_the_simulator_to_layout_mapping_is_the_inverse_of_the_definition():
    rng = np.random.default_rng(0)
    for offset in rng.normal(size=(20, 3)):
        np.testing.assert_allclose(to_layout(from_layout(offset)), offset, atol=0)


@pytest.mark.parametrize(
    ("offset", "azimuth_class", "side"),
    [((1.5, 0.0, 0.0), 0, "right"), ((-1.5, 0.0, 0.0), 180, "left"), ((0.0, 0.0, -1.5), 90, "centre")],
)
def test_a_source_at_a_published_azimuth_is_heard_from_that_side(offset, azimuth_class, side):
    """Azimuth 0 (+x, right): the right ear earlier and louder; 180 (-x): the left; 90 (-z, front): neither."""
    direct, _ = direct_sound(np.array(offset))
    target = spatial_targets(np.zeros(3), np.array(offset))
    assert int(target.azimuth) == azimuth_class
    delay, level = interaural_delay_ms(direct), level_difference_db(direct)
    if side == "centre":
        assert abs(delay) <= 0.07 and abs(level) < 3, (delay, level)
    else:
        sign = 1 if side == "right" else -1
        assert 0.5 <= sign * delay <= 0.9, delay
        assert sign * level > 3, level


def test_interaural_delay_follows_the_published_lateral_coordinate():
    """Over directions all round the head the delay correlates with x / |d| (x = right) at >= 0.9."""
    rng = np.random.default_rng(1)
    lateral, delays = [], []
    for azimuth in rng.uniform(0, 360, size=16):
        elevation = rng.uniform(-30, 40)
        direction = np.array(
            [
                np.cos(np.radians(elevation)) * np.cos(np.radians(azimuth)),  # x: right at azimuth 0
                np.sin(np.radians(elevation)),  # y: up
                -np.cos(np.radians(elevation)) * np.sin(np.radians(azimuth)),  # -z: front at azimuth 90
            ]
        )
        assert int(spatial_targets(np.zeros(3), 1.5 * direction).azimuth) == round(azimuth) % 360
        direct, _ = direct_sound(1.5 * direction)
        lateral.append(direction[0])
        delays.append(interaural_delay_ms(direct))
    assert np.corrcoef(lateral, delays)[0, 1] >= 0.9
