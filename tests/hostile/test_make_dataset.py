"""make-dataset never deletes or truncates what it does not own, checks its writes, rebuilds damaged copies
and caches, and survives ``kill -9``: the next run cleans up and gives the same bytes."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from seldkit.io.atomic import TEMPORARY_SUFFIX
from tests.hostile.harness import Snapshot, assert_rejected, assert_succeeded, run_seldkit, run_seldkit_process
from tests.hostile.processes import children, needs_proc, running, wait_until


@pytest.fixture
def workspace(tmp_path) -> Path:
    (tmp_path / "notes.txt").write_text("the user's own file\n")
    return tmp_path


def tree_digest(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.endswith(TEMPORARY_SUFFIX))


def test_out_folder_with_the_users_files_is_refused_and_kept(capsys, workspace, tiny_protocol):
    out = workspace / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("months of work\n")
    (out / "dataset.json").write_text("{}")  # even beside a file seldkit would write
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "make-dataset", "--protocol", tiny_protocol, "--out", out, "--quiet")
    assert_rejected(outcome, naming=out, says="is not a seldkit data set (it holds 'thesis.tex')")
    before.assert_unchanged()


@pytest.mark.parametrize("kind", ["a-file", "under-a-file", "unwritable"])
def test_out_that_cannot_be_a_folder(capsys, workspace, tiny_protocol, kind):
    if kind == "a-file":
        out = workspace / "notes.txt"
        says = "exists and is not a folder"
    elif kind == "under-a-file":
        out = workspace / "notes.txt" / "data"
        says = "notes.txt is not a folder"
    else:
        out = Path("/proc/seldkit-data")
        says = "cannot write"
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "make-dataset", "--protocol", tiny_protocol, "--out", out, "--quiet")
    assert_rejected(outcome, naming=out, says=says)
    before.assert_unchanged()


def test_damaged_copies_are_rebuilt_to_the_same_bytes(capsys, workspace, tiny_protocol, tiny_dataset):
    out = workspace / "data"
    shutil.copytree(tiny_dataset, out)
    expected = tree_digest(out)
    flac = next((out / "audio").rglob("*.flac"))
    flac.write_bytes(flac.read_bytes()[:100])  # truncated
    outcome = run_seldkit(capsys, "make-dataset", "--protocol", tiny_protocol, "--out", out, "--quiet")
    assert_succeeded(outcome)
    assert outcome.out.startswith("built ") and tree_digest(out) == expected
    (out / "dataset.json").write_text("[" * 100_000 + "]" * 100_000)  # nested too deeply for json
    (out / "checksums.json").write_text("{broken")
    outcome = run_seldkit(capsys, "make-dataset", "--protocol", tiny_protocol, "--out", out, "--quiet")
    assert_succeeded(outcome)
    assert tree_digest(out) == expected and leftovers(workspace) == []
    outcome = run_seldkit(capsys, "make-dataset", "--protocol", tiny_protocol, "--out", out, "--quiet")
    assert outcome.out.startswith("verified existing ")


@pytest.mark.parametrize("damage", ["truncated", "garbage", "wrong-shape", "pickled-object"])
def test_corrupt_impulse_response_cache_is_recomputed(
    capsys, workspace, tiny_protocol, tiny_dataset, hostile_cache, damage
):
    import numpy as np

    cache = workspace / "cache"
    shutil.copytree(hostile_cache / "brir", cache / "brir")
    os.environ["SELDKIT_CACHE"] = str(cache)  # restored by the autouse fixture's monkeypatch
    for entry in (cache / "brir").glob("*.npy"):
        if damage == "truncated":
            entry.write_bytes(entry.read_bytes()[:200])
        elif damage == "garbage":
            entry.write_bytes(b"\x93NUMPY garbage")
        elif damage == "wrong-shape":
            np.save(entry, np.zeros((3, 2, 7), dtype=np.float32))
        else:
            np.save(entry, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    outcome = run_seldkit(capsys, "make-dataset", "--protocol", tiny_protocol, "--out", workspace / "data", "--quiet")
    assert_succeeded(outcome)
    assert tree_digest(workspace / "data") == tree_digest(tiny_dataset)
    for entry in (cache / "brir").glob("*.npy"):
        assert np.load(entry).ndim == 3 and np.load(entry).shape[1] == 2


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes then fail with EFBIG instead of killing the process


def test_a_write_that_fails_is_an_error_not_a_short_file(workspace, tiny_protocol, hostile_cache):
    """Under a 20 kB file-size limit every FLAC write fails: once it truncated files silently and a rerun said
    "verified existing"."""
    out = workspace / "data"
    environment = {**os.environ, "SELDKIT_CACHE": str(hostile_cache)}
    before = Snapshot(workspace)
    outcome = run_seldkit_process(
        "make-dataset",
        "--protocol",
        tiny_protocol,
        "--out",
        out,
        "--quiet",
        env=environment,
        preexec_fn=_limit_file_size,
    )
    assert_rejected(outcome, naming=str(out), says="cannot write the data set: File too large")
    before.assert_unchanged()
    assert not out.exists() and leftovers(workspace) == []


def test_stale_staging_folders_of_dead_processes_are_removed(capsys, workspace, tiny_protocol):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = workspace / f".data.{int(dead.stdout)}-0badc0de{TEMPORARY_SUFFIX}"
    stale.mkdir()
    (stale / "audio.json").write_text("{}")
    outcome = run_seldkit(capsys, "make-dataset", "--protocol", tiny_protocol, "--out", workspace / "data", "--quiet")
    assert_succeeded(outcome)
    assert not stale.exists() and leftovers(workspace) == []


@pytest.fixture(scope="module")
def slower_protocol(tmp_path_factory, tiny_protocol) -> Path:
    """The tiny protocol with 32 rooms' worth of impulse responses per split: rendered by a process pool."""
    raw = yaml.safe_load(tiny_protocol.read_text())
    for split in raw["data"]["splits"].values():
        split.update(rooms=2, positions_per_room=16)
    raw["data"]["rir_seconds"] = 0.3
    raw["name"] = "tiny-kill"
    path = tmp_path_factory.mktemp("kill") / "tiny-kill.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.slow
