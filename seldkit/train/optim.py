r"""AdamW parameter groups with layer-wise learning-rate decay, and the warm-up + half-cosine schedule.

Both follow the published fine-tuning code of SpatialAST and DSpAST (``utils/lr_decay.py`` and
``utils/lr_sched.py``, from BEiT / MAE), applied to the published name of each parameter.

With :math:`L` transformer blocks, :math:`n = L + 1` and layer decay :math:`d`, a parameter of layer id
:math:`\ell` trains at :math:`\mathrm{lr}(e) \cdot d^{\,n - \ell}`, where

* :math:`\ell = 0` for ``cls_token``, ``pos_embed`` and ``patch_embed.*``;
* :math:`\ell = k + 1` for ``blocks.k.*``;
* :math:`\ell = n` for every other name: the fusion convolutions, feature attention, norms, projections,
  heads, and the models' class tokens ``cls_tokens*`` (which match neither ``cls_token`` nor the
  no-weight-decay set, so they train at the full rate and with weight decay).

Weight decay is 0 for 1-D tensors and for the names ``pos_embed`` and ``cls_token``, else the configured value.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from seldkit.models.registry import reference_key

# The published ViT's no_weight_decay() set (utils/vision_transformer.py). It names AudioMAE's single
# ``cls_token``, which these models replace by ``cls_tokens*``: those are therefore decayed.
NO_WEIGHT_DECAY = frozenset({"pos_embed", "cls_token"})
# The parameters the published ViT registers itself, ahead of the modules its subclasses add (see parameter_groups).
_VIT_OWN = ("cls_token", "pos_embed", "patch_embed", "blocks.")


def layer_id(name: str, num_layers: int) -> int:
    """The layer id of the parameter with published name ``name``; ``num_layers`` = transformer blocks + 1.

    >>> [layer_id(name, 13) for name in ("patch_embed.proj.weight", "blocks.4.norm1.bias", "cls_tokens1", "head.bias")]
    [0, 5, 13, 13]
    """
    if name in ("cls_token", "pos_embed") or name.startswith("patch_embed"):
        return 0
    if name.startswith("blocks"):
        return int(name.split(".")[1]) + 1
    return num_layers


def parameter_groups(model: nn.Module, *, weight_decay: float, layer_decay: float, depth: int) -> list[dict[str, Any]]:
    r"""AdamW parameter groups of ``model`` (``depth`` transformer blocks), as the published code builds them.

    One group per (layer id :math:`\ell`, decayed or not), holding ``params``, ``lr_scale`` :math:`=
    d^{\,n - \ell}` (a Python float, :math:`n` = ``depth + 1``, :math:`d` = ``layer_decay``), ``weight_decay``
    and ``name`` (the published ``layer_<id>_decay`` / ``layer_<id>_no_decay``). Only parameters with
    ``requires_grad`` are grouped; the rule is applied to each parameter's published name.
    """
    num_layers = depth + 1
    named = [
        (reference_key(name.removeprefix("module.")), parameter)
        for name, parameter in model.named_parameters()
        if parameter.requires_grad
    ]
    # The published groups appear in the order of their first member in the published model, which registers the
    # ViT's own parameters (class tokens, patch embedding, blocks) first. Visiting those first gives the same group
    # order, so optimiser states line up group by group with the published code's.
    named.sort(key=lambda item: not item[0].startswith(_VIT_OWN))
    groups: dict[str, dict[str, Any]] = {}
    for name, parameter in named:
        no_decay = parameter.ndim == 1 or name in NO_WEIGHT_DECAY
        layer = layer_id(name, num_layers)
        key = f"layer_{layer}_{'no_decay' if no_decay else 'decay'}"
        if key not in groups:
            groups[key] = {
                "name": key,
                "params": [],
                "lr_scale": layer_decay ** (num_layers - layer),
                "weight_decay": 0.0 if no_decay else weight_decay,
            }
        groups[key]["params"].append(parameter)
    return list(groups.values())


def learning_rate(epoch: float, *, peak: float, warmup_epochs: float, epochs: float, minimum: float = 1e-6) -> float:
    r"""The learning rate at the fractional epoch ``epoch`` (= epoch + step / steps per epoch).

    .. math::

        \mathrm{lr}(e) = \begin{cases}
            \mathrm{peak} \cdot e / W & e < W \\
            \mathrm{min} + (\mathrm{peak} - \mathrm{min}) \cdot \tfrac12 \left(1 + \cos\frac{\pi (e - W)}{E - W}\right)
                & \text{otherwise}
        \end{cases}

    with :math:`W` = ``warmup_epochs``, :math:`E` = ``epochs`` and min = ``minimum``. The published trainers evaluate
    it before every iteration, so the first iteration runs at rate 0. Each parameter group then gets
    :math:`\mathrm{lr}(e)` times its ``lr_scale`` (:func:`set_learning_rate`).

    >>> [learning_rate(e, peak=5e-4, warmup_epochs=10, epochs=50) for e in (0.0, 5.0, 10.0, 50.0)]
    [0.0, 0.00025, 0.0005, 1e-06]
    """
    if epoch < warmup_epochs:
        return peak * epoch / warmup_epochs
    # E > W whenever this line is reached in training (every e < E); the guard only keeps a degenerate call finite
    span = epochs - warmup_epochs if epochs > warmup_epochs else 1.0
    return minimum + (peak - minimum) * 0.5 * (1.0 + math.cos(math.pi * (epoch - warmup_epochs) / span))


def set_learning_rate(optimizer: torch.optim.Optimizer, value: float) -> None:
    """Set each parameter group's learning rate to ``value`` times the group's ``lr_scale`` (1 when it has none)."""
    for group in optimizer.param_groups:
        group["lr"] = value * group["lr_scale"] if "lr_scale" in group else value
