"""A straightforward front-end written from the published description, as the benchmark baseline: the STFT
as a convolution with a DFT kernel bank (as the published code does), the RIR convolution by FFT at exactly
T + L - 1 samples, phases with atan2, and one clip at a time."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from seldkit.features.mel import slaney_mel_matrix

N_FFT, HOP = 1024, 320


def dft_kernels(dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    n = np.arange(N_FFT)
    k = np.arange(N_FFT // 2 + 1)
    window = 0.5 - 0.5 * np.cos(2 * math.pi * n / N_FFT)
    angle = 2 * math.pi * np.outer(k, n) / N_FFT
    real = torch.tensor(np.cos(angle) * window, dtype=dtype).unsqueeze(1)
    imag = torch.tensor(-np.sin(angle) * window, dtype=dtype).unsqueeze(1)
    return real, imag


def naive_dspast(waveforms: torch.Tensor, reverbs: torch.Tensor) -> torch.Tensor:
    dtype = waveforms.dtype
    real_kernel, imag_kernel = dft_kernels(dtype)
    mel = torch.tensor(slaney_mel_matrix(), dtype=dtype)
    outputs = []
    for clip in range(waveforms.shape[0]):
        mono, rir = waveforms[clip, 0], reverbs[clip]
        size = mono.shape[-1] + rir.shape[-1] - 1
        spectrum = torch.fft.rfft(mono, n=size) * torch.fft.rfft(rir, n=size)
        binaural = torch.fft.irfft(spectrum, n=size)[:, : mono.shape[-1]]
        padded = F.pad(binaural.unsqueeze(1), (N_FFT // 2, N_FFT // 2), mode="reflect")
        re = F.conv1d(padded, real_kernel, stride=HOP)  # [2, K, T]
        im = F.conv1d(padded, imag_kernel, stride=HOP)
        re, im = re.transpose(1, 2), im.transpose(1, 2)  # [2, T, K]
        magnitude = torch.sqrt(re**2 + im**2)
        logmel = 10 * torch.log10(torch.clamp(magnitude @ mel, min=1e-10))
        phase = torch.atan2(im, re)
        ipd = phase[1] - phase[0]
        ipd_cos, ipd_sin = torch.cos(ipd) @ mel, torch.sin(ipd) @ mel
        cross_re = re[0] * re[1] + im[0] * im[1]
        cross_im = im[0] * re[1] - re[0] * im[1]
        cross_phase = torch.atan2(cross_im, cross_re)
        correlation = torch.fft.irfft(torch.exp(1j * cross_phase), n=N_FFT)
        gcc = torch.cat([correlation[:, -64:], correlation[:, :64]], dim=-1)
        ild = torch.exp(logmel[0]) / (torch.exp(logmel[1]) + 1e-16)
        stack = torch.stack([logmel[0], logmel[1], gcc, ild, ipd_cos, ipd_sin]).unsqueeze(0)
        outputs.append(F.interpolate(stack, size=(1024, 128), mode="bicubic", align_corners=True))
    return torch.cat(outputs)
