"""Reading YAML files that may come from anyone (protocols, model configurations).

``yaml.safe_load`` builds only plain values, but it still expands aliases: a file of nested aliases (the
"billion laughs") grows to gigabytes in memory from a few hundred bytes. seldkit's YAML files never need
anchors or aliases, so both are refused, as are files over :data:`MAX_YAML_BYTES` and anything that is not a
regular file (``/dev/zero`` would never end).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from seldkit.errors import InputError
from seldkit.io.inputs import read_input_text

MAX_YAML_BYTES = 1 << 20  # 1 MiB: the largest shipped protocol is ~5 kB


def read_yaml_file(path: Path, *, what: str = "YAML file") -> Any:
    """The parsed document of ``path``; every problem is an :class:`InputError` naming the file (and line)."""
    import yaml

    text = read_input_text(path, what=what, limit=MAX_YAML_BYTES)
    try:
        loader = _plain_loader()(text)  # a SafeLoader without anchors or aliases
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "invalid YAML"
        raise InputError(f"not valid YAML: {problem}", file=str(path), line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as error:
        raise InputError(f"not valid YAML: {str(error).splitlines()[0]}", file=str(path)) from None
    except RecursionError:
        raise InputError("not a usable YAML file: nested too deeply", file=str(path)) from None


@functools.cache
def _plain_loader() -> type:
    import yaml

    class PlainLoader(yaml.SafeLoader):
        """``SafeLoader`` that refuses anchors (``&name``) and aliases (``*name``)."""

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                kind = "aliases (*name)" if isinstance(event, yaml.AliasEvent) else "anchors (&name)"
                raise yaml.composer.ComposerError(
                    None, None, f"{kind} are not allowed in seldkit files", event.start_mark
                )
            return super().compose_node(parent, index)

    return PlainLoader
