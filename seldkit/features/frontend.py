r"""The SpatialAST and DSpAST binaural front-ends: features, stacks, the optional resize to 1024 frames.

``reference`` mode reproduces the published front-ends (validated against their recorded outputs): log-mel
of the *magnitude* spectrum, :math:`10 \log_{10}\max(|X| M, 10^{-10})`, with :math:`M` the float32-valued
Slaney mel matrix (128 bands, 50-14 000 Hz), and the interaural features of :mod:`seldkit.features.spatial`.
``clean`` mode uses the power spectrum, :math:`10 \log_{10}(|X|^2 M + 10^{-10})`, an ILD in dB and
:math:`\varepsilon`-regularised phases (see :mod:`seldkit.features.spatial`); silence gives finite values.
``scaled`` mode is ``clean`` with the interaural features brought to the scale of the log-mels: the mel-weighted
phase differences divided by each band's weight sum (so they lie in [-1, 1], the mean phasor of the band) and the
GCC standardised per clip (zero mean, unit variance over frames and lags). In the published scale they are tens
of times smaller than the log-mels, which a fusion layer trained from scratch learns to ignore.

Everything is batched (no per-clip loop) and runs in the input's precision (float32 or float64) on any
device; :class:`Frontend` also leaves any autocast region, so features never run in bf16/fp16.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from seldkit.features.convolution import convolve_rir
from seldkit.features.mel import slaney_mel_matrix
from seldkit.features.spatial import cross_phasor, gcc_phat, ipd_mel
from seldkit.features.stft import N_FFT, stft

Mode = Literal["reference", "clean", "scaled"]
MODES = ("reference", "clean", "scaled")
Kind = Literal["spatialast", "dspast"]
LOG_FLOOR = 1e-10
ILD_GUARD = 1e-16
CLEAN_EPSILON = 1e-12
SCALE_GUARD = 1e-6  # a silent clip's GCC stays 0 in scaled mode
STACKS: dict[str, tuple[str, ...]] = {
    "spatialast": ("logmel_L", "logmel_R", "ipd_cos_mel", "ipd_sin_mel"),
    "dspast": ("logmel_L", "logmel_R", "gcc", "ild", "ipd_cos_mel", "ipd_sin_mel"),
}


def mel_matrix(dtype: torch.dtype, device: torch.device | str) -> torch.Tensor:
    """The Slaney mel matrix [513, 128] (:func:`~seldkit.features.mel.slaney_mel_matrix`) as ``dtype`` on ``device``."""
    return torch.as_tensor(slaney_mel_matrix(), dtype=dtype, device=device)


def binaural_features(
    binaural: torch.Tensor, *, mode: Mode = "reference", resize_to: int | None = None
) -> dict[str, torch.Tensor]:
    """The features of the binaural audio ``binaural``, by name.

    ``binaural`` is [B, 2, T] (channel 0 = left); the features are ``logmel`` [B, 2, T', 128] and ``ipd_cos_mel``,
    ``ipd_sin_mel``, ``gcc``, ``ild`` [B, T', 128], T' = 1 + T // 320 (or ``resize_to`` if T' is shorter).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if binaural.dim() != 3 or binaural.shape[1] != 2:
        raise ValueError(f"expected [B, 2, T] binaural audio, got {tuple(binaural.shape)}")
    spectrum = stft(binaural)  # [B, 2, T', K]
    mel = mel_matrix(binaural.dtype, binaural.device)
    parts = torch.view_as_real(spectrum)
    power = parts[..., 0].square() + parts[..., 1].square()
    magnitude = power.sqrt()  # 3x faster than complex abs(); within one rounding step of it
    if mode == "reference":
        logmel = 10.0 * torch.log10(torch.clamp(magnitude @ mel, min=LOG_FLOOR))
        ild = torch.exp(logmel[:, 0]) / (torch.exp(logmel[:, 1]) + ILD_GUARD)
        epsilon = None
    else:
        logmel = 10.0 * torch.log10(power @ mel + LOG_FLOOR)
        ild = logmel[:, 0] - logmel[:, 1]
        epsilon = CLEAN_EPSILON
    cross = cross_phasor(spectrum, magnitude, epsilon=epsilon)
    ipd_cos, ipd_sin = ipd_mel(cross, mel)
    gcc = gcc_phat(cross, n_fft=N_FFT)
    if mode == "scaled":
        band_weight = mel.sum(dim=0)  # [128], every Slaney band has weight > 0
        ipd_cos, ipd_sin = ipd_cos / band_weight, ipd_sin / band_weight
        mean = gcc.mean(dim=(1, 2), keepdim=True)
        gcc = (gcc - mean) / (gcc.std(dim=(1, 2), keepdim=True) + SCALE_GUARD)
    features = {"logmel": logmel, "ipd_cos_mel": ipd_cos, "ipd_sin_mel": ipd_sin, "gcc": gcc, "ild": ild}
    if resize_to is not None:
        features = {name: resize_time(value, resize_to) for name, value in features.items()}
    return features


def resize_time(feature: torch.Tensor, frames: int) -> torch.Tensor:
    """Bicubic resize of the time axis to ``frames`` (align_corners=True, as published).

    The published front-end only ever lengthens 1001 -> 1024. Works on [B, T, F] and [B, C, T, F]; the frequency
    axis is untouched.
    """
    if feature.shape[-2] == frames:
        return feature
    squeeze = feature.dim() == 3
    image = feature.unsqueeze(1) if squeeze else feature
    resized = F.interpolate(image, size=(frames, image.shape[-1]), mode="bicubic", align_corners=True)
    return resized.squeeze(1) if squeeze else resized


def stack_features(features: dict[str, torch.Tensor], kind: Kind) -> torch.Tensor:
    """The model input [B, C, T', 128]: SpatialAST 4 channels, DSpAST 6 (order as published)."""
    parts = {
        "logmel_L": features["logmel"][:, 0],
        "logmel_R": features["logmel"][:, 1],
        **{name: value for name, value in features.items() if name != "logmel"},
    }
    return torch.stack([parts[name] for name in STACKS[kind]], dim=1)


class Frontend(nn.Module):
    """Binaural front-end as a module: mono sources + impulse responses (or binaural audio) -> feature stack.

    ``forward(waveforms [B, 1, T], reverbs [B, 2, L])`` convolves and extracts; ``forward(binaural [B, 2, T])``
    extracts only. Half-precision inputs are computed in float32; autocast is switched off inside.
    """

    def __init__(self, kind: Kind = "dspast", *, mode: Mode = "reference", resize_to: int | None = 1024) -> None:
        super().__init__()
        if kind not in STACKS:
            raise ValueError(f"kind must be one of {sorted(STACKS)}, not {kind!r}")
        self.kind, self.mode, self.resize_to = kind, mode, resize_to

    @property
    def n_channels(self) -> int:
        """Channels of the feature stack: 4 for SpatialAST, 6 for DSpAST."""
        return len(STACKS[self.kind])

    def forward(self, audio: torch.Tensor, reverbs: torch.Tensor | None = None) -> torch.Tensor:
        """The feature stack [B, C, T', 128] of mono ``audio`` convolved with ``reverbs``, or of binaural ``audio``."""
        with torch.autocast(device_type=audio.device.type, enabled=False):
            if audio.dtype not in (torch.float32, torch.float64):
                audio = audio.float()
            if reverbs is not None:
                binaural = convolve_rir(audio, reverbs.to(audio.dtype))
            else:
                binaural = audio
            features = binaural_features(binaural, mode=self.mode, resize_to=self.resize_to)
            return stack_features(features, self.kind)

    def extra_repr(self) -> str:
        """The settings shown in the module's repr."""
        return f"kind={self.kind!r}, mode={self.mode!r}, resize_to={self.resize_to}"
