"""DSpAST (mini) forward + backward on CPU: seldkit's folded forward (three branches as one batch, SDPA) vs the
branch-by-branch baseline with explicit attention of ``naive_model.py``; the two must agree first."""

from __future__ import annotations

import pytest
import torch

from benchmarks.benchdata import best_time, record_ratio
from benchmarks.naive_model import naive_dspast_forward
from seldkit.models import create_model

pytestmark = pytest.mark.slow  # each benchmark runs once in the test suite, as a smoke test


def _inputs(batch: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    waveforms = torch.randn(batch, 1, 32_000, generator=generator, dtype=dtype) * 0.1
    reverbs = torch.randn(batch, 2, 4_000, generator=generator, dtype=dtype) * torch.exp(
        -torch.arange(4_000, dtype=dtype) / 800.0
    )
    return waveforms, reverbs


def test_folded_branches_equal_three_passes():
    torch.manual_seed(0)
    model = create_model("dspast", "mini").double().eval()
    waveforms, reverbs = _inputs(3, torch.float64)
    with torch.no_grad():
        for ours, baseline in zip(model(waveforms, reverbs), naive_dspast_forward(model, waveforms, reverbs)):
            torch.testing.assert_close(ours, baseline, rtol=1e-10, atol=1e-12)


def test_dspast_mini_train_step_cpu(benchmark):
    torch.manual_seed(0)
    # no random masking: both sides compute the same function
    model = create_model(
        "dspast", "mini", spec_time_mask=0, spec_freq_mask=0, patch_mask_time=0.0, patch_mask_freq=0.0
    ).train()
    waveforms, reverbs = _inputs(16, torch.float32)

    def ours() -> None:
        sum(output.float().square().mean() for output in model(waveforms, reverbs)).backward()

    def baseline() -> None:
        sum(output.float().square().mean() for output in naive_dspast_forward(model, waveforms, reverbs)).backward()

    def gradients(step) -> dict[str, torch.Tensor]:
        model.zero_grad(set_to_none=True)
        step()
        return {
            name: parameter.grad.clone() for name, parameter in model.named_parameters() if parameter.grad is not None
        }

    # Both sides compute the same gradients (float32: up to summation order), so the ratio compares like with like.
    ours_gradients, baseline_gradients = gradients(ours), gradients(baseline)
    assert ours_gradients.keys() == baseline_gradients.keys()
    for name, gradient in ours_gradients.items():
        torch.testing.assert_close(gradient, baseline_gradients[name], rtol=1e-3, atol=1e-5, msg=name)
    benchmark.pedantic(ours, rounds=2, iterations=1)
    ours_s, baseline_s = best_time(ours, rounds=2), best_time(baseline, rounds=2)
    benchmark.extra_info.update(seldkit_s=ours_s, baseline_s=baseline_s, clips_per_s=16 / ours_s)
    record_ratio(f"DSpAST mini fwd+bwd, 16 x 1 s, CPU ({16 / ours_s:.0f} clips/s)", ours_s, baseline_s)
