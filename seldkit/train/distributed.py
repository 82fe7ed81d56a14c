"""Multi-process training and exact distributed evaluation (``torchrun``; gloo on CPU, NCCL on GPU)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    """This process's place among the training processes: its rank, their number, and its rank on its node."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Whether this is the main process (rank 0), the one that writes the run's files."""
        return self.rank == 0


def init_from_environment(device: torch.device) -> World:
    """Join the process group ``torchrun`` describes in the environment; a single process otherwise."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size == 1:
        return World()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def shard(indices: list[int], world: World) -> list[int]:
    """This rank's share of ``indices`` (every size-th element): no padding, no duplicates."""
    return indices[world.rank :: world.size]


def gather_rows(values: torch.Tensor, world: World) -> torch.Tensor:
    """Concatenate every rank's rows (ranks may hold different numbers of rows) on every rank."""
    if world.size == 1:
        return values
    # NCCL only moves GPU tensors; gloo moves CPU ones
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")
    count = torch.tensor([values.shape[0]], dtype=torch.long, device=device)
    counts = [torch.zeros_like(count) for _ in range(world.size)]
    dist.all_gather(counts, count)
    largest = int(max(int(c) for c in counts))
    padded = torch.zeros((largest, *values.shape[1:]), dtype=values.dtype, device=device)
    padded[: values.shape[0]] = values.to(device)
    parts = [torch.zeros_like(padded) for _ in range(world.size)]
    dist.all_gather(parts, padded)
    return torch.cat([part[: int(c)] for part, c in zip(parts, counts)]).cpu()


def average_gradients(model: torch.nn.Module, world: World) -> None:
    """All-reduce mean of the gradients (what DDP does; explicit so the test can step both ways)."""
    if world.size == 1:
        return
    for parameter in model.parameters():
        if parameter.grad is not None:
            dist.all_reduce(parameter.grad)
            parameter.grad /= world.size


def average_buffers(model: torch.nn.Module, world: World) -> None:
    """All-reduce mean of the floating-point buffers (BatchNorm moments, the AdaCos scales).

    Each rank computes these from its own share of the batch; averaging after every step keeps the ranks
    holding one model, which is what the checkpoint written by rank 0 then stands for.
    """
    if world.size == 1:
        return
    for buffer in model.buffers():
        if buffer.is_floating_point():
            dist.all_reduce(buffer)
            buffer /= world.size
