"""Results files: what every results JSON records besides the metrics, and how it is written."""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from seldkit import __version__
from seldkit.io.atomic import write_text_atomic
from seldkit.protocols import Protocol

_REPORTED_PACKAGES = ("numpy", "scipy", "pandas", "scikit-learn", "torch")


def environment() -> dict[str, Any]:
    """Interpreter, platform and the versions of the numeric packages that are installed.

    Versions come from package metadata, so nothing heavy (torch) is imported to report them.
    """
    packages: dict[str, str] = {}
    for name in _REPORTED_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "packages": packages,
    }


def file_digest(path: str | Path) -> str:
    """``sha256:<hex>`` of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"


def results_document(
    *,
    protocol: Protocol,
    n: int,
    metrics: Mapping[str, Any],
    per_class: Mapping[str, Any] | None = None,
    intervals: Mapping[str, Any] | None = None,
    inputs: Mapping[str, Any] | None = None,
    notes: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    """Assemble a results JSON document; absent parts are left out."""
    document: dict[str, Any] = {
        "protocol": protocol.summary(),
        "seldkit_version": __version__,
        "environment": environment(),
    }
    if inputs:
        document["inputs"] = dict(inputs)
    document["n"] = n
    document["metrics"] = dict(metrics)
    if per_class is not None:
        document["per_class"] = dict(per_class)
    if intervals is not None:
        document["intervals"] = dict(intervals)
    if notes:
        document["notes"] = list(notes)
    return jsonable(document)


def jsonable(value: Any) -> Any:
    """Plain JSON values: NumPy scalars and arrays converted, NaN and infinities as null."""
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return [jsonable(item) for item in value.tolist()]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    return value


def write_json_atomic(path: str | Path, document: Mapping[str, Any]) -> None:
    """Write ``document`` to ``path`` so that readers see either the old file or the complete new one."""
    text = json.dumps(document, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    write_text_atomic(path, text)
