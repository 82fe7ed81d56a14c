"""One-shot GPU check for the binaural front-end, on a machine with a CUDA device:

    python benchmarks/gpu_check.py

Checks GPU float64 features against CPU float64 (max abs difference per feature), then times the DSpAST
stack (RIR convolution included) at batch 32 of 10 s clips in float32 on the GPU, seldkit vs the baseline of
``naive_frontend.py``, and prints a table to paste into benchmarks/README.md (name the card)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.naive_frontend import naive_dspast  # noqa: E402
from seldkit.features import Frontend, binaural_features, convolve_rir  # noqa: E402


def timed(function, device: torch.device, rounds: int = 5) -> float:
    function()
    torch.cuda.synchronize(device)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        torch.cuda.synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    if not torch.cuda.is_available():
        print("no CUDA device")
        return
    device = torch.device("cuda")
    print(f"device: {torch.cuda.get_device_name(device)}, torch {torch.__version__}")
    generator = torch.Generator().manual_seed(0)
    waveforms = torch.randn(4, 1, 320_000, generator=generator, dtype=torch.float64) * 0.1
    reverbs = torch.randn(4, 2, 64_000, generator=generator, dtype=torch.float64) * torch.exp(
        -torch.arange(64_000) / 6000.0
    )
    cpu = binaural_features(convolve_rir(waveforms, reverbs))
    gpu = binaural_features(convolve_rir(waveforms.to(device), reverbs.to(device)))
    print("GPU vs CPU float64, max |difference|:")
    for name, value in cpu.items():
        print(f"  {name:<12} {float((gpu[name].cpu() - value).abs().max()):.3e}")

    batch = 32
    waveforms = (torch.randn(batch, 1, 320_000, generator=generator) * 0.1).to(device)
    reverbs = (torch.randn(batch, 2, 64_000, generator=generator) * torch.exp(-torch.arange(64_000) / 6000.0)).to(
        device
    )
    frontend = Frontend("dspast")
    with torch.no_grad():
        ours = timed(lambda: frontend(waveforms, reverbs), device)
        baseline = timed(lambda: naive_dspast(waveforms, reverbs), device, rounds=2)
    print(
        f"| DSpAST front-end, batch {batch} x 10 s, float32 | {batch / ours:,.0f} clips/s "
        f"| {batch / baseline:,.0f} clips/s | {baseline / ours:.1f}x |"
    )


if __name__ == "__main__":
    main()