@needs_proc
def test_kill_9_during_make_dataset_then_the_same_command(tmp_path, slower_protocol):
    cache = tmp_path / "cache"
    environment = {**os.environ, "SELDKIT_CACHE": str(cache)}
    out = tmp_path / "data"
    command = [
        sys.executable,
        "-m",
        "seldkit",
        "make-dataset",
        "--protocol",
        str(slower_protocol),
        "--out",
        str(out),
        "--quiet",
    ]
    process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: len(children(process.pid)) >= 1, timeout=120), "the build started no worker processes"
        workers = children(process.pid)
        assert any(path.name.endswith(TEMPORARY_SUFFIX) for path in tmp_path.iterdir())  # the build is under way
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert wait_until(lambda: not any(running(pid) for pid in workers), timeout=10), "workers outlived their parent"
    assert not out.exists()

    rerun = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert leftovers(tmp_path) == [] and not any(running(pid) for pid in children(os.getpid()) - {process.pid})

    straight = tmp_path / "straight"
    fresh = {**environment, "SELDKIT_CACHE": str(tmp_path / "fresh-cache")}
    done = subprocess.run(
        [*command[:-3], "--out", str(straight), "--quiet"], env=fresh, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert tree_digest(out) == tree_digest(straight)
    assert json.loads((out / "dataset.json").read_text())["splits"] == {"train": 16, "validation": 16, "test": 16}


@pytest.mark.parametrize(
    ("damage", "named", "says"),
    [
        ("position-out-of-range", "labels.csv", "subset355_positions"),
        ("recording-garbage", "animal_cat.mp3", "cannot decode this recording"),
        ("recording-a-folder", "animal_cat.mp3", "is a folder"),
    ],
)
def test_broken_sound_folder(capsys, workspace, tiny_protocol, damage, named, says):
    from seldkit.resources import shipped_dir

    sounds = workspace / "sounds"
    shutil.copytree(shipped_dir("protocols") / "assets" / "sounds", sounds)
    if damage == "position-out-of-range":
        lines = (sounds / "labels.csv").read_text().splitlines()
        header = lines[0].split(",")
        fields = lines[1].split(",")
        fields[header.index("subset355_positions")] = "400"
        (sounds / "labels.csv").write_text("\n".join([lines[0], ",".join(fields), *lines[2:]]) + "\n")
    elif damage == "recording-garbage":
        (sounds / "animal_cat.mp3").write_bytes(b"ID3 not really an mp3" * 10)
    else:
        (sounds / "animal_cat.mp3").unlink()
        (sounds / "animal_cat.mp3").mkdir()
    raw = yaml.safe_load(tiny_protocol.read_text())
    raw["data"]["sounds"] = str(sounds)
    protocol = workspace / "protocol.yaml"
    protocol.write_text(yaml.safe_dump(raw))
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "make-dataset", "--protocol", protocol, "--out", workspace / "data", "--quiet")
    assert_rejected(outcome, naming=sounds / named, says=says)
    before.assert_unchanged()
