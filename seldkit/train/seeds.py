"""Training one model from several seeds (``train-reference --seeds N``, ``training.seeds: N``), and their summary.

Seed k trains with the recipe's seed + k on the same data set; one seed's score says little about how much of it
is the seed's luck, so the spread between seeds is recorded beside their mean. With N > 1 the output folder holds:

- ``seeds.json``: what the runs are (model, recipe, model size, the training protocol's name and hash, the seeds),
  written before training; a repeated command checks it before it continues;
- ``seed0/``, ``seed1/``, ...: seed k's run, an ordinary run folder (:class:`~seldkit.train.run_folder.RunFolder`);
- ``results.json``: when every seed finished, each seed's metrics (the model's and chance's) and their aggregate
  per metric (mean, sample standard deviation, min, max, n); written last, it marks the whole finished;
- ``results.md``: the same as a table.

Running the same command again continues: finished seeds (their ``results.json`` exists) are skipped, an unfinished
one resumes from its checkpoint. ``seldkit compare`` pairs the seeds of two such folders
(:func:`seldkit.scoring.compare.compare_clip_seeds`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seldkit.errors import InputError
from seldkit.io.atomic import write_text_atomic
from seldkit.io.fields import Fields
from seldkit.io.jsonfile import read_json_file
from seldkit.metrics.metadata import CLIP_METRICS, metric_info
from seldkit.metrics.seeds import summarise_seeds
from seldkit.protocols import Protocol, load_protocol
from seldkit.results import write_json_atomic
from seldkit.train.config import MAX_SEEDS, TrainConfig
from seldkit.train.run_folder import SEEDS_FILE, RunFolder, RunStart, check_run_identity, run_folder_entries


def is_seeds_folder(path: Path) -> bool:
    """Whether ``path`` holds the runs of several seeds (it has a ``seeds.json``)."""
    return (Path(path) / SEEDS_FILE).is_file()


@dataclass(frozen=True)
class SeedsFolder:
    """The folder of several seeds' runs at ``path``: its files, and whether a run of N seeds may use it."""

    path: Path

    @property
    def description(self) -> Path:
        """Path of ``seeds.json``: model, recipe, size, training protocol and seeds."""
        return self.path / SEEDS_FILE

    @property
    def results(self) -> Path:
        """Path of the seeds' ``results.json``; written last, it marks every seed finished."""
        return self.path / "results.json"

    @property
    def results_table(self) -> Path:
        """Path of the Markdown table of the seeds' results, ``results.md``."""
        return self.path / "results.md"

    def run(self, index: int) -> RunFolder:
        """The run folder of the ``index``-th seed (from 0), ``seed<index>/``."""
        return RunFolder(self.path / f"seed{index}")

    def read_description(self) -> dict[str, Any]:
        """``seeds.json``, checked: model, recipe, the protocol's name and hash, 2..MAX_SEEDS whole-number seeds."""
        document = read_json_file(self.description)
        fields = Fields(document, file=self.description)
        check_run_identity(fields, recipe_required=True)
        seeds = fields.raw("seeds")
        if not isinstance(seeds, list) or not 2 <= len(seeds) <= MAX_SEEDS:
            raise fields.error("seeds", f"must be a list of 2 to {MAX_SEEDS} seeds")
        for index, seed in enumerate(seeds):
            fields.check_integer(f"seeds[{index}]", seed, minimum=0)
        return document

    def runs(self) -> list[RunFolder]:
        """The seeds' run folders, in the order of ``seeds.json``."""
        return [self.run(index) for index in range(len(self.read_description()["seeds"]))]

    def prepare(
        self, *, model: str, recipe: str, protocol: Protocol, seeds: list[int], resume: bool
    ) -> list[RunStart | None]:
        """How each seed's run may use its folder: None for a finished seed (skipped), else new or continued.

        The folder must be new, empty, or hold the unfinished runs of the same model, recipe, training protocol and
        seeds (``seeds.json``); anything else is an :class:`InputError` before any work. ``resume`` demands runs
        to continue.
        """
        folder = self.path
        entries = run_folder_entries(folder)
        if not entries:
            if resume:
                raise InputError("no seeds' runs to resume", file=str(self.description))
            return [RunStart.NEW] * len(seeds)
        if not self.description.is_file():
            held = (
                "the run of one seed (run.json)"
                if (folder / "run.json").is_file()
                else f"{sorted(entries)[0]!r}{', ...' if len(entries) > 1 else ''}"
            )
            raise InputError(
                f"this folder holds {held}, not the runs of {len(seeds)} seeds; choose another --out", file=str(folder)
            )
        recorded = self.read_description()
        same = (
            recorded["model"] == model
            and recorded["recipe"] == recipe
            and recorded["protocol"]["hash"] == f"sha256:{protocol.hash}"
            and recorded["seeds"] == seeds
        )
        if not same:
            raise InputError(
                f"this folder holds {len(recorded['seeds'])} seeds ({_listed(recorded['seeds'])}) of "
                f"{recorded['model']} (recipe {recorded['recipe']}) under {recorded['protocol']['name']} "
                f"({recorded['protocol']['hash'][:19]}), not {len(seeds)} seeds ({_listed(seeds)}) of {model} "
                f"(recipe {recipe}) under {protocol.name} (sha256:{protocol.short_hash}); choose another --out",
                file=str(self.description),
            )
        if self.results.exists():
            raise InputError("this folder holds finished runs of every seed; choose another --out", file=str(folder))
        starts: list[RunStart | None] = []
        for index in range(len(seeds)):
            run = self.run(index)
            finished = run.results.is_file()
            starts.append(
                None
                if finished
                else run.prepare(model=model, protocol_hash=f"sha256:{protocol.hash}", resume=False, recipe=recipe)
            )
        return starts


