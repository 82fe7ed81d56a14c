"""The events of one DCASE Task 3 file, as the metrics take them.

The readers in :mod:`seldkit.io.dcase` make them from the files of each year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_CLASSES = 13  # the sound classes of STARSS22/23 (DCASE 2022-2025 Task 3)


@dataclass(frozen=True)
class DcaseEvents:
    """The events of one file, in file row order."""

    source: str
    frame: np.ndarray  # int64
    class_index: np.ndarray  # int64
    track: np.ndarray  # int64 (0 where the format has none)
    azimuth: np.ndarray  # degrees
    elevation: np.ndarray  # degrees (0 for the stereo format of 2025)
    vector: np.ndarray | None  # [n, 3] Cartesian direction as written (Cartesian formats only)
    distance: np.ndarray | None  # metres (2023-2024) or file unit (2025); None if the file has none
    onscreen: np.ndarray | None  # 0/1 (2025)

    @property
    def n_events(self) -> int:
        """The number of events (file rows)."""
        return int(self.frame.size)

    def subset(self, keep: np.ndarray) -> DcaseEvents:
        """The events where ``keep`` is true, order kept."""

        def pick(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else values[keep]

        return DcaseEvents(
            source=self.source,
            frame=self.frame[keep],
            class_index=self.class_index[keep],
            track=self.track[keep],
            azimuth=self.azimuth[keep],
            elevation=self.elevation[keep],
            vector=pick(self.vector),
            distance=pick(self.distance),
            onscreen=pick(self.onscreen),
        )

    @classmethod
    def empty(cls, source: str, *, has_distance: bool, stereo: bool) -> DcaseEvents:
        """No events, with the columns of a layout that has (or lacks) distances and the stereo flags."""
        empty_int = np.zeros(0, dtype=np.int64)
        empty = np.zeros(0)
        return cls(
            source=source,
            frame=empty_int,
            class_index=empty_int,
            track=empty_int,
            azimuth=empty,
            elevation=empty,
            vector=None,
            distance=empty if has_distance else None,
            onscreen=empty_int if stereo else None,
        )
