r"""DSpAST's feature attention: one gate per input feature channel, applied before the branch's fusion convolution.

The gate is :math:`m = \sigma(W_1\, \mathrm{ReLU}(W_0\, \mathrm{BN}(\mathrm{AvgPool}(x)) + b_0) + b_1)`, applied
as :math:`x \cdot m` (channel-wise).
"""

from __future__ import annotations

import torch
from torch import nn


class FeatureAttention(nn.Module):
    """Feature attention over ``channels`` feature maps; the gates of the last call are kept in ``last_gate``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(channels, affine=False)
        self.bn2 = nn.BatchNorm1d(channels, affine=False)  # present in published checkpoints; never used
        self.fc = nn.Sequential(nn.Linear(channels, channels), nn.ReLU(), nn.Linear(channels, channels))
        self.last_gate: torch.Tensor | None = None  # for analyses (the paper's Figure 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` [B, C, T, F] scaled channel-wise by its gates, in channels-last memory."""
        pooled = x.mean(dim=(2, 3))
        gate = torch.sigmoid(self.fc(self.bn(pooled)))
        self.last_gate = gate.detach()
        # channels-last memory makes the following 3x3 fusion convolution several times faster on CPU
        return (x * gate[:, :, None, None]).contiguous(memory_format=torch.channels_last)
