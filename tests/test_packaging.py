"""Packaging: the package list is complete, and a built wheel carries the protocols and suites it needs."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.golden import CLIP_SUITE, REPO


def declared_packages() -> set[str]:
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    return {line.strip() for line in config["options"]["packages"].splitlines() if line.strip()}


def test_every_python_package_is_declared():
    found = {
        ".".join(path.parent.relative_to(REPO).parts)
        for path in (REPO / "seldkit").rglob("__init__.py")
        if "__pycache__" not in path.parts
    }
    assert found <= declared_packages(), f"add to setup.cfg [options] packages: {sorted(found - declared_packages())}"


@pytest.mark.slow
def test_wheel_installs_and_runs_in_a_fresh_environment(tmp_path):
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(REPO),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheel_dir),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    (wheel,) = wheel_dir.glob("seldkit-*.whl")
    venv = tmp_path / "venv"
    # The packages of the environment running the tests (numpy, pandas, torch...) stay visible through a .pth
    # file (--system-site-packages would only give the base interpreter's, not a virtual environment's);
    # seldkit itself comes from the wheel only.
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    venv_site = subprocess.run(
        [str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    here = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(venv_site) / "outer_environment.pth").write_text("\n".join(sorted(here)) + "\n")
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        capture_output=True,
        text=True,
    )
    workdir = tmp_path / "elsewhere"  # not the repository: nothing may come from the checkout
    workdir.mkdir()
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, cwd=workdir, env=environment, capture_output=True, text=True, check=False)

    located = run(str(bin_dir / "python"), "-c", "import seldkit.resources as r; print(r.shipped_dir('protocols'))")
    assert located.returncode == 0, located.stderr
    assert Path(located.stdout.strip()).is_relative_to(venv), located.stdout

    case = CLIP_SUITE / "cases" / "audioset355_60clips"
    scored = run(
        str(bin_dir / "seldkit"),
        "score",
        str(case / "preds.csv"),
        "--ref",
        str(case / "refs.csv"),
        "--protocol",
        "bat-encoder",
    )
    assert scored.returncode == 0, scored.stderr
    assert "protocol bat-encoder" in scored.stdout and "17.07 %" in scored.stdout

    verified = run(str(bin_dir / "seldkit"), "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "36/36" in verified.stdout

    # Without the extras: the wheel requires only the scoring stack, and score and verify run with the optional
    # packages made unimportable; a command that needs one says which extra to install.
    requirements = _requirements(wheel)
    assert {name for name, extra in requirements if extra is None} == {"numpy", "scipy", "pandas", "pyyaml"}
    assert ("torch", "train") in requirements and ("matplotlib", "report") in requirements
    program = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import without_extras; without_extras.main()"
    )
    scored = run(
        str(bin_dir / "python"),
        "-c",
        program,
        "score",
        str(case / "preds.csv"),
        "--ref",
        str(case / "refs.csv"),
        "--protocol",
        "bat-encoder",
    )
    assert scored.returncode == 0 and "17.07 %" in scored.stdout, scored.stderr
    verified = run(str(bin_dir / "python"), "-c", program, "verify", "--suite", "clip", "--suite", "dcase/2024")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    training = run(str(bin_dir / "python"), "-c", program, "train-reference", "dspast", "--out", str(tmp_path / "run"))
    assert training.returncode == 2 and training.stderr.strip() == (
        "seldkit train-reference: error: this needs the optional package 'torch': pip install 'seldkit[train]'"
    )


def _requirements(wheel: Path) -> set[tuple[str, str | None]]:
    """(distribution, extra or None) of every Requires-Dist line of the wheel's metadata."""
    import re
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        metadata = next(name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        lines = archive.read(metadata).decode("utf-8").splitlines()
    requirements = set()
    for line in lines:
        if line.startswith("Requires-Dist:"):
            name = re.match(r"[A-Za-z0-9_.-]+", line.split(":", 1)[1].strip()).group(0).lower()
            extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", line)
            requirements.add((name, extra.group(1) if extra else None))
    return requirements
