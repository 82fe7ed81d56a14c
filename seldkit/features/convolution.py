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


def add_background(binaural: torch.Tensor, noise: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
    r"""``binaural`` [B, 2, T] plus ``noise`` [B, 2, T] scaled to the signal-to-noise ratios ``snr_db`` [B].

    The powers are means over both ears and the whole clip:
    :math:`g = \sqrt{P_x / (P_n \cdot 10^{\mathrm{SNR}/10})}`, so that :math:`10 \log_{10}(P_x / P_{gn})`
    is the SNR. An infinite SNR (or a silent background) adds nothing.

    >>> x, n = torch.ones(1, 2, 4), torch.tensor([[[1.0, -1.0, 1.0, -1.0], [2.0, -2.0, 2.0, -2.0]]])
    >>> add_background(x, n, torch.tensor([10 * torch.log10(torch.tensor(2.5)).item()]))[0, 0].tolist()
    [1.399999976158142, 0.6000000238418579, 1.399999976158142, 0.6000000238418579]
    """
    signal_power = binaural.square().mean(dim=(1, 2))
    noise_power = noise.square().mean(dim=(1, 2))
    wanted = signal_power / torch.pow(10.0, snr_db.to(binaural.dtype) / 10)
    gain = torch.where(noise_power > 0, torch.sqrt(wanted / noise_power.clamp_min(1e-30)), torch.zeros_like(wanted))
    return binaural + gain[:, None, None] * noise.to(binaural.dtype)
