"""Training recipes from a training protocol: model size, curriculum stages, optimiser and data settings.

A protocol's ``training:`` section holds settings shared by its recipes and the recipes themselves, either under
the model's name (``dspast:`` / ``spatialast:``, the recipe named after its model) or under ``recipes:`` with a
name and a ``model:`` key (``dspast-paper``, ``dspast-scripts``). A recipe may override any shared setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seldkit.errors import InputError
from seldkit.io.fields import Fields

REFERENCE_BATCH = 256  # the published rule: peak lr = blr * effective batch / 256
ADAM_EPS = 1e-8  # torch's AdamW default, which the published fine-tuning scripts keep


@dataclass(frozen=True)
class Stage:
    """One curriculum stage (the DSpAST paper's Table 1 rows)."""

    name: str
    epochs: int
    warmup_epochs: int
    lr: float  # the peak learning rate: blr * batch_size / 256 when the protocol gives blr
    loss_weights: tuple[float, float, float]  # sound events, distance, direction
    data_fraction: float = 1.0  # share of the training clips drawn per epoch
    weighted_sampling: bool = False  # draw by the pairs' weights (without replacement, as the published sampler)
    replacement: bool = False  # weighted draws with replacement (the published sampler's --replacement option)
    mixup: float = 0.5  # probability of mixing two sources
    blr: float | None = None  # the base learning rate the protocol gave (None: it gave lr itself)
    split: str = "train"  # the training split the stage draws from (published data: train or balanced)
    epoch_clips: int | None = None  # clips drawn per epoch (the published epoch_len); None: data_fraction of them


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained under a training protocol: size, stages, optimiser and data settings, evaluation."""

    model: str
    size: str
    stages: tuple[Stage, ...]
    batch_size: int  # the effective batch of one optimiser step, over all processes together
    weight_decay: float
    layer_decay: float
    seed: int
    label_mode: str
    evaluation_protocol: str
    grad_clip: float | None = None
    betas: tuple[float, float] = (0.9, 0.999)
    min_lr: float = 1e-6
    init: str = "none"  # "audiomae": the recipe starts from AudioMAE weights (train-reference --init)
    head_init: str = "published"  # "default": the output heads keep PyTorch's initialisation (see HEAD_INITS)
    # Both off in the published recipe. For data sets with few source positions (the CPU-sized default) they
    # let the 360 azimuth / 180 elevation classes generalise between the positions seen in training.
    direction_sigma_deg: float = 0.0  # > 0: Gaussian soft direction targets of this width (degrees)
    channel_swap: float = 0.0  # probability of swapping the ears, mirroring the azimuth (left <-> right)
    model_overrides: tuple[tuple[str, Any], ...] = ()  # model settings changed from the size's configuration
    name: str = ""  # the recipe's name in the protocol (the model's name for a recipe given under it)
    group_by: str | None = None  # the independent unit of the test clips that comparisons of runs resample
    # Training runs from seeds seed, seed + 1, ...: the spread between them is part of what a comparison of two
    # models has to beat (train-reference --seeds overrides it).
    seeds: int = 1

    @property
    def total_epochs(self) -> int:
        """The epochs of all stages together."""
        return sum(stage.epochs for stage in self.stages)

    def optimiser_summary(self) -> dict[str, Any]:
        """The optimiser settings as run (for ``run.json``): AdamW, decays, betas, the peak and base rates per stage."""
        return {
            "optimizer": "AdamW",
            "betas": list(self.betas),
            "eps": ADAM_EPS,
            "weight_decay": self.weight_decay,
            "layer_decay": self.layer_decay,
            "min_lr": self.min_lr,
            "batch_size": self.batch_size,
            "grad_clip": self.grad_clip,
            "lr_rule": f"lr = blr * batch_size / {REFERENCE_BATCH}",
            "stages": {stage.name: {"blr": stage.blr, "lr": stage.lr} for stage in self.stages},
        }


MODELS = ("dspast", "spatialast")
LABEL_MODES = ("clean", "reference")
INITIALISATIONS = ("none", "audiomae")
# "published": the fine-tuning scripts' truncated normal of std 2e-5 on the output heads, made for heads on a
# pretrained encoder; "default": PyTorch's Linear initialisation, which trains faster from scratch.
HEAD_INITS = ("published", "default")
# Columns of a run's clips.csv that a comparison of two runs may resample as clusters (compare --group-by).
GROUPINGS = ("audio", "reverb", "room")
MAX_SEEDS = 100  # training runs of one model (training.seeds, train-reference --seeds)


def read_recipes(protocol_content: dict[str, Any], *, file: str | Path | None) -> dict[str, TrainConfig]:
    """The recipes of a training protocol by name, from its ``model:`` and ``training:`` sections.

    Runs once, at protocol load, before any work: every key known, every value of its type and range, and the
    model settings valid for each recipe's model (for both models when there is no recipe). ``file`` names the
    protocol in errors.
    """
    from seldkit.models.config import load_model_config

    model_section = Fields(protocol_content.get("model") or {}, file=file, where="model")
    size = model_section.string("size", "base")
    overrides = tuple(sorted((key, value) for key, value in model_section.mapping.items() if key != "size"))
    recipes: dict[str, TrainConfig] = {}
    if "training" in protocol_content:
        recipes = _read_training(Fields(protocol_content["training"], file=file, where="training"), size, overrides)
    for model in sorted({recipe.model for recipe in recipes.values()}) or MODELS:
        try:
            load_model_config(model, size, **dict(overrides))
        except InputError as error:
            raise InputError(f"model: {error.problem}", file=file) from None
    return recipes


def _read_common(fields: Fields, defaults: dict[str, Any]) -> dict[str, Any]:
    """The settings a recipe shares with the others (or overrides); ``defaults`` are the values when absent."""
    from seldkit.protocols import is_protocol_name

    settings: dict[str, Any] = {
        "batch_size": fields.integer("batch_size", defaults["batch_size"], minimum=1, maximum=1 << 16),
        "weight_decay": fields.number("weight_decay", defaults["weight_decay"], minimum=0.0),
        "layer_decay": fields.number(
            "layer_decay", defaults["layer_decay"], minimum=0.0, maximum=1.0, exclusive_minimum=True
        ),
        "betas": fields.numbers("betas", defaults["betas"], length=2, minimum=0.0, maximum=0.999999),
        "min_lr": fields.number("min_lr", defaults["min_lr"], minimum=0.0),
        "seed": fields.integer("seed", defaults["seed"], minimum=0, maximum=2**32 - 1),
        "seeds": fields.integer("seeds", defaults["seeds"], minimum=1, maximum=MAX_SEEDS),
        "label_mode": fields.string("label_mode", defaults["label_mode"], choices=LABEL_MODES),
        "evaluation_protocol": fields.string("evaluation_protocol", defaults["evaluation_protocol"]),
        "grad_clip": fields.number(
            "grad_clip", defaults["grad_clip"], minimum=0.0, exclusive_minimum=True, optional=True
        ),
        "init": fields.string("init", defaults["init"], choices=INITIALISATIONS),
        "head_init": fields.string("head_init", defaults["head_init"], choices=HEAD_INITS),
        "direction_sigma_deg": fields.number(
            "direction_sigma_deg", defaults["direction_sigma_deg"], minimum=0.0, maximum=180.0
        ),
        "channel_swap": fields.number("channel_swap", defaults["channel_swap"], minimum=0.0, maximum=1.0),
        "group_by": fields.string("group_by", defaults["group_by"], choices=GROUPINGS)
        if fields.has("group_by")
        else defaults["group_by"],
    }
    if not is_protocol_name(settings["evaluation_protocol"]):
        raise fields.error(
            "evaluation_protocol", f"must name a shipped clip protocol, not {settings['evaluation_protocol']!r}"
        )
    return settings


# The published optimiser: AdamW with torch's betas, weight decay 5e-4, layer decay 0.75, min lr 1e-6.
_PUBLISHED_DEFAULTS: dict[str, Any] = {
    "batch_size": 32,
    "weight_decay": 5e-4,
    "layer_decay": 0.75,
    "betas": (0.9, 0.999),
    "min_lr": 1e-6,
    "seed": 0,
    "seeds": 1,
    "label_mode": "clean",
    "evaluation_protocol": "bat-encoder-continuous",
    "grad_clip": None,
    "init": "none",
    "head_init": "published",
    "direction_sigma_deg": 0.0,
    "channel_swap": 0.0,
    "group_by": None,
}


def _read_training(fields: Fields, size: str, overrides: tuple[tuple[str, Any], ...]) -> dict[str, TrainConfig]:
    common = _read_common(fields, _PUBLISHED_DEFAULTS)
    sections: dict[str, tuple[str, Fields]] = {}
    for model in MODELS:
        if fields.has(model):
            sections[model] = (model, fields.section(model))
    if fields.has("recipes"):
        for name, recipe in fields.named_sections("recipes").items():
            if name in sections:
                raise fields.error(f"recipes.{name}", f"repeats the recipe {name!r} given under training.{name}")
            sections[name] = (recipe.string("model", choices=MODELS), recipe)
    if not sections:
        raise fields.error(
            MODELS[0], f"or {MODELS[1]} or recipes: the training section needs a recipe (stages) for a model"
        )
    fields.finish()
    recipes = {}
    for name, (model, recipe) in sections.items():
        settings = _read_common(recipe, common)
        stages = tuple(_read_stage(stage, batch_size=settings["batch_size"]) for stage in recipe.sections("stages"))
        if len({stage.name for stage in stages}) != len(stages):
            raise recipe.error("stages", "must have distinct names")
        recipe.finish()
        recipes[name] = TrainConfig(
            model=model, size=size, stages=stages, model_overrides=overrides, name=name, **settings
        )
    return recipes


def _read_stage(stage: Fields, *, batch_size: int) -> Stage:
    if stage.has("blr") == stage.has("lr"):
        raise stage.error("blr", "or lr: give one of them (blr: the peak is blr * batch_size / 256; lr: the peak)")
    if stage.has("blr"):
        blr: float | None = stage.number("blr", minimum=0.0, exclusive_minimum=True, maximum=10.0)
        assert blr is not None
        peak = blr * batch_size / REFERENCE_BATCH
    else:
        blr, peak = None, stage.number("lr", minimum=0.0, exclusive_minimum=True, maximum=10.0)
    result = Stage(
        name=stage.string("name"),
        epochs=stage.integer("epochs", minimum=1, maximum=100_000),
        warmup_epochs=stage.integer("warmup_epochs", 0, minimum=0, maximum=100_000),
        lr=peak,
        blr=blr,
        loss_weights=stage.numbers("loss_weights", length=3, minimum=0.0),  # type: ignore[arg-type]
        data_fraction=stage.number("data_fraction", 1.0, minimum=0.0, maximum=1.0, exclusive_minimum=True),
        weighted_sampling=stage.boolean("weighted_sampling", False),
        replacement=stage.boolean("replacement", False),
        mixup=stage.number("mixup", 0.5, minimum=0.0, maximum=1.0),
        split=stage.string("split", "train"),
        epoch_clips=stage.integer("epoch_clips", None, minimum=1, maximum=1 << 40),
    )
    if result.replacement and not result.weighted_sampling:
        raise stage.error("replacement", "applies to weighted sampling only (weighted_sampling: true)")
    if result.epoch_clips is not None and stage.has("data_fraction"):
        raise stage.error("epoch_clips", "and data_fraction: give one of them")
    if result.split == "test":
        raise stage.error("split", "must name a training split, not the test split")
    if not any(result.loss_weights):
        raise stage.error("loss_weights", "must not all be 0 (the stage would train nothing)")
    stage.finish()
    return result
