"""Running the ``seldkit`` command in the test process."""

from __future__ import annotations

from seldkit.cli.main import main


def run_cli(capsys, *argv: object) -> tuple[int, str, str]:
    """``seldkit ARGV``: (exit code, stdout, stderr)."""
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err
