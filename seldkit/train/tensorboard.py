"""Per-epoch scalars to TensorBoard when it is installed; without it, nothing happens."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class TensorBoardLog:
    """Writes each epoch record's numbers to TensorBoard, under ``<run>/tensorboard``.

    Tags are ``<stage>/<name>`` and ``all/<name>``, x = epochs completed over all stages. The writer is created on first
    use and only if the ``tensorboard`` package imports.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._writer: Any = None
        self._available: bool | None = None

    def write(self, record: dict[str, Any], epoch_index: int) -> None:
        """Write the numbers of the epoch ``record`` (not its epoch and step counts) at x = ``epoch_index``."""
        writer = self._open()
        if writer is None:
            return
        for name, value in record.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and name not in ("epoch", "step"):
                writer.add_scalar(f"all/{name}", value, epoch_index)
                writer.add_scalar(f"{record.get('stage', 'run')}/{name}", value, epoch_index)
        writer.flush()

    def close(self) -> None:
        """Close the writer, if one was opened."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _open(self) -> Any:
        if self._available is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # torch raises this when the tensorboard package is missing
                self._available = False
            else:
                self._available = True
                self._writer = SummaryWriter(log_dir=str(self.folder))
        return self._writer
