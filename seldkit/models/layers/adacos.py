r"""AdaCos classification head (Zhang et al., 2019): cosine logits with an adaptively chosen scale.

The logits are :math:`s \cos\theta_c` with :math:`\cos\theta_c = \hat x \cdot \hat W_c`. In training the scale
follows the batch: with :math:`B = \frac1N \sum_i \sum_{c \ne y_i} e^{s \cos\theta_{ic}}` and
:math:`\theta_{med}` the median angle to the true class, :math:`s \leftarrow \ln B / \cos(\min(\pi/4,
\theta_{med}))`, starting from :math:`\sqrt 2 \ln(C - 1)`. In evaluation the head returns the plain cosines
(as the published models do).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class AdaCos(nn.Module):
    """An AdaCos head for ``classes`` classes on ``features``-dimensional inputs; the scale ``s`` is a buffer."""

    s: torch.Tensor  # the scale (a buffer: saved in checkpoints, not trained)

    def __init__(self, features: int, classes: int) -> None:
        super().__init__()
        self.W = nn.Parameter(torch.empty(classes, features))
        nn.init.xavier_uniform_(self.W)
        self.register_buffer("s", torch.tensor([math.sqrt(2) * math.log(classes - 1)]))

    def cosine(self, x: torch.Tensor) -> torch.Tensor:
        """Cosines [..., classes] between ``x`` and each class's weight vector."""
        return F.linear(F.normalize(x, dim=-1), F.normalize(self.W, dim=-1))

    def forward(self, x: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
        """The cosines; in training with a ``target``, the cosines times the scale, which this batch updates first."""
        cosine = self.cosine(x)
        if not self.training or target is None:
            return cosine
        with torch.no_grad():
            self.s.copy_(adaptive_scale(cosine.float(), target, self.s.float()).to(self.s.dtype))
        return self.s * cosine


def adaptive_scale(cosine: torch.Tensor, target: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """The AdaCos scale for a batch of cosines [N, C] and class indices [N] (soft targets [N, C] allowed)."""
    if target.dim() == 2:
        target = target.argmax(dim=1)
    one_hot = F.one_hot(target, cosine.shape[1]).bool()
    others = torch.where(one_hot, torch.zeros_like(cosine), torch.exp(scale * cosine)).sum(dim=1)
    theta = torch.acos(cosine[one_hot].clamp(-1 + 1e-7, 1 - 1e-7))
    median = theta.median()
    return (torch.log(others.mean()) / torch.cos(torch.clamp(median, max=math.pi / 4))).reshape(1)
