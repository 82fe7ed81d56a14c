"""score, compare, report and verify on hostile inputs: files that are not what they claim, broken encodings and
line endings, deep JSON, devices and pipes, broken run folders and suite descriptions. Each case: exit 2 and one
line naming the file (row, column or field where it applies), no traceback, nothing of the user's changed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from seldkit.resources import shipped_dir
from tests.hostile.harness import Snapshot, assert_rejected, assert_succeeded, run_seldkit

REGRESSION = shipped_dir("metrics") / "regression"
CLIP_CASE = REGRESSION / "clip" / "cases" / "random_50x10"
DCASE_2024 = REGRESSION / "dcase" / "2024" / "cases" / "random_000"
DCASE_2025 = REGRESSION / "dcase" / "2025" / "cases" / "random_000"
QA_CASE = REGRESSION / "qa" / "cases" / "mixed_all_types"
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def workspace(tmp_path) -> Path:
    """Copies of valid inputs of every kind, and a results file the user keeps."""
    shutil.copy(CLIP_CASE / "preds.csv", tmp_path / "preds.csv")
    shutil.copy(CLIP_CASE / "refs.csv", tmp_path / "refs.csv")
    shutil.copytree(DCASE_2024 / "pred", tmp_path / "pred")
    shutil.copytree(DCASE_2024 / "ref", tmp_path / "ref")
    for name in ("questions.json", "answers.jsonl", "decode_pred", "decode_gt"):
        shutil.copy(QA_CASE / name, tmp_path / name)
    (tmp_path / "kept.json").write_text('{"the user": "keeps this"}\n')
    return tmp_path


def _rewrite(path: Path, change) -> None:
    path.write_bytes(change(path.read_bytes()))


# -- score: clip-level CSV files -------------------------------------------------------------------------------
CLIP_DAMAGE = {
    "cr-only-line-endings": ("preds.csv", lambda data: data.replace(b"\n", b"\r"), "line 1", "lone carriage return"),
    "cr-only-in-references": ("refs.csv", lambda data: data.replace(b"\n", b"\r"), "line 1", "lone carriage return"),
    "utf16": ("preds.csv", lambda data: data.decode().encode("utf-16"), "line 1", "not valid UTF-8"),
    "latin1-label": (
        "refs.csv",
        lambda data: data.replace(b"/m/07rc7d9", b"caf\xe9", 1),
        "column 'labels'",
        "not valid UTF-8",
    ),
    "nul-byte": (
        "preds.csv",
        lambda data: data.replace(b"201.908", b"20\x001.908", 1),
        "column 'azimuth'",
        "not a number",
    ),
    "arabic-digit": (
        "preds.csv",
        lambda data: data.replace(b"201.908", "٢01.908".encode(), 1),
        "column 'azimuth'",
        "ASCII",
    ),
    "fullwidth-digit": (
        "preds.csv",
        lambda data: data.replace(b"8.362", "８.362".encode(), 1),
        "column 'elevation'",
        "ASCII",
    ),
    "nan": ("preds.csv", lambda data: data.replace(b"201.908", b"nan", 1), "column 'azimuth'", "not a finite number"),
    "overflow": (
        "preds.csv",
        lambda data: data.replace(b"201.908", b"1e400", 1),
        "column 'azimuth'",
        "not a finite number",
    ),
    "empty": ("preds.csv", lambda data: b"", "preds.csv", "file is empty"),
    "header-only": ("refs.csv", lambda data: data.split(b"\n")[0] + b"\n", "refs.csv", "no data rows"),
    "truncated-last-line": ("preds.csv", lambda data: data.rstrip(b"\n")[:-40], "truncated last line", "row"),
    "blank-line-inside": ("preds.csv", lambda data: data.replace(b"\n", b"\n\n", 2), "row", "blank line"),
    "duplicate-column": (
        "preds.csv",
        lambda data: data.replace(b"elevation", b"azimuth", 1),
        "column 'azimuth'",
        "duplicate column",
    ),
    "missing-clip-id": (
        "refs.csv",
        lambda data: data.replace(b"clip_id", b"clip", 1),
        "column 'clip_id'",
        "required column",
    ),
    "semicolon-separated": ("preds.csv", lambda data: data.replace(b",", b";"), "header", "semicolon-separated"),
    "quoted-field-too-long": (
        "preds.csv",
        lambda data: data.replace(b"YY2RTes2IuJt", b'"' + b"x" * 200_000 + b'"', 1),
        "row",
        "field larger than field limit",
    ),
    "binary-garbage": ("preds.csv", lambda data: bytes(range(256)) * 10, "preds.csv", "not valid UTF-8"),
}


@pytest.mark.parametrize("case", sorted(CLIP_DAMAGE))
def test_score_damaged_clip_files(capsys, workspace, case):
    name, change, where, says = CLIP_DAMAGE[case]
    _rewrite(workspace / name, change)
    before = Snapshot(workspace)
    outcome = run_seldkit(
        capsys, "score", workspace / "preds.csv", "--ref", workspace / "refs.csv", "--json", workspace / "kept.json"
    )
    assert_rejected(outcome, naming=[workspace / name, where], says=says)
    before.assert_unchanged()


@pytest.mark.parametrize("kind", ["device", "fifo", "folder", "symlink-loop", "missing"])
def test_score_input_that_is_not_a_regular_file(capsys, workspace, kind):
    path = workspace / "odd.csv"
    says = {
        "device": "not a regular file",
        "fifo": "not a regular file",
        "folder": "is a folder",
        "symlink-loop": "cannot read",
        "missing": "not found",
    }[kind]
    if kind == "device":
        path = Path("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "symlink-loop":
        path.symlink_to(workspace / "loop.csv")
        (workspace / "loop.csv").symlink_to(path)
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "score", path, "--ref", workspace / "refs.csv", "--protocol", "clip")
    assert_rejected(outcome, naming=path, says=says)
    before.assert_unchanged()


# -- score: DCASE folders --------------------------------------------------------------------------------------
def test_score_dcase_file_that_is_a_folder(capsys, workspace):
    target = workspace / "pred" / "file_00.csv"
    target.unlink()
    target.mkdir()
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "score", workspace / "pred", "--ref", workspace / "ref")
    assert_rejected(outcome, naming=target, says="is a folder")
    before.assert_unchanged()


def test_score_dcase_symlink_loop(capsys, workspace):
    target = workspace / "pred" / "file_00.csv"
    target.unlink()
    target.symlink_to(target)
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "score", workspace / "pred", "--ref", workspace / "ref")
    assert_rejected(outcome, naming=target, says="cannot read")
    before.assert_unchanged()


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (
            lambda data: b"frame,class,track,x,y,z,distance\n" + data,
            "only DCASE 2019 references and 2025 files start with a header line",
        ),
        (lambda data: data.decode().encode("utf-16"), "not valid UTF-8"),
    ],
)
def test_dcase_year_recognition_blames_the_malformed_prediction(capsys, workspace, change, says):
    """A 2024 prediction file with a header line was once reported as a distance error in the reference file."""
    _rewrite(workspace / "pred" / "file_00.csv", change)
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "score", workspace / "pred", "--ref", workspace / "ref")
    assert_rejected(outcome, naming=workspace / "pred" / "file_00.csv", says=says)
    assert "ref" + os.sep not in outcome.error_line
    before.assert_unchanged()


def test_headerless_2025_files_ask_for_the_year(capsys, tmp_path):
    for side in ("pred", "ref"):
        shutil.copytree(DCASE_2025 / side, tmp_path / side)
        for path in (tmp_path / side).glob("*.csv"):
            path.write_text("\n".join(path.read_text().splitlines()[1:]) + "\n")
    outcome = run_seldkit(capsys, "score", tmp_path / "pred", "--ref", tmp_path / "ref")
    assert_rejected(outcome, naming="file_", says="pass --protocol dcase2024-task3 or dcase2025-task3")
    assert_succeeded(
        run_seldkit(capsys, "score", tmp_path / "pred", "--ref", tmp_path / "ref", "--protocol", "dcase2025-task3")
    )


@pytest.mark.parametrize(
    ("value", "column"), [("1180591620717411303424", "frame"), ("1e19", "frame"), ("99999999999", "class")]
)
def test_dcase_huge_integers_are_rejected_as_written(capsys, workspace, value, column):
    path = workspace / "ref" / "file_00.csv"
    fields = path.read_text().splitlines()[0].split(",")
    fields[0 if column == "frame" else 1] = value
    lines = path.read_text().splitlines()
    path.write_text("\n".join([",".join(fields), *lines[1:]]) + "\n")
    before = Snapshot(workspace)
    outcome = run_seldkit(
        capsys, "score", workspace / "pred", "--ref", workspace / "ref", "--protocol", "dcase2024-task3"
    )
    assert_rejected(outcome, naming=[path, "row 1", f"column '{column}'"], says="out of range")
    assert "RuntimeWarning" not in outcome.err
    before.assert_unchanged()


def test_dcase_nul_byte_is_located(capsys, workspace):
    path = workspace / "ref" / "file_00.csv"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace(",", ",\x00", 1)
    path.write_text("\n".join(lines) + "\n")
    before = Snapshot(workspace)
    outcome = run_seldkit(
        capsys, "score", workspace / "pred", "--ref", workspace / "ref", "--protocol", "dcase2024-task3"
    )
    assert_rejected(outcome, naming=[path, "row 2", "column 'class'"], says="not a number")
    before.assert_unchanged()


def test_one_folder_and_one_file_names_them(capsys, workspace):
    outcome = run_seldkit(capsys, "score", workspace / "pred" / "file_00.csv", "--ref", workspace / "ref")
    assert_rejected(outcome, naming=[workspace / "ref", workspace / "pred" / "file_00.csv"], says="two folders")


# -- score: SpatialSoundQA ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("answers.jsonl", DEEP + "\n", "nested too deeply"),
        ("questions.json", '{"data": ' + DEEP + "}", "nested too deeply"),
        (
            "answers.jsonl",
            '{"question_type": "CLASSIFICATION", "question_id": 1, "answer": "\\ud800 dog"}\n',
            "lone surrogate",
        ),
        ("answers.jsonl", "", "no answers in this file"),
        ("questions.json", "[1, 2, 3]", 'whose "data" is a list'),
    ],
)
def test_score_qa_files(capsys, workspace, name, content, says):
    (workspace / name).write_text(content)
    before = Snapshot(workspace)
    outcome = run_seldkit(
        capsys,
        "score",
        workspace / "answers.jsonl",
        "--ref",
        workspace / "questions.json",
        "--embedder",
        "trigram256",
        "--json",
        workspace / "kept.json",
    )
    assert_rejected(outcome, naming=workspace / name, says=says)
    before.assert_unchanged()


def test_score_qa_decode_file_that_is_a_folder(capsys, workspace):
    (workspace / "decode_pred").unlink()
    (workspace / "decode_pred").mkdir()
    outcome = run_seldkit(
        capsys, "score", workspace / "decode_pred", "--ref", workspace / "decode_gt", "--protocol", "spatialsoundqa"
    )
    assert_rejected(outcome, naming=workspace / "decode_pred", says="is a folder")


# -- score: options and outputs --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "naming", "says"),
    [
        (("--json", "/dev/full"), "/dev/full", "not a regular file"),
        (("--json", "."), "--json", "is a directory"),
        (("--json", "kept.json/r.json"), "kept.json/r.json", "cannot write"),
        (("--ci", "0"), "--ci", "must lie in 1..100,000"),
        (("--ci", "1000000000000"), "--ci", "must lie in 1..100,000"),
        (("--ci", "lots"), "--ci", "expected a whole number"),
        (("--ci", "jackknife"), "--ci jackknife", "DCASE folders"),
    ],
)
def test_score_bad_options_and_outputs(capsys, workspace, monkeypatch, argv, naming, says):
    monkeypatch.chdir(workspace)
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "score", "preds.csv", "--ref", "refs.csv", *argv)
    assert_rejected(outcome, naming=naming if naming != "--json" else ".", says=says)
    before.assert_unchanged()


# -- compare --------------------------------------------------------------------------------------------------
def _run_folder(path: Path, model: str = "spatialast") -> Path:
    from seldkit.protocols import load_protocol

    path.mkdir()
    summary = load_protocol("clip-continuous").summary()
    (path / "run.json").write_text(json.dumps({"model": model, "size": "mini", "protocol": summary}))
    (path / "results.json").write_text(json.dumps({"protocol": summary, "metrics": {}}))
    shutil.copy(CLIP_CASE / "preds.csv", path / "predictions.csv")
    shutil.copy(CLIP_CASE / "refs.csv", path / "references.csv")
    return path


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        ("results-deep", "nested too deeply"),
        ("results-protocol-missing", "protocol must be a mapping"),
        ("results-protocol-changed", "differs from the one recorded"),
        ("run-json-not-object", "the document must be a mapping"),
        ("predictions-missing", "has no predictions.csv"),
    ],
)
def test_compare_broken_run_folders(capsys, workspace, damage, says):
    a, b = _run_folder(workspace / "run_a"), _run_folder(workspace / "run_b")
    named = b
    if damage == "results-deep":
        (b / "results.json").write_text(DEEP)
        named = b / "results.json"
    elif damage == "results-protocol-missing":
        (b / "results.json").write_text('{"metrics": {}}')
        named = b / "results.json"
    elif damage == "results-protocol-changed":
        document = json.loads((b / "results.json").read_text())
        document["protocol"]["hash"] = "sha256:" + "0" * 64
        (b / "results.json").write_text(json.dumps(document))
        named = b / "results.json"
    elif damage == "run-json-not-object":
        (b / "run.json").write_text("[]")
        named = b / "run.json"
    else:
        (b / "predictions.csv").unlink()
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "compare", a, b, "--resamples", "20", "--json", workspace / "kept.json")
    assert_rejected(outcome, naming=named, says=says)
    before.assert_unchanged()


@pytest.mark.parametrize(
    ("argv", "says"),
    [(("--resamples", "100000000"), "must lie in 1..100,000"), (("--resamples", "-5"), "must lie in 1..100,000")],
)
def test_compare_resamples_are_bounded(capsys, workspace, argv, says):
    outcome = run_seldkit(
        capsys, "compare", workspace / "preds.csv", workspace / "preds.csv", "--ref", workspace / "refs.csv", *argv
    )
    assert_rejected(outcome, naming="--resamples", says=says)


def test_compare_systems_of_different_forms(capsys, workspace):
    outcome = run_seldkit(
        capsys, "compare", workspace / "pred", workspace / "preds.csv", "--ref", workspace / "refs.csv"
    )
    assert_rejected(outcome, naming=[workspace / "pred", workspace / "preds.csv"], says="same form")


# -- report ---------------------------------------------------------------------------------------------------
def test_report_draws_class_ids_as_plain_text(capsys, workspace):
    """A class id such as ``$\\notacommand{$`` once stopped the report in matplotlib's mathtext parser."""
    for name in ("preds.csv", "refs.csv"):
        _rewrite(workspace / name, lambda data: data.replace(b"/m/07rc7d9", b"$\\notacommand{$"))
    outcome = run_seldkit(
        capsys,
        "report",
        workspace / "preds.csv",
        "--ref",
        workspace / "refs.csv",
        "--out",
        workspace / "r.html",
        "--resamples",
        "20",
    )
    assert_succeeded(outcome)
    assert (workspace / "r_figures" / "per_class_ap.png").is_file()


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ({"protocol": {"task": "clip", "name": "x"}, "metrics": "high"}, "no protocol/metrics"),
        (
            {"protocol": {"task": "clip", "name": "x"}, "metrics": {"mAP": "high"}},
            "not a seldkit results JSON of task clip",
        ),
        (
            {
                "protocol": {"task": "clip", "name": "x"},
                "metrics": {},
                "per_class": {"a": {"AP": 0.5, "AP_interval": [1]}},
            },
            "AP_interval",
        ),
        (
            {"protocol": {"task": "dcase", "name": "x"}, "metrics": {}, "per_class": {"zero": {}}},
            "not a seldkit results JSON of task dcase",
        ),
        ({"protocol": {"task": "qa", "name": "x"}, "metrics": {}}, "field 'per_type'"),
        (
            {"protocol": {"task": "segmentation", "name": "x"}, "metrics": {}},
            "no report for results of task 'segmentation'",
        ),
    ],
)
def test_report_on_a_malformed_results_json(capsys, workspace, document, says):
    path = workspace / "results.json"
    path.write_text(json.dumps(document))
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "report", path, "--out", workspace / "r.html")
    assert_rejected(outcome, naming=path, says=says)
    before.assert_unchanged()


