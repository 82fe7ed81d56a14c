"""Fixtures of the modules that train on the tiny protocol: one folder, cache and protocol per module.

``tiny_cache`` is not autouse: a module asks for it with ``pytestmark = pytest.mark.usefixtures("tiny_cache")``,
so the other training tests keep their own cache.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.train_fixtures import tiny_training_protocol


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory) -> Path:
    """The module's folder: its cache (the tiny data set is built once per module) and protocol file."""
    return tmp_path_factory.mktemp("tiny")


@pytest.fixture
def tiny_cache(tiny_folder, monkeypatch) -> None:
    """The module's cache as ``SELDKIT_CACHE``, set for each test only."""
    monkeypatch.setenv("SELDKIT_CACHE", str(tiny_folder / "cache"))


@pytest.fixture(scope="module")
def protocol(tiny_folder) -> Path:
    """The tiny training protocol file (see tests/train_fixtures.py)."""
    return tiny_training_protocol(tiny_folder)
