"""Binaural feature front-ends, in ``reference`` (published) and ``clean`` (numerically safe) modes.

STFT, Slaney mel, log-mel, IPD, ILD, GCC-PHAT, RIR convolution, and the SpatialAST / DSpAST stacks.
"""

from seldkit.features.convolution import convolve_rir
from seldkit.features.frontend import Frontend, binaural_features, resize_time, stack_features
from seldkit.features.mel import slaney_mel_matrix
from seldkit.features.stft import stft

__all__ = [
    "Frontend",
    "binaural_features",
    "convolve_rir",
    "resize_time",
    "slaney_mel_matrix",
    "stack_features",
    "stft",
]
