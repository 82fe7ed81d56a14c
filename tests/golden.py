"""Paths into the repository's golden data, for tests."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CLIP_SUITE = REPO / "metrics" / "regression" / "clip"


def clip_cases() -> dict[str, dict]:
    """The cases of the clip-metric golden suite, from its expected.json."""
    return json.loads((CLIP_SUITE / "expected.json").read_text(encoding="utf-8"))["cases"]
