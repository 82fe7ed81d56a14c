r"""Training-time masking of feature maps and token sequences, as the published models apply it.

**SpecAugment** (torchaudio 2.0.2 ``FrequencyMasking`` / ``TimeMasking`` with ``iid_masks=False``): each call draws
one interval for the whole batch, from the global torch generator (or ``generator``):
:math:`v = U_1 \cdot p` and :math:`v_0 = U_2 \cdot (n - v)` with :math:`U_1, U_2 \sim U[0, 1)`, :math:`p` the mask
parameter and :math:`n` the axis length; the indices :math:`[\lfloor v_0 \rfloor, \lfloor v_0 \rfloor + \lfloor v
\rfloor)` are set to 0. The width is uniform on :math:`\{0, \dots, p - 1\}`; a parameter below 1 masks nothing and
draws nothing.

**2-D patch masking** (token dropping): per example, the :math:`\lfloor T (1 - r_t) \rfloor` patch rows (time) with
the smallest noise :math:`\sim U[0, 1)` are kept, then the :math:`\lfloor F (1 - r_f) \rfloor` columns (frequency);
the other rows and columns are removed from the sequence. Kept patches come in noise order (rows major).
"""

from __future__ import annotations

import torch


def mask_interval(size: int, parameter: int, *, generator: torch.Generator | None = None) -> tuple[int, int]:
    """The masked index range ``[start, end)`` of one SpecAugment draw on an axis of ``size`` (see the module doc).

    The arithmetic is torchaudio's, in float32 on the CPU generator, so the same generator state gives the same
    interval.
    """
    if parameter < 1:
        return 0, 0
    width = torch.rand(1, generator=generator) * parameter
    low = torch.rand(1, generator=generator) * (size - width)
    start = int(low.long())
    return start, start + int(width.long())


def spec_masks(
    branches: int,
    frames: int,
    bins: int,
    *,
    time_width: int,
    freq_width: int,
    generator: torch.Generator | None = None,
    device: torch.device | None = None,
) -> torch.Tensor:
    """SpecAugment masks of ``branches`` feature maps [T, F], True where masked: [branches, T, F].

    Each branch gets its own frequency interval and time interval, each shared by the whole batch. The draws come in
    the published order: the frequency masks of all branches, then the time masks of all branches.
    """
    freq = [mask_interval(bins, freq_width, generator=generator) for _ in range(branches)]
    time = [mask_interval(frames, time_width, generator=generator) for _ in range(branches)]
    frame_index = torch.arange(frames, device=device)
    bin_index = torch.arange(bins, device=device)
    masks = [
        ((frame_index >= t0) & (frame_index < t1))[:, None] | ((bin_index >= f0) & (bin_index < f1))[None, :]
        for (f0, f1), (t0, t1) in zip(freq, time)
    ]
    return torch.stack(masks)


def spec_augment(
    x: torch.Tensor, *, time_width: int, freq_width: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``x`` [B, C, T, F] with one frequency interval, then one time interval, set to 0 for the whole batch."""
    mask = spec_masks(
        1, x.shape[2], x.shape[3], time_width=time_width, freq_width=freq_width, generator=generator, device=x.device
    )
    return x.masked_fill(mask[:, None], 0.0)


def patch_mask(
    grid_time: int,
    grid_freq: int,
    batch: int,
    *,
    time_ratio: float,
    freq_ratio: float,
    generator: torch.Generator | None = None,
    device: torch.device | None = None,
) -> torch.Tensor:
    """Indices [B, kept] of the patches to keep (flat index ``t * grid_freq + f``), drawn per example.

    ``int(grid_time * (1 - time_ratio))`` rows and ``int(grid_freq * (1 - freq_ratio))`` columns are kept, so every
    example keeps the same count (288 of 512 at 64 x 8 with ratios 0.25). Noise is drawn for the rows, then for the
    columns, on ``device``.
    """
    keep_time = int(grid_time * (1 - time_ratio))
    keep_freq = int(grid_freq * (1 - freq_ratio))
    rows = torch.rand(batch, grid_time, generator=generator, device=device).argsort(dim=1)[:, :keep_time]
    columns = torch.rand(batch, grid_freq, generator=generator, device=device).argsort(dim=1)[:, :keep_freq]
    return (rows[:, :, None] * grid_freq + columns[:, None, :]).reshape(batch, -1)