@pytest.mark.parametrize(
    ("damage", "named", "says"),
    [
        ("log-not-json", "log.jsonl", "not a JSON line"),
        ("log-loss-text", "log.jsonl", "loss_sed must be a number"),
        ("stages-wrong", "run.json", "stages[0].lr must be a number"),
        ("run-json-deep", "run.json", "nested too deeply"),
    ],
)
def test_report_on_a_broken_run_folder(capsys, workspace, damage, named, says):
    run = _run_folder(workspace / "run")
    description = json.loads((run / "run.json").read_text())
    if damage == "log-not-json":
        (run / "log.jsonl").write_text('{"stage": "a", "loss_sed": 1.0}\n{broken\n')
    elif damage == "log-loss-text":
        (run / "log.jsonl").write_text('{"stage": "a", "loss_sed": "low"}\n')
    elif damage == "stages-wrong":
        description["stages"] = [{"name": "a", "epochs": 1, "lr": "fast", "loss_weights": [1, 0, 0]}]
        (run / "run.json").write_text(json.dumps(description))
    else:
        (run / "run.json").write_text(DEEP)
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "report", run, "--out", workspace / "r.html", "--resamples", "20")
    assert_rejected(outcome, naming=run / named, says=says)
    before.assert_unchanged()


def test_report_keeps_a_figures_folder_that_is_not_its_own(capsys, workspace):
    figures = workspace / "r_figures"
    figures.mkdir()
    (figures / "holiday.jpg").write_bytes(b"\xff\xd8 a photo")
    before = Snapshot(workspace)
    outcome = run_seldkit(
        capsys, "report", workspace / "preds.csv", "--ref", workspace / "refs.csv", "--out", workspace / "r.html"
    )
    assert_rejected(outcome, naming=figures, says="holds files seldkit did not write")
    before.assert_unchanged()


