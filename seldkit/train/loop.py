"""The training loop of ``seldkit train-reference``.

Curriculum stages, checkpoints, resume, NaN guard, multi-process training with exact distributed evaluation.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from seldkit.data.layout import BinauralDataset, collate
from seldkit.errors import InputError
from seldkit.features.convolution import add_background, convolve_rir
from seldkit.io.atomic import write_text_atomic
from seldkit.models.config import config_of
from seldkit.train.checkpoint import PROVENANCE_KEY, Provenance, load_checkpoint, load_weights, save_checkpoint
from seldkit.train.config import ADAM_EPS, Stage, TrainConfig
from seldkit.train.distributed import World, average_buffers, average_gradients, gather_rows, shard
from seldkit.train.optim import learning_rate, parameter_groups, set_learning_rate
from seldkit.train.tensorboard import TensorBoardLog


class TrainingError(RuntimeError):
    """Training cannot go on (e.g. a non-finite loss); the message says what and where."""


@dataclass
class Progress:
    """Where training stands; saved in every checkpoint."""

    stage: int = 0
    epoch: int = 0  # epochs completed in the current stage
    batch: int = 0  # batches completed in the current epoch (non-zero only in interrupt checkpoints)
    step: int = 0  # optimiser steps in the current stage
    history: list[dict[str, Any]] = field(default_factory=list)


def sed_target_matrix(dataset_classes: tuple[str, ...], output_classes: tuple[str, ...]) -> torch.Tensor:
    """[C_data, C_out] 0/1 matrix mapping the data set's class list onto the model's outputs."""
    position = {class_id: index for index, class_id in enumerate(output_classes)}
    matrix = torch.zeros(len(dataset_classes), len(output_classes))
    for row, class_id in enumerate(dataset_classes):
        if class_id not in position:
            raise InputError(
                f"the data set's class {class_id!r} is not one of the models' {len(output_classes)} output classes"
            )
        matrix[row, position[class_id]] = 1.0
    return matrix


def compute_losses(
    outputs, batch: dict[str, torch.Tensor], weights: tuple[float, float, float], *, direction_sigma_deg: float = 0.0
) -> dict[str, torch.Tensor]:
    """Weighted BCE on sound events, cross-entropy on distance, azimuth + elevation (direction).

    With ``direction_sigma_deg`` > 0 the direction targets are Gaussians of that width around the true class
    (circular in azimuth) instead of one-hot classes.
    """
    # at least float32 (bf16 outputs on GPU), float64 kept (parity tests)
    sed, distance, azimuth, elevation = (
        output.to(torch.promote_types(output.dtype, torch.float32)) for output in outputs
    )
    azimuth_target: torch.Tensor = batch["azimuth"]
    elevation_target: torch.Tensor = batch["elevation"]
    if direction_sigma_deg > 0:
        azimuth_target = soft_class_targets(azimuth_target, azimuth.shape[1], direction_sigma_deg, circular=True)
        elevation_target = soft_class_targets(elevation_target, elevation.shape[1], direction_sigma_deg, circular=False)
    parts = {
        "sed": F.binary_cross_entropy_with_logits(sed, batch["sed"]),
        "distance": F.cross_entropy(distance, batch["distance"]),
        "direction": F.cross_entropy(azimuth, azimuth_target) + F.cross_entropy(elevation, elevation_target),
    }
    parts["total"] = weights[0] * parts["sed"] + weights[1] * parts["distance"] + weights[2] * parts["direction"]
    return parts


@torch.no_grad()
def batch_accuracies(outputs, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Accuracies of the distance and direction outputs on a training batch.

    They are logged per epoch beside the losses (the run's metric curves): distance class exact, azimuth within 20
    degrees (the shorter way round), and elevation within 20 degrees.
    """
    _, distance, azimuth, elevation = outputs
    azimuth_error = (azimuth.argmax(dim=1) - batch["azimuth"]).abs()
    azimuth_error = torch.minimum(azimuth_error, azimuth.shape[1] - azimuth_error)
    return {
        "train_distance_acc": (distance.argmax(dim=1) == batch["distance"]).float().mean(),
        "train_azimuth_acc20": (azimuth_error <= 20).float().mean(),
        "train_elevation_acc20": ((elevation.argmax(dim=1) - batch["elevation"]).abs() <= 20).float().mean(),
    }


