"""AdamW with layer-wise learning-rate decay, and a warm-up + cosine schedule."""

from __future__ import annotations

import math

import torch
from torch import nn


def layer_id(name: str, depth: int) -> int:
    """0 for everything before the transformer, i + 1 for block i, depth + 1 for the heads."""
    if name.startswith(
        ("encoder.cls_tokens", "encoder.pos_embed", "encoder.patch_embed", "frontend", "bn", "conv_downsample")
    ):
        return 0
    if name.startswith("encoder.blocks."):
        return int(name.split(".")[2]) + 1
    return depth + 1


def parameter_groups(model: nn.Module, *, weight_decay: float, layer_decay: float, depth: int) -> list[dict]:
    """Groups with ``lr_scale = layer_decay ** (depth + 1 - layer)``; no decay on biases, norms, tokens."""
    groups: dict[tuple[int, bool], dict] = {}
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        layer = layer_id(name.removeprefix("module."), depth)
        no_decay = parameter.ndim == 1 or "cls_tokens" in name
        key = (layer, no_decay)
        if key not in groups:
            groups[key] = {
                "params": [],
                "weight_decay": 0.0 if no_decay else weight_decay,
                "lr_scale": layer_decay ** (depth + 1 - layer),
            }
        groups[key]["params"].append(parameter)
    return [groups[key] for key in sorted(groups)]


def learning_rate(step: int, *, base: float, warmup_steps: int, total_steps: int, minimum: float = 1e-6) -> float:
    """Linear warm-up to ``base``, then half a cosine down to ``minimum``."""
    if step < warmup_steps:
        return base * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return minimum + (base - minimum) * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def set_learning_rate(optimizer: torch.optim.Optimizer, value: float) -> None:
    """Set each parameter group's learning rate to ``value`` times the group's ``lr_scale`` (1 when it has none)."""
    for group in optimizer.param_groups:
        group["lr"] = value * group.get("lr_scale", 1.0)
