"""Shared material of the hostile-input tests: a cache folder of their own, a tiny training protocol, its
data set and one finished DSpAST run (built once per session, copied where a test changes it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.train_fixtures import tiny_training_protocol


@pytest.fixture(scope="session")
def hostile_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hostile-cache")


@pytest.fixture(autouse=True)
def _own_cache(hostile_cache, monkeypatch) -> None:
    monkeypatch.setenv("SELDKIT_CACHE", str(hostile_cache))


@pytest.fixture(scope="session")
def tiny_protocol(tmp_path_factory) -> Path:
    return tiny_training_protocol(tmp_path_factory.mktemp("tiny-protocol"))


@pytest.fixture(scope="session")
def tiny_dataset(tiny_protocol, hostile_cache) -> Path:
    """The tiny protocol's data set, built into the session's cache (where train-reference looks for it)."""
    from seldkit.data.build import build_dataset, default_dataset_dir
    from seldkit.protocols import load_protocol

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SELDKIT_CACHE", str(hostile_cache))
        protocol = load_protocol(tiny_protocol)
        folder = default_dataset_dir(protocol)
        build_dataset(protocol, folder, progress=False)
    return folder


@pytest.fixture(scope="session")
def finished_run(tiny_protocol, tiny_dataset, hostile_cache, tmp_path_factory) -> Path:
    """A finished DSpAST run on the tiny protocol (read-only: copy it with :func:`copy_run` to change it)."""
    from seldkit.train.run import train_reference

    out = tmp_path_factory.mktemp("finished") / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SELDKIT_CACHE", str(hostile_cache))
        train_reference("dspast", protocol=tiny_protocol, out=out, progress=False)
    return out


def copy_run(run: Path, destination: Path) -> Path:
    shutil.copytree(run, destination)
    return destination