def _listed(seeds: list[int]) -> str:
    return ", ".join(str(seed) for seed in seeds) if len(seeds) <= 4 else f"{seeds[0]}..{seeds[-1]}"


@dataclass(frozen=True)
class TrainedSeeds:
    """Every seed's finished run: the folder, what they were trained under, and the seeds' ``results.json``."""

    folder: SeedsFolder
    training_protocol: Protocol
    config: TrainConfig
    results: dict[str, Any]


def seed_values(config: TrainConfig, n_seeds: int) -> list[int]:
    """The seeds of ``n_seeds`` runs of ``config``: its seed, seed + 1, ..."""
    return [config.seed + index for index in range(n_seeds)]


def describe_seeds(folder: SeedsFolder, config: TrainConfig, training: Protocol, seeds: list[int]) -> dict[str, Any]:
    """``seeds.json``: the model, recipe and size, the training protocol's summary, the seeds and their folders."""
    return {
        "model": config.model,
        "recipe": config.name,
        "size": config.size,
        "protocol": training.summary(),
        "seeds": seeds,
        "folders": [folder.run(index).path.name for index in range(len(seeds))],
    }


def train_seeds(
    model_name: str,
    *,
    n_seeds: int,
    protocol: str | Path | Protocol = "synth-binaural-mini",
    out: Path,
    resume: bool = False,
    device: str = "cpu",
    init: Path | None = None,
    progress: bool = True,
    on_step: Any = None,
    settings: Mapping[str, str] | None = None,
    recipe: str | None = None,
) -> TrainedSeeds | None:
    """Train ``n_seeds`` (2..MAX_SEEDS) runs of a model in ``out``, then write their summary (see the module docstring).

    The arguments are :func:`~seldkit.train.run.train_reference`'s; seed k's run is in ``out/seed<k>`` and trains
    with the recipe's seed + k. Returns the finished seeds on the main process, None on the others.
    """
    import torch

    from seldkit.train.distributed import init_from_environment
    from seldkit.train.run import check_initialisation, train_reference

    if not 2 <= n_seeds <= MAX_SEEDS:
        raise ValueError(f"n_seeds must be 2 to {MAX_SEEDS} (one seed is an ordinary run: train_reference)")
    training = protocol if isinstance(protocol, Protocol) else load_protocol(protocol)
    config = training.train.recipe(model_name, name=recipe, protocol_name=training.name, file=training.path)
    folder = SeedsFolder(Path(out))
    seeds = seed_values(config, n_seeds)
    starts = folder.prepare(model=model_name, recipe=config.name, protocol=training, seeds=seeds, resume=resume)
    check_initialisation(config, init=init, continuing=RunStart.NEW not in starts, protocol_name=training.name)
    world = init_from_environment(torch.device(device))
    if world.main and not folder.description.is_file():
        write_json_atomic(folder.description, describe_seeds(folder, config, training, seeds))
    for index, start in enumerate(starts):
        if start is None:
            continue  # finished in an earlier call
        train_reference(
            model_name,
            protocol=training,
            out=folder.run(index).path,
            device=device,
            init=init,
            progress=progress,
            on_step=on_step,
            settings=settings,
            recipe=recipe,
            seed_offset=index,
        )
    if not world.main:
        return None
    document = seeds_results(folder)
    write_text_atomic(folder.results_table, seeds_table(document))
    write_json_atomic(folder.results, document)  # last: it marks every seed finished
    return TrainedSeeds(folder=folder, training_protocol=training, config=config, results=document)


