r"""AdaCos classification head (Zhang et al., 2019) as DSpAST's training code defines it.

The head's output is :math:`\cos\theta_{ic} = \hat x_i \cdot \hat W_c` (L2-normalised rows), in training and in
evaluation. In training the logits are :math:`s \cos\theta_{ic}`, where the scale :math:`s` is first updated from
the batch (cosines :math:`c_{ij}`, targets :math:`y_{ij}`, batch size :math:`N`) without gradient:

.. math::

    B_{avg} = \frac1N \sum_i \Big( \sum_{j:\, y_{ij} < 1} e^{s c_{ij}} + \sum_{j:\, y_{ij} \ge 1} 1 \Big), \qquad
    \theta_i = \sum_j y_{ij} \arccos\big(\mathrm{clamp}(c_{ij}, -1 + \epsilon, 1 - \epsilon)\big),

.. math::

    s \leftarrow \max\Big( \frac{\ln B_{avg}}{\cos(\min(\pi / 4, \theta_{med})) + \epsilon},\ \epsilon \Big),

with :math:`\epsilon = 10^{-12}`, :math:`\theta_{med}` the lower median of the :math:`\theta_i` (element
:math:`\lfloor (N - 1) / 2 \rfloor` of the sorted values) and :math:`\pi` the float32 value of π. The target
entries count 1 each in :math:`B_{avg}` (the paper sums over the non-target classes only); a soft entry
:math:`0 < y < 1` counts as a non-target and weighs its angle by :math:`y`. The scale starts at
:math:`\max(\sqrt2 \ln(C - 1), 0.5)`, stored in float32. All of this follows the published code.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

EPS = 1e-12
# The published module keeps pi in a float32 parameter, so its pi / 4 is float32(pi) / 4 (exact in float32).
QUARTER_PI = float(np.float32(math.pi)) / 4


def initial_scale(classes: int) -> float:
    r"""The starting scale for ``classes`` classes, :math:`\max(\sqrt2 \ln(C - 1), 0.5)`, rounded to float32.

    >>> initial_scale(21), initial_scale(360)
    (4.236605167388916, 8.320274353027344)
    """
    return float(np.float32(max(math.sqrt(2.0) * math.log(classes - 1.0), 0.5)))


class AdaCos(nn.Module):
    """An AdaCos head for ``classes`` classes on ``features``-dimensional inputs; the scale ``s`` is a buffer.

    ``s`` is saved in checkpoints (the published checkpoints hold it as a frozen parameter) and is never trained.
    """

    s: torch.Tensor

    def __init__(self, features: int, classes: int) -> None:
        super().__init__()
        self.W = nn.Parameter(torch.empty(classes, features))
        nn.init.xavier_uniform_(self.W)
        self.register_buffer("s", torch.tensor([initial_scale(classes)], dtype=torch.float32))

    def cosine(self, x: torch.Tensor) -> torch.Tensor:
        """Cosines [..., classes] between ``x`` and each class's weight vector."""
        return F.linear(F.normalize(x, dim=-1), F.normalize(self.W, dim=-1))

    def forward(self, x: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
        """The cosines; in training with a ``target``, the logits ``s * cosine`` with ``s`` first updated on this batch.

        ``target`` holds class indices [N] or target weights [N, C] (e.g. soft, from mix-up).
        """
        cosine = self.cosine(x)
        if not self.training or target is None:
            return cosine
        return self.scaled(cosine, target)

    def scaled(self, cosine: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Update ``s`` from the cosines [N, C] and targets of a batch, then return the logits ``s * cosine``.

        The loss therefore sees the updated scale, as in the published training step; ``s`` carries no gradient.
        """
        weights = target_weights(target, cosine.shape[1], cosine.dtype)
        with torch.no_grad():
            self.s.copy_(adaptive_scale(cosine.detach(), weights, self.s.to(cosine.dtype)))
        return cosine * self.s.to(cosine.dtype)


def target_weights(target: torch.Tensor, classes: int, dtype: torch.dtype) -> torch.Tensor:
    """Targets as weights [N, C] of ``dtype``: class indices [N] become one-hot rows, weight rows stay as they are."""
    if target.dim() == 1:
        return F.one_hot(target.long(), classes).to(dtype)
    return target.to(dtype)


def adaptive_scale(cosine: torch.Tensor, target: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    r"""The updated AdaCos scale [1] for cosines [N, C], targets (indices [N] or weights [N, C]) and the current scale.

    See the module docstring for the formula. Computed as the published code does, with the sum shifted by the
    batch's largest logit :math:`M = \max_{ij} s c_{ij}` for numerical range: :math:`\ln B_{avg} = M + \ln
    \frac1N \sum_i \sum_j e^{(y_{ij} < 1 ? s c_{ij} : 0) - M}`.
    """
    weights = target_weights(target, cosine.shape[1], cosine.dtype)
    scale = scale.to(cosine.dtype).reshape(-1)[:1]
    logits = scale * cosine
    shift = logits.max()
    shifted = torch.where(weights < 1, logits, torch.zeros_like(logits)) - shift
    log_b_avg = shift + torch.log(torch.exp(shifted).sum(dim=1).mean())
    theta = torch.acos(torch.clamp(cosine, min=-1.0 + EPS, max=1.0 - EPS))
    theta_median = torch.median((weights * theta).sum(dim=1))  # the lower middle value for even N
    denominator = torch.cos(torch.clamp(theta_median, max=QUARTER_PI)) + EPS
    return torch.clamp(log_b_avg / denominator, min=EPS).reshape(1)
