"""A pre-norm transformer block with attention through ``torch.nn.functional.scaled_dot_product_attention``.

The parameters have the ViT layout: ``norm1``, ``attn.qkv``, ``attn.proj``, ``norm2``, ``mlp.fc1``, ``mlp.fc2``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

LAYER_NORM_EPS = 1e-6


def init_vit_weights(module: nn.Module) -> None:
    """The ViT (timm) init of one module: Linear weights truncated normal (std 0.02), biases 0; LayerNorm 1, 0.

    Used with ``Module.apply``. As in timm, the truncation is at +-2 absolute, i.e. 100 standard deviations.
    """
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


class Attention(nn.Module):
    """Multi-head self-attention: ``qkv`` makes queries, keys and values, ``proj`` mixes the heads' outputs."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Self-attention over the tokens of ``x`` [B, N, dim]; the same shape out."""
        batch, tokens, dim = x.shape
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
        return self.proj(attended.transpose(1, 2).reshape(batch, tokens, dim))


class Mlp(nn.Module):
    """Two linear layers, ``dim`` -> ``hidden`` -> ``dim``, with an exact (erf) GELU between them."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``fc2(gelu(fc1(x)))``."""
        return self.fc2(F.gelu(self.fc1(x)))  # exact (erf) GELU, as in ViT


class Block(nn.Module):
    """``x + attn(norm1(x))``, then ``x + mlp(norm2(x))``, with optional stochastic depth in training."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0, drop_path: float = 0.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=LAYER_NORM_EPS)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=LAYER_NORM_EPS)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.drop_path = drop_path

    def _residual(self, branch: torch.Tensor) -> torch.Tensor:
        if not self.training or self.drop_path == 0.0:
            return branch
        keep = torch.rand(branch.shape[0], 1, 1, device=branch.device) >= self.drop_path
        return branch * keep.to(branch.dtype) / (1.0 - self.drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The block applied to the tokens ``x`` [B, N, dim]."""
        x = x + self._residual(self.attn(self.norm1(x)))
        return x + self._residual(self.mlp(self.norm2(x)))
