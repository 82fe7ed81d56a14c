"""Run ``seldkit`` as if the optional packages were not installed (imported by the packaging test in a child
process): importing one raises ModuleNotFoundError, as on a machine without the extras."""

from __future__ import annotations

import importlib.abc
import sys

BLOCKED = ("torch", "pyroomacoustics", "h5py", "matplotlib", "soundfile", "tqdm", "sentence_transformers")


class _Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def main() -> None:
    sys.meta_path.insert(0, _Absent())
    from seldkit.cli.main import main as seldkit

    sys.exit(seldkit(sys.argv[1:]))
