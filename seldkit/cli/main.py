"""Entry point of the ``seldkit`` command.

Each command group lives in its own module with ``register(subparsers)`` and ``run(args) -> int``; the modules
import nothing heavy at load time, so ``seldkit --help`` and ``seldkit score`` start fast.
Exit codes: 0 success, 2 bad input or usage (one line on stderr), 1 internal error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from seldkit import __version__
from seldkit.errors import InputError

COMMAND_MODULES = (
    "seldkit.cli.score",
    "seldkit.cli.compare",
    "seldkit.cli.report",
    "seldkit.cli.verify",
    "seldkit.cli.make_dataset",
    "seldkit.cli.train",
)

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2

# Optional packages and the extra that installs them: scoring and verifying need none of them.
OPTIONAL_MODULES = {
    "torch": "train",
    "tqdm": "train",
    "soundfile": "train",
    "h5py": "train",
    "pyroomacoustics": "train",
    "matplotlib": "report",
    "sentence_transformers": "qa",
}


class OneLineArgumentParser(argparse.ArgumentParser):
    """Usage errors as a single line (argparse prints the whole usage block by default)."""

    def error(self, message: str) -> NoReturn:
        """Exit with status 2 and ``message`` on one line that points to ``--help``."""
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``seldkit`` argument parser, with the subcommands of every command module."""
    parser = OneLineArgumentParser(
        prog="seldkit",
        description="Evaluate spatial sound event localization and detection systems and spatial-audio encoders.",
    )
    parser.add_argument("--version", action="version", version=f"seldkit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineArgumentParser)
    commands.required = True
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``seldkit`` command on ``argv`` (default: the process's arguments); the exit code.

    Bad input is one line on stderr and exit code 2, as is a missing optional package (naming the extra that
    installs it); an interruption gives 130; any other exception prints its traceback and gives 1.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except InputError as error:
        print(f"seldkit {args.command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"seldkit {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK  # output piped into e.g. `head`
    except Exception as error:  # an internal error: the traceback helps us fix it (unless an extra is missing)
        module = (error.name or "").split(".")[0] if isinstance(error, ModuleNotFoundError) else ""
        if module in OPTIONAL_MODULES:
            print(
                f"seldkit {args.command}: error: this needs the optional package {module!r}: "
                f"pip install 'seldkit[{OPTIONAL_MODULES[module]}]'",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        import traceback

        traceback.print_exc()
        print(f"seldkit {args.command}: internal error (a bug in seldkit; please report it)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
