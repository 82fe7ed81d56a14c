"""The paper-size recipes of the shipped training protocols start and train: on a copy of the published data
(the tiny published-layout fixture) and on synthetic data, with the published optimiser settings in run.json.

The recipes, curricula and optimiser settings are the shipped ones; the model is shrunk (and the clips
shortened) so that a few steps of each recipe run in seconds. One slow test runs the shipped protocol
unchanged: the base-size model on 10 s clips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from seldkit.cli.main import main
from seldkit.models import create_model
from seldkit.protocols import load_protocol
from seldkit.train.run import train_reference
from tests.data.test_published_layout import settings
from tests.golden import REPO
from tests.train_fixtures import tiny_training_protocol

GOLDEN = REPO / "tests" / "fixtures" / "golden_training"
TINY_MODEL = {"size": "mini", "dim": 32, "depth": 1, "heads": 2, "frames": 64, "branch_dim": 16}
FIXTURE = REPO / "tests" / "fixtures" / "published_layout"


class Stop(Exception):
    """Raised from the step callback once enough steps ran."""


def stop_after(steps: int, seen: list[Any]):
    def callback(trainer) -> None:
        seen.append((trainer.progress.stage, trainer.train_set.pairs[0].split, trainer.optimizer.param_groups))
        if len(seen) >= steps:
            raise Stop

    return callback


def start(model: str, protocol, recipe: str, out: Path, *, steps: int, **options: Any) -> list[Any]:
    """Train ``recipe`` for ``steps`` steps in ``out``; what the step callback saw (stage, split, parameter groups)."""
    seen: list[Any] = []
    with pytest.raises(Stop):
        train_reference(
            model, protocol=protocol, recipe=recipe, out=out, progress=False, on_step=stop_after(steps, seen), **options
        )
    return seen


def audiomae_checkpoint(path: Path, model_name: str, **overrides: Any) -> Path:
    """An AudioMAE-layout checkpoint (encoder tensors under ``model``) of the right shapes, random values."""
    model = create_model(model_name, overrides.pop("size", "base"), **overrides)
    generator = torch.Generator().manual_seed(0)
    encoder = {
        key[len("encoder.") :]: torch.randn(value.shape, generator=generator) * 0.02
        for key, value in model.state_dict().items()
        if key.startswith(("encoder.patch_embed.proj.", "encoder.blocks."))
    }
    encoder["pos_embed"] = model.state_dict()["encoder.pos_embed"].clone()
    torch.save({"model": encoder}, path)
    return path


def shrunk(protocol: str, folder: Path, *, data: dict | None = None) -> Path:
    """The shipped protocol with a tiny model and short clips (its recipes untouched)."""
    raw = json.loads(json.dumps(load_protocol(protocol).raw))
    raw["model"] = dict(TINY_MODEL)
    if data is not None:
        raw["data"] = data
    else:
        raw["data"].update(clip_seconds=0.5, rir_seconds=0.1)
    path = folder / f"{protocol}-shrunk.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def published_peak(model: str, script: str) -> float:
    document = json.loads((GOLDEN / f"param_groups_{model}.json").read_text())
    return document["scripts"][script]["lr_peak"]


@pytest.mark.parametrize(
    ("model", "recipe", "splits"),
    [
        ("dspast", "dspast-paper", {"train"}),
        ("dspast", "dspast-scripts", {"train"}),
        ("spatialast", "spatialast", {"balanced"}),
        ("spatialast", "spatialast-2m", {"train"}),
    ],
)
def test_published_layout_recipes_start_with_the_published_optimiser(tmp_path, monkeypatch, model, recipe, splits):
    monkeypatch.setenv("SELDKIT_CACHE", str(tmp_path / "cache"))
    protocol = shrunk("spatialsoundqa-train", tmp_path)
    values = settings(balanced_audio_index=str(FIXTURE / "AudioSet" / "metadata" / "balanced.json"))
    init = audiomae_checkpoint(tmp_path / "audiomae.pth", model, **TINY_MODEL)
    seen = start(model, protocol, recipe, tmp_path / "run", steps=2, settings=values, init=init)
    config = load_protocol("spatialsoundqa-train").train.recipes[recipe]
    assert {split for _, split, _ in seen} == splits
    description = json.loads((tmp_path / "run" / "run.json").read_text())
    assert description["recipe"] == recipe
    assert description["init"] == {"kind": "audiomae", "file": str(init), "heads": "published"}
    optimiser = description["optimizer"]
    assert optimiser["betas"] == [0.9, 0.999] and optimiser["eps"] == 1e-8
    assert (optimiser["weight_decay"], optimiser["layer_decay"], optimiser["min_lr"]) == (5e-4, 0.75, 1e-6)
    assert optimiser["batch_size"] == config.batch_size
    first = config.stages[0]
    recorded = optimiser["stages"][first.name]
    assert recorded["blr"] == first.blr and recorded["lr"] == pytest.approx(first.blr * config.batch_size / 256)
    if recipe in ("dspast-scripts", "spatialast"):  # the released scripts' peak rate at their effective batch
        script = "finetune-stage1.sh" if model == "dspast" else "finetune-20k.sh"
        assert first.lr == pytest.approx(published_peak(model, script), rel=1e-15)
    assert description["data"]["train"]["clips"] == 8
    assert description["data"]["balanced"]["clips"] == 8  # the balanced index given is recorded with the subset


@pytest.mark.parametrize(("model", "recipe"), [("dspast", "dspast-scripts"), ("spatialast", "spatialast-2m")])
def test_synthetic_recipes_start_with_the_published_optimiser(tmp_path, monkeypatch, model, recipe):
    monkeypatch.setenv("SELDKIT_CACHE", str(tmp_path / "cache"))
    data = load_protocol(tiny_training_protocol(tmp_path)).raw["data"]
    protocol = shrunk("synth-binaural", tmp_path, data=data)
    init = audiomae_checkpoint(tmp_path / "audiomae.pth", model, **TINY_MODEL)
    seen = start(model, protocol, recipe, tmp_path / "run", steps=1, init=init)
    description = json.loads((tmp_path / "run" / "run.json").read_text())
    assert description["recipe"] == recipe and description["optimizer"]["weight_decay"] == 5e-4
    groups = seen[0][2]
    assert {group["weight_decay"] for group in groups} == {0.0, 5e-4}
    assert max(group["lr_scale"] for group in groups) == 1.0 and min(group["lr_scale"] for group in groups) == 0.75**2


def test_a_recipe_that_starts_from_audiomae_needs_init(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train-reference", "dspast", "--protocol", "synth-binaural", "--out", str(out), "--quiet"])
    assert code == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "recipe 'dspast-paper' of synth-binaural starts from AudioMAE weights" in error[0]
    assert "--init PATH" in error[0] and not out.exists()


def test_an_unknown_or_foreign_recipe_is_refused_before_any_work(tmp_path, capsys):
    for recipe, says in (("nope", "has no recipe 'nope'"), ("spatialast-2m", "trains spatialast, not dspast")):
        out = tmp_path / "run"
        argv = ["train-reference", "dspast", "--protocol", "synth-binaural", "--recipe", recipe, "--out", str(out)]
        assert main(argv) == 2
        assert says in capsys.readouterr().err and not out.exists()


@pytest.mark.slow
def test_the_shipped_protocol_runs_a_step_at_paper_size(tmp_path, monkeypatch):
    """spatialsoundqa-train as shipped: base DSpAST on 10 s clips and 2 s responses, AudioMAE-initialised."""
    monkeypatch.setenv("SELDKIT_CACHE", str(tmp_path / "cache"))
    init = audiomae_checkpoint(tmp_path / "audiomae.pth", "dspast")
    seen = start(
        "dspast", "spatialsoundqa-train", "dspast-scripts", tmp_path / "run", steps=1, settings=settings(), init=init
    )
    stage, split, groups = seen[0]
    assert (stage, split, len(groups)) == (0, "train", 28)
    assert groups[0]["lr"] == 0.0  # the published schedule's first step runs at lr 0
