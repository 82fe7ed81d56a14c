"""Small helpers shared by the score tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seldkit.protocols import Protocol


def protocol_line(protocol: Protocol, detail: str, *counts: str) -> str:
    """First line of a table: protocol, its mode/configuration, short hash, and what was scored."""
    return " · ".join([f"protocol {protocol.name} ({detail}, sha256:{protocol.short_hash})", *counts])


def number(value: float | None, scale: float = 1.0, digits: int = 2) -> str:
    """A value for a table; NaN and None (undefined, e.g. no matched pair) print as an en dash."""
    if value is None or value != value:
        return "–"
    return f"{value * scale:.{digits}f}"
