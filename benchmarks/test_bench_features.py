"""DSpAST front-end (RIR convolution included) on batches of 8 ten-second clips at 32 kHz: seldkit vs the
straightforward baseline of ``naive_frontend.py`` (conv-DFT, FFT at T + L - 1, atan2, per-clip loop)."""

from __future__ import annotations

import pytest
import torch

from benchmarks.benchdata import best_time, record_ratio
from benchmarks.naive_frontend import naive_dspast
from seldkit.features import Frontend

pytestmark = pytest.mark.slow  # each benchmark runs once in the test suite, as a smoke test


def test_dspast_frontend_cpu(benchmark):
    generator = torch.Generator().manual_seed(0)
    waveforms = torch.randn(8, 1, 320_000, generator=generator) * 0.1
    decay = torch.exp(-torch.arange(64_000) / 6_000.0)
    reverbs = torch.randn(8, 2, 64_000, generator=generator) * decay
    frontend = Frontend("dspast", mode="reference")
    with torch.no_grad():
        ours_out = benchmark.pedantic(lambda: frontend(waveforms, reverbs), rounds=3, iterations=1)
        baseline_out = naive_dspast(waveforms, reverbs)
        torch.testing.assert_close(ours_out[:, :2], baseline_out[:, :2], atol=2e-2, rtol=0)  # log-mel, float32
        ours = best_time(lambda: frontend(waveforms, reverbs), rounds=3)
        baseline = best_time(lambda: naive_dspast(waveforms, reverbs), rounds=1)
    benchmark.extra_info.update(seldkit_s=ours, baseline_s=baseline, clips_per_s=8 / ours)
    record_ratio(f"DSpAST front-end 8 x 10 s, float32 CPU ({8 / ours:.0f} clips/s)", ours, baseline)
