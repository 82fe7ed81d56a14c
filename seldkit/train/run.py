"""One reference-model training run under a training protocol, from data to scored results."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from seldkit.data.build import (
    MANIFEST_FILE,
    MISSING_FILE,
    PublishedCopy,
    build_dataset,
    data_fingerprint,
    default_dataset_dir,
    read_published,
)
from seldkit.data.layout import BinauralDataset, DatasetIndex, read_dataset
from seldkit.data.references import clip_ids, write_references
from seldkit.errors import InputError
from seldkit.io.atomic import write_text_atomic
from seldkit.io.sidecar import PredictionsSidecar, write_sidecar
from seldkit.models import create_model, load_audiomae_encoder
from seldkit.protocols import Protocol, audioset_classes, load_protocol
from seldkit.results import write_json_atomic
from seldkit.scoring.clip import ClipScore, score_clip_files
from seldkit.train.checkpoint import Provenance, load_torch_file
from seldkit.train.config import TrainConfig
from seldkit.train.distributed import init_from_environment
from seldkit.train.loop import Trainer
from seldkit.train.outputs import (
    append_results_row,
    chance_outputs,
    results_json,
    write_clip_metadata,
    write_predictions,
)
from seldkit.train.run_folder import RunFolder, RunStart

_CACHE_LIMIT_BYTES = 2 * 1024**3
VALIDATION_SPLIT = "validation"


@dataclass(frozen=True)
class TrainingData:
    """A protocol's training and test sets, and for a published-layout protocol the copy of the data they come from.

    ``train`` is the ``train`` split; ``train_sets`` holds every training split the recipe's stages draw from.
    """

    train: BinauralDataset
    test: BinauralDataset
    copy: PublishedCopy | None = None
    train_sets: Mapping[str, BinauralDataset] | None = None
    validation: BinauralDataset | None = None  # the held-out split recipe decisions are made on, when there is one
    folder: Path | None = None  # the built data set's folder (None for a copy of the published data, read in place)


def training_data(
    protocol: Protocol,
    config,
    *,
    settings: Mapping[str, str] | None = None,
    data_dir: Path | None = None,
    progress: bool = True,
) -> TrainingData:
    """The protocol's training sets (augmented) and test set.

    A published-layout protocol reads the user's copy named by ``settings`` (the ``--set`` values) in place
    (:func:`seldkit.data.build.read_published`); any other protocol's data set is built or verified in ``data_dir``
    first. A stage's split the data lacks is an error naming it.
    """
    if protocol.train.generator == "published-layout":
        copy = read_published(protocol.train.data, dict(settings or {}))
        return _splits(copy.index, config, protocol, copy)
    data_dir = data_dir or default_dataset_dir(protocol)
    build_dataset(protocol, data_dir, settings=dict(settings or {}), progress=progress)
    return replace(_splits(read_dataset(data_dir), config, protocol, None), folder=data_dir)


def datasets(protocol: Protocol, config, *, data_dir: Path | None = None, progress: bool = True):
    """The protocol's (training, test) sets, built or verified in ``data_dir`` first; the training set is augmented."""
    data = training_data(protocol, config, data_dir=data_dir, progress=progress)
    return data.train, data.test


def _splits(index: DatasetIndex, config, protocol: Protocol, copy: PublishedCopy | None) -> TrainingData:
    clip, rir = index.info["clip_samples"], index.info["rir_samples"]
    responses = {pair.reverb for pair in index.pairs} | {name for pool in index.reverb_pools.values() for name in pool}
    cache = (len({pair.audio for pair in index.pairs}) * clip + len(responses) * 2 * rir) * 4 < _CACHE_LIMIT_BYTES

    def split(name: str, *, augment: bool) -> BinauralDataset:
        return BinauralDataset(
            index,
            name,
            clip_samples=clip,
            rir_samples=rir,
            label_mode=config.label_mode,
            augment=augment,
            seed=config.seed,
            cache=cache,
            sample_rate=int(index.info.get("sample_rate") or 32_000),
        )

    available = {pair.split for pair in index.pairs}
    names = ["train", *sorted({stage.split for stage in config.stages} - {"train"})]
    for name in names:
        if name not in available:
            hint = " (give --set balanced_audio_index=PATH)" if name == "balanced" and copy is not None else ""
            raise InputError(
                f"recipe {config.name!r} trains on the split {name!r}, which the data set does not have{hint}",
                file=None if protocol.path is None else str(protocol.path),
            )
    train_sets = {name: split(name, augment=True) for name in names}
    validation = split(VALIDATION_SPLIT, augment=False) if VALIDATION_SPLIT in available else None
    return TrainingData(train_sets["train"], split("test", augment=False), copy, train_sets, validation)


