"""`seldkit score` end to end: the table, the results JSON, and one clear line for every kind of bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from seldkit.cli.main import main
from tests.command import run_cli
from tests.golden import CLIP_SUITE, clip_cases

PREDS = """clip_id,azimuth,elevation,distance,dog,cat
a,10,5,1.0,0.9,0.1
b,200,-10,2.5,0.2,0.8
c,90,0,3,0.5,0.5
"""
REFS = """clip_id,labels,azimuth,elevation,distance
a,dog,12,4,1.2
b,cat,190,-12,2.0
c,dog;cat,80,1,3.4
"""


def test_score_prints_table_and_writes_json(tmp_path, write_file, capsys):
    preds, refs = write_file("preds.csv", PREDS), write_file("refs.csv", REFS)
    out_json = tmp_path / "out" / "results.json"
    code, out, err = run_cli(capsys, "score", preds, "--ref", refs, "--json", out_json, "--per-class")
    assert code == 0, err
    assert "protocol clip (reference mode" in out and "3 clips" in out
    for label in ("mAP", "ER20", "MAE", "DER"):
        assert label in out
    document = json.loads(out_json.read_text())
    assert document["protocol"]["name"] == "clip"
    assert document["protocol"]["hash"].startswith("sha256:")
    assert document["n"] == 3 and document["metrics"]["n_clips"] == 3
    assert set(document["per_class"]) == {"dog", "cat"}
    assert {"seldkit_version", "environment", "inputs"} <= set(document)
    assert 0.0 <= document["metrics"]["mAP"] <= 1.0


@pytest.mark.parametrize(("protocol", "mode"), [("bat-encoder", "reference"), ("bat-encoder-continuous", "continuous")])
def test_json_values_equal_golden(tmp_path, capsys, protocol, mode):
    case = CLIP_SUITE / "cases" / "audioset355_60clips"
    expected = clip_cases()["audioset355_60clips"][mode]
    out_json = tmp_path / "r.json"
    code, out, err = run_cli(
        capsys, "score", case / "preds.csv", "--ref", case / "refs.csv", "--protocol", protocol, "--json", out_json
    )
    assert code == 0, err
    metrics = json.loads(out_json.read_text())["metrics"]
    for key in ("mAP", "ER20", "DER"):
        assert metrics[key] == pytest.approx(expected[key], rel=1e-9)
    assert metrics["MAE"] == pytest.approx(expected["MAE"], abs=1e-6)
    assert metrics["n_classes_scored"] == expected["n_classes_scored"]
    assert f"{expected['mAP'] * 100:.2f} %" in out


def test_ci_adds_intervals(tmp_path, capsys):
    case = CLIP_SUITE / "cases" / "random_50x10"
    out_json = tmp_path / "r.json"
    code, out, _ = run_cli(
        capsys, "score", case / "preds.csv", "--ref", case / "refs.csv", "--ci", "200", "--json", out_json
    )
    assert code == 0 and "95% CI (200 bootstrap resamples)" in out
    document = json.loads(out_json.read_text())
    intervals = document["intervals"]
    assert intervals["n_resamples"] == 200 and intervals["seed"] == 0 and intervals["level"] == 0.95
    for key in ("mAP", "ER20", "MAE", "DER"):
        low, high = intervals["metrics"][key]["low"], intervals["metrics"][key]["high"]
        assert low <= document["metrics"][key] <= high
    again = tmp_path / "again.json"
    run_cli(capsys, "score", case / "preds.csv", "--ref", case / "refs.csv", "--ci", "200", "--json", again)
    assert json.loads(again.read_text())["intervals"] == intervals  # seeded


def _replace_line(text: str, index: int, line: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[index] = line
    return "".join(lines)


BAD_INPUTS = {
    # kind: (which file, content, row, column, message fragment); row 0 = header, None = file-level
    "missing clip_id": ("preds", PREDS.replace("clip_id", "id", 1), 0, "clip_id", "required column"),
    "missing labels": ("refs", REFS.replace("labels", "label", 1), 0, "labels", "required column"),
    "non-numeric score": ("preds", _replace_line(PREDS, 2, "b,200,-10,2.5,high,0.8\n"), 2, "dog", "not a number"),
    "NaN azimuth": ("preds", _replace_line(PREDS, 1, "a,NaN,5,1.0,0.9,0.1\n"), 1, "azimuth", "finite"),
    "inf distance": ("refs", _replace_line(REFS, 3, "c,dog;cat,80,1,inf\n"), 3, "distance", "finite"),
    "duplicate id": ("preds", _replace_line(PREDS, 3, "a,90,0,3,0.5,0.5\n"), 3, "clip_id", "duplicate"),
    "id only in preds": ("preds", PREDS + "d,1,1,1,0.1,0.1\n", 4, "clip_id", "no row in"),
    "id only in refs": ("refs", REFS + "d,dog,1,1,1\n", 4, "clip_id", "no row in"),
    "unknown class id": ("refs", _replace_line(REFS, 2, "b,cow,190,-12,2.0\n"), 2, "labels", "unknown class id 'cow'"),
    "elevation out of range": (
        "preds",
        _replace_line(PREDS, 2, "b,200,-95,2.5,0.2,0.8\n"),
        2,
        "elevation",
        "out of range",
    ),
    "negative distance": ("refs", _replace_line(REFS, 1, "a,dog,12,4,-1.2\n"), 1, "distance", "out of range"),
    "azimuth missing on a row": ("preds", _replace_line(PREDS, 3, "c,,0,3,0.5,0.5\n"), 3, "azimuth", "missing value"),
    "distance missing on a row": ("refs", _replace_line(REFS, 2, "b,cat,190,-12,\n"), 2, "distance", "missing value"),
    "empty file": ("preds", "", None, None, "empty"),
    "header only": ("refs", REFS.splitlines(keepends=True)[0], None, None, "no data rows"),
    "wrong delimiter": ("preds", PREDS.replace(",", ";"), 0, None, "semicolon-separated"),
    "truncated last line": ("preds", PREDS[:-9], 3, None, "truncated"),
    "non-UTF-8 bytes": ("refs", REFS.encode().replace(b"cat,190", b"c\xe9t,190"), 2, "labels", "not valid UTF-8"),
}


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_input_exit_2_one_line(tmp_path, write_file, capsys, kind):
    which, content, row, column, fragment = BAD_INPUTS[kind]
    files = {"preds": write_file("preds.csv", PREDS), "refs": write_file("refs.csv", REFS)}
    files[which] = write_file(f"{which}.csv", content)
    out_json = tmp_path / "results.json"
    code, out, err = run_cli(capsys, "score", files["preds"], "--ref", files["refs"], "--json", out_json)
    assert code == 2
    assert out == "" and not out_json.exists()
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    message = lines[0]
    assert "Traceback" not in err and fragment in message
    assert str(files[which]) in message
    if row == 0:
        assert "header (line 1)" in message
    elif row is not None:
        assert f"row {row} (line {row + 1})" in message
    if column is not None:
        assert f"column {column!r}" in message


def test_bat_encoder_rejects_other_class_columns(write_file, capsys):
    preds, refs = write_file("preds.csv", PREDS), write_file("refs.csv", REFS)
    code, _, err = run_cli(capsys, "score", preds, "--ref", refs, "--protocol", "bat-encoder")
    assert code == 2 and "column 'dog': not a class of protocol 'bat-encoder'" in err


def test_bat_encoder_rejects_missing_class_columns(capsys, tmp_path):
    case = CLIP_SUITE / "cases" / "audioset355_60clips"
    header, *rows = (case / "preds.csv").read_text().splitlines()
    names = header.split(",")
    drop = names.index("/m/09x0r")
    trimmed = "\n".join(",".join(v for i, v in enumerate(line.split(",")) if i != drop) for line in [header, *rows])
    preds = tmp_path / "preds.csv"
    preds.write_text(trimmed + "\n")
    code, _, err = run_cli(capsys, "score", preds, "--ref", case / "refs.csv", "--protocol", "bat-encoder")
    assert code == 2 and "1 of the 355 class columns" in err and "/m/09x0r" in err


def test_usage_errors_are_one_line(capsys, write_file):
    preds = write_file("preds.csv", PREDS)
    # without --ref, a training protocol's data set holds the references: here none is named
    code, out, err = run_cli(capsys, "score", preds)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "give --ref REF, or --protocol NAME of a training protocol" in err
    with pytest.raises(SystemExit):
        main(["score", str(preds), "--ref", str(preds), "--ci", "0"])
    assert "must lie in 1..100,000" in capsys.readouterr().err


def test_unknown_protocol_and_unwritable_json(write_file, tmp_path, capsys):
    preds, refs = write_file("preds.csv", PREDS), write_file("refs.csv", REFS)
    code, _, err = run_cli(capsys, "score", preds, "--ref", refs, "--protocol", "nope")
    assert code == 2 and "unknown protocol 'nope'" in err
    blocker = write_file("file", "x")
    code, _, err = run_cli(capsys, "score", preds, "--ref", refs, "--json", blocker / "r.json")
    assert code == 2 and "cannot write" in err


def test_one_side_spatial_column_is_reported_not_silent(write_file, capsys):
    refs = "clip_id,labels,azimuth,elevation\na,dog,12,4\nb,cat,190,-12\nc,dog;cat,80,1\n"
    code, out, _ = run_cli(capsys, "score", write_file("p.csv", PREDS), "--ref", write_file("r.csv", refs))
    assert code == 0 and "DER" not in out.split("note:")[0]
    assert "has a 'distance' column but" in out


def test_console_script_runs_without_importing_torch(tmp_path, write_file):
    preds, refs = write_file("preds.csv", PREDS), write_file("refs.csv", REFS)
    code = (
        "import sys; from seldkit.cli.main import main; "
        f"rc = main(['score', {str(preds)!r}, '--ref', {str(refs)!r}]); "
        "print('torch imported' if 'torch' in sys.modules else 'torch not imported'); sys.exit(rc)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "torch not imported" in result.stdout
