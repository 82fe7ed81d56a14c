"""The straightforward DSpAST forward, the baseline of the model benchmarks: the same modules and weights as
:class:`seldkit.models.dspast.DSpAST`, but the three task branches go through the transformer one after the
other (three passes instead of one batch of 3·B sequences) and attention is spelled out as
``softmax(q kᵀ / √d) v`` with the full score matrix in memory, always in float32."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from seldkit.models.dspast import DSpAST
from seldkit.models.layers import Block, spec_augment


def explicit_attention(block: Block, x: torch.Tensor) -> torch.Tensor:
    attention = block.attn
    batch, tokens, dim = x.shape
    head_dim = dim // attention.heads
    qkv = attention.qkv(x).reshape(batch, tokens, 3, attention.heads, head_dim).permute(2, 0, 3, 1, 4)
    scores = qkv[0] @ qkv[1].transpose(-2, -1) / math.sqrt(head_dim)
    attended = scores.softmax(dim=-1) @ qkv[2]
    return attention.proj(attended.transpose(1, 2).reshape(batch, tokens, dim))


def naive_block(block: Block, x: torch.Tensor) -> torch.Tensor:
    x = x + block._residual(explicit_attention(block, block.norm1(x)))
    return x + block._residual(block.mlp(block.norm2(x)))


def naive_dspast_forward(model: DSpAST, waveforms: torch.Tensor, reverbs: torch.Tensor, targets: dict | None = None):
    """What ``model(waveforms, reverbs, targets)`` computes, branch by branch (patch masking is left out: the
    baseline is for timing and for checking the folded forward in eval mode)."""
    encoder = model.encoder
    stack = model.feature_stack(waveforms, reverbs)
    sequences = []
    for index in (1, 2, 3):
        feature_map = getattr(model, f"conv_downsample{index}")(stack)
        if model.training:
            feature_map = spec_augment(
                feature_map, time_width=encoder.config.spec_time_mask, freq_width=encoder.config.spec_freq_mask
            )
        patches = encoder.patch_embed(feature_map) + encoder.pos_embed[:, 1:]
        tokens = getattr(encoder, encoder.token_names[index - 1]).expand(stack.shape[0], -1, -1)
        sequence = torch.cat([tokens, patches], dim=1)
        for block in encoder.blocks:
            sequence = naive_block(block, sequence)
        sequences.append(sequence)
    return model.task_outputs(sequences, targets or {})


def naive_train_step(model: DSpAST, optimizer: torch.optim.Optimizer, batch: dict[str, torch.Tensor]) -> float:
    targets = {name: batch[name] for name in ("distance", "azimuth", "elevation")}
    sed, distance, azimuth, elevation = naive_dspast_forward(model, batch["waveform"], batch["reverb"], targets)
    loss = (
        100 * F.binary_cross_entropy_with_logits(sed, batch["sed"])
        + 2 * F.cross_entropy(distance, batch["distance"])
        + F.cross_entropy(azimuth, batch["azimuth"])
        + F.cross_entropy(elevation, batch["elevation"])
    )
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss)
