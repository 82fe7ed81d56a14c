"""Shared fixtures: paths into the repository and small file writers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CLIP_SUITE = REPO / "metrics" / "regression" / "clip"


def clip_cases() -> dict[str, dict]:
    return json.loads((CLIP_SUITE / "expected.json").read_text(encoding="utf-8"))["cases"]


@pytest.fixture
def write_file(tmp_path: Path):
    """write_file(name, text_or_bytes) -> Path inside the test's temporary folder."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write
