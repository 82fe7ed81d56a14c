"""The body of the two-process test (importable by spawned workers)."""

from __future__ import annotations

from pathlib import Path

import torch

from seldkit.data.build import build_dataset, default_dataset_dir
from seldkit.models import create_model
from seldkit.models.layers.adacos import AdaCos
from seldkit.protocols import load_protocol
from seldkit.train.distributed import init_from_environment
from seldkit.train.loop import Trainer, predict
from seldkit.train.run import datasets


def run_worker(folder: Path, protocol_path: Path) -> None:
    """Evaluation of the test split, then one optimiser step on a fixed global batch of 8 clips."""
    world = init_from_environment(torch.device("cpu"))
    protocol = load_protocol(protocol_path)
    config = protocol.train.recipes["dspast"]
    if world.main:
        build_dataset(protocol, default_dataset_dir(protocol), progress=False)
    if world.size > 1:
        torch.distributed.barrier()
    train_set, test_set = datasets(protocol, config, progress=False)
    train_set.augment = False  # identical inputs in both set-ups
    torch.manual_seed(0)
    # no random masking, so both set-ups see the same inputs
    overrides = {
        **dict(config.model_overrides),
        "spec_time_mask": 0,
        "spec_freq_mask": 0,
        "patch_mask_time": 0.0,
        "patch_mask_freq": 0.0,
    }
    model = create_model("dspast", config.size, **overrides)
    classes = tuple(load_protocol("bat-encoder").classes.ids)  # type: ignore[union-attr]
    trainer = Trainer(
        model,
        train_set,
        test_set,
        config,
        output_classes=classes,
        out=folder,
        device=torch.device("cpu"),
        world=world,
        progress_bars=False,
    )
    # evaluation first, while every set-up holds the same initial weights
    predictions = predict(model, test_set, device=torch.device("cpu"), world=world, batch_size=1)
    stage = config.stages[1]
    trainer.optimizer = trainer._new_optimizer(stage)
    global_batch = list(range(8))
    model.train()
    # Batch statistics (BatchNorm's running moments, the AdaCos scale) are computed per process, as under DDP:
    # freeze them so that both set-ups compute the same function.
    for module in model.modules():
        if isinstance(module, (torch.nn.modules.batchnorm._BatchNorm, AdaCos)):
            module.eval()
    trainer.step(global_batch[world.rank :: world.size], stage, steps_per_epoch=10)
    gradients = {
        name: parameter.grad.detach().clone()
        for name, parameter in model.named_parameters()
        if parameter.grad is not None
    }
    parameters = {name: value.detach().clone() for name, value in model.state_dict().items()}
    # a second step with live batch statistics: the ranks must still hold one model afterwards
    model.train()
    trainer.step(list(range(8, 16))[world.rank :: world.size], stage, steps_per_epoch=10)
    after_live_step = {name: value.detach().clone() for name, value in model.state_dict().items()}
    torch.save(
        {
            "gradients": gradients,
            "parameters": parameters,
            "predictions": predictions,
            "after_live_step": after_live_step,
        },
        folder / f"result{world.rank}.pt",
    )
