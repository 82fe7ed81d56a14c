"""A ``train-reference`` run folder: the names of its files, and whether a folder may receive a run.

A run writes only into a folder that is new, empty, or already holds an unfinished run of the same model
under the same training protocol (which is then continued from its checkpoint). A folder holding anything
else — the user's own files, a finished run, another model's run — is refused before any work starts, so a
mistyped ``--out`` never overwrites a file.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seldkit.errors import InputError
from seldkit.io.atomic import TEMPORARY_SUFFIX, check_output_folder
from seldkit.io.jsonfile import read_json_file

# The description of a folder of several seeds' runs (seldkit.train.seeds), which is not itself a run folder.
SEEDS_FILE = "seeds.json"


class RunStart(enum.Enum):
    """How a run uses its folder: train from the start, or continue an unfinished run from its checkpoint."""

    NEW = "new"  # nothing to continue: train from the start
    CONTINUE = "continue"  # an unfinished run of this model and protocol: continue from its checkpoint


@dataclass(frozen=True)
class RunFolder:
    """The ``train-reference`` run folder at ``path``: the paths of its files, and whether a run may use it."""

    path: Path

    @property
    def checkpoint(self) -> Path:
        """Path of the run's checkpoint, ``checkpoint.pt``."""
        return self.path / "checkpoint.pt"

    @property
    def description(self) -> Path:
        """Path of the run's description, ``run.json``."""
        return self.path / "run.json"

    @property
    def predictions(self) -> Path:
        """Path of the model's predictions on the test split, ``predictions.csv``."""
        return self.path / "predictions.csv"

    @property
    def references(self) -> Path:
        """Path of the test split's references, ``references.csv``."""
        return self.path / "references.csv"

    @property
    def clips(self) -> Path:
        """Path of the test clips' metadata (source, impulse response, room), ``clips.csv``."""
        return self.path / "clips.csv"

    @property
    def chance_predictions(self) -> Path:
        """Path of the chance baseline's predictions, ``chance_predictions.csv``."""
        return self.path / "chance_predictions.csv"

    @property
    def validation_predictions(self) -> Path:
        """Path of the predictions for the validation split (when the data set has one)."""
        return self.path / "validation_predictions.csv"

    @property
    def validation_references(self) -> Path:
        """Path of the validation split's references."""
        return self.path / "validation_references.csv"

    @property
    def results(self) -> Path:
        """Path of the run's scores, ``results.json``; written last, it marks the run finished."""
        return self.path / "results.json"

    @property
    def results_table(self) -> Path:
        """Path of the Markdown table of results, ``results.md``."""
        return self.path / "results.md"

    @property
    def log(self) -> Path:
        """Path of the training history, ``log.jsonl`` (one JSON record a line)."""
        return self.path / "log.jsonl"

    @property
    def tensorboard(self) -> Path:
        """Path of the TensorBoard log folder."""
        return self.path / "tensorboard"

    def read_description(self) -> dict[str, Any]:
        """``run.json``: the model, its size and the training protocol's summary."""
        from seldkit.io.fields import Fields

        document = read_json_file(self.description)
        fields = Fields(document, file=self.description)
        fields.string("size")
        check_run_identity(fields, recipe_required=False)
        return document

    def prepare(self, *, model: str, protocol_hash: str, resume: bool, recipe: str | None = None) -> RunStart:
        """Decide how a run of ``model`` under the protocol with ``protocol_hash`` (``sha256:...``) may use this folder.

        ``recipe`` is the recipe's name in the protocol (the model's name when not given): an unfinished run is
        continued only under the recipe it started with.

        Raises :class:`InputError` when it may not (see the module docstring).
        """
        folder = self.path
        entries = run_folder_entries(folder)
        if not entries:
            if resume:
                raise InputError("no checkpoint to resume from", file=str(self.checkpoint))
            return RunStart.NEW
        if (folder / SEEDS_FILE).is_file():
            raise InputError(
                "this folder holds the runs of several training seeds (seeds.json): give the same --seeds to "
                "continue them, or choose another --out",
                file=str(folder),
            )
        if not self.description.is_file():  # a run writes run.json before anything else
            raise InputError(
                f"this folder is not a train-reference run folder (it holds {sorted(entries)[0]!r}"
                f"{', ...' if len(entries) > 1 else ''}); choose another --out",
                file=str(folder),
            )
        recorded = self.read_description()
        recorded_recipe = recorded.get("recipe") or recorded["model"]
        if (
            recorded["model"] != model
            or recorded["protocol"]["hash"] != protocol_hash
            or recorded_recipe != (recipe or model)
        ):
            raise InputError(
                f"this run folder holds a run of {recorded['model']} (recipe {recorded_recipe}) under "
                f"{recorded['protocol']['name']} ({recorded['protocol']['hash'][:19]}); choose another --out",
                file=str(folder),
            )
        if self.results.exists():
            raise InputError("this run folder holds a finished run; choose another --out", file=str(folder))
        if self.checkpoint.is_file():
            return RunStart.CONTINUE
        if resume:
            raise InputError("no checkpoint to resume from", file=str(self.checkpoint))
        return RunStart.NEW


def run_folder_entries(folder: Path) -> list[str]:
    """The names in a run folder (none when it does not exist yet), left-overs of atomic writes not counted.

    A path that is a file, or a folder seldkit may not write into, is an :class:`InputError`.
    """
    if folder.exists() and not folder.is_dir():
        raise InputError("the run folder is a file; give --out a folder", file=str(folder))
    check_output_folder(folder, what="run folder")
    if not folder.exists():
        return []
    return [entry.name for entry in folder.iterdir() if not entry.name.endswith(TEMPORARY_SUFFIX)]


def check_run_identity(fields: Any, *, recipe_required: bool) -> None:
    """Check the keys a run or its seeds are identified by in ``run.json`` / ``seeds.json``.

    The model, the recipe (absent from runs of earlier versions) and the training protocol's name and hash.
    """
    fields.string("model")
    if recipe_required or fields.has("recipe"):
        fields.string("recipe")
    protocol = fields.section("protocol")
    protocol.string("name")
    protocol.string("hash")
