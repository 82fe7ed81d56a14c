"""What a training run leaves behind, beside its checkpoint and logs.

Predictions in the clip format and what their sidecars record (the references are written by
:mod:`seldkit.data.references`), the results JSON scored under the evaluation protocol, a chance-level baseline
scored the same way, and a row in the run's results table.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seldkit.data.layout import BinauralDataset
from seldkit.data.references import agreed_evaluation_protocol, clip_ids, protocol_for_fingerprint
from seldkit.errors import InputError
from seldkit.io.atomic import write_text_atomic
from seldkit.io.sidecar import FINGERPRINT_PATTERN, PredictionsSidecar
from seldkit.metrics.clip import ClipMetrics
from seldkit.metrics.metadata import CLIP_METRICS, metric_info
from seldkit.protocols import Protocol
from seldkit.results import jsonable
from seldkit.scoring.clip import ClipScore

if TYPE_CHECKING:
    from seldkit.train.checkpoint import Provenance


def write_clip_metadata(dataset: BinauralDataset, path: Path) -> None:
    """``clips.csv``: each clip's source, impulse response and room, the units a clustered comparison resamples."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["clip_id", "audio", "reverb", "room"])
    for clip_id, pair in zip(clip_ids(dataset), dataset.pairs):
        writer.writerow([clip_id, pair.audio, pair.reverb, dataset.index.reverbs[pair.reverb].room])
    write_text_atomic(path, buffer.getvalue())


def write_predictions(ids: list[str], outputs: dict[str, np.ndarray], classes: tuple[str, ...], path: Path) -> None:
    """Write the predictions ``outputs`` for the clips ``ids`` to ``path`` in the clip CSV format.

    Columns: clip_id, azimuth, elevation, distance, one score column per class of ``classes``. Written atomically: a
    failed write leaves any previous file as it was.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["clip_id", "azimuth", "elevation", "distance", *classes])
    for row, clip_id in enumerate(ids):
        scores = (f"{value:.6g}" for value in outputs["sed"][row])
        writer.writerow(
            [
                clip_id,
                f"{outputs['azimuth'][row]:g}",
                f"{outputs['elevation'][row]:g}",
                f"{outputs['distance'][row]:g}",
                *scores,
            ]
        )
    write_text_atomic(path, buffer.getvalue())


def chance_outputs(train_set: BinauralDataset, n_clips: int, sed_map: np.ndarray) -> dict[str, np.ndarray]:
    """The outputs, for ``n_clips`` clips, of a system that ignores its input.

    Training-set prevalence as scores (over the output classes, through ``sed_map``), the most frequent training
    direction, and the median training distance.
    """
    prevalence = np.zeros(sed_map.shape[1])
    for pair in train_set.pairs:
        prevalence += train_set._sed(pair.audio) @ sed_map
    prevalence /= len(train_set.pairs)
    azimuth = np.bincount(train_set.targets.azimuth, minlength=360).argmax()
    elevation = np.bincount(train_set.targets.elevation, minlength=180).argmax() - 90
    distance = np.median(train_set.targets.distance) * 0.5
    return {
        "sed": np.tile(prevalence, (n_clips, 1)),
        "azimuth": np.full(n_clips, float(azimuth)),
        "elevation": np.full(n_clips, float(elevation)),
        "distance": np.full(n_clips, float(distance)),
    }


def results_json(score: ClipScore, chance: ClipScore, training: Protocol, extra: dict[str, Any]) -> dict[str, Any]:
    """The run's results JSON: ``score``'s, with the chance baseline's metrics, the training protocol and ``extra``."""
    document = score.results_json()
    document["chance"] = {
        "metrics": jsonable(chance.metrics.scalars()),
        "description": "input-independent baseline: training prevalence, most frequent direction, median distance",
    }
    document["training_protocol"] = training.summary()
    document["training"] = extra
    return document


def append_results_row(out: Path, model: str, training: Protocol, score: ClipScore, chance: ClipScore) -> None:
    """Add the run's row to ``results.md`` (a Markdown table; started when absent, rewritten atomically)."""
    table = out / "results.md"
    try:
        previous = table.read_text(encoding="utf-8") if table.exists() else ""
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read the results table to add this run: {error}", file=str(table)) from None
    header = (
        "| model | training protocol | evaluation protocol | mAP | ER20 | MAE | DER | chance mAP / ER20 / MAE / DER |\n"
        "|---|---|---|---|---|---|---|---|\n"
    )
    if previous and not previous.endswith("\n"):
        previous += "\n"
    if not previous.startswith("| model |"):
        previous += ("\n" if previous else "") + header

    def cells(metrics: ClipMetrics) -> list[str]:
        return [metric_info(name).display(getattr(metrics, name)).replace(" °", "°") for name in CLIP_METRICS]

    row = (
        f"| {model} | {training.name} (sha256:{training.short_hash}) | {score.protocol.name} | "
        + " | ".join(cells(score.metrics))
        + " | "
        + " / ".join(cells(chance.metrics))
        + " |\n"
    )
    if previous.endswith(row):
        return  # a run continued after being stopped between writing this row and its results.json
    write_text_atomic(table, previous + row)


def predictions_sidecar(
    provenance: Provenance | None, info: Mapping[str, Any], folder: Path, split: str
) -> PredictionsSidecar:
    """The sidecar of predictions of a checkpoint (its ``provenance``) for ``split`` of the data set in ``folder``.

    ``info`` is the data set's dataset.json. The training protocol is the checkpoint's when the data set is the one
    it trained on (the same fingerprint). Otherwise (a checkpoint written before checkpoints recorded it, or a
    model run on another protocol's data) it is the shipped training protocol whose data set has the fingerprint
    dataset.json records, with the evaluation protocol its recipes agree on; failing that none is recorded, and
    scoring needs ``--protocol`` or ``--ref``.
    """
    recorded = info.get("fingerprint")
    fingerprint = recorded if isinstance(recorded, str) and FINGERPRINT_PATTERN.fullmatch(recorded) else None
    if fingerprint is not None and provenance is not None and provenance.data_fingerprint == fingerprint:
        return provenance.sidecar(split, folder)
    protocol = None if fingerprint is None else protocol_for_fingerprint(fingerprint)
    summary = None if protocol is None else protocol.summary()
    evaluation = None if protocol is None else agreed_evaluation_protocol(protocol)
    return PredictionsSidecar(split, summary, evaluation, fingerprint, str(folder.absolute()))
