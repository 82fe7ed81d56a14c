"""The shared token encoder: patch embedding, frozen sine-cosine positions, class tokens, transformer.

Several branches (DSpAST's three task branches) run through the same weights as one batch of B * branches
sequences; each branch has its own class tokens. The transformer can run under bf16 autocast on GPU while
everything before it stays in float32.
"""

from __future__ import annotations

import torch
from torch import nn

from seldkit.models.config import ModelConfig
from seldkit.models.layers import Block, PatchEmbed, patch_mask, sincos_position_table, spec_masks
from seldkit.models.layers.transformer import init_vit_weights


class TokenEncoder(nn.Module):
    """The token encoder of ``config``: shared weights for ``n_branches`` branches, each with its own class tokens."""

    def __init__(self, config: ModelConfig, *, n_branches: int) -> None:
        super().__init__()
        self.config = config
        self.n_branches = n_branches
        grid_time, grid_freq = config.grid
        self.patch_embed = PatchEmbed(config.dim, config.patch)
        table = sincos_position_table(grid_freq, grid_time, config.dim)
        self.pos_embed = nn.Parameter(torch.from_numpy(table), requires_grad=False)
        names = ["cls_tokens"] if n_branches == 1 else [f"cls_tokens{index}" for index in range(1, n_branches + 1)]
        self.token_names = names
        for name in names:
            parameter = nn.Parameter(torch.zeros(1, 3, config.dim))
            nn.init.normal_(parameter, std=0.02)  # the published models' class-token init (plain normal)
            setattr(self, name, parameter)
        rates = torch.linspace(0, config.drop_path, config.depth).tolist()
        self.blocks = nn.ModuleList(Block(config.dim, config.heads, config.mlp_ratio, rate) for rate in rates)
        self.blocks.apply(init_vit_weights)
        self.bf16 = False  # set by the trainer on GPUs

    def forward(self, maps: list[torch.Tensor], *, augment: bool = False) -> list[torch.Tensor]:
        """One-channel maps [B, 1, T, F] per branch -> the full token sequences [B, 3 + patches, dim] per branch.

        With ``augment`` (the training forward), each branch gets its own SpecAugment intervals (shared by the batch)
        and its own per-example patch masking, as in the published models; see :mod:`seldkit.models.layers.masking`.
        """
        batch, branches = maps[0].shape[0], len(maps)
        stacked = torch.cat(maps, dim=0)
        if augment:
            masks = spec_masks(
                branches,
                stacked.shape[2],
                stacked.shape[3],
                time_width=self.config.spec_time_mask,
                freq_width=self.config.spec_freq_mask,
                device=stacked.device,
            )
            stacked = stacked.masked_fill(masks.repeat_interleave(batch, dim=0)[:, None], 0.0)
        patches = self.patch_embed(stacked) + self.pos_embed[:, 1:].to(stacked.dtype)
        if augment and (self.config.patch_mask_time > 0 or self.config.patch_mask_freq > 0):
            grid_time, grid_freq = self.config.grid
            # one draw per branch (rows, then columns), in branch order; every branch keeps the same number of
            # patches, so the branches still run through the blocks as one batch
            keep = torch.cat(
                [
                    patch_mask(
                        grid_time,
                        grid_freq,
                        batch,
                        time_ratio=self.config.patch_mask_time,
                        freq_ratio=self.config.patch_mask_freq,
                        device=patches.device,
                    )
                    for _ in range(branches)
                ]
            )
            patches = torch.gather(patches, 1, keep[:, :, None].expand(-1, -1, patches.shape[-1]))
        tokens = torch.cat([getattr(self, name).expand(batch, -1, -1) for name in self.token_names], dim=0)
        sequence = torch.cat([tokens.to(patches.dtype), patches], dim=1)
        with torch.autocast(
            device_type=sequence.device.type, dtype=torch.bfloat16, enabled=self.bf16 and sequence.is_cuda
        ):
            for block in self.blocks:
                sequence = block(sequence)
        return [part.to(maps[0].dtype) for part in sequence.chunk(branches, dim=0)]
