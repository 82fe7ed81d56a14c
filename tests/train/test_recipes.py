"""Training recipes: the published learning-rate rule, named recipes, and the shipped paper-size protocol against the
settings the published training scripts run with (recorded from them, tests/fixtures/golden_training)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from seldkit.errors import InputError
from seldkit.protocols import load_protocol
from seldkit.train.config import read_recipes
from tests.golden import REPO

GOLDEN = REPO / "tests" / "fixtures" / "golden_training"


def stage(**changes: Any) -> dict[str, Any]:
    entry = {"name": "only", "epochs": 2, "warmup_epochs": 1, "blr": 1e-3, "loss_weights": [1, 0, 0], **changes}
    return {key: value for key, value in entry.items() if value is not None}  # None: leave the key out


def recipes(training: dict[str, Any]) -> dict:
    return read_recipes({"model": {"size": "mini"}, "training": training}, file="p.yaml")


@pytest.mark.parametrize("batch_size", [4, 32, 128, 256, 1000])
def test_the_peak_rate_is_blr_times_the_effective_batch_over_256(batch_size):
    config = recipes({"batch_size": batch_size, "dspast": {"stages": [stage(blr=2e-3)]}})["dspast"]
    assert config.stages[0].lr == 2e-3 * batch_size / 256 and config.stages[0].blr == 2e-3


def test_an_absolute_rate_is_taken_as_the_peak():
    config = recipes({"batch_size": 64, "dspast": {"stages": [stage(blr=None, lr=3e-4)]}})["dspast"]
    assert config.stages[0].lr == 3e-4 and config.stages[0].blr is None


@pytest.mark.parametrize("changes", [{"lr": 1e-3}, {"blr": None}])
def test_a_stage_gives_exactly_one_of_blr_and_lr(changes):
    entry = stage(**changes)
    with pytest.raises(InputError, match=r"training\.dspast\.stages\[0\]\.blr or lr"):
        recipes({"dspast": {"stages": [entry]}})


def test_the_published_optimiser_is_the_default():
    config = recipes({"dspast": {"stages": [stage()]}})["dspast"]
    assert (config.weight_decay, config.layer_decay, config.betas, config.min_lr) == (5e-4, 0.75, (0.9, 0.999), 1e-6)


def test_named_recipes_override_shared_settings_and_are_chosen_by_name():
    from seldkit.protocol_settings import TrainSettings

    found = recipes(
        {
            "batch_size": 128,
            "recipes": {
                "fast": {"model": "dspast", "batch_size": 256, "stages": [stage()]},
                "slow": {"model": "dspast", "stages": [stage(epochs=9)]},
                "other": {"model": "spatialast", "weight_decay": 0.01, "stages": [stage()]},
            },
        }
    )
    assert found["fast"].stages[0].lr == 1e-3 and found["slow"].stages[0].lr == 5e-4
    assert found["other"].weight_decay == 0.01 and found["fast"].weight_decay == 5e-4
    settings = TrainSettings(generator="x", data={}, assets={}, recipes=found)
    assert settings.recipe("dspast", protocol_name="p").name == "fast"  # the first of the model
    assert settings.recipe("dspast", name="slow", protocol_name="p").stages[0].epochs == 9
    with pytest.raises(InputError, match="trains spatialast, not dspast"):
        settings.recipe("dspast", name="other", protocol_name="p")
    with pytest.raises(InputError, match=r"no recipe 'nope' \(it has: fast \(dspast\), slow \(dspast\)"):
        settings.recipe("dspast", name="nope", protocol_name="p")


@pytest.mark.parametrize(
    ("training", "says"),
    [
        ({"recipes": {"x": {"stages": [stage()]}}}, r"training\.recipes\.x\.model"),
        ({"recipes": {"x": {"model": "vit", "stages": [stage()]}}}, "must be one of"),
        ({"dspast": {"stages": [stage(), stage()]}}, "distinct names"),
        ({"dspast": {"stages": [stage()], "betas": [0.9]}}, r"training\.dspast\.betas"),
        ({"dspast": {"stages": [stage()]}, "init": "imagenet"}, r"training\.init"),
        ({"dspast": {"stages": [stage()], "model": "dspast"}}, r"training\.dspast.*model"),
        ({"dspast": {"stages": [stage()]}, "recipes": {"dspast": {"model": "dspast", "stages": [stage()]}}}, "repeats"),
    ],
)
def test_recipe_errors_name_the_key(training, says):
    with pytest.raises(InputError, match=says):
        recipes(training)


def published_scripts(model: str) -> dict[str, dict[str, Any]]:
    return json.loads((GOLDEN / f"param_groups_{model}.json").read_text())["scripts"]


def test_dspast_scripts_recipe_runs_the_released_scripts_settings():
    """Epochs, warm-up, base rate, peak rate at the published effective batch, loss weights, optimiser, sampling."""
    config = load_protocol("synth-binaural").train.recipes["dspast-scripts"]
    scripts = published_scripts("dspast")
    for stage_config, script in zip(config.stages, ("finetune-stage1.sh", "finetune-stage2.sh", "finetune-stage3.sh")):
        published = scripts[script]
        assert config.batch_size == published["eff_batch_size"]
        assert (stage_config.epochs, stage_config.warmup_epochs) == (published["epochs"], published["warmup_epochs"])
        assert stage_config.blr == published["blr"] and stage_config.lr == pytest.approx(
            published["lr_peak"], rel=1e-15
        )
        assert stage_config.loss_weights == (published["sed_weight"], published["dp_weight"], published["doae_weight"])
        assert stage_config.weighted_sampling == published["weight_sampler"]
        assert stage_config.mixup == published["mixup"]
        assert (config.weight_decay, config.layer_decay, config.min_lr) == (
            published["weight_decay"],
            published["layer_decay"],
            published["min_lr"],
        )
        assert config.grad_clip == published["clip_grad"]
    assert config.init == "audiomae"


@pytest.mark.parametrize(("recipe", "script"), [("spatialast", "finetune-20k.sh"), ("spatialast-2m", "finetune-2m.sh")])
def test_spatialast_recipes_run_the_released_scripts_settings(recipe, script):
    config = load_protocol("synth-binaural").train.recipes[recipe]
    published = published_scripts("spatialast")[script]
    (only,) = config.stages
    assert config.batch_size == published["eff_batch_size"]
    assert (only.epochs, only.warmup_epochs, only.blr) == (
        published["epochs"],
        published["warmup_epochs"],
        published["blr"],
    )
    assert only.lr == pytest.approx(published["lr_peak"], rel=1e-15)
    assert only.weighted_sampling == published["weight_sampler"] and only.mixup == published["mixup"]
    assert only.loss_weights == (1250.0, 1.0, 2.0)  # the published engine's fixed weights
    assert (config.weight_decay, config.layer_decay, config.min_lr) == (
        published["weight_decay"],
        published["layer_decay"],
        published["min_lr"],
    )


def test_dspast_paper_recipe_is_table_1():
    """The paper's Table 1: 50 epochs (10 warm-up) per stage; 10 %, 1 % weighted, then all clips unweighted at 1e-4."""
    config = load_protocol("synth-binaural").train.recipes["dspast-paper"]
    rows = [
        (s.epochs, s.warmup_epochs, s.blr, s.loss_weights, s.data_fraction, s.weighted_sampling) for s in config.stages
    ]
    assert rows == [
        (50, 10, 1e-3, (1.0, 0.0, 0.0), 0.1, True),
        (50, 10, 1e-3, (100.0, 2.0, 1.0), 0.01, True),
        (50, 10, 1e-4, (100.0, 2.0, 1.0), 1.0, False),
    ]


@pytest.mark.parametrize("model", ["dspast", "spatialast"])
def test_head_initialisation_published_or_pytorch_default(model):
    """The published fine-tuning draws the heads' weights with std 2e-5; ``head_init: default`` restores torch's
    Linear init, uniform within 1 / sqrt(fan_in)."""
    from seldkit.models import create_model

    built = create_model(model, "mini")
    weight = built.head.weight.detach()
    assert abs(float(weight.std()) - 2e-5) < 2e-6
    built.reset_heads()
    weight, bound = built.head.weight.detach(), 1 / built.head.weight.shape[1] ** 0.5
    assert float(weight.abs().max()) <= bound and float(weight.std()) > bound / 3


def test_replacement_applies_to_weighted_sampling_only():
    with pytest.raises(InputError, match=r"stages\[0\]\.replacement applies to weighted sampling only"):
        recipes({"dspast": {"stages": [stage(replacement=True)]}})
    config = recipes({"dspast": {"stages": [stage(replacement=True, weighted_sampling=True)]}})["dspast"]
    assert config.stages[0].replacement and config.head_init == "published"
