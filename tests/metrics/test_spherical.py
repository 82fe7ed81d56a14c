"""Angles between directions, against independent formulas written here from the definitions."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from seldkit.metrics.spherical import great_circle_deg, reference_class_angle_deg, reference_direction_classes


def unit_vectors(azimuth_deg: np.ndarray, elevation_deg: np.ndarray) -> np.ndarray:
    azimuth, elevation = np.radians(azimuth_deg), np.radians(elevation_deg)
    return np.stack(
        [np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth), np.sin(elevation)], axis=-1
    )


def vector_angle_deg(az_a, el_a, az_b, el_b) -> np.ndarray:
    """Angle from the cross and dot products of unit vectors: accurate everywhere."""
    a, b = unit_vectors(az_a, el_a), unit_vectors(az_b, el_b)
    return np.degrees(np.arctan2(np.linalg.norm(np.cross(a, b), axis=-1), np.sum(a * b, axis=-1)))


def test_great_circle_matches_vector_form():
    rng = np.random.default_rng(5)
    az_a, az_b = rng.uniform(-720, 720, 5000), rng.uniform(-720, 720, 5000)
    el_a, el_b = rng.uniform(-90, 90, 5000), rng.uniform(-90, 90, 5000)
    np.testing.assert_allclose(
        great_circle_deg(az_a, el_a, az_b, el_b), vector_angle_deg(az_a, el_a, az_b, el_b), atol=1e-9
    )


def test_great_circle_special_values():
    assert great_circle_deg(np.array(10.0), np.array(90.0), np.array(200.0), np.array(90.0)) < 1e-12  # pole
    assert great_circle_deg(np.array(0.0), np.array(0.0), np.array(180.0), np.array(0.0)) == 180.0
    assert great_circle_deg(np.array(-180.0), np.array(0.0), np.array(180.0), np.array(0.0)) == 0.0


@settings(max_examples=200, deadline=None)
@given(st.floats(-1e4, 1e4), st.floats(-90, 90), st.floats(-1e4, 1e4), st.floats(-90, 90), st.integers(-5, 5))
def test_azimuth_wrap_symmetry(az_a, el_a, az_b, el_b, turns):
    base = great_circle_deg(np.array(az_a), np.array(el_a), np.array(az_b), np.array(el_b))
    shifted = great_circle_deg(np.array(az_a + 360.0 * turns), np.array(el_a), np.array(az_b), np.array(el_b))
    swapped = great_circle_deg(np.array(az_b), np.array(el_b), np.array(az_a), np.array(el_a))
    assert abs(base - shifted) < 1e-6 and abs(base - swapped) < 1e-9


def test_reference_classes_round_half_to_even():
    azimuth = np.array([2.5, 3.5, -0.5, -1.5, 359.5, 720.0, -180.0])
    elevation = np.array([89.5, -89.5, 90.0, -90.0, 0.5, 1.5, -0.4])
    azimuth_class, elevation_class = reference_direction_classes(azimuth, elevation)
    assert azimuth_class.tolist() == [2, 4, 0, 358, 0, 0, 180]
    # +90 wraps to class 0 (= -90 deg), the published quirk.
    assert elevation_class.tolist() == [0, 0, 0, 0, 90, 92, 90]


def test_reference_class_angle_against_vector_form():
    rng = np.random.default_rng(9)
    az_a, az_b = rng.integers(0, 360, 2000), rng.integers(0, 360, 2000)
    el_a, el_b = rng.integers(0, 180, 2000), rng.integers(0, 180, 2000)
    expected = vector_angle_deg(az_a, el_a - 90.0, az_b, el_b - 90.0)
    # The law-of-cosines form loses accuracy near 0 deg (sqrt of rounding): 1e-5 deg covers it.
    np.testing.assert_allclose(reference_class_angle_deg(az_a, el_a, az_b, el_b), expected, atol=1e-5)
