"""train-reference and predict: run folders that are not seldkit's are never written into, outputs and
devices are checked before any work, damaged data sets are named file by file, and a run killed with
``kill -9`` continues with the same command to the results of an uninterrupted run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from seldkit.io.atomic import TEMPORARY_SUFFIX
from seldkit.protocols import load_protocol
from tests.hostile.conftest import copy_run
from tests.hostile.harness import Snapshot, assert_rejected, assert_succeeded, run_seldkit
from tests.hostile.processes import children, needs_proc, running, wait_until
from tests.train_fixtures import tiny_training_protocol


@pytest.fixture
def workspace(tmp_path) -> Path:
    (tmp_path / "notes.txt").write_text("the user's own file\n")
    return tmp_path


def train(capsys, protocol: Path, out: Path, *extra: object, model: str = "dspast"):
    return run_seldkit(capsys, "train-reference", model, "--protocol", protocol, "--out", out, "--quiet", *extra)


def test_out_folder_with_the_users_files_is_refused(capsys, workspace, tiny_protocol):
    out = workspace / "results"
    out.mkdir()
    (out / "predictions.csv").write_text("clip_id\nmy,own\n")
    before = Snapshot(workspace)
    outcome = train(capsys, tiny_protocol, out)
    assert_rejected(outcome, naming=out, says="not a train-reference run folder (it holds 'predictions.csv')")
    before.assert_unchanged()


def test_out_that_is_a_file(capsys, workspace, tiny_protocol):
    before = Snapshot(workspace)
    outcome = train(capsys, tiny_protocol, workspace / "notes.txt")
    assert_rejected(outcome, naming=workspace / "notes.txt", says="is a file")
    before.assert_unchanged()


def test_finished_run_is_not_overwritten(capsys, workspace, tiny_protocol, finished_run):
    run = copy_run(finished_run, workspace / "run")
    before = Snapshot(workspace)
    outcome = train(capsys, tiny_protocol, run)
    assert_rejected(outcome, naming=run, says="holds a finished run")
    before.assert_unchanged()


def test_run_of_another_model_is_not_continued(capsys, workspace, tiny_protocol, finished_run):
    run = copy_run(finished_run, workspace / "run")
    (run / "results.json").unlink()
    before = Snapshot(workspace)
    outcome = train(capsys, tiny_protocol, run, model="spatialast")
    assert_rejected(outcome, naming=run, says="holds a run of dspast")
    before.assert_unchanged()


@pytest.mark.parametrize(
    ("argv", "naming", "says"),
    [
        (("--resume",), "checkpoint.pt", "no checkpoint to resume from"),
        (("--device", "foo"), "--device 'foo'", "is not a device"),
        (("--device", "tpu:0"), "--device", ""),
        (("--init", "missing.pth"), "missing.pth", "checkpoint not found"),
    ],
)
def test_bad_options_stop_before_any_work(capsys, workspace, tiny_protocol, argv, naming, says):
    before = Snapshot(workspace)
    outcome = train(
        capsys, tiny_protocol, workspace / "run", *[workspace / arg if arg.endswith(".pth") else arg for arg in argv]
    )
    assert_rejected(outcome, naming=naming, says=says)
    before.assert_unchanged()


@pytest.mark.parametrize(
    ("protocol", "says"), [("clip", "not a training protocol"), ("data-only.yaml", "has no training recipe")]
)
def test_protocols_without_a_recipe(capsys, workspace, protocol, says):
    if protocol.endswith(".yaml"):  # a training protocol with a data section and no training: section
        data = load_protocol("spatialsoundqa-train").raw["data"]
        (workspace / protocol).write_text(yaml.safe_dump({"name": "data-only", "task": "train", "data": data}))
        protocol = str(workspace / protocol)
    before = Snapshot(workspace)
    outcome = train(capsys, protocol, workspace / "run")
    assert_rejected(outcome, naming=protocol, says=says)
    before.assert_unchanged()


# -- predict -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["a-folder", "a-device", "under-a-file", "unwritable-folder"])
def test_predict_out_that_cannot_take_a_file(capsys, workspace, finished_run, tiny_dataset, kind):
    out = {
        "a-folder": workspace,
        "a-device": Path("/dev/full"),
        "under-a-file": workspace / "notes.txt" / "p.csv",
        "unwritable-folder": Path("/proc/seldkit-predictions.csv"),
    }[kind]
    says = {
        "a-folder": "is a directory",
        "a-device": "not a regular file",
        "under-a-file": "Not a directory",
        "unwritable-folder": "cannot write",
    }[kind]
    before = Snapshot(workspace)
    outcome = run_seldkit(
        capsys, "predict", "--checkpoint", finished_run / "checkpoint.pt", "--data", tiny_dataset, "--out", out
    )
    assert_rejected(outcome, naming=out, says=says)
    before.assert_unchanged()


def test_predict_into_a_missing_folder_creates_it(capsys, workspace, finished_run, tiny_dataset):
    out = workspace / "new" / "folder" / "p.csv"
    outcome = run_seldkit(
        capsys, "predict", "--checkpoint", finished_run / "checkpoint.pt", "--data", tiny_dataset, "--out", out
    )
    assert_succeeded(outcome)
    assert out.read_bytes() == (finished_run / "predictions.csv").read_bytes()


def _damage(dataset: Path, kind: str) -> Path:
    """Damage a copy of a data set; returns the file the error must name."""
    if kind == "truncated-npy":
        target = next((dataset / "binaural" / "test").glob("*.npy"))
        target.write_bytes(target.read_bytes()[:90])
    elif kind == "nan-npy":
        target = next((dataset / "binaural" / "test").glob("*.npy"))
        np.save(target, np.full((2, 10), np.nan, dtype=np.float32))
    elif kind == "object-npy":
        target = next((dataset / "binaural" / "test").glob("*.npy"))
        np.save(target, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    elif kind == "undecodable-audio":
        target = next((dataset / "audio" / "test").glob("*.flac"))
        target.write_bytes(b"fLaC" + b"\x00" * 50)
    elif kind == "missing-audio":
        target = next((dataset / "audio" / "test").glob("*.flac"))
        target.unlink()
    elif kind == "nested-dataset-json":
        target = dataset / "dataset.json"
        target.write_text("[" * 100_000 + "]" * 100_000)
    elif kind == "dataset-json-list":
        target = dataset / "dataset.json"
        target.write_text("[1, 2]")
    elif kind == "dataset-json-missing-key":
        target = dataset / "dataset.json"
        info = json.loads(target.read_text())
        del info["manifest"]
        target.write_text(json.dumps(info))
    elif kind == "manifest-nan-weight":
        target = dataset / "manifest.json"
        target.write_text(
            target.read_text()
            .replace('"weight": 1.0', '"weight": NaN', 1)
            .replace('"weight": 0.', '"weight": NaN, "x": 0.', 1)
        )
    elif kind == "manifest-unknown-clip":
        target = dataset / "manifest.json"
        manifest = json.loads(target.read_text())
        manifest["pairs"][0]["audio"] = "nowhere"
        target.write_text(json.dumps(manifest))
    elif kind == "reverb-position-nan":
        target = dataset / "reverb.json"
        index = json.loads(target.read_text())
        index["data"][0]["source_position"] = "nan,0,0"
        target.write_text(json.dumps(index))
    elif kind == "audio-labels-number":
        target = dataset / "audio.json"
        index = json.loads(target.read_text())
        index["data"][0]["label"] = 7
        target.write_text(json.dumps(index))
    else:
        raise ValueError(kind)
    return target


DAMAGE = {
    "truncated-npy": "cannot read this file of the data set",
    "nan-npy": "NaN or infinite",
    "object-npy": "cannot read this file of the data set",
    "undecodable-audio": "cannot read this file of the data set",
    "missing-audio": "cannot read this file of the data set",
    "nested-dataset-json": "nested too deeply",
    "dataset-json-list": "must be a mapping",
    "dataset-json-missing-key": "manifest is missing",
    "manifest-nan-weight": "weight must be a finite number",
    "manifest-unknown-clip": "is not in the indexes",
    "reverb-position-nan": "record 1",
    "audio-labels-number": "record 1: 'label' must be a list",
}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_predict_on_a_damaged_data_set(capsys, workspace, finished_run, tiny_dataset, kind):
    dataset = workspace / "data"
    shutil.copytree(tiny_dataset, dataset)
    named = _damage(dataset, kind)
    (workspace / "p.csv").write_text("an older file the user keeps\n")
    before = Snapshot(workspace)
    outcome = run_seldkit(
        capsys,
        "predict",
        "--checkpoint",
        finished_run / "checkpoint.pt",
        "--data",
        dataset,
        "--out",
        workspace / "p.csv",
    )
    assert_rejected(outcome, naming=named, says=DAMAGE[kind])
    before.assert_unchanged()


@pytest.mark.parametrize(
    ("argv", "says"),
    [(("--split", "dev"), "split 'dev' has no pairs"), (("--device", "cuda:7x"), "is not a device")],
)
def test_predict_bad_options(capsys, workspace, finished_run, tiny_dataset, argv, says):
    before = Snapshot(workspace)
    outcome = run_seldkit(
        capsys,
        "predict",
        "--checkpoint",
        finished_run / "checkpoint.pt",
        "--data",
        tiny_dataset,
        "--out",
        workspace / "p.csv",
        *argv,
    )
    assert_rejected(outcome, naming=argv[1] if argv[0] == "--split" else "--device", says=says)
    before.assert_unchanged()


def test_predict_data_that_is_not_a_data_set(capsys, workspace, finished_run):
    before = Snapshot(workspace)
    outcome = run_seldkit(
        capsys,
        "predict",
        "--checkpoint",
        finished_run / "checkpoint.pt",
        "--data",
        workspace,
        "--out",
        workspace / "p.csv",
    )
    assert_rejected(outcome, naming=workspace / "dataset.json", says="file not found")
    outcome = run_seldkit(
        capsys,
        "predict",
        "--checkpoint",
        finished_run / "checkpoint.pt",
        "--data",
        workspace / "notes.txt",
        "--out",
        workspace / "p.csv",
    )
    assert_rejected(outcome, naming=workspace / "notes.txt", says="not a data set folder")
    before.assert_unchanged()


# -- kill -9 -------------------------------------------------------------------------------------------------
def comparable(run: Path) -> dict[str, object]:
    """What an interrupted and continued run must reproduce exactly: predictions, references, scores, weights,
    and the per-epoch records (without their wall-clock times)."""
    results = json.loads((run / "results.json").read_text())
    log = [
        {key: value for key, value in json.loads(line).items() if key not in ("seconds", "clips_per_s")}
        for line in (run / "log.jsonl").read_text().splitlines()
    ]
    weights = torch.load(run / "checkpoint.pt", map_location="cpu", weights_only=True)["model"]
    return {
        "files": {
            name: (run / name).read_bytes() for name in ("predictions.csv", "references.csv", "chance_predictions.csv")
        },
        "metrics": (results["metrics"], results["chance"]["metrics"]),
        "table_rows": (run / "results.md").read_text().splitlines()[2:],
        "log": log,
        "weights": {key: value.numpy().tobytes() for key, value in weights.items()},
    }


@pytest.mark.slow
@needs_proc
def test_kill_9_during_train_reference_then_the_same_command(tmp_path, tiny_dataset, hostile_cache):
    protocol = tiny_training_protocol(tmp_path, epochs=(2, 4), clips=16)
    environment = {**os.environ, "SELDKIT_CACHE": str(hostile_cache)}
    # processes this test process had before (multiprocessing's resource tracker, started by earlier tests) are not
    # the runs' left-overs
    before = set(children(os.getpid()))
    out = tmp_path / "killed"
    command = [
        sys.executable,
        "-m",
        "seldkit",
        "train-reference",
        "spatialast",
        "--protocol",
        str(protocol),
        "--out",
        str(out),
        "--quiet",
    ]
    process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: (out / "log.jsonl").exists(), timeout=300)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert (out / "checkpoint.pt").exists() and not (out / "results.json").exists()

    again = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "continuing the unfinished run" in again.stdout
    straight = tmp_path / "straight"
    done = subprocess.run(
        [*command[:-3], "--out", str(straight), "--quiet"], env=environment, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert comparable(out) == comparable(straight)
    assert not [path for path in out.iterdir() if path.name.endswith(TEMPORARY_SUFFIX)]
    assert not any(running(pid) for pid in set(children(os.getpid())) - before)


def _limit_file_size() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG


def test_a_failed_write_keeps_the_previous_predictions(workspace, finished_run, tiny_dataset, hostile_cache):
    """The predictions (~50 kB) cannot be written under a 20 kB file-size limit: the user's older file stays."""
    from tests.hostile.harness import run_seldkit_process

    out = workspace / "p.csv"
    out.write_text("an older file the user keeps\n")
    before = Snapshot(workspace)
    outcome = run_seldkit_process(
        "predict",
        "--checkpoint",
        finished_run / "checkpoint.pt",
        "--data",
        tiny_dataset,
        "--out",
        out,
        env={**os.environ, "SELDKIT_CACHE": str(hostile_cache)},
        preexec_fn=_limit_file_size,
    )
    assert_rejected(outcome, naming=out, says="cannot write: File too large")
    before.assert_unchanged()
