"""One-shot GPU check of the reference models, for a session that has an accelerator (`device` tool):

    python benchmarks/gpu_models.py [--batch 32] [--rounds 5]

1. correctness: DSpAST ``base`` eval outputs on the GPU in float32 and under the trainer's bf16 autocast vs the
   CPU float64 forward on the same weights (largest relative deviation per output);
2. throughput at batch 32 of 10 s clips: the train step (forward, losses, backward, AdamW) and inference,
   seldkit (folded branches, SDPA, bf16 transformer) vs the baseline of ``naive_model.py`` (three passes,
   explicit attention, float32), with peak memory. Prints a table to paste into benchmarks/README.md (name
   the card)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.naive_model import naive_dspast_forward  # noqa: E402
from seldkit.models import create_model  # noqa: E402


def make_batch(batch: int, device: torch.device) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return {
        "waveform": (torch.randn(batch, 1, 320_000, generator=generator) * 0.1).to(device),
        "reverb": (torch.randn(batch, 2, 64_000, generator=generator) * torch.exp(-torch.arange(64_000) / 6_000.0)).to(
            device
        ),
        "sed": (torch.rand(batch, 355, generator=generator) < 0.01).float().to(device),
        "distance": torch.randint(0, 21, (batch,), generator=generator).to(device),
        "azimuth": torch.randint(0, 360, (batch,), generator=generator).to(device),
        "elevation": torch.randint(0, 180, (batch,), generator=generator).to(device),
    }


def loss_of(outputs, batch) -> torch.Tensor:
    sed, distance, azimuth, elevation = (output.float() for output in outputs)
    return (
        100 * F.binary_cross_entropy_with_logits(sed, batch["sed"])
        + 2 * F.cross_entropy(distance, batch["distance"])
        + F.cross_entropy(azimuth, batch["azimuth"])
        + F.cross_entropy(elevation, batch["elevation"])
    )


def timed(function, rounds: int) -> float:
    function()
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def measure(
    label: str,
    bf16: bool,
    forward,
    batch: dict[str, torch.Tensor],
    targets: dict[str, torch.Tensor],
    device: torch.device,
    rounds: int,
) -> tuple[str, float, float, float]:
    """(label, train clips/s, peak GiB while training, inference clips/s) of one configuration; the model and
    optimiser are freed on return, before the next configuration is measured."""
    torch.manual_seed(0)
    model = create_model("dspast", "base").to(device)
    model.encoder.bf16 = bf16
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def run(training: bool):
        if forward is None:
            return model(batch["waveform"], batch["reverb"], targets if training else None)
        return forward(model, batch["waveform"], batch["reverb"], targets if training else None)

    def train_step() -> None:
        model.train()
        optimizer.zero_grad(set_to_none=True)
        loss_of(run(True), batch).backward()
        optimizer.step()

    @torch.no_grad()
    def inference() -> None:
        model.eval()
        run(False)

    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(device)
    train_s = timed(train_step, rounds)
    memory = torch.cuda.max_memory_allocated(device) / 2**30
    infer_s = timed(inference, rounds)
    size = batch["waveform"].shape[0]
    return label, size / train_s, memory, size / infer_s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    device = torch.device("cuda")
    print(f"device: {torch.cuda.get_device_name(device)}, torch {torch.__version__}")

    torch.manual_seed(0)
    model = create_model("dspast", "base").eval()
    small = {name: value[:2] for name, value in make_batch(2, torch.device("cpu")).items()}
    with torch.no_grad():
        reference = model.double()(small["waveform"].double(), small["reverb"].double())
        model.float().to(device)
        for label, bf16 in (("float32", False), ("bf16 transformer", True)):
            model.encoder.bf16 = bf16
            outputs = model(small["waveform"].to(device), small["reverb"].to(device))
            deviations = [
                float(((o.double().cpu() - r).abs().max() / r.abs().max())) for o, r in zip(outputs, reference)
            ]
            print(
                f"GPU {label} vs CPU float64, max relative deviation (sed, distance, azimuth, elevation): "
                + ", ".join(f"{d:.2e}" for d in deviations)
            )

    del model  # measured configurations build their own; this one would inflate their peak memory
    torch.cuda.empty_cache()

    batch = make_batch(options.batch, device)
    targets = {name: batch[name] for name in ("distance", "azimuth", "elevation")}
    rows = [
        measure(label, bf16, forward, batch, targets, device, options.rounds)
        for label, bf16, forward in (
            ("seldkit (folded, SDPA, bf16)", True, None),
            ("baseline (3 passes, explicit, fp32)", False, naive_dspast_forward),
        )
    ]
    print(f"\n| DSpAST base, batch {options.batch} x 10 s | train clips/s | peak GiB (train) | inference clips/s |")
    print("|---|---|---|---|")
    for label, train, memory, infer in rows:
        print(f"| {label} | {train:.0f} | {memory:.1f} | {infer:.0f} |")
    print(f"| ratio | {rows[0][1] / rows[1][1]:.1f}x | | {rows[0][3] / rows[1][3]:.1f}x |")


if __name__ == "__main__":
    main()
