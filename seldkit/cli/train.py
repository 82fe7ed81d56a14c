"""The training commands: ``seldkit train-reference`` and ``seldkit predict``.

``seldkit train-reference {dspast,spatialast} [--protocol NAME] [--set KEY=VALUE ...] [--out DIR] [--resume]
[--device ...]``
and ``seldkit predict --checkpoint CKPT --data DIR --out preds.csv``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seldkit.train.run import TrainedRun


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
        "the predictions in the clip CSV format (seldkit score reads it).",
    )
    predict.add_argument("--checkpoint", type=Path, required=True, metavar="CKPT")
    predict.add_argument(
        "--data", type=Path, required=True, metavar="DIR", help="a data set folder (make-dataset output)"
    )
    predict.add_argument("--out", type=Path, required=True, metavar="CSV")
    predict.add_argument("--split", default="test")
    predict.add_argument("--device", default=None)
    predict.set_defaults(run=run_predict)


def run_train(args: argparse.Namespace) -> int:
    """Run ``seldkit train-reference``: train and score a model in its run folder; the exit status.

    A failed training (a non-finite loss) gives 1 and an interruption 130; the checkpoint keeps the progress.
    """
    from seldkit.cli.make_dataset import parse_settings
    from seldkit.cli.options import torch_device
    from seldkit.errors import InputError
    from seldkit.protocols import load_protocol
    from seldkit.train.loop import TrainingError
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
    start = RunFolder(out).prepare(
        model=args.model, protocol_hash=f"sha256:{protocol.hash}", resume=args.resume, recipe=config.name
    )
    check_initialisation(config, init=args.init, continuing=start is RunStart.CONTINUE, protocol_name=protocol.name)
    if start is RunStart.CONTINUE and not args.resume:
        print(f"continuing the unfinished run in {out} from its checkpoint")
    try:
        finished = train_reference(
            args.model,
            protocol=protocol,
            out=out,
            resume=args.resume,
            device=device,
            init=args.init,
            progress=not args.quiet,
            settings=settings,
            recipe=args.recipe,
        )
    except TrainingError as error:
        print(f"seldkit train-reference: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            f"\ninterrupted; the checkpoint in {out} holds the progress: run the same command again to continue",
            file=sys.stderr,
        )
        return 130
    if finished is not None:
        print(format_run(finished))
    return 0


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
    """Run ``seldkit predict``: a checkpoint's predictions for a split of a data set, written in the clip CSV format."""
    import torch

    from seldkit.cli.options import output_file, torch_device
    from seldkit.data.layout import BinauralDataset, read_dataset
    from seldkit.protocols import audioset_classes
    from seldkit.train.checkpoint import load_trained_model
    from seldkit.train.loop import predict
    from seldkit.train.outputs import clip_ids, write_predictions

    output_file(args.out, what="predictions file")
    device = torch.device(torch_device(args.device))
    model = load_trained_model(args.checkpoint)
    dataset = BinauralDataset.for_evaluation(read_dataset(args.data), args.split)
    outputs = predict(model.to(device), dataset, device=device)
    classes = audioset_classes().ids
    write_predictions(clip_ids(dataset), outputs, classes, args.out)
    print(f"wrote {len(dataset)} predictions to {args.out}")
    return 0
