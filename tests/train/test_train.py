"""Training: a whole run on a tiny protocol, interruption and resume, the NaN guard, and two-process
training and evaluation (gloo on CPU) against a single process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from seldkit.cli.main import main
from seldkit.train import loop
from seldkit.train.loop import TrainingError
from seldkit.train.run import train_reference
from tests.train_fixtures import tiny_training_protocol

pytestmark = pytest.mark.usefixtures("tiny_cache")


def final_state(out: Path) -> dict[str, torch.Tensor]:
    return torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)["model"]


@pytest.mark.parametrize("model", ["dspast", "spatialast"])
def test_a_run_writes_scored_results(tmp_path, protocol, capsys, model):
    out = tmp_path / model
    assert main(["train-reference", model, "--protocol", str(protocol), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "chance" in printed and "mAP" in printed
    for name in (
        "predictions.csv",
        "references.csv",
        "chance_predictions.csv",
        "results.json",
        "results.md",
        "log.jsonl",
        "checkpoint.pt",
    ):
        assert (out / name).is_file(), name
    document = json.loads((out / "results.json").read_text())
    assert document["protocol"]["name"] == "bat-encoder-continuous" and document["n"] == 16
    assert set(document["chance"]["metrics"]) >= {"mAP", "ER20", "MAE", "DER"}
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [record["stage"] for record in log] == ["first", "second", "second"]
    # the predictions read back through seldkit score
    assert (
        main(
            [
                "score",
                str(out / "predictions.csv"),
                "--ref",
                str(out / "references.csv"),
                "--protocol",
                "bat-encoder-continuous",
            ]
        )
        == 0
    )
    assert main(["train-reference", model, "--protocol", str(protocol), "--out", str(out)]) == 2  # would overwrite
    predictions = tmp_path / "again.csv"
    data = next((Path(os.environ["SELDKIT_CACHE"]) / "datasets").glob("tiny-training-*"))
    assert (
        main(["predict", "--checkpoint", str(out / "checkpoint.pt"), "--data", str(data), "--out", str(predictions)])
        == 0
    )
    assert predictions.read_text() == (out / "predictions.csv").read_text()
    # the run folder makes a report: scores, per-clip figures, training curves and, for DSpAST, feature attention
    assert main(["report", str(out), "--out", str(tmp_path / "report.html"), "--resamples", "50"]) == 0
    figures = sorted(path.stem for path in (tmp_path / "report_figures").glob("*.png"))
    expected = ["angular_error", "distance_errors", "error_by_azimuth", "per_class_ap", "training_curves"]
    assert figures == sorted(expected + (["feature_attention"] if model == "dspast" else []))
    assert any("train_distance_acc" in record for record in log)
    check_tensorboard_scalars(out, log)


def check_tensorboard_scalars(out: Path, log: list[dict]) -> None:
    """The TensorBoard event files hold the per-epoch numbers of log.jsonl (when tensorboard is installed)."""
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        assert not (out / "tensorboard").exists()
        return
    events = EventAccumulator(str(out / "tensorboard"))
    events.Reload()
    for name in ("loss_sed", "loss_direction", "lr", "train_azimuth_acc20"):
        scalars = events.Scalars(f"all/{name}")
        assert [event.step for event in scalars] == list(range(1, len(log) + 1))
        assert [event.value for event in scalars] == pytest.approx([record[name] for record in log], rel=1e-6)
    assert [event.step for event in events.Scalars("second/loss_sed")] == [2, 3]


def test_interrupted_run_resumes_to_the_same_weights(tmp_path, protocol):
    reference = tmp_path / "straight"
    train_reference("dspast", protocol=protocol, out=reference, progress=False)

    interrupted = tmp_path / "interrupted"
    calls = {"steps": 0}

    def interrupt(trainer):
        calls["steps"] += 1
        if calls["steps"] == 6:  # mid-epoch, in the second stage
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_reference("dspast", protocol=protocol, out=interrupted, progress=False, on_step=interrupt)
    saved = torch.load(interrupted / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert saved["progress"]["batch"] > 0  # the checkpoint holds the position inside the epoch
    train_reference("dspast", protocol=protocol, out=interrupted, resume=True, progress=False)
    straight, resumed = final_state(reference), final_state(interrupted)
    for key in straight:
        torch.testing.assert_close(resumed[key], straight[key], rtol=0, atol=0, msg=key)


@pytest.mark.slow
def test_killed_process_resumes_from_the_last_checkpoint(tmp_path, protocol):
    out = tmp_path / "killed"
    slow = tiny_training_protocol(tmp_path, epochs=(2, 4), clips=16)
    command = [
        sys.executable,
        "-m",
        "seldkit",
        "train-reference",
        "spatialast",
        "--protocol",
        str(slow),
        "--out",
        str(out),
        "--quiet",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    deadline = time.time() + 300
    while not (out / "log.jsonl").exists() and time.time() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert (out / "checkpoint.pt").exists() and not (out / "results.json").exists()
    done = subprocess.run([*command, "--resume"], capture_output=True, text=True, env=os.environ.copy(), timeout=600)
    assert done.returncode == 0, done.stderr
    assert (out / "results.json").exists()
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert len(log) == 6  # every epoch once, whatever was lost to the kill was redone


def test_non_finite_loss_stops_and_keeps_the_checkpoint(tmp_path, protocol, monkeypatch):
    out = tmp_path / "nan"
    calls = {"count": 0}
    original = loop.compute_losses

    def poisoned(outputs, batch, weights, **options):
        calls["count"] += 1
        losses = original(outputs, batch, weights, **options)
        if calls["count"] > 5:  # after the first epoch (4 steps) has been saved
            losses["total"] = losses["total"] * float("nan")
        return losses

    monkeypatch.setattr(loop, "compute_losses", poisoned)
    with pytest.raises(TrainingError, match="the loss became nan"):
        train_reference("spatialast", protocol=protocol, out=out, progress=False)
    saved = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert saved["progress"]["stage"] == 1 and saved["progress"]["batch"] == 0
    assert all(torch.isfinite(value).all() for value in saved["model"].values() if value.is_floating_point())


def _distributed_worker(rank: int, world_size: int, folder: str, protocol: str) -> None:
    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", RANK=str(rank), WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank))
    dist.init_process_group("gloo", rank=rank, world_size=world_size, init_method=f"file://{folder}/rendezvous")
    from tests.train_distributed import run_worker

    run_worker(Path(folder), Path(protocol))
    dist.destroy_process_group()


@pytest.mark.slow
def test_two_processes_equal_one(tmp_path, protocol):
    """One step on a global batch split over 2 processes averages to the gradient of one process on the whole
    batch and gives its parameters, leaves both ranks with identical weights, and distributed evaluation gathers
    every clip exactly once, equal to single-process evaluation."""
    from tests.train_distributed import run_worker

    single = tmp_path / "single"
    single.mkdir()
    run_worker(single, protocol)
    torch.multiprocessing.spawn(_distributed_worker, args=(2, str(tmp_path), str(protocol)), nprocs=2, join=True)
    one = torch.load(single / "result0.pt", weights_only=False)
    rank0, rank1 = (torch.load(tmp_path / f"result{rank}.pt", weights_only=False) for rank in (0, 1))
    assert one["gradients"].keys() == rank0["gradients"].keys()
    for key, gradient in one["gradients"].items():
        torch.testing.assert_close(rank0["gradients"][key], gradient, rtol=1e-4, atol=1e-7, msg=key)
    # Adam's first step is about lr * sign(gradient): where the exact gradient is zero (the key bias of
    # attention, for one) rounding noise decides the sign, so parameters are compared where it is not noise.
    for key, gradient in one["gradients"].items():
        informative = gradient.abs() > 1e-6
        assert informative.float().mean() > 0.5 or gradient.numel() < 1000, key
        torch.testing.assert_close(
            rank0["parameters"][key][informative], one["parameters"][key][informative], rtol=1e-5, atol=1e-6, msg=key
        )
    for key in one["parameters"].keys() - one["gradients"].keys():
        torch.testing.assert_close(rank0["parameters"][key], one["parameters"][key], rtol=1e-5, atol=1e-6, msg=key)
    for state in ("parameters", "after_live_step"):
        for key, value in rank0[state].items():
            torch.testing.assert_close(rank1[state][key], value, rtol=0, atol=0, msg=f"{state}: {key}")
    assert len(one["predictions"]["azimuth"]) == 16
    for key in one["predictions"]:
        torch.testing.assert_close(
            torch.as_tensor(rank0["predictions"][key]), torch.as_tensor(one["predictions"][key]), rtol=0, atol=0
        )


def test_soft_direction_targets_follow_the_definition():
    import math

    from seldkit.train.loop import soft_class_targets

    classes = torch.tensor([0, 3, 181, 359])
    for count, circular in ((360, True), (180, False)):
        got = soft_class_targets(classes % count, count, 7.0, circular=circular)
        for row, true_class in enumerate((classes % count).tolist()):
            distances = [abs(k - true_class) for k in range(count)]
            if circular:
                distances = [min(d, count - d) for d in distances]
            weights = [math.exp(-(d**2) / (2 * 7.0**2)) for d in distances]
            expected = torch.tensor([w / sum(weights) for w in weights])
            torch.testing.assert_close(got[row], expected, rtol=1e-5, atol=1e-7)
    # the wrap: class 359 and class 1 are neighbours of class 0 in azimuth, not in elevation
    azimuth = soft_class_targets(torch.tensor([0]), 360, 7.0, circular=True)[0]
    elevation = soft_class_targets(torch.tensor([0]), 180, 7.0, circular=False)[0]
    assert azimuth[359] == azimuth[1] and elevation[179] < 1e-30


def test_channel_swap_mirrors_ears_and_azimuth(protocol):
    from seldkit.protocols import load_protocol
    from seldkit.train.run import datasets

    loaded = load_protocol(protocol)
    train_set, _ = datasets(loaded, loaded.train.recipes["dspast"], progress=False)
    train_set.mixup_probability = 0.0
    plain = [train_set[i] for i in range(len(train_set))]
    train_set.channel_swap_probability = 1.0
    swapped = [train_set[i] for i in range(len(train_set))]
    for before, after in zip(plain, swapped):
        torch.testing.assert_close(after["reverb"], before["reverb"].flip(0), rtol=0, atol=0)
        assert after["azimuth"] == (180 - before["azimuth"]) % 360  # left <-> right: x -> -x
        assert after["elevation"] == before["elevation"] and after["distance"] == before["distance"]
