"""Non-overlapping patch embedding of a one-channel time-frequency map, flattened time-major."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class PatchEmbed(nn.Module):
    """Conv2d with kernel = stride = ``patch``: [B, 1, T, F] -> [B, (T/p)(F/p), dim], patch (t, f) at t * (F/p) + f."""

    def __init__(self, dim: int, patch: int = 16, in_channels: int = 1) -> None:
        super().__init__()
        self.patch = patch
        self.proj = nn.Conv2d(in_channels, dim, kernel_size=patch, stride=patch)
        # AudioMAE's init: Xavier-uniform on the weight seen as a [dim, in_channels * patch^2] matrix; the bias keeps
        # PyTorch's Conv2d default
        nn.init.xavier_uniform_(self.proj.weight.view(dim, -1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Patch tokens [B, (T/p)(F/p), dim] of ``x`` [B, 1, T, F], time-major."""
        # The same map as the strided convolution, computed as one matrix product over the cut-out patches:
        # about 8x faster to train on CPU (the convolution's input gradient is slow there).
        batch, channels, frames, bins = x.shape
        p = self.patch
        patches = x.reshape(batch, channels, frames // p, p, bins // p, p).permute(0, 2, 4, 1, 3, 5)
        patches = patches.reshape(batch, (frames // p) * (bins // p), channels * p * p)
        return nn.functional.linear(patches, self.proj.weight.reshape(self.proj.out_channels, -1), self.proj.bias)


def sincos_position_table(grid_height: int, grid_width: int, dim: int) -> np.ndarray:
    """The frozen 2-D sine-cosine table of AudioMAE pre-training: [1, 1 + H * W, dim], row 0 zeros.

    AudioMAE builds it on a (grid_height, grid_width) grid whose roles are swapped with respect to the
    patch grid (its ``patch_hw`` is (F/16, T/16) = (8, 64) for 1024 x 128 maps): flat patch index p gets
    the encoding of (p // grid_width, p % grid_width), the second coordinate first. Kept as published.
    """
    quarter = dim // 4
    omega = 1.0 / 10000 ** (np.arange(quarter, dtype=np.float64) / quarter)

    def encode(position: np.ndarray) -> np.ndarray:
        angles = np.outer(position, omega)
        return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)

    patches = np.arange(grid_height * grid_width)
    rows, columns = patches // grid_width, patches % grid_width
    table = np.concatenate([encode(columns), encode(rows)], axis=1)
    return np.concatenate([np.zeros((1, dim)), table])[None].astype(np.float32)
