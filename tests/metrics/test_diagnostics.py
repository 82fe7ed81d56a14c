"""Direction diagnostics against a naive per-clip implementation written from unit vectors, and in results."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from seldkit.metrics.diagnostics import direction_diagnostics
from tests.command import run_cli


def unit(azimuth: float, elevation: float) -> tuple[float, float, float]:
    """Clip convention as a vector: x = right (azimuth 0), -z = front (azimuth 90), y = up."""
    a, e = math.radians(azimuth), math.radians(elevation)
    return (math.cos(e) * math.cos(a), math.sin(e), -math.cos(e) * math.sin(a))


def naive(predicted, reference):
    lateral, folded = [], []
    for (ap, ep), (ar, er) in zip(predicted, reference):
        p, r = unit(ap, ep), unit(ar, er)
        lateral.append(abs(math.degrees(math.asin(p[0])) - math.degrees(math.asin(r[0]))))
        # fold: a direction behind (z > 0) is mirrored to the front (z -> -z)
        pf, rf = (p[0], p[1], -abs(p[2])), (r[0], r[1], -abs(r[2]))
        dot = max(-1.0, min(1.0, sum(x * y for x, y in zip(pf, rf))))
        folded.append(math.degrees(math.acos(dot)))
    return sum(lateral) / len(lateral), sum(folded) / len(folded)


def test_diagnostics_equal_the_vector_definitions():
    rng = np.random.default_rng(4)
    azimuth_p, azimuth_r = rng.uniform(-400, 400, 500), rng.uniform(0, 360, 500)
    elevation_p, elevation_r = rng.uniform(-80, 80, 500), rng.uniform(-80, 80, 500)
    got = direction_diagnostics(azimuth_p, elevation_p, azimuth_r, elevation_r)
    lateral, folded = naive(zip(azimuth_p, elevation_p), zip(azimuth_r, elevation_r))
    assert got.lateral_MAE == pytest.approx(lateral, abs=1e-9) and got.folded_MAE == pytest.approx(folded, abs=1e-6)
    assert got.n == 500


def test_a_front_back_confusion_costs_nothing_folded_and_a_side_error_costs_laterally():
    mirrored = direction_diagnostics(np.array([120.0]), np.array([10.0]), np.array([240.0]), np.array([10.0]))
    assert mirrored.folded_MAE == pytest.approx(0.0, abs=1e-9) and mirrored.lateral_MAE == pytest.approx(0.0, abs=1e-9)
    side = direction_diagnostics(np.array([0.0]), np.array([0.0]), np.array([180.0]), np.array([0.0]))
    assert side.lateral_MAE == pytest.approx(180.0) and side.folded_MAE == pytest.approx(180.0)


def test_results_json_carries_the_diagnostics(tmp_path, capsys):
    (tmp_path / "ref.csv").write_text("clip_id,labels,azimuth,elevation\na,,90,0\nb,,0,0\n")
    (tmp_path / "pred.csv").write_text("clip_id,azimuth,elevation\na,270,0\nb,20,0\n")
    code, _, err = run_cli(
        capsys, "score", tmp_path / "pred.csv", "--ref", tmp_path / "ref.csv", "--json", tmp_path / "r.json"
    )
    assert code == 0, err
    diagnostics = json.loads((tmp_path / "r.json").read_text())["diagnostics"]
    expected_lateral, expected_folded = naive([(270, 0), (20, 0)], [(90, 0), (0, 0)])
    assert diagnostics["lateral_MAE"] == pytest.approx(expected_lateral)
    assert diagnostics["folded_MAE"] == pytest.approx(expected_folded) and diagnostics["n"] == 2
