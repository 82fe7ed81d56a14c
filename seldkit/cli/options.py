"""Option types and checks shared by the commands: resample counts, devices, output paths."""

from __future__ import annotations

import argparse
from pathlib import Path

# Resamples are drawn and evaluated in blocks, but every resample's metrics are kept to form the percentiles:
# 100,000 resamples of 355 classes hold ~0.3 GB. More adds nothing a 95 % interval can show.
MAX_RESAMPLES = 100_000


def resample_count(text: str) -> int:
    """A number of bootstrap resamples: an integer in 1 .. :data:`MAX_RESAMPLES`."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of resamples, got {text!r}") from None
    if not 1 <= value <= MAX_RESAMPLES:
        raise argparse.ArgumentTypeError(f"the number of resamples must lie in 1..{MAX_RESAMPLES:,}, got {text!r}")
    return value


def ci_option(text: str) -> int | str:
    """``--ci``: a number of bootstrap resamples, or ``jackknife`` (DCASE)."""
    if text == "jackknife":
        return text
    try:
        return resample_count(text)
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"{error} (or 'jackknife' for DCASE folders)") from None


def torch_device(name: str | None) -> str:
    """The device a ``--device`` option names (default: cuda when available), checked before any work starts."""
    import torch

    from seldkit.errors import UsageError

    if not name:
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError, TypeError):
        raise UsageError(f"--device {name!r} is not a device (cpu, cuda, cuda:1, ...)") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UsageError(f"--device {name}: CUDA is not available on this machine")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UsageError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif device.type == "mps":
        if not torch.backends.mps.is_available():
            raise UsageError(f"--device {name}: MPS is not available on this machine")
    elif device.type != "cpu":
        raise UsageError(f"--device {name!r}: seldkit runs on cpu, cuda or mps")
    return name


def output_file(path: Path | None, *, what: str = "output file") -> None:
    """Check an optional output path before the work that fills it starts."""
    if path is None:
        return
    from seldkit.io.atomic import check_output_file

    check_output_file(path, what=what)
