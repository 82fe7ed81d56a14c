"""Reading a JSON document with errors that name the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seldkit.errors import InputError


def read_json_file(path: Path) -> Any:
    """The parsed document; a missing file or invalid JSON is an :class:`InputError` naming ``path``."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"not valid JSON: {error}", file=str(path)) from None
