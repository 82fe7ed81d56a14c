"""Checkpoints are untrusted files: a crafted pickle runs no code on any of the four paths that load one, and
damaged, truncated or foreign files are one clear error. Published checkpoints (training arguments as an
``argparse.Namespace``, NumPy scalars) load through an explicit allow-list."""

from __future__ import annotations

import argparse
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from seldkit.errors import InputError
from seldkit.models import create_model, load_audiomae_encoder
from seldkit.train.checkpoint import load_torch_file
from tests.hostile.conftest import copy_run
from tests.hostile.harness import Snapshot, assert_rejected, run_seldkit


class RunsACommand:
    """Unpickling this with ``weights_only=False`` runs ``touch MARKER``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def crafted_checkpoint(path: Path, marker: Path) -> Path:
    torch.save({"model": RunsACommand(marker), "model_config": {"model": "dspast", "size": "mini"}}, path)
    return path


@pytest.fixture
def workspace(tmp_path) -> Path:
    (tmp_path / "notes.txt").write_text("the user's own file\n")
    return tmp_path


def test_crafted_pickle_given_to_predict_runs_nothing(capsys, workspace, tiny_dataset):
    marker = workspace.parent / f"{workspace.name}-marker"
    evil = crafted_checkpoint(workspace / "evil.pt", marker)
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "predict", "--checkpoint", evil, "--data", tiny_dataset, "--out", workspace / "p.csv")
    assert_rejected(outcome, naming=evil, says="posix.system")
    assert not marker.exists()
    before.assert_unchanged()


def test_crafted_pickle_given_as_init_runs_nothing(capsys, workspace, tiny_protocol, tiny_dataset):
    marker = workspace.parent / f"{workspace.name}-marker"
    evil = crafted_checkpoint(workspace / "evil.pt", marker)
    before = Snapshot(workspace)
    outcome = run_seldkit(
        capsys,
        "train-reference",
        "dspast",
        "--protocol",
        tiny_protocol,
        "--out",
        workspace / "run",
        "--init",
        evil,
        "--quiet",
    )
    assert_rejected(outcome, naming=evil, says="refused")
    assert not marker.exists()
    before.assert_unchanged()


@pytest.mark.parametrize("resume", [False, True], ids=["same-command", "--resume"])
def test_crafted_pickle_in_an_unfinished_run_runs_nothing(capsys, workspace, tiny_protocol, finished_run, resume):
    marker = workspace.parent / f"{workspace.name}-marker"
    run = copy_run(finished_run, workspace / "run")
    (run / "results.json").unlink()  # unfinished: the command continues from the checkpoint
    crafted_checkpoint(run / "checkpoint.pt", marker)
    before = Snapshot(workspace)
    outcome = run_seldkit(
        capsys,
        "train-reference",
        "dspast",
        "--protocol",
        tiny_protocol,
        "--out",
        run,
        "--quiet",
        *(["--resume"] if resume else []),
    )
    assert_rejected(outcome, naming=run / "checkpoint.pt", says="refused")
    assert not marker.exists()
    before.assert_unchanged()


def test_crafted_pickle_in_a_run_folder_given_to_report_runs_nothing(capsys, workspace, finished_run):
    marker = workspace.parent / f"{workspace.name}-marker"
    run = copy_run(finished_run, workspace / "run")
    crafted_checkpoint(run / "checkpoint.pt", marker)
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "report", run, "--out", workspace / "report.html", "--resamples", "20")
    assert_rejected(outcome, naming=run / "checkpoint.pt", says="refused")
    assert not marker.exists()
    before.assert_unchanged()


def _damaged(kind: str, finished_run: Path, folder: Path) -> Path:
    path = folder / f"{kind}.pt"
    real = (finished_run / "checkpoint.pt").read_bytes()
    if kind == "truncated":
        path.write_bytes(real[: len(real) // 2])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "random-bytes":
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    elif kind == "zip-not-torch":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("hello.txt", "not a checkpoint")
        path.write_bytes(buffer.getvalue())
    elif kind == "json":
        path.write_text('{"model": {}}')
    elif kind == "folder":
        path.mkdir()
    elif kind == "tensor-only":
        torch.save(torch.zeros(3), path)
    elif kind == "weights-without-config":
        torch.save({"model": {"weight": torch.zeros(2)}}, path)
    elif kind == "config-of-wrong-type":
        state = torch.load(finished_run / "checkpoint.pt", weights_only=True)
        state["model_config"]["dim"] = "wide"
        torch.save(state, path)
    elif kind == "weights-that-do-not-fit":
        state = torch.load(finished_run / "checkpoint.pt", weights_only=True)
        state["model"].pop(next(iter(state["model"])))
        torch.save(state, path)
    elif kind == "unknown-config-key":
        state = torch.load(finished_run / "checkpoint.pt", weights_only=True)
        state["model_config"]["colour"] = "blue"
        torch.save(state, path)
    return path


DAMAGED = {
    "truncated": "not a readable PyTorch checkpoint",
    "empty": "not a readable PyTorch checkpoint",
    "random-bytes": "not a readable PyTorch checkpoint",
    "zip-not-torch": "not a readable PyTorch checkpoint",
    "json": "not a readable PyTorch checkpoint",
    "folder": "a checkpoint is a file",
    "tensor-only": "not a seldkit train-reference checkpoint",
    "weights-without-config": "not a seldkit train-reference checkpoint",
    "config-of-wrong-type": "model_config.dim must be a whole number",
    "weights-that-do-not-fit": "do not fit its model",
    "unknown-config-key": "unknown key 'model_config.colour'",
}


@pytest.mark.parametrize("kind", sorted(DAMAGED))
def test_damaged_or_foreign_checkpoint_given_to_predict(capsys, workspace, finished_run, tiny_dataset, kind):
    checkpoint = _damaged(kind, finished_run, workspace)
    before = Snapshot(workspace)
    outcome = run_seldkit(
        capsys, "predict", "--checkpoint", checkpoint, "--data", tiny_dataset, "--out", workspace / "p.csv"
    )
    assert_rejected(outcome, naming=checkpoint, says=DAMAGED[kind])
    before.assert_unchanged()


@pytest.mark.parametrize("kind", ["truncated", "weights-that-do-not-fit", "config-of-wrong-type"])
def test_damaged_checkpoint_of_an_unfinished_run(capsys, workspace, tiny_protocol, finished_run, kind):
    run = copy_run(finished_run, workspace / "run")
    (run / "results.json").unlink()
    damaged = _damaged(kind, finished_run, workspace)
    damaged.replace(run / "checkpoint.pt")
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "train-reference", "dspast", "--protocol", tiny_protocol, "--out", run, "--quiet")
    assert_rejected(outcome, naming=run / "checkpoint.pt")
    before.assert_unchanged()


def test_checkpoint_of_another_model_configuration_is_not_resumed(capsys, workspace, tiny_protocol, finished_run):
    run = copy_run(finished_run, workspace / "run")
    (run / "results.json").unlink()
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    state["model_config"]["depth"] = 2
    torch.save(state, run / "checkpoint.pt")
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "train-reference", "dspast", "--protocol", tiny_protocol, "--out", run, "--quiet")
    assert_rejected(outcome, naming=run / "checkpoint.pt", says="another model configuration")
    before.assert_unchanged()


@pytest.mark.parametrize("content", ["no-encoder-tensors", "not-a-mapping", "missing-blocks"])
def test_init_file_without_usable_encoder_tensors_is_an_error(capsys, workspace, tiny_protocol, tiny_dataset, content):
    path = workspace / f"{content}.pth"
    encoder = {
        key[len("encoder.") :]: value
        for key, value in create_model("dspast", "mini", dim=32, depth=1, heads=2, frames=64, branch_dim=16)
        .state_dict()
        .items()
        if key.startswith(("encoder.pos_embed", "encoder.patch_embed.proj.", "encoder.blocks."))
    }
    if content == "no-encoder-tensors":
        torch.save({"model": {"decoder.weight": torch.zeros(3)}}, path)
    elif content == "not-a-mapping":
        torch.save([torch.zeros(3)], path)
    else:
        torch.save({"model": {key: value for key, value in encoder.items() if not key.startswith("blocks.")}}, path)
    before = Snapshot(workspace)
    outcome = run_seldkit(
        capsys,
        "train-reference",
        "dspast",
        "--protocol",
        tiny_protocol,
        "--out",
        workspace / "run",
        "--init",
        path,
        "--quiet",
    )
    assert_rejected(outcome, naming=path)
    assert "Training" not in outcome.out
    before.assert_unchanged()


def _numpy1_spelling(path: Path) -> None:
    """Rewrite a checkpoint's pickle so that it names NumPy's functions as NumPy 1 did (numpy.core...)."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    pickle_name = next(name for name in members if name.endswith("data.pkl"))
    assert b"numpy._core.multiarray" in members[pickle_name]
    members[pickle_name] = members[pickle_name].replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())