def _check_same_subset(subset: dict[str, Any], run: RunFolder) -> None:
    """A continued run must see the same subset of the published data it started on (the paths may differ)."""
    recorded = run.read_description().get("data") if run.description.is_file() else None
    if not isinstance(recorded, dict):
        return
    for part in ("sha256", "train", "balanced", "test", "missing"):
        if recorded.get(part) != subset[part]:
            raise InputError(
                f"this run was started on another copy or subset of the data (its {part} record differs); continue "
                "it with the same files, or choose another --out",
                file=str(run.description),
            )


def _write_copy_files(copy: PublishedCopy, run: RunFolder) -> None:
    """Write what a run on a copy of the published data keeps beside its results; warn once about missing files.

    ``missing.txt`` lists every file the indexes name that is absent, ``eval_manifest.json`` the evaluation pairs
    seldkit derived (when the user gave none).
    """
    if copy.missing:
        write_text_atomic(run.path / MISSING_FILE, copy.missing_text())
    if copy.derived:
        write_json_atomic(run.path / MANIFEST_FILE, copy.manifest)
    warning = copy.warning()
    if warning:
        print(
            f"seldkit train-reference: warning: {warning}; the full list is in {run.path / MISSING_FILE}",
            file=sys.stderr,
        )


def _score_validation(
    dataset: BinauralDataset,
    outputs: dict[str, Any],
    run: RunFolder,
    classes: tuple[str, ...],
    evaluation: Protocol,
    sidecar: PredictionsSidecar,
) -> dict[str, Any]:
    """Score the validation split's predictions (written beside the test ones) under the evaluation protocol."""
    from seldkit.results import jsonable

    write_predictions(clip_ids(dataset), outputs, tuple(classes), run.validation_predictions)
    write_sidecar(run.validation_predictions, sidecar, written_by="train-reference")
    write_references(dataset, run.validation_references)
    score = score_clip_files(run.validation_predictions, run.validation_references, evaluation)
    return {"metrics": jsonable(score.metrics.scalars()), "n_clips": score.metrics.n_clips}


def check_initialisation(config: TrainConfig, *, init: Path | None, continuing: bool, protocol_name: str) -> None:
    """A recipe that starts from AudioMAE weights (``init: audiomae``) gets them, unless an unfinished run goes on."""
    if config.init == "audiomae" and init is None and not continuing:
        raise InputError(
            f"recipe {config.name!r} of {protocol_name} starts from AudioMAE weights, as the published training "
            "does: give --init PATH (the AudioMAE ViT-B checkpoint pretrained on AudioSet-2M, the published "
            "pretrained.pth)"
        )


@dataclass(frozen=True)
class TrainedRun:
    """A finished run: its folder, what it was trained under, the test scores beside chance, and its results JSON."""

    folder: RunFolder
    training_protocol: Protocol
    config: TrainConfig
    score: ClipScore
    chance: ClipScore
    seconds: float
    results: dict[str, Any]


