"""One reference-model training run under a training protocol, from data to scored results."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch

from seldkit.data.build import build_dataset, default_dataset_dir
from seldkit.data.layout import BinauralDataset, read_dataset
from seldkit.models import create_model, load_audiomae_encoder
from seldkit.protocols import Protocol, load_protocol
from seldkit.train.config import train_config
from seldkit.train.distributed import init_from_environment
from seldkit.train.loop import Trainer
from seldkit.train.outputs import (
    append_results_row,
    chance_outputs,
    clip_ids,
    results_json,
    write_predictions,
    write_references,
)
from seldkit.results import write_json_atomic
from seldkit.scoring.clip import score_clip_files

_CACHE_LIMIT_BYTES = 2 * 1024**3


def datasets(protocol: Protocol, config, *, data_dir: Path | None = None, progress: bool = True):
    data_dir = data_dir or default_dataset_dir(protocol)
    build_dataset(protocol, data_dir, progress=progress)
    index = read_dataset(data_dir)
    clip, rir = index.info["clip_samples"], index.info["rir_samples"]
    cache = len(index.pairs) * (clip + 2 * rir) * 4 < _CACHE_LIMIT_BYTES
    train = BinauralDataset(index, "train", clip_samples=clip, rir_samples=rir, label_mode=config.label_mode,  # type: ignore[arg-type]
                            augment=True, seed=config.seed, cache=cache)
    test = BinauralDataset(index, "test", clip_samples=clip, rir_samples=rir, label_mode=config.label_mode,  # type: ignore[arg-type]
                           augment=False, seed=config.seed, cache=cache)
    return train, test


def train_reference(
    model_name: str,
    *,
    protocol: str | Path = "synth-binaural-mini",
    out: Path,
    resume: bool = False,
    device: str = "cpu",
    init: Path | None = None,
    progress: bool = True,
    on_step=None,
) -> dict[str, Any] | None:
    """Train, evaluate, and write the run's files; returns the results JSON (on the main process)."""
    torch_device = torch.device(device)
    world = init_from_environment(torch_device)
    if torch_device.type == "cuda" and world.size > 1 and torch_device.index is None:
        torch_device = torch.device("cuda", world.local_rank)  # one GPU per process, as torchrun launches them
    if torch_device.type == "cuda":
        torch.cuda.set_device(torch_device)
    training = load_protocol(protocol)
    config = train_config(training.content, model_name)
    torch.manual_seed(config.seed + world.rank)
    out.mkdir(parents=True, exist_ok=True)
    if world.main:
        train_set, test_set = datasets(training, config, progress=progress)
    if world.size > 1:
        torch.distributed.barrier()
    if not world.main:
        train_set, test_set = datasets(training, config, progress=False)
    model = create_model(model_name, config.size, **dict(config.model_overrides))
    if torch_device.type == "cuda":
        model.encoder.bf16 = True  # type: ignore[union-attr]
    if init is not None and not resume:
        load_audiomae_encoder(model, torch.load(init, map_location="cpu", weights_only=False))
    output_classes = load_protocol("bat-encoder").classes.ids  # type: ignore[union-attr]
    trainer = Trainer(model, train_set, test_set, config, output_classes=tuple(output_classes), out=out, device=torch_device,
                      world=world, progress_bars=progress)
    if world.main:
        (out / "run.json").write_text(json.dumps({"model": model_name, "size": config.size, "protocol": training.summary(),
                                                  "stages": [stage.__dict__ for stage in config.stages]}, indent=1))
    started = time.perf_counter()
    trainer.fit(resume=resume, on_step=on_step)
    outputs = trainer.predict(test_set)
    if not world.main:
        return None
    seconds = time.perf_counter() - started
    ids = clip_ids(test_set)
    write_predictions(ids, outputs, tuple(output_classes), out / "predictions.csv")
    write_references(test_set, out / "references.csv")
    chance = chance_outputs(train_set, len(ids), trainer.sed_map.numpy())
    write_predictions(ids, chance, tuple(output_classes), out / "chance_predictions.csv")
    evaluation = load_protocol(config.evaluation_protocol)
    score = score_clip_files(out / "predictions.csv", out / "references.csv", evaluation)
    baseline = score_clip_files(out / "chance_predictions.csv", out / "references.csv", evaluation)
    extra = {"model": model_name, "size": config.size, "epochs": config.total_epochs, "seconds": round(seconds, 1),
             "world_size": world.size, "device": device}
    document = results_json(score, baseline, training, extra)
    write_json_atomic(out / "results.json", document)
    append_results_row(out, model_name, training, score, baseline)
    return document