def test_a_failed_report_keeps_the_previous_report_and_figures(capsys, workspace):
    out = workspace / "r.html"
    assert_succeeded(
        run_seldkit(
            capsys,
            "report",
            workspace / "preds.csv",
            "--ref",
            workspace / "refs.csv",
            "--out",
            out,
            "--resamples",
            "20",
        )
    )
    _rewrite(workspace / "refs.csv", lambda data: data.replace(b"\n", b"\r"))
    before = Snapshot(workspace)
    outcome = run_seldkit(
        capsys, "report", workspace / "preds.csv", "--ref", workspace / "refs.csv", "--out", out, "--resamples", "20"
    )
    assert_rejected(outcome, naming=workspace / "refs.csv", says="lone carriage return")
    before.assert_unchanged()


@pytest.mark.parametrize(("out", "says"), [("r.txt", "ending in .html"), ("kept.json/r.html", "cannot write")])
def test_report_out_that_cannot_be_a_report(capsys, workspace, monkeypatch, out, says):
    monkeypatch.chdir(workspace)
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "report", "preds.csv", "--ref", "refs.csv", "--out", out)
    assert_rejected(outcome, naming=out, says=says)
    before.assert_unchanged()


# -- verify ---------------------------------------------------------------------------------------------------
def _suites(workspace: Path, family: str) -> Path:
    root = workspace / "regression"
    shutil.copytree(REGRESSION / family, root / family)
    return root


