"""What every hostile-input test checks: the exit code, one clear line on stderr that names the file (and the
row or field where it applies), no traceback, and no file of the user's changed, removed or half-written."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from seldkit.cli.main import main


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    @property
    def error_line(self) -> str:
        return self.err.strip().splitlines()[-1] if self.err.strip() else ""


def run_seldkit(capsys, *argv: object) -> Outcome:
    """``seldkit ARGV`` in this process (argparse usage errors exit through SystemExit)."""
    capsys.readouterr()
    try:
        code = main([str(arg) for arg in argv])
    except SystemExit as stop:
        code = int(stop.code or 0)
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def run_seldkit_process(
    *argv: object, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 600, preexec_fn=None
) -> Outcome:
    """``python -m seldkit ARGV`` in a child process (for limits and signals that must not touch pytest)."""
    done = subprocess.run(
        [sys.executable, "-m", "seldkit", *map(str, argv)],
        cwd=cwd,
        env=env or os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec_fn,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def assert_rejected(
    outcome: Outcome, *, naming: Iterable[str | Path] | str | Path, says: Iterable[str] | str = ()
) -> None:
    """Exit code 2, exactly one line on stderr that starts like every seldkit error, names ``naming`` (the file,
    row, column or field) and contains ``says``; no traceback."""
    assert outcome.code == 2, f"exit code {outcome.code}\n{outcome.err}"
    assert "Traceback" not in outcome.err and "Traceback" not in outcome.out, outcome.err
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr:\n{outcome.err}"
    assert lines[0].startswith("seldkit ") and ": error: " in lines[0], lines[0]
    for item in [naming] if isinstance(naming, (str, Path)) else naming:
        assert str(item) in lines[0], f"{str(item)!r} not named in: {lines[0]}"
    for fragment in [says] if isinstance(says, str) else says:
        assert fragment in lines[0], f"{fragment!r} not in: {lines[0]}"


def assert_succeeded(outcome: Outcome) -> None:
    assert outcome.code == 0, f"exit code {outcome.code}\n{outcome.err}"
    assert "Traceback" not in outcome.err, outcome.err


class Snapshot:
    """The bytes of every file under ``root`` (symlinks as their targets' names), to show afterwards that a
    failed command changed nothing: no file changed, removed, or left behind half-written."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = self._read()

    def _read(self) -> dict[str, str]:
        files = {}
        for path in sorted(self.root.rglob("*")):
            relative = path.relative_to(self.root).as_posix()
            if path.is_symlink():
                files[relative] = f"link:{os.readlink(path)}"
            elif path.is_file():
                files[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
            elif path.is_dir():
                files[relative + "/"] = "folder"
        return files

    def assert_unchanged(self) -> None:
        now = self._read()
        changed = sorted(name for name in self.files.keys() & now.keys() if self.files[name] != now[name])
        removed = sorted(self.files.keys() - now.keys())
        added = sorted(now.keys() - self.files.keys())
        assert not (changed or removed or added), f"changed {changed}, removed {removed}, added {added}"
