"""Training-time masking of feature maps and token sequences.

SpecAugment time/frequency masks on feature maps, and 2-D patch masking that drops whole patch rows (time) and
columns (frequency) from the token sequence.
"""

from __future__ import annotations

import torch


def spec_augment(
    x: torch.Tensor, *, time_width: int, freq_width: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """One time and one frequency mask per example (widths uniform in [0, width)), set to 0: [B, C, T, F]."""
    batch, _, frames, bins = x.shape
    device = x.device

    def band(size: int, width: int) -> torch.Tensor:
        widths = torch.randint(0, max(width, 1), (batch, 1), generator=generator).to(device)
        starts = (torch.rand(batch, 1, generator=generator).to(device) * (size - widths).clamp(min=1)).long()
        index = torch.arange(size, device=device)[None, :]
        return (index >= starts) & (index < starts + widths)

    keep = ~(band(frames, time_width)[:, None, :, None] | band(bins, freq_width)[:, None, None, :])
    return x * keep.to(x.dtype)


def patch_mask(
    grid_time: int,
    grid_freq: int,
    batch: int,
    *,
    time_ratio: float,
    freq_ratio: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Indices [B, kept] of the patches to keep (time-major flat order), drawn at random per example.

    ``time_ratio`` of the patch rows and ``freq_ratio`` of the columns are dropped; every example keeps the same count.
    """
    drop_time = int(round(grid_time * time_ratio))
    drop_freq = int(round(grid_freq * freq_ratio))
    keep_time = torch.rand(batch, grid_time, generator=generator).argsort(dim=1)[:, drop_time:].sort(dim=1).values
    keep_freq = torch.rand(batch, grid_freq, generator=generator).argsort(dim=1)[:, drop_freq:].sort(dim=1).values
    return (keep_time[:, :, None] * grid_freq + keep_freq[:, None, :]).reshape(batch, -1)