def _edit_expected(path: Path, edit) -> None:
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


VERIFY_DAMAGE = {
    "not-json": ("clip", lambda path: path.write_text("{oops"), "not valid JSON"),
    "utf16": ("clip", lambda path: path.write_bytes(path.read_text().encode("utf-16")), "not valid UTF-8"),
    "deep": ("clip", lambda path: path.write_text(DEEP), "nested too deeply"),
    "a-list": ("clip", lambda path: path.write_text("[]"), "a suite description is a JSON object"),
    "a-folder": ("clip", lambda path: (path.unlink(), path.mkdir()), "is a folder"),
    "no-tolerances": (
        "clip",
        lambda path: _edit_expected(path, lambda d: d.pop("tolerances")),
        "no field 'tolerances'",
    ),
    "tolerance-text": (
        "clip",
        lambda path: _edit_expected(path, lambda d: d["tolerances"].update({"mAP": {"rel": "x"}})),
        "not a clip suite description",
    ),
    "value-text": (
        "clip",
        lambda path: _edit_expected(
            path, lambda d: next(iter(d["cases"].values()))["reference"].update({"ER20": "abc"})
        ),
        "not a clip suite description",
    ),
    "dcase-year-1999": (
        "dcase/2024",
        lambda path: _edit_expected(path, lambda d: d.update({"year": 1999})),
        "year must be one of",
    ),
    "dcase-year-text": (
        "dcase/2024",
        lambda path: _edit_expected(path, lambda d: d.update({"year": "abc"})),
        "year must be one of",
    ),
    "dcase-unknown-configuration": (
        "dcase/2024",
        lambda path: _edit_expected(path, lambda d: d["cases"][0]["results"].update({"foo": {"ok": True}})),
        "configuration",
    ),
    "dcase-case-without-results": (
        "dcase/2024",
        lambda path: _edit_expected(path, lambda d: d["cases"][0].pop("results")),
        "no field 'results'",
    ),
    "qa-no-tolerances": (
        "qa",
        lambda path: _edit_expected(path, lambda d: d.pop("tolerances")),
        "no field 'tolerances'",
    ),
}


