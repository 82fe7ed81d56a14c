"""SpatialAST (BAT's encoder): a ViT with three class tokens on the binaural feature stack.

Binaural front-end -> 3x3 fusion conv -> ViT with three class tokens (distance, direction, sound events) -> linear
heads. Module names follow the published checkpoints.
"""

from __future__ import annotations

import torch
from torch import nn

from seldkit.features import Frontend
from seldkit.models.config import ModelConfig
from seldkit.models.encoder import TokenEncoder


class SpatialAST(nn.Module):
    """SpatialAST of the sizes in ``config``: mono sources and impulse responses in, the four task outputs out."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.frontend = Frontend("spatialast", mode=config.feature_mode, resize_to=config.frames)  # type: ignore[arg-type]
        self.bn = nn.BatchNorm2d(2, affine=False)
        self.conv_downsample = nn.Sequential(nn.Conv2d(4, 1, 3, padding=1, bias=False), nn.BatchNorm2d(1), nn.GELU())
        self.encoder = TokenEncoder(config, n_branches=1)
        dim = config.dim
        self.dis_norm, self.doa_norm, self.fc_norm = (nn.LayerNorm(dim, eps=1e-6) for _ in range(3))
        self.distance_head = nn.Linear(dim, config.n_distance)
        self.azimuth_head = nn.Linear(dim, config.n_azimuth)
        self.elevation_head = nn.Linear(dim, config.n_elevation)
        self.head = nn.Linear(dim, config.n_classes)
        # The published init: the SED head is the ViT's own (bias 0 from the ViT init); all four heads' weights are
        # then drawn from a truncated normal of std 2e-5. The spatial heads' biases keep PyTorch's Linear default.
        nn.init.zeros_(self.head.bias)
        for head in (self.head, self.distance_head, self.azimuth_head, self.elevation_head):
            nn.init.trunc_normal_(head.weight, std=2e-5)

    def reset_heads(self) -> None:
        """PyTorch's default initialisation for the four output heads (instead of the published fine-tuning init)."""
        for head in (self.head, self.distance_head, self.azimuth_head, self.elevation_head):
            head.reset_parameters()

    def feature_stack(self, waveforms: torch.Tensor, reverbs: torch.Tensor) -> torch.Tensor:
        """The feature stack [B, 4, T', 128] of ``waveforms`` convolved with ``reverbs``; log-mels batch-normalised."""
        stack = self.frontend(waveforms, reverbs)
        return torch.cat([self.bn(stack[:, :2]), stack[:, 2:]], dim=1)

    def forward(self, waveforms: torch.Tensor, reverbs: torch.Tensor, targets: dict | None = None):
        """(sed_logits [B, 355], distance [B, 21], azimuth [B, 360], elevation [B, 180])."""
        stack = self.feature_stack(waveforms, reverbs).contiguous(memory_format=torch.channels_last)  # faster conv
        fused = self.conv_downsample(stack)
        tokens = self.encoder([fused], augment=self.training)[0]
        return (
            self.head(self.fc_norm(tokens[:, 2])),
            self.distance_head(self.dis_norm(tokens[:, 0])),
            self.azimuth_head(self.doa_norm(tokens[:, 1])),
            self.elevation_head(self.doa_norm(tokens[:, 1])),
        )