def train_reference(
    model_name: str,
    *,
    protocol: str | Path | Protocol = "synth-binaural-mini",
    out: Path,
    resume: bool = False,
    device: str = "cpu",
    init: Path | None = None,
    progress: bool = True,
    on_step=None,
    settings: Mapping[str, str] | None = None,
    recipe: str | None = None,
    seed_offset: int = 0,
) -> TrainedRun | None:
    """Train, evaluate, and write the run's files; returns the finished run (on the main process; None elsewhere).

    ``out`` must be new, empty, or hold an unfinished run of this model under this protocol, which is then
    continued from its checkpoint (:class:`~seldkit.train.run_folder.RunFolder`); ``resume`` demands one.
    ``settings`` are the protocol's data parameters (``--set``): for a published-layout protocol, the paths of the
    user's copy of the published data. Such a run records the subset of the data it used (clip counts and digests
    of the id lists) in ``run.json`` and in its results, and lists absent files in ``missing.txt``. ``recipe``
    names one of the protocol's recipes for the model (default: the model's default recipe); a recipe that starts
    from AudioMAE weights needs ``init`` (unless the run is continued). ``seed_offset`` k trains with the recipe's
    seed + k (seed k of several, :mod:`seldkit.train.seeds`); the data set is the same for every seed.
    """
    training = protocol if isinstance(protocol, Protocol) else load_protocol(protocol)
    config = training.train.recipe(model_name, name=recipe, protocol_name=training.name, file=training.path)
    if seed_offset:
        config = replace(config, seed=config.seed + seed_offset)
    run = RunFolder(out)
    start = run.prepare(model=model_name, protocol_hash=f"sha256:{training.hash}", resume=resume, recipe=config.name)
    resume = start is RunStart.CONTINUE
    check_initialisation(config, init=init, continuing=resume, protocol_name=training.name)
    initial = load_torch_file(init, published=True) if init is not None and not resume else None
    torch_device = torch.device(device)
    world = init_from_environment(torch_device)
    if torch_device.type == "cuda" and torch_device.index is None:
        # a plain "cuda" names no GPU, and torch.cuda.set_device / get_rng_state need one: under torchrun one GPU per
        # process (its local rank), else the current one
        torch_device = torch.device("cuda", world.local_rank if world.size > 1 else torch.cuda.current_device())
    if torch_device.type == "cuda":
        torch.cuda.set_device(torch_device)
    torch.manual_seed(config.seed + world.rank)
    if world.main:
        data = training_data(training, config, settings=settings, progress=progress)
        if data.copy is not None and resume:
            _check_same_subset(data.copy.subset(), run)
    if world.size > 1:
        torch.distributed.barrier()
    if not world.main:
        data = training_data(training, config, settings=settings, progress=False)
    train_set, test_set = data.train, data.test
    train_sets = data.train_sets or {"train": train_set}
    subset = data.copy.subset() if data.copy is not None else None
    model = create_model(model_name, config.size, **dict(config.model_overrides))
    if config.head_init == "default":
        model.reset_heads()  # type: ignore[operator]
    if torch_device.type == "cuda":
        model.encoder.bf16 = True  # type: ignore[union-attr]
    if initial is not None:
        load_audiomae_encoder(model, initial, file=init)
    evaluation = load_protocol(config.evaluation_protocol)
    output_classes = audioset_classes().ids
    # what the checkpoint and the predictions' sidecars record: the data set is the protocol's built copy (a copy of
    # the published data has no fingerprint)
    fingerprint = data_fingerprint(training) if data.folder is not None else None
    provenance = Provenance(training.summary(), config.name, config.evaluation_protocol, fingerprint)
    if world.main:
        write_json_atomic(
            run.description,
            {
                "model": model_name,
                "recipe": config.name,
                "size": config.size,
                "seed": config.seed,
                "protocol": training.summary(),
                "init": {"kind": config.init, "file": None if init is None else str(init), "heads": config.head_init},
                "optimizer": config.optimiser_summary(),
                "stages": [stage.__dict__ for stage in config.stages],
                "group_by": config.group_by,
                **({"data": subset} if subset is not None else {}),
            },
        )
        if data.copy is not None:
            _write_copy_files(data.copy, run)
    trainer = Trainer(
        model,
        train_sets,
        test_set,
        config,
        output_classes=tuple(output_classes),
        out=out,
        device=torch_device,
        world=world,
        progress_bars=progress,
        provenance=provenance,
    )
    started = time.perf_counter()
    trainer.fit(resume=resume, on_step=on_step)
    validation_outputs = trainer.predict(data.validation) if data.validation is not None else None
    outputs = trainer.predict(test_set)
    if not world.main:
        return None
    seconds = time.perf_counter() - started

    def sidecar(split: str) -> PredictionsSidecar:
        return provenance.sidecar(split, data.folder)  # what the predictions of each split are described by

    validation = None
    if data.validation is not None and validation_outputs is not None:
        validation = _score_validation(
            data.validation, validation_outputs, run, output_classes, evaluation, sidecar(VALIDATION_SPLIT)
        )
    ids = clip_ids(test_set)
    write_predictions(ids, outputs, tuple(output_classes), run.predictions)
    write_sidecar(run.predictions, sidecar("test"), written_by="train-reference")
    write_references(test_set, run.references)
    write_clip_metadata(test_set, run.clips)
    chance = chance_outputs(train_set, len(ids), trainer.sed_map.numpy())
    write_predictions(ids, chance, tuple(output_classes), run.chance_predictions)
    write_sidecar(run.chance_predictions, sidecar("test"), written_by="train-reference")
    score = score_clip_files(run.predictions, run.references, evaluation)
    baseline = score_clip_files(run.chance_predictions, run.references, evaluation)
    extra = {
        "model": model_name,
        "recipe": config.name,
        "size": config.size,
        "epochs": config.total_epochs,
        "seed": config.seed,
        "seconds": round(seconds, 1),
        "world_size": world.size,
        "device": device,
        **({"data": subset} if subset is not None else {}),
    }
    document = results_json(score, baseline, training, extra)
    if validation is not None:
        document["validation"] = validation
    append_results_row(out, model_name, training, score, baseline)
    write_json_atomic(run.results, document)  # last: a results.json marks the run finished
    return TrainedRun(
        folder=run,
        training_protocol=training,
        config=config,
        score=score,
        chance=baseline,
        seconds=seconds,
        results=document,
    )
