"""DSpAST: SpatialAST's backbone with disentangled task branches (Wilkinghoff & Tan).

Six input features (log-mel L/R, GCC-PHAT, ILD, IPD cos/sin); three branches (distance, direction, sound
events), each with its own feature attention, fusion convolution and class tokens, sharing the patch
embedding and the transformer, which runs the three branches as one batch. Each branch's tokens are
projected to 256 dimensions; a task's representation is the mean of its slice over the three class tokens.
Distance and direction use AdaCos heads. Module names follow the published checkpoints.
"""

from __future__ import annotations

import torch
from torch import nn

from seldkit.features import Frontend
from seldkit.models.config import ModelConfig
from seldkit.models.encoder import TokenEncoder
from seldkit.models.layers import AdaCos, FeatureAttention

BRANCHES = ("distance", "direction", "events")


def fusion(channels: int) -> nn.Sequential:
    """A branch's fusion of ``channels`` feature maps into one: feature attention, 3x3 convolution, batch norm, GELU."""
    return nn.Sequential(
        FeatureAttention(channels), nn.Conv2d(channels, 1, 3, padding=1, bias=False), nn.BatchNorm2d(1), nn.GELU()
    )


class DSpAST(nn.Module):
    """DSpAST of the sizes in ``config``: mono sources and impulse responses in, the four task outputs out."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.frontend = Frontend("dspast", mode=config.feature_mode, resize_to=config.frames)  # type: ignore[arg-type]
        self.bn = nn.BatchNorm2d(2, affine=False)
        self.bn_ild = nn.BatchNorm2d(1, affine=False)
        self.conv_downsample1, self.conv_downsample2, self.conv_downsample3 = (fusion(6) for _ in range(3))
        self.encoder = TokenEncoder(config, n_branches=3)
        width = config.branch_dim
        self.pre_head1, self.pre_head2, self.pre_head3 = (nn.Linear(config.dim, width) for _ in range(3))
        self.fc_norm = nn.LayerNorm(width, eps=1e-6)
        self.head = nn.Linear(width, config.n_classes)
        # The published init: the SED head's weight from a truncated normal of std 2e-5; its bias, the projections,
        # the feature attention and fusion convolutions keep PyTorch's defaults, the AdaCos weights Xavier-uniform.
        nn.init.trunc_normal_(self.head.weight, std=2e-5)
        self.distance_head = AdaCos(width, config.n_distance)
        self.azimuth_head = AdaCos(width, config.n_azimuth)
        self.elevation_head = AdaCos(width, config.n_elevation)

    def reset_heads(self) -> None:
        """PyTorch's default initialisation for the event head (instead of the published fine-tuning init)."""
        self.head.reset_parameters()

    def feature_stack(self, waveforms: torch.Tensor, reverbs: torch.Tensor) -> torch.Tensor:
        """The feature stack [B, 6, T', 128] of ``waveforms`` convolved with ``reverbs``, log-mel and ILD normalised."""
        stack = self.frontend(waveforms, reverbs)
        return torch.cat([self.bn(stack[:, :2]), stack[:, 2:3], self.bn_ild(stack[:, 3:4]), stack[:, 4:]], dim=1)

    def feature_gates(self) -> dict[str, torch.Tensor | None]:
        """The last forward's feature-attention gates per branch ([B, 6]; the paper's Figure 2)."""
        return {
            name: getattr(self, f"conv_downsample{index}")[0].last_gate for index, name in enumerate(BRANCHES, start=1)
        }

    def forward(self, waveforms: torch.Tensor, reverbs: torch.Tensor, targets: dict | None = None):
        """(sed_logits [B, 355], distance, azimuth, elevation): AdaCos cosines in eval, scaled logits in training."""
        stack = self.feature_stack(waveforms, reverbs)
        maps = [getattr(self, f"conv_downsample{index}")(stack) for index in (1, 2, 3)]
        sequences = self.encoder(maps, augment=self.training)
        return self.task_outputs(sequences, targets or {})

    def task_outputs(self, sequences: list[torch.Tensor], targets: dict):
        """The four heads on the branches' token sequences (distance, direction, events)."""
        width = self.config.branch_dim
        projected = torch.cat(
            [getattr(self, f"pre_head{index}")(sequence[:, :3]) for index, sequence in enumerate(sequences, start=1)],
            dim=2,
        )
        distance_token = projected[:, :, :width].mean(dim=1)
        direction_token = projected[:, :, width : 2 * width].mean(dim=1)
        events_token = self.fc_norm(projected[:, :, 2 * width :].mean(dim=1))
        return (
            self.head(events_token),
            self.distance_head(distance_token, targets.get("distance")),
            self.azimuth_head(direction_token, targets.get("azimuth")),
            self.elevation_head(direction_token, targets.get("elevation")),
        )
