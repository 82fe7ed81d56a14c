"""Training configuration from a training protocol: model size, curriculum stages, optimiser settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seldkit.errors import InputError
from seldkit.io.fields import Fields


@dataclass(frozen=True)
class Stage:
    """One curriculum stage (the DSpAST paper's Table 1 rows)."""

    name: str
    epochs: int
    warmup_epochs: int
    lr: float
    loss_weights: tuple[float, float, float]  # sound events, distance, direction
    data_fraction: float = 1.0  # share of the training clips drawn per epoch
    weighted_sampling: bool = False
    mixup: float = 0.5  # probability of mixing two sources


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained under a training protocol: size, stages, optimiser and data settings, evaluation."""

    model: str
    size: str
    stages: tuple[Stage, ...]
    batch_size: int
    weight_decay: float
    layer_decay: float
    seed: int
    label_mode: str
    evaluation_protocol: str
    grad_clip: float | None = None
    # Both off in the published recipe. For data sets with few source positions (the CPU-sized default) they
    # let the 360 azimuth / 180 elevation classes generalise between the positions seen in training.
    direction_sigma_deg: float = 0.0  # > 0: Gaussian soft direction targets of this width (degrees)
    channel_swap: float = 0.0  # probability of swapping the ears, mirroring the azimuth (left <-> right)
    model_overrides: tuple[tuple[str, Any], ...] = ()  # model settings changed from the size's configuration

    @property
    def total_epochs(self) -> int:
        """The epochs of all stages together."""
        return sum(stage.epochs for stage in self.stages)


MODELS = ("dspast", "spatialast")
LABEL_MODES = ("clean", "reference")


def read_recipes(protocol_content: dict[str, Any], *, file: str | Path | None) -> dict[str, TrainConfig]:
    """The recipe of each model a training protocol trains, from its ``model:`` and ``training:`` sections.

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
        settings = _read_training(Fields(protocol_content["training"], file=file, where="training"))
        common = {key: value for key, value in settings.items() if key != "recipes"}
        recipes = {
            model: TrainConfig(model=model, size=size, stages=stages, model_overrides=overrides, **common)
            for model, stages in settings["recipes"].items()
        }
    for model in recipes or MODELS:
        try:
            load_model_config(model, size, **dict(overrides))
        except InputError as error:
            raise InputError(f"model: {error.problem}", file=file) from None
    return recipes


def _read_training(fields: Fields) -> dict[str, Any]:
    from seldkit.protocols import is_protocol_name

    settings: dict[str, Any] = {
        "batch_size": fields.integer("batch_size", 32, minimum=1, maximum=1 << 16),
        "weight_decay": fields.number("weight_decay", 0.05, minimum=0.0),
        "layer_decay": fields.number("layer_decay", 0.75, minimum=0.0, maximum=1.0, exclusive_minimum=True),
        "seed": fields.integer("seed", 0, minimum=0, maximum=2**32 - 1),
        "label_mode": fields.string("label_mode", "clean", choices=LABEL_MODES),
        "evaluation_protocol": fields.string("evaluation_protocol", "bat-encoder-continuous"),
        "grad_clip": fields.number("grad_clip", None, minimum=0.0, exclusive_minimum=True, optional=True),
        "direction_sigma_deg": fields.number("direction_sigma_deg", 0.0, minimum=0.0, maximum=180.0),
        "channel_swap": fields.number("channel_swap", 0.0, minimum=0.0, maximum=1.0),
    }
    if not is_protocol_name(settings["evaluation_protocol"]):
        raise fields.error(
            "evaluation_protocol", f"must name a shipped clip protocol, not {settings['evaluation_protocol']!r}"
        )
    recipes = {}
    for model in MODELS:
        if fields.has(model):
            recipe = fields.section(model)
            recipes[model] = tuple(_read_stage(stage) for stage in recipe.sections("stages"))
            recipe.finish()
    if not recipes:
        raise fields.error(
            MODELS[0], f"or {MODELS[1]}: the training section needs a recipe (stages) for at least one model"
        )
    fields.finish()
    settings["recipes"] = recipes
    return settings


def _read_stage(stage: Fields) -> Stage:
    result = Stage(
        name=stage.string("name"),
        epochs=stage.integer("epochs", minimum=1, maximum=100_000),
        warmup_epochs=stage.integer("warmup_epochs", 0, minimum=0, maximum=100_000),
        lr=stage.number("lr", minimum=0.0, exclusive_minimum=True, maximum=10.0),
        loss_weights=stage.numbers("loss_weights", length=3, minimum=0.0),  # type: ignore[arg-type]
        data_fraction=stage.number("data_fraction", 1.0, minimum=0.0, maximum=1.0, exclusive_minimum=True),
        weighted_sampling=stage.boolean("weighted_sampling", False),
        mixup=stage.number("mixup", 0.5, minimum=0.0, maximum=1.0),
    )
    if not any(result.loss_weights):
        raise stage.error("loss_weights", "must not all be 0 (the stage would train nothing)")
    stage.finish()
    return result
