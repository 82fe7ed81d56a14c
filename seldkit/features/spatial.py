r"""Interaural features from the left/right STFTs :math:`X_L, X_R` ([B, T, K] complex).

Phases are taken as unit phasors :math:`u = X / |X|` rather than with ``atan2``: the same numbers, no
trigonometric calls. Two modes:

``reference`` (the published front-ends, quirks kept)
    * IPD: :math:`\cos\Delta\phi = \Re(u_R \bar u_L)`, :math:`\sin\Delta\phi = \Im(u_R \bar u_L)` with
      :math:`u = 1` where :math:`X = 0` (``atan2(0, 0) = 0``), each projected through the mel matrix.
    * GCC-PHAT: :math:`G = X_L \bar X_R`, :math:`cc = \mathrm{irfft}(G / |G|)` (1 where :math:`G = 0`),
      lags :math:`-64 \ldots 63` with :math:`\tau = t_L - t_R` (a peak at negative lag: the sound reaches L
      first).
    * ILD: :math:`e^{\ell_L} / (e^{\ell_R} + 10^{-16})` of the log-mel dB values :math:`\ell` — an
      exponential of a dB difference, not a power ratio.
``clean`` (numerically safe definitions)
    * IPD and GCC-PHAT with :math:`u = X / (|X| + \varepsilon)`, :math:`G / (|G| + \varepsilon)`: silent bins
      contribute 0 instead of an arbitrary phase, so silence gives IPD-mel 0 and GCC 0.
    * ILD in dB: :math:`\ell_L - \ell_R` of the power log-mel spectra (finite everywhere, antisymmetric).
"""

from __future__ import annotations

import torch

GCC_LAGS = 64  # lags -64 .. 63


def cross_phasor(
    spectrum: torch.Tensor, magnitude: torch.Tensor, *, epsilon: float | None
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Real and imaginary part of the cross phasor :math:`u_L \bar u_R` of a binaural spectrum.

    The phasor is :math:`G / |G|` with :math:`G = X_L \bar X_R`, from the [B, 2, T, K] spectrum and its magnitude, in
    real arithmetic (no complex division, no ``abs`` of complex).

    With ``epsilon=None`` a bin where either channel is exactly 0 gets phasor 1 (``angle(0) = 0``, as in the
    reference); otherwise the denominator is :math:`(|X_L| + \varepsilon)(|X_R| + \varepsilon)`. Its
    conjugate is the IPD phasor :math:`u_R \bar u_L`, so one product serves both features.
    """
    parts = torch.view_as_real(spectrum)
    real_left, imag_left = parts[:, 0, ..., 0], parts[:, 0, ..., 1]
    real_right, imag_right = parts[:, 1, ..., 0], parts[:, 1, ..., 1]
    cross_real = real_left * real_right + imag_left * imag_right
    cross_imag = imag_left * real_right - real_left * imag_right
    if epsilon is not None:
        denominator = (magnitude[:, 0] + epsilon) * (magnitude[:, 1] + epsilon)
        return cross_real / denominator, cross_imag / denominator
    denominator = magnitude[:, 0] * magnitude[:, 1]
    silent = denominator == 0
    if not bool(silent.any()):  # the common case: no exact zero, no masking work
        return cross_real / denominator, cross_imag / denominator
    denominator = denominator + silent
    return torch.where(silent, 1.0, cross_real / denominator), torch.where(silent, 0.0, cross_imag / denominator)


def ipd_mel(cross: tuple[torch.Tensor, torch.Tensor], mel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Cos and sin of the interaural phase difference (R relative to L) through the mel matrix: 2 x [B, T, n_mels].

    They are computed from the cross phasor :math:`u_L \bar u_R`.
    """
    cross_real, cross_imag = cross
    return cross_real @ mel, -(cross_imag @ mel)


def gcc_phat(cross: tuple[torch.Tensor, torch.Tensor], *, n_fft: int, lags: int = GCC_LAGS) -> torch.Tensor:
    """GCC-PHAT per frame from the cross phasor, lags -lags .. lags-1 (index i <-> lag i - lags): [B, T, 2 lags]."""
    correlation = torch.fft.irfft(torch.complex(*cross), n=n_fft)
    return torch.cat([correlation[..., -lags:], correlation[..., :lags]], dim=-1)


def gcc_phat_cao(binaural: torch.Tensor, *, n_fft: int = 2048, hop: int = 320, lags: int = 48) -> torch.Tensor:
    r"""The GCC-PHAT of Cao et al. (2019), for comparison with the published one: [B, T, 2 * lags].

    A 2048-sample Hann window (not zero padding), :math:`R = X_R \bar X_L`, lags -48 .. 47 with
    :math:`\tau = t_R - t_L` — the mirror image of :func:`gcc_phat`'s convention.
    """
    from seldkit.features.stft import stft

    spectrum = stft(binaural, n_fft=n_fft, hop=hop)
    cross = spectrum[:, 1] * spectrum[:, 0].conj()
    magnitude = cross.abs()
    phasor = torch.where(magnitude > 0, cross / torch.where(magnitude > 0, magnitude, 1.0), 1.0)
    correlation = torch.fft.irfft(phasor, n=n_fft)
    return torch.cat([correlation[..., -lags:], correlation[..., :lags]], dim=-1)
