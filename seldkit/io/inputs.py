"""Opening an input file: only regular files are read.

A device (``/dev/zero`` never ends), a FIFO without a writer (blocks forever), a folder or a socket given where
a file belongs is a one-line :class:`~seldkit.errors.InputError`, as are files that cannot be read (missing,
a symlink loop, no permission) and, where a limit is given, files too large for what they hold.
"""

from __future__ import annotations

import stat
from pathlib import Path

from seldkit.errors import InputError


def check_input_file(path: str | Path, *, what: str = "file") -> None:
    """``path`` is a regular file (or a symlink to one); otherwise an :class:`InputError` naming it."""
    try:
        mode = Path(path).stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{what} not found", file=str(path)) from None
    except OSError as error:
        raise InputError(f"cannot read the {what}: {error.strerror or error}", file=str(path)) from None
    if stat.S_ISDIR(mode):
        raise InputError(f"the {what} is a folder, not a file", file=str(path))
    if not stat.S_ISREG(mode):
        raise InputError(f"the {what} is not a regular file (a device, pipe or socket)", file=str(path))


def read_input_bytes(path: str | Path, *, what: str = "file", limit: int | None = None) -> bytes:
    """The bytes of the regular file ``path`` (at most ``limit`` of them, else an error)."""
    check_input_file(path, what=what)
    try:
        with open(path, "rb") as handle:
            data = handle.read() if limit is None else handle.read(limit + 1)
    except OSError as error:
        raise InputError(f"cannot read the {what}: {error.strerror or error}", file=str(path)) from None
    if limit is not None and len(data) > limit:
        raise InputError(
            f"the {what} is larger than {limit // 1024} KiB; seldkit does not read files this large here",
            file=str(path),
        )
    return data


def read_input_text(path: str | Path, *, what: str = "file", limit: int | None = None) -> str:
    """The UTF-8 text of the regular file ``path`` (a leading byte-order mark dropped).

    A byte that is not UTF-8 is an :class:`InputError` with its line.
    """
    data = read_input_bytes(path, what=what, limit=limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise InputError(f"byte 0x{data[error.start]:02x} is not valid UTF-8", file=str(path), line=line) from None
