"""Short-time Fourier transform of multichannel batches with the published front-end's settings."""

from __future__ import annotations

import torch

N_FFT = 1024
HOP = 320
SAMPLE_RATE = 32_000


def stft(signal: torch.Tensor, *, n_fft: int = N_FFT, hop: int = HOP) -> torch.Tensor:
    """[B, C, T] real -> [B, C, frames, n_fft // 2 + 1] complex; frames = 1 + T // hop.

    Periodic Hann window, centred frames with reflect padding of n_fft / 2 on each side, no normalisation:
    ``X[k] = sum_n w[n] x[n] exp(-2 pi i k n / n_fft)``. One batched FFT call, any device.
    """
    batch, channels, length = signal.shape
    window = torch.hann_window(n_fft, periodic=True, dtype=signal.dtype, device=signal.device)
    spectrum = torch.stft(
        signal.reshape(batch * channels, length),
        n_fft=n_fft,
        hop_length=hop,
        win_length=n_fft,
        window=window,
        center=True,
        pad_mode="reflect",
        normalized=False,
        onesided=True,
        return_complex=True,
    )
    return spectrum.reshape(batch, channels, spectrum.shape[-2], spectrum.shape[-1]).transpose(-1, -2)
