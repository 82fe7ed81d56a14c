"""Where the data folders that ship with seldkit live: ``metrics/``, ``protocols/``, ``reference_models/``.

In a source checkout (``pip install -e .``) they are the top-level folders of the repository; in an installed
wheel they are package data under ``seldkit/_shipped/`` (see ``package_dir`` in ``setup.cfg``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

ShippedFolder = Literal["metrics", "protocols", "reference_models"]

_PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_dir(name: ShippedFolder) -> Path:
    """The folder ``name`` of this installation."""
    checkout_root = _PACKAGE_DIR.parent
    in_checkout = checkout_root / name
    # setup.cfg marks a seldkit checkout; without that check an unrelated top-level folder called "metrics"
    # next to an installed package could be picked up.
    if (checkout_root / "setup.cfg").is_file() and in_checkout.is_dir():
        return in_checkout
    installed = _PACKAGE_DIR / "_shipped" / name
    if installed.is_dir():
        return installed
    raise FileNotFoundError(f"seldkit's {name}/ folder is missing from this installation ({installed})")
