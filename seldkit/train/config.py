"""Training configuration from a training protocol: model size, curriculum stages, optimiser settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from seldkit.errors import InputError


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
        return sum(stage.epochs for stage in self.stages)


def train_config(protocol_content: dict[str, Any], model: str) -> TrainConfig:
    training = protocol_content.get("training")
    if not isinstance(training, dict) or model not in training:
        raise InputError(f"protocol {protocol_content['name']!r} has no training recipe for {model}")
    recipe = training[model]
    stages = tuple(
        Stage(
            name=stage["name"],
            epochs=int(stage["epochs"]),
            warmup_epochs=int(stage.get("warmup_epochs", 0)),
            lr=float(stage["lr"]),
            loss_weights=tuple(float(value) for value in stage["loss_weights"]),  # type: ignore[arg-type]
            data_fraction=float(stage.get("data_fraction", 1.0)),
            weighted_sampling=bool(stage.get("weighted_sampling", False)),
            mixup=float(stage.get("mixup", 0.5)),
        )
        for stage in recipe["stages"]
    )
    return TrainConfig(
        model=model,
        size=str(protocol_content.get("model", {}).get("size", "base")),
        stages=stages,
        batch_size=int(training.get("batch_size", 32)),
        weight_decay=float(training.get("weight_decay", 0.05)),
        layer_decay=float(training.get("layer_decay", 0.75)),
        seed=int(training.get("seed", 0)),
        label_mode=str(training.get("label_mode", "clean")),
        evaluation_protocol=str(training.get("evaluation_protocol", "bat-encoder-continuous")),
        grad_clip=training.get("grad_clip"),
        direction_sigma_deg=float(training.get("direction_sigma_deg", 0.0)),
        channel_swap=float(training.get("channel_swap", 0.0)),
        model_overrides=tuple(sorted((key, value) for key, value in protocol_content.get("model", {}).items() if key != "size")),
    )