def soft_class_targets(classes: torch.Tensor, count: int, sigma: float, *, circular: bool) -> torch.Tensor:
    r"""Soft targets: a Gaussian around each true class over ``count`` one-degree classes.

    Rows of Gaussian weights :math:`\propto e^{-d^2 / 2\sigma^2}`, where :math:`d` is the distance to the true class
    (the shorter way round when ``circular``); rows sum to 1.

    >>> row = soft_class_targets(torch.tensor([0]), 360, 5.0, circular=True)[0]
    >>> bool(torch.isclose(row[1], row[359])), round(float(row.sum()), 6)
    (True, 1.0)
    """
    grid = torch.arange(count, device=classes.device, dtype=torch.float32)
    difference = (grid[None, :] - classes[:, None].float()).abs()
    if circular:
        difference = torch.minimum(difference, count - difference)
    weights = torch.exp(-0.5 * (difference / sigma) ** 2)
    return weights / weights.sum(dim=1, keepdim=True)


def model_inputs(batch: Mapping[str, torch.Tensor], device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
    """What a model's forward takes for ``batch``: (mono sources, impulse responses) to render on the model's device.

    A batch with a background (``noise``, ``snr_db``) is rendered here and the background added at its SNR, so the
    model gets binaural audio and no responses.
    """
    waveform, reverb = batch["waveform"].to(device), batch["reverb"].to(device)
    if "noise" not in batch:
        return waveform, reverb
    binaural = convolve_rir(waveform, reverb)
    return add_background(binaural, batch["noise"].to(device), batch["snr_db"].to(device)), None


class Trainer:
    """Trains ``model`` on the training sets through the stages of ``config``, with checkpoint and logs in ``out``.

    ``train_set`` is the training split, or the training splits by name when stages draw from different ones
    (a stage's ``split``; the published DSpAST stage 3 trains on the balanced set).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        train_set: BinauralDataset | Mapping[str, BinauralDataset],
        eval_set: BinauralDataset,
        config: TrainConfig,
        *,
        output_classes: tuple[str, ...],
        out: Path,
        device: torch.device,
        world: World = World(),
        progress_bars: bool = True,
        provenance: Provenance | None = None,
    ) -> None:
        self.provenance = provenance  # saved in every checkpoint: predict reads which protocol and data it came from
        self.train_sets = dict(train_set) if isinstance(train_set, Mapping) else {"train": train_set}
        missing = sorted({stage.split for stage in config.stages} - set(self.train_sets))
        if missing:
            raise InputError(f"the recipe's stages train on the split {missing[0]!r}, which the data set lacks")
        self.model, self.eval_set, self.config = model.to(device), eval_set, config
        self.out, self.device, self.world, self.progress_bars = out, device, world, progress_bars
        self.progress = Progress()
        self.sed_map = sed_target_matrix(self.train_set.index.classes, output_classes)  # applied on CPU, in _batch
        self.optimizer: torch.optim.Optimizer | None = None
        self.tensorboard = TensorBoardLog(out / "tensorboard")

    @property
    def train_set(self) -> BinauralDataset:
        """The split the current stage trains on (the last stage's once training is over)."""
        stage = self.config.stages[min(self.progress.stage, len(self.config.stages) - 1)]
        return self.train_sets[stage.split]

    # -- state -------------------------------------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path:
        """Path of the run's checkpoint, ``checkpoint.pt`` in ``out``."""
        return self.out / "checkpoint.pt"

    def _new_optimizer(self, stage: Stage) -> torch.optim.Optimizer:
        groups = parameter_groups(
            self.model,
            weight_decay=self.config.weight_decay,
            layer_decay=self.config.layer_decay,
            depth=config_of(self.model).depth,
        )
        return torch.optim.AdamW(groups, lr=stage.lr, betas=self.config.betas, eps=ADAM_EPS)

    def save(self, order: list[int] | None = None) -> None:
        """Write the checkpoint (main process only): weights, optimiser, progress, random states, data set classes.

        With a ``provenance``, also the run's protocols and data (what ``seldkit predict`` records beside its output).
        ``order`` is the current epoch's clip order, saved when training is interrupted within an epoch.
        """
        if not self.world.main:
            return
        save_checkpoint(
            self.checkpoint_path,
            {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict() if self.optimizer else None,
                "progress": self.progress.__dict__,
                "epoch_order": order,
                "torch_rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None,
                "data_rng": {name: dataset.rng.bit_generator.state for name, dataset in self.train_sets.items()},
                "model_config": config_of(self.model).__dict__,
                "classes": self.train_set.index.classes,
                **({PROVENANCE_KEY: self.provenance.as_state()} if self.provenance is not None else {}),
            },
        )

    def resume(self) -> list[int] | None:
        """Restore the state of :meth:`save`.

        A checkpoint of another model, configuration or data set, or one that is damaged, is an :class:`InputError`
        naming it.
        """
        path = self.checkpoint_path
        state = load_checkpoint(path)
        if dict(state["model_config"]) != config_of(self.model).__dict__:
            raise InputError(
                "this checkpoint was written for another model configuration than the protocol's", file=str(path)
            )
        if tuple(state.get("classes") or ()) != tuple(self.train_set.index.classes):
            raise InputError("this checkpoint was written for another data set (other classes)", file=str(path))
        load_weights(self.model, state["model"], path)
        try:
            self.progress = Progress(**state["progress"])
            for name in ("stage", "epoch", "batch", "step"):
                if not isinstance(getattr(self.progress, name), int) or getattr(self.progress, name) < 0:
                    raise ValueError(f"progress.{name} is not a count")
            if self.progress.stage < len(self.config.stages):
                self.optimizer = self._new_optimizer(self.config.stages[self.progress.stage])
                if state["optimizer"] is not None:
                    self.optimizer.load_state_dict(state["optimizer"])
            torch.set_rng_state(state["torch_rng"])
            if self.device.type == "cuda" and state.get("cuda_rng") is not None:
                torch.cuda.set_rng_state(state["cuda_rng"], self.device)
            if not isinstance(state["data_rng"], dict) or set(state["data_rng"]) != set(self.train_sets):
                raise ValueError("data_rng does not hold the random state of each training split")
            for name, dataset in self.train_sets.items():
                dataset.rng.bit_generator.state = state["data_rng"][name]
            order = state["epoch_order"]
            if order is not None and not (
                isinstance(order, list)
                and all(isinstance(item, int) and 0 <= item < len(self.train_set) for item in order)
            ):
                raise ValueError("epoch_order does not index the training set")
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as error:
            detail = " ".join(str(error).split())[:200]
            raise InputError(
                f"this checkpoint cannot be resumed (damaged or from another version): {detail}", file=str(path)
            ) from None
        return order

    # -- training ----------------------------------------------------------------------------------------
    def _epoch_order(self, stage: Stage) -> list[int]:
        generator = torch.Generator().manual_seed(
            self.config.seed * 1_000_003 + self.progress.stage * 1_009 + self.progress.epoch
        )
        available = len(self.train_set)
        wanted = stage.epoch_clips if stage.epoch_clips is not None else int(round(stage.data_fraction * available))
        count = max(self.config.batch_size, wanted)
        if stage.weighted_sampling:
            weights = torch.as_tensor(self.train_set.weights, dtype=torch.double)
            # in proportion to the weights; distinct clips unless the stage asks for replacement, as the published
            # sampler (its --replacement option, off in every released script)
            count = count if stage.replacement else min(available, count)
            return torch.multinomial(weights, count, replacement=stage.replacement, generator=generator).tolist()
        count = min(available, count)  # distinct clips: no more than the split holds
        return torch.randperm(len(self.train_set), generator=generator)[:count].tolist()

    def fit(self, *, resume: bool = False, on_step=None) -> None:
        """Run (or continue) every stage. ``on_step(trainer)`` is called after each step (tests use it)."""
        from tqdm import tqdm

        order = self.resume() if resume and self.checkpoint_path.exists() else None
        while self.progress.stage < len(self.config.stages):
            stage = self.config.stages[self.progress.stage]
            if self.optimizer is None:
                self.optimizer = self._new_optimizer(stage)
            # the published loader's random gain is on in every training stage; ``mixup`` is only the mixing probability
            self.train_set.augment = True
            self.train_set.mixup_probability = stage.mixup
            self.train_set.channel_swap_probability = self.config.channel_swap
            while self.progress.epoch < stage.epochs:
                if order is None:
                    order = self._epoch_order(stage)
                # full batches only: the published loaders drop the last, incomplete one (drop_last=True)
                size = self.config.batch_size
                batches = [order[i : i + size] for i in range(0, len(order) - size + 1, size)] or [order]
                steps_per_epoch = len(batches)
                totals: dict[str, float] = {}
                started = time.perf_counter()
                bar = tqdm(
                    total=steps_per_epoch,
                    initial=self.progress.batch,
                    disable=None if (self.progress_bars and self.world.main) else True,
                    desc=f"{stage.name} epoch {self.progress.epoch + 1}/{stage.epochs}",
                    leave=False,
                )
                self.model.train()
                try:
                    while self.progress.batch < steps_per_epoch:
                        indices = shard(batches[self.progress.batch], self.world)
                        losses = self.step(indices, stage, steps_per_epoch)
                        for name, value in losses.items():
                            totals[name] = totals.get(name, 0.0) + value
                        self.progress.batch += 1
                        bar.update(1)
                        bar.set_postfix(loss=f"{losses['total']:.3f}")
                        if on_step is not None:
                            on_step(self)
                except KeyboardInterrupt:
                    self.save(order)
                    raise
                finally:
                    bar.close()
                seconds = time.perf_counter() - started
                self.progress.epoch += 1
                self.progress.batch = 0
                record = {
                    "stage": stage.name,
                    "epoch": self.progress.epoch,
                    "step": self.progress.step,
                    "lr": self.optimizer.param_groups[-1]["lr"],
                    "seconds": round(seconds, 3),
                    "clips_per_s": round(sum(map(len, batches)) / seconds, 2),
                    **{
                        (name if name.startswith("train_") else f"loss_{name}"): value / steps_per_epoch
                        for name, value in totals.items()
                    },
                }
                self.progress.history.append(record)
                order = None
                self.save()
                self._log()
            self.progress.stage += 1
            self.progress.epoch = 0
            self.progress.step = 0
            self.optimizer = None
            self.save()
        self.tensorboard.close()

    def step(self, indices: list[int], stage: Stage, steps_per_epoch: int) -> dict[str, float]:
        """One optimiser step on the training clips ``indices``; the step's losses and batch accuracies.

        The learning rate follows the stage's schedule at the fractional epoch epoch + batch / ``steps_per_epoch``, set
        before the step as the published trainers do; gradients and buffers are averaged over processes. A non-finite
        loss is a :class:`TrainingError`, raised before the weights change.
        """
        assert self.optimizer is not None
        batch = self._batch(self.train_set, indices)
        set_learning_rate(
            self.optimizer,
            learning_rate(
                self.progress.epoch + self.progress.batch / steps_per_epoch,
                peak=stage.lr,
                warmup_epochs=stage.warmup_epochs,
                epochs=stage.epochs,
                minimum=self.config.min_lr,
            ),
        )
        targets = {name: batch[name] for name in ("distance", "azimuth", "elevation")}
        outputs = self.model(*model_inputs(batch, self.device), targets)
        losses = compute_losses(outputs, batch, stage.loss_weights, direction_sigma_deg=self.config.direction_sigma_deg)
        if not torch.isfinite(losses["total"]):
            raise TrainingError(
                f"the loss became {float(losses['total'].detach())} in {stage.name}, epoch {self.progress.epoch + 1}, "
                f"batch {self.progress.batch + 1}; stopped, the last good checkpoint is kept ({self.checkpoint_path})"
            )
        self.optimizer.zero_grad(set_to_none=True)
        losses["total"].backward()
        average_gradients(self.model, self.world)
        if self.config.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        average_buffers(self.model, self.world)
        self.progress.step += 1
        scalars = {
            **{name: value.detach().float() for name, value in losses.items()},
            **batch_accuracies(outputs, batch),
        }
        # one device-to-host copy per step for all logged numbers (each float() would be a GPU sync)
        return dict(zip(scalars, torch.stack(list(scalars.values())).tolist()))

    def _batch(self, dataset: BinauralDataset, indices: list[int]) -> dict[str, torch.Tensor]:
        batch = collate([dataset[index] for index in indices])
        batch["sed"] = batch["sed"] @ self.sed_map
        return {name: value.to(self.device) for name, value in batch.items()}

    def _log(self) -> None:
        """Write the history to ``log.jsonl`` and its newest record to TensorBoard (main process only).

        ``log.jsonl`` is written from the history the checkpoint holds, so the two always agree, whenever the process
        stops.
        """
        if not self.world.main:
            return
        write_text_atomic(
            self.out / "log.jsonl", "".join(json.dumps(record) + "\n" for record in self.progress.history)
        )
        self.tensorboard.write(self.progress.history[-1], len(self.progress.history))

    # -- evaluation --------------------------------------------------------------------------------------
    @torch.no_grad()
    def predict(self, dataset: BinauralDataset, *, batch_size: int = 64) -> dict[str, np.ndarray]:
        """Per-clip outputs for every item of ``dataset`` (all ranks together), in dataset order."""
        return predict(self.model, dataset, device=self.device, world=self.world, batch_size=batch_size)


@torch.no_grad()
def predict(
    model: torch.nn.Module,
    dataset: BinauralDataset,
    *,
    device: torch.device,
    world: World = World(),
    batch_size: int = 64,
) -> dict[str, np.ndarray]:
    """Sound-event probabilities [N, 355] and decoded direction (degrees) and distance (metres) per clip.

    Each rank scores its own share of the clips (no padding); the rows are gathered with their clip
    indices and put back in order, so every clip counts exactly once.
    """
    model.eval()
    augment, dataset.augment = dataset.augment, False
    mine = shard(list(range(len(dataset))), world)
    rows = []
    for start in range(0, len(mine), batch_size):
        indices = mine[start : start + batch_size]
        batch = collate([dataset[index] for index in indices])
        sed, distance, azimuth, elevation = model(*model_inputs(batch, device))
        rows.append(
            torch.cat(
                [
                    torch.tensor(indices, dtype=torch.float64)[:, None],
                    azimuth.argmax(dim=1).double().cpu()[:, None],
                    (elevation.argmax(dim=1).double().cpu() - 90.0)[:, None],
                    (distance.argmax(dim=1).double().cpu() * 0.5)[:, None],
                    torch.sigmoid(sed.double()).cpu(),
                ],
                dim=1,
            )
        )
    dataset.augment = augment
    local = torch.cat(rows) if rows else torch.zeros((0, 4 + config_of(model).n_classes), dtype=torch.float64)
    table = gather_rows(local, world)
    table = table[torch.argsort(table[:, 0])]
    if table.shape[0] != len(dataset) or not torch.equal(table[:, 0].long(), torch.arange(len(dataset))):
        raise RuntimeError("distributed evaluation lost or duplicated clips")
    return {
        "index": table[:, 0].long().numpy(),
        "azimuth": table[:, 1].numpy(),
        "elevation": table[:, 2].numpy(),
        "distance": table[:, 3].numpy(),
        "sed": table[:, 4:].numpy(),
    }