@pytest.mark.parametrize("case", sorted(VERIFY_DAMAGE))
def test_verify_with_a_broken_suite_description(capsys, workspace, case):
    family, damage, says = VERIFY_DAMAGE[case]
    root = _suites(workspace, family)
    expected = root / family / "expected.json"
    damage(expected)
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "verify", "--regression-dir", root)
    assert_rejected(outcome, naming=expected, says=says)
    before.assert_unchanged()


def test_verify_expected_json_that_is_a_fifo(capsys, workspace):
    root = _suites(workspace, "clip")
    expected = root / "clip" / "expected.json"
    expected.unlink()
    os.mkfifo(expected)
    outcome = run_seldkit(capsys, "verify", "--regression-dir", root)
    assert_rejected(outcome, naming=expected, says="not a regular file")


@pytest.mark.parametrize(
    ("argv", "naming", "says"),
    [
        (("--suite", "nope"), "'nope'", "unknown suite"),
        (("--regression-dir", "missing"), "missing", "regression folder not found"),
    ],
)
def test_verify_bad_options(capsys, workspace, monkeypatch, argv, naming, says):
    monkeypatch.chdir(workspace)
    outcome = run_seldkit(capsys, "verify", *argv)
    assert_rejected(outcome, naming=naming, says=says)


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncated", "wrong-shape", "pickled-object"])
def test_corrupt_class_embedding_cache_is_recomputed(capsys, workspace, hostile_cache, damage):
    import numpy as np

    from seldkit.metrics.qa.embedders import MiniLM, _cache_path
    from seldkit.protocols import load_protocol
    from seldkit.scoring.qa import class_names

    if not MiniLM.available():
        pytest.skip("the qa extra (all-MiniLM-L6-v2) is not installed")
    argv = ("score", workspace / "answers.jsonl", "--ref", workspace / "questions.json", "--json")
    assert_succeeded(run_seldkit(capsys, *argv, workspace / "clean.json"))
    cache = _cache_path("minilm", class_names(load_protocol("spatialsoundqa")).names)
    assert cache.is_file()
    if damage == "truncated":
        cache.write_bytes(cache.read_bytes()[:300])
    elif damage == "wrong-shape":
        np.save(cache, np.zeros((3, 384), dtype=np.float32))
    else:
        np.save(cache, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert_succeeded(run_seldkit(capsys, *argv, workspace / "again.json"))
    clean, again = (json.loads((workspace / name).read_text()) for name in ("clean.json", "again.json"))
    assert again["metrics"] == clean["metrics"] and again["embedder"] == clean["embedder"]
    assert np.load(cache).shape == (355, 384)