def seeds_results(folder: SeedsFolder) -> dict[str, Any]:
    """The seeds' results JSON, from their runs' ``results.json``: each seed's metrics and chance's, the aggregate.

    ``aggregate`` holds, per metric, the mean, sample standard deviation, min, max and n over the seeds
    (:func:`~seldkit.metrics.seeds.summarise_seeds`), for the model (``metrics``) and for chance (``chance``).
    """
    from seldkit import __version__

    description = folder.read_description()
    per_seed: list[dict[str, Any]] = []
    evaluation: dict[str, Any] | None = None
    n_clips = None
    for index, (seed, run) in enumerate(zip(description["seeds"], folder.runs())):
        results = read_json_file(run.results)
        fields = Fields(results, file=run.results)
        metrics, chance = fields.section("metrics"), fields.section("chance").section("metrics")
        protocol = fields.section("protocol").mapping
        if evaluation is None:
            evaluation, n_clips = dict(protocol), results.get("n")
        elif protocol.get("hash") != evaluation.get("hash") or results.get("n") != n_clips:
            raise InputError(
                f"seed {index} was scored under another protocol or on other clips than seed 0", file=str(run.results)
            )
        per_seed.append(
            {
                "seed": seed,
                "folder": run.path.name,
                "metrics": {name: metrics.mapping.get(name) for name in CLIP_METRICS},
                "chance": {name: chance.mapping.get(name) for name in CLIP_METRICS},
                "seconds": (results.get("training") or {}).get("seconds"),
            }
        )
    aggregate = {
        part: {name: summarise_seeds([run[part][name] for run in per_seed]) for name in CLIP_METRICS}
        for part in ("metrics", "chance")
    }
    return {
        "model": description["model"],
        "recipe": description["recipe"],
        "size": description.get("size"),
        "training_protocol": description["protocol"],
        "protocol": evaluation,
        "seldkit_version": __version__,
        "n": n_clips,
        "n_seeds": len(per_seed),
        "seeds": per_seed,
        "aggregate": aggregate,
    }


def mean_sd(summary: Mapping[str, Any], name: str) -> str:
    """``mean ± sd`` of a metric's aggregate over seeds, in its display unit (``–`` where undefined)."""
    info = metric_info(name)
    if summary.get("mean") is None:
        return "–"
    symbol = f" {info.symbol()}" if info.symbol() else ""
    sd = "–" if summary.get("sd") is None else f"{summary['sd'] * info.scale:.2f}"
    return f"{summary['mean'] * info.scale:.2f} ± {sd}{symbol}"


def seeds_table(document: Mapping[str, Any]) -> str:
    """``results.md`` of several seeds: a row per seed, the mean ± sd over seeds, and chance's mean."""
    training, evaluation = document["training_protocol"], document["protocol"] or {}
    lines = [
        f"{document['model']} (recipe {document['recipe']}) under {training['name']} ({training['hash'][:19]}), "
        f"{document['n_seeds']} seeds; scored under {evaluation.get('name')} on {document['n']} test clips",
        "",
        "| seed | " + " | ".join(CLIP_METRICS) + " |",
        "|---|" + "---|" * len(CLIP_METRICS),
    ]
    for run in document["seeds"]:
        cells = [metric_info(name).display(run["metrics"][name]) for name in CLIP_METRICS]
        lines.append(f"| {run['seed']} ({run['folder']}) | " + " | ".join(cells) + " |")
    aggregate = document["aggregate"]
    lines.append(
        "| mean ± sd | " + " | ".join(mean_sd(aggregate["metrics"][name], name) for name in CLIP_METRICS) + " |"
    )
    chance = [metric_info(name).display(aggregate["chance"][name]["mean"]) for name in CLIP_METRICS]
    lines.append("| chance (mean) | " + " | ".join(chance) + " |")
    return "\n".join(lines) + "\n"
