"""seldkit's cache folder (``$SELDKIT_CACHE``, else ``~/.cache/seldkit``) and the arrays cached in it.

A cache only saves time: an entry that is missing, truncated, of the wrong shape or not a plain array is
recomputed (and replaced), never trusted and never a crash; one that cannot be written is skipped.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from seldkit.errors import InputError


def cache_dir(*parts: str) -> Path:
    """``$SELDKIT_CACHE/<parts...>`` (default root ``~/.cache/seldkit``)."""
    root = os.environ.get("SELDKIT_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "seldkit")
    return Path(root).joinpath(*parts)


def read_cached_array(path: Path, *, shape: Sequence[int | None]) -> np.ndarray | None:
    """The finite real array cached at ``path`` if it has ``shape`` (None: any length on that axis).

    Otherwise None, and an unusable entry is removed so that the next writer replaces it.
    """
    if not path.is_file():
        return None
    try:
        array = np.load(path, allow_pickle=False)
        usable = (
            isinstance(array, np.ndarray)
            and array.dtype.kind in "fiu"
            and array.ndim == len(shape)
            and all(expected is None or size == expected for size, expected in zip(array.shape, shape))
            and bool(np.isfinite(array).all())
        )
    except Exception:  # noqa: BLE001 - any unreadable entry (truncated, foreign, pickled) is recomputed
        usable = False
    if not usable:
        try:
            path.unlink()
        except OSError:
            pass
        return None
    return array


def store_cached_array(path: Path, array: np.ndarray) -> None:
    """Write ``array`` as ``.npy`` atomically; a cache that cannot be written only costs time next run."""
    from seldkit.io.atomic import write_bytes_atomic

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    try:
        write_bytes_atomic(path, buffer.getvalue())
    except InputError:
        pass
