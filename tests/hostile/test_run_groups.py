"""Clustered comparisons of two run folders: the run's clips.csv names each test clip's source, impulse
response and room, and ``compare RUN_A RUN_B --group-by COLUMN`` resamples those units."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.hostile.conftest import copy_run
from tests.hostile.harness import Snapshot, assert_rejected, run_seldkit


@pytest.fixture
def workspace(tmp_path) -> Path:
    (tmp_path / "notes.txt").write_text("the user's own file\n")
    return tmp_path


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_run_writes_each_test_clips_units(finished_run):
    clips = read_rows(finished_run / "clips.csv")
    references = read_rows(finished_run / "references.csv")
    assert [row["clip_id"] for row in clips] == [row["clip_id"] for row in references]
    for row in clips:
        assert row["reverb"].startswith("test/") and row["room"] == row["reverb"].split("_pos")[0]


def test_compare_two_runs_by_impulse_response(capsys, finished_run, workspace):
    other = copy_run(finished_run, workspace / "other")
    outcome = run_seldkit(
        capsys, "compare", finished_run, other, "--group-by", "reverb", "--json", workspace / "c.json"
    )
    assert outcome.code == 0, outcome.err
    document = json.loads((workspace / "c.json").read_text())["comparison"]
    n_reverbs = len({row["reverb"] for row in read_rows(finished_run / "clips.csv")})
    assert document["method"] == "paired percentile bootstrap over clusters of clips (reverb)"
    assert document["n"] == n_reverbs and f"{n_reverbs} clusters of clips (reverb)" in outcome.out


def test_runs_without_or_with_different_clip_metadata_are_refused(capsys, finished_run, workspace):
    without = copy_run(finished_run, workspace / "without")
    (without / "clips.csv").unlink()
    changed = copy_run(finished_run, workspace / "changed")
    (changed / "clips.csv").write_text((changed / "clips.csv").read_text().replace("room", "hall"))
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "compare", finished_run, without, "--group-by", "room")
    assert_rejected(outcome, naming=without, says="has no clips.csv")
    outcome = run_seldkit(capsys, "compare", finished_run, changed, "--group-by", "room")
    assert_rejected(outcome, naming=changed, says="test clips differ (clips.csv)")
    before.assert_unchanged()
