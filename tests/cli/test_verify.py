"""`seldkit verify`: every shipped suite passes; an altered expected value or case file makes it fail."""

from __future__ import annotations

import json
import shutil

import pytest

from seldkit.cli.main import main
from tests.golden import CLIP_SUITE


@pytest.mark.slow
def test_verify_passes_on_shipped_suites(capsys):
    assert main(["verify"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert {f"dcase/{year}" for year in range(2019, 2026)} | {"clip"} <= set(rows)
    assert "36/36" in rows["clip"]
    assert all(row.rstrip().endswith("ok") for row in rows.values())


def test_verify_one_family(capsys):
    assert main(["verify", "--suite", "dcase"]) == 0
    out = capsys.readouterr().out
    assert "dcase/2024" in out and "clip " not in out


def copy_suite(tmp_path):
    root = tmp_path / "regression"
    shutil.copytree(CLIP_SUITE, root / "clip")
    return root


def test_verify_fails_when_an_expected_value_is_altered(tmp_path, capsys):
    root = copy_suite(tmp_path)
    expected_path = root / "clip" / "expected.json"
    expected = json.loads(expected_path.read_text())
    expected["cases"]["random_50x10"]["continuous"]["mAP"] *= 1 + 1e-7  # far beyond the 1e-9 tolerance
    expected_path.write_text(json.dumps(expected))
    assert main(["verify", "--regression-dir", str(root)]) != 0
    out = capsys.readouterr().out
    assert "35/36" in out and "FAIL" in out
    assert "clip/random_50x10/continuous: mAP" in out


def test_verify_fails_when_a_case_file_changes(tmp_path, capsys):
    root = copy_suite(tmp_path)
    refs = root / "clip" / "cases" / "two_clips" / "refs.csv"
    refs.write_text(refs.read_text().replace("30.5", "30.6"))
    assert main(["verify", "--regression-dir", str(root)]) != 0
    assert "refs.csv differs" in capsys.readouterr().out


def test_verify_unknown_suite_is_a_usage_error(capsys):
    assert main(["verify", "--suite", "nope"]) == 2
    assert "unknown suite 'nope'" in capsys.readouterr().err
