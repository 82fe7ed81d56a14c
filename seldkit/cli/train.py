"""The training commands: ``seldkit train-reference`` and ``seldkit predict``.

``seldkit train-reference {dspast,spatialast} [--protocol NAME] [--set KEY=VALUE ...] [--out DIR] [--seeds N]
[--resume] [--device ...]``
and ``seldkit predict --checkpoint CKPT --data DIR --out preds.csv [--split NAME]`` (which also writes
``preds.csv.seldkit.json``, the predictions' sidecar).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seldkit.train.config import TrainConfig
    from seldkit.train.run import TrainedRun
    from seldkit.train.seeds import TrainedSeeds


def register(commands: Any) -> None:
    """Add the ``train-reference`` and ``predict`` commands to the subcommand parsers ``commands``."""
    train = commands.add_parser(
        "train-reference",
        help="train a reference encoder under a training protocol and score it",
        description="Train SpatialAST or DSpAST under a training protocol (curriculum, data, model size), then "
        "write predictions, a results JSON scored under the protocol's evaluation protocol, and a chance "
        "baseline scored the same way. Multi-GPU / multi-node: run it under torchrun.",
    )
    train.add_argument("model", choices=("dspast", "spatialast"))
    train.add_argument(
        "--protocol", default="synth-binaural-mini", metavar="NAME|FILE", help="default: synth-binaural-mini"
    )
    train.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a data parameter of the protocol (published-layout protocols such as spatialsoundqa-train: the paths "
        "of your copy of the published data, see docs/formats.md)",
    )
    train.add_argument("--out", type=Path, metavar="DIR", help="run folder (default: runs/<model>-<protocol>)")
    train.add_argument(
        "--seeds",
        type=seed_count,
        metavar="N",
        help="train N runs from the seeds seed, seed + 1, ... (in DIR/seed0, DIR/seed1, ...) and summarise them "
        "(default: the protocol's training.seeds, else 1)",
    )
    train.add_argument("--resume", action="store_true", help="continue from the run folder's checkpoint")
    train.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    train.add_argument(
        "--recipe", metavar="NAME", help="one of the protocol's recipes for the model (default: the model's first)"
    )
    train.add_argument("--init", type=Path, metavar="CKPT", help="initialise the encoder from an AudioMAE checkpoint")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.set_defaults(run=run_train)

    predict = commands.add_parser(
        "predict",
        help="write a trained model's predictions for a data set in the clip CSV format",
        description="Run a checkpoint of seldkit train-reference on a data set (published layout) and write "
        "the predictions in the clip CSV format (seldkit score reads it), and beside it CSV.seldkit.json: the "
        "training protocol, data set and split they are for, so that seldkit score CSV needs no --ref.",
    )
    predict.add_argument("--checkpoint", type=Path, required=True, metavar="CKPT")
    predict.add_argument(
        "--data", type=Path, required=True, metavar="DIR", help="a data set folder (make-dataset output)"
    )
    predict.add_argument("--out", type=Path, required=True, metavar="CSV")
    predict.add_argument("--split", default="test", help="the data set's split to predict (default: test)")
    predict.add_argument("--device", default=None)
    predict.set_defaults(run=run_predict)


def seed_count(text: str) -> int:
    """``--seeds``: a number of training seeds, a whole number in 1 .. MAX_SEEDS."""
    from seldkit.train.config import MAX_SEEDS

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of seeds, got {text!r}") from None
    if not 1 <= value <= MAX_SEEDS:
        raise argparse.ArgumentTypeError(f"the number of seeds must lie in 1..{MAX_SEEDS}, got {text!r}")
    return value


def run_train(args: argparse.Namespace) -> int:
    """Run ``seldkit train-reference``: train and score a model in its run folder; the exit status.

    With more than one seed (``--seeds``, else the protocol's ``training.seeds``) every seed's run is trained in
    its own folder under ``--out`` (:mod:`seldkit.train.seeds`). A failed training (a non-finite loss) gives 1 and
    an interruption 130; the checkpoint keeps the progress.
    """
    from seldkit.cli.make_dataset import parse_settings
    from seldkit.cli.options import torch_device
    from seldkit.errors import InputError
    from seldkit.protocols import load_protocol
    from seldkit.train.run import check_initialisation, train_reference
    from seldkit.train.run_folder import RunFolder, RunStart

    settings = parse_settings(args.set)
    protocol = load_protocol(args.protocol)
    if protocol.task != "train":
        raise InputError(f"protocol {protocol.name!r} is a {protocol.task} protocol, not a training protocol")
    device = torch_device(args.device)
    out = args.out or Path("runs") / f"{args.model}-{protocol.name}"
    if args.init is not None and not args.init.is_file():
        raise InputError(
            "checkpoint not found" if not args.init.exists() else "a checkpoint is a file", file=str(args.init)
        )
    config = protocol.train.recipe(args.model, name=args.recipe, protocol_name=protocol.name, file=protocol.path)
    n_seeds = args.seeds or config.seeds
    # what every run is trained with, one seed or several
    options: dict[str, Any] = {
        "protocol": protocol,
        "out": out,
        "resume": args.resume,
        "device": device,
        "init": args.init,
        "progress": not args.quiet,
        "settings": settings,
        "recipe": args.recipe,
    }
    if n_seeds > 1:
        return _run_seeds(args, config, n_seeds, options)
    start = RunFolder(out).prepare(
        model=args.model, protocol_hash=f"sha256:{protocol.hash}", resume=args.resume, recipe=config.name
    )
    check_initialisation(config, init=args.init, continuing=start is RunStart.CONTINUE, protocol_name=protocol.name)
    if start is RunStart.CONTINUE and not args.resume:
        print(f"continuing the unfinished run in {out} from its checkpoint")
    return _guarded(
        lambda: train_reference(args.model, **options), format_run, progress_held=f"the checkpoint in {out} holds"
    )


def _run_seeds(args: argparse.Namespace, config: TrainConfig, n_seeds: int, options: dict[str, Any]) -> int:
    """``train-reference`` with several seeds: say which seeds are skipped or continued, train, print the summary.

    ``options`` are :func:`~seldkit.train.seeds.train_seeds`'s keyword arguments (protocol, out, device, ...).
    """
    from seldkit.train.run import check_initialisation
    from seldkit.train.run_folder import RunStart
    from seldkit.train.seeds import SeedsFolder, seed_values, train_seeds

    protocol, out = options["protocol"], options["out"]
    folder = SeedsFolder(out)
    seeds = seed_values(config, n_seeds)
    starts = folder.prepare(model=args.model, recipe=config.name, protocol=protocol, seeds=seeds, resume=args.resume)
    check_initialisation(config, init=args.init, continuing=RunStart.NEW not in starts, protocol_name=protocol.name)
    for index, start in enumerate(starts):
        if start is None:
            print(f"seed {seeds[index]} ({folder.run(index).path}) finished before: skipped")
        elif start is RunStart.CONTINUE:
            print(f"seed {seeds[index]}: continuing the unfinished run in {folder.run(index).path} from its checkpoint")
    return _guarded(
        lambda: train_seeds(args.model, n_seeds=n_seeds, **options),
        format_seeds,
        progress_held=f"the checkpoints under {out} hold",
    )


def _guarded(train: Callable[[], Any], describe: Callable[[Any], str], *, progress_held: str) -> int:
    """Run ``train`` and print ``describe`` of what it returns (None on other processes); the exit status.

    A failed training (a non-finite loss) gives 1 and an interruption 130; ``progress_held`` says where the
    progress is kept.
    """
    from seldkit.train.loop import TrainingError

    try:
        finished = train()
    except TrainingError as error:
        print(f"seldkit train-reference: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\ninterrupted; {progress_held} the progress: run the same command again to continue", file=sys.stderr)
        return 130
    if finished is not None:
        print(describe(finished))
    return 0


def format_seeds(run: TrainedSeeds) -> str:
    """What ``train-reference --seeds N`` prints: a line per seed, and each metric's mean ± sd beside chance."""
    from seldkit.metrics.metadata import CLIP_METRICS, metric_info
    from seldkit.train.seeds import mean_sd

    document, config, protocol = run.results, run.config, run.training_protocol
    seconds = sum(seed["seconds"] or 0.0 for seed in document["seeds"])
    recipe = "" if config.name == config.model else ", recipe " + config.name
    lines = [
        f"{config.model} ({config.size}{recipe}) trained under {protocol.name} (sha256:{protocol.short_hash}) from "
        f"{document['n_seeds']} seeds, {config.total_epochs} epochs each, {seconds:.0f} s; scored under "
        f"{document['protocol']['name']} on {document['n']} test clips",
    ]
    for seed in document["seeds"]:
        values = "  ".join(f"{name} {metric_info(name).display(seed['metrics'][name])}" for name in CLIP_METRICS)
        lines.append(f"  seed {seed['seed']} ({seed['folder']}/)  {values}")
    aggregate = document["aggregate"]
    lines.append(f"  {'metric':<8}{'mean ± sd over seeds':>24}{'chance':>12}")
    for name in CLIP_METRICS:
        chance = metric_info(name).display(aggregate["chance"][name]["mean"])
        lines.append(f"  {name:<8}{mean_sd(aggregate['metrics'][name], name):>24}{chance:>12}")
    last = run.folder.run(document["n_seeds"] - 1).path.name
    lines.append(
        f"files: {run.folder.path}/seeds.json, results.json, results.md; seed0/ .. {last}/ (each a run folder)"
    )
    return "\n".join(lines)


def format_run(run: TrainedRun) -> str:
    """What ``seldkit train-reference`` prints: the model's and the chance baseline's metrics, and the run's files."""
    from seldkit.cli.format_common import number
    from seldkit.metrics.metadata import CLIP_METRICS, metric_info

    metrics, chance = run.score.metrics.scalars(), run.chance.metrics.scalars()
    config, protocol, out = run.config, run.training_protocol, run.folder.path
    lines = [
        f"{config.model} ({config.size}{'' if config.name == config.model else ', recipe ' + config.name}) trained "
        f"under {protocol.name} (sha256:{protocol.short_hash}), "
        f"{config.total_epochs} epochs, {run.seconds:.0f} s; scored under {run.score.protocol.name} on "
        f"{run.score.metrics.n_clips} test clips",
        f"  {'metric':<8}{'model':>10}{'chance':>10}",
    ]
    for key in CLIP_METRICS:
        info = metric_info(key)
        scale, unit = info.scale, info.symbol()
        lines.append(f"  {key:<8}{number(metrics.get(key), scale):>8} {unit}{number(chance.get(key), scale):>8} {unit}")
    lines.append(f"files: {out}/predictions.csv, references.csv, results.json, results.md, log.jsonl, checkpoint.pt")
    return "\n".join(lines)


def run_predict(args: argparse.Namespace) -> int:
    """Run ``seldkit predict``: a checkpoint's predictions for a split of a data set, written in the clip CSV format.

    Beside the CSV, its sidecar ``<CSV>.seldkit.json`` (:mod:`seldkit.io.sidecar`) records the training protocol,
    data set and split, so that ``seldkit score CSV`` finds the references without ``--ref``.
    """
    import torch

    from seldkit.cli.options import output_file, torch_device
    from seldkit.data.layout import BinauralDataset, read_dataset
    from seldkit.data.references import clip_ids
    from seldkit.io.sidecar import sidecar_path, write_sidecar
    from seldkit.protocols import audioset_classes
    from seldkit.train.checkpoint import checkpoint_provenance, load_checkpoint, trained_model
    from seldkit.train.loop import predict
    from seldkit.train.outputs import predictions_sidecar, write_predictions

    output_file(args.out, what="predictions file")
    output_file(sidecar_path(args.out), what="predictions' sidecar file")
    device = torch.device(torch_device(args.device))
    state = load_checkpoint(args.checkpoint)
    model = trained_model(state, args.checkpoint)
    provenance = checkpoint_provenance(state, args.checkpoint)
    index = read_dataset(args.data)
    dataset = BinauralDataset.for_evaluation(index, args.split)
    outputs = predict(model.to(device), dataset, device=device)
    classes = audioset_classes().ids
    write_predictions(clip_ids(dataset), outputs, classes, args.out)
    # after the CSV: a sidecar is only ever written for the file it describes (it records the CSV's sha256)
    sidecar = write_sidecar(
        args.out, predictions_sidecar(provenance, index.info, args.data, args.split), written_by="predict"
    )
    print(f"wrote {len(dataset)} predictions to {args.out} (described in {sidecar})")
    return 0
