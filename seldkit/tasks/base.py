"""What every scoring task provides (:class:`Task`), and what scoring under it returns (:class:`Scored`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from typing import Protocol as TypingProtocol

from seldkit.errors import InputError

if TYPE_CHECKING:
    from seldkit.metrics.paired import Comparison
    from seldkit.protocols import Protocol
    from seldkit.report.html import Section


class Scored(TypingProtocol):
    """A task's scores under a protocol: anything with the protocol and a results JSON."""

    @property
    def protocol(self) -> Protocol:
        """The protocol the scores were computed under."""
        ...

    def results_json(self) -> dict[str, Any]:
        """The results JSON of the scores."""
        ...


class Task(ABC):
    """One scoring task: its inputs, options, scoring, comparison, table and report sections."""

    name: ClassVar[str]
    folders: ClassVar[bool] = False  # inputs are folders (one file per recording) rather than files
    inputs_description: ClassVar[str]
    interval: ClassVar[Literal["bootstrap", "jackknife"]] = "bootstrap"
    options: ClassVar[frozenset[str]] = frozenset()  # the task-specific command-line options it takes

    def check_inputs(self, predictions: Path, references: Path, protocol: Protocol) -> None:
        """Files or folders, as the task scores them; an error naming the one of the wrong kind."""
        for path in (predictions, references):
            if path.is_dir() != self.folders:
                kind = "is not a folder" if self.folders else "is a folder"
                raise InputError(f"{kind}; protocol {protocol.name!r} scores {self.inputs_description}", file=str(path))

    def configure(self, protocol: Protocol, options: Mapping[str, Any]) -> Protocol:
        """The protocol with the task's command-line options applied (none by default)."""
        return protocol

    @abstractmethod
    def score(
        self, predictions: Path, references: Path, protocol: Protocol, *, resamples: int | None, jackknife: bool
    ) -> Scored:
        """Score ``predictions`` against ``references`` (with intervals if asked for)."""

    @abstractmethod
    def table(self, scored: Any, *, per_class: bool) -> str:
        """The terminal table of ``scored`` (and its per-class table)."""

    def notes(self, scored: Any) -> list[str]:
        """What the user should know about the scores (skipped files, intervals that exclude their point)."""
        return []

    @abstractmethod
    def compare(
        self, a: Path, b: Path, references: Path, protocol: Protocol, *, n_resamples: int, groups: Any = None
    ) -> Comparison:
        """Paired comparison of two systems on the task's evaluation units (``groups``: clusters of clips)."""

    @abstractmethod
    def report_lines(self, scored: Any) -> list[str]:
        """What a report says it scored (protocol, configuration, units)."""

    @abstractmethod
    def report_sections(self, scored: Any) -> list[Section]:
        """The report sections of scores computed from predictions."""

    @abstractmethod
    def report_sections_from_json(self, document: Mapping[str, Any]) -> list[Section]:
        """The report sections of a results JSON of this task."""
