"""Reading a JSON document with errors that name the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seldkit.errors import InputError
from seldkit.io.inputs import read_input_text


def read_json_file(path: Path) -> Any:
    """The parsed document.

    A missing, unreadable or invalid file (deeply nested ones included) is an :class:`InputError` naming ``path``.
    """
    text = read_input_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"not valid JSON: {error.msg}", file=str(path), line=error.lineno) from None
    except RecursionError:
        raise InputError("not a usable JSON file: nested too deeply", file=str(path)) from None
