"""Binaural rendering of mono sources with two-channel impulse responses by FFT convolution."""

from __future__ import annotations

import torch
from scipy.fft import next_fast_len


def convolve_rir(mono: torch.Tensor, rir: torch.Tensor) -> torch.Tensor:
    """Full linear convolution of ``mono`` [B, 1, T] with ``rir`` [B, 2, L], first T samples -> [B, 2, T].

    The FFT length is the smallest length >= T + L - 1 with only small prime factors, so the circular
    convolution equals the linear one (no wrap-around) and the FFT is fast. (The published front-end
    convolves at exactly T + L - 1 = 383,999 = 7 * 11 * 4987 samples for 10 s clips and 2 s responses.)

    >>> out = convolve_rir(torch.tensor([[[1.0, 2.0, 3.0]]]), torch.tensor([[[1.0, 1.0], [0.0, 2.0]]]))
    >>> out.tolist()
    [[[1.0, 3.0, 5.0], [0.0, 2.0, 4.0]]]
    """
    if mono.dim() != 3 or mono.shape[1] != 1 or rir.dim() != 3 or rir.shape[0] != mono.shape[0]:
        raise ValueError(f"expected mono [B, 1, T] and rir [B, C, L], got {tuple(mono.shape)} and {tuple(rir.shape)}")
    length = mono.shape[-1]
    size = next_fast_len(length + rir.shape[-1] - 1, real=True)
    dtype = torch.promote_types(mono.dtype, rir.dtype)
    spectrum = torch.fft.rfft(mono.to(dtype), n=size) * torch.fft.rfft(rir.to(dtype), n=size)
    return torch.fft.irfft(spectrum, n=size)[..., :length]