@pytest.mark.parametrize("numpy_spelling", ["numpy2", "numpy1"])
def test_published_checkpoint_with_namespace_and_numpy_scalars_loads_through_the_allow_list(tmp_path, numpy_spelling):
    model = create_model("dspast", "mini", dim=32, depth=1, heads=2, frames=64, branch_dim=16)
    encoder = {
        key[len("encoder.") :]: value.clone() + 1.0
        for key, value in model.state_dict().items()
        if key.startswith(("encoder.pos_embed", "encoder.patch_embed.proj.", "encoder.blocks."))
    }
    encoder["decoder_embed.weight"] = torch.zeros(2, 2)  # AudioMAE's decoder: ignored
    path = tmp_path / "audiomae.pth"
    torch.save(
        {
            "model": encoder,
            "args": argparse.Namespace(blr=1e-3, model="mae_vit_base_patch16"),
            "epoch": np.int64(32),
            "best_loss": np.float64(0.25),
            "mask": np.zeros(3),
        },
        path,
    )
    if numpy_spelling == "numpy1":
        _numpy1_spelling(path)
    with pytest.raises(InputError, match="argparse.Namespace|numpy"):
        load_torch_file(path)  # seldkit's own checkpoints never hold these
    state = load_torch_file(path, published=True)
    assert isinstance(state["args"], argparse.Namespace) and state["args"].blr == 1e-3 and state["epoch"] == 32
    loaded = load_audiomae_encoder(model, state, file=path)
    assert "decoder_embed.weight" not in loaded and len(loaded) == len(encoder) - 1
    for key in loaded:
        torch.testing.assert_close(model.state_dict()[f"encoder.{key}"], encoder[key], rtol=0, atol=0)


def test_published_allow_list_still_refuses_code(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pth"
    torch.save({"model": {}, "args": argparse.Namespace(x=RunsACommand(marker))}, path)
    with pytest.raises(InputError, match="refused"):
        load_torch_file(path, published=True)
    assert not marker.exists()
