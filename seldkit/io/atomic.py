"""Writing outputs so that nothing a user owns is lost.

Every file seldkit writes appears whole or not at all: it is written to a temporary file beside its target and
renamed over it, so a failed or killed write leaves the previous file as it was. Write errors (a full disk, a
file-size limit) raise instead of leaving a short file. Temporaries carry the writing process's id, so the next
run removes those whose process no longer exists (:func:`remove_stale_temporaries`).

Targets are checked before any work starts (:func:`check_output_file`): an existing directory, a device such as
``/dev/full``, or a folder that cannot be written is a one-line :class:`~seldkit.errors.InputError`, not a
traceback after an hour of training.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from seldkit.errors import InputError

TEMPORARY_SUFFIX = ".seldkit-tmp"


def current_umask() -> int:
    """The process's file-mode creation mask (read by setting it and putting it back)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


def temporary_path(target: Path) -> Path:
    """A fresh name beside ``target`` that marks the writing process: ``.<name>.<pid>-<random>.seldkit-tmp``."""
    return target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}{TEMPORARY_SUFFIX}")


def process_alive(pid: int) -> bool:
    """Whether the process ``pid`` may still exist (a process of another user counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0  # a process of another user holds it (or the number is not a pid at all)
    return True


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Remove the temporaries of ``target`` (files or folders) whose writing process has died; returns them."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(\d+)-[0-9a-f]+{re.escape(TEMPORARY_SUFFIX)}")
    removed: list[Path] = []
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or process_alive(int(match.group(1))):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError:
            continue
        removed.append(entry)
    return removed


def check_output_file(path: Path, *, what: str = "output file") -> None:
    """Fail now, with one line, if ``path`` cannot receive a file.

    It cannot when it is a directory or a device, or its folder cannot be created or written. Missing parent folders
    are fine (they are created when writing).
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise InputError(f"cannot write the {what}: {error.strerror or error}", file=str(path)) from None
    if mode is not None and stat.S_ISDIR(mode):
        raise InputError(f"this {what} is a directory; give a file name", file=str(path))
    if mode is not None and not stat.S_ISREG(mode):
        raise InputError(
            f"this {what} is not a regular file (a device, pipe or socket); give a file name", file=str(path)
        )
    check_output_folder(path.parent, what=f"folder of the {what}", file=path)


def check_output_folder(folder: Path, *, what: str = "output folder", file: Path | None = None) -> None:
    """``folder``, or the nearest existing folder above it, must be a directory seldkit can write in."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    named = str(file if file is not None else folder)
    if existing.exists() and not existing.is_dir():
        raise InputError(f"cannot create the {what}: {existing} is not a folder", file=named)
    probe = existing / f".seldkit-write-probe.{os.getpid()}-{secrets.token_hex(4)}{TEMPORARY_SUFFIX}"
    try:
        probe.touch(exist_ok=False)
        probe.unlink()
    except OSError as error:
        raise InputError(f"cannot write in the {what} ({existing}): {error.strerror or error}", file=named) from None


def _ensure_parent(target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"cannot create the folder: {error.strerror or error}", file=str(target)) from None


@contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``.

    When the block ends without an exception, the temporary replaces ``path`` (with ordinary permissions); otherwise it
    is removed and ``path`` is left as it was.

    OSErrors of the block and of the replacement are reported as :class:`InputError` naming ``path``.
    """
    target = Path(path)
    if target.is_dir():
        raise InputError("is a directory; give a file name", file=str(target))
    _ensure_parent(target)
    remove_stale_temporaries(target)
    temporary = temporary_path(target)
    try:
        yield temporary
        if temporary.exists():
            os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, target)
    except OSError as error:
        _remove(temporary)
        raise InputError(f"cannot write: {error.strerror or error}", file=str(target)) from None
    except BaseException:
        _remove(temporary)
        raise


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically; a short write (full disk, size limit) raises."""
    with atomic_output(path) as temporary:
        with open(temporary, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` as UTF-8, atomically (see :func:`write_bytes_atomic`)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_new_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a file that does not exist yet (inside a staging folder); errors raise OSError."""
    with open(path, "xb") as handle:
        handle.write(data)


def replace_folder(staging: Path, target: Path) -> None:
    """Put the finished folder ``staging`` at ``target`` in place of any previous one.

    Any previous ``target`` is moved aside first and deleted only once the new one is in place (on failure the previous
    one is put back).
    """
    previous = None
    if target.exists() or target.is_symlink():
        previous = temporary_path(target)
        os.replace(target, previous)
    try:
        os.replace(staging, target)
    except BaseException:
        if previous is not None:
            os.replace(previous, target)
        raise
    if previous is not None:
        _remove(previous)


def make_staging_folder(target: Path) -> Path:
    """A new empty folder beside ``target`` for building it.

    A killed build leaves it to the next run's :func:`remove_stale_temporaries`.
    """
    _ensure_parent(target)
    remove_stale_temporaries(target)
    staging = temporary_path(target)
    try:
        staging.mkdir(mode=0o777)
    except OSError as error:
        raise InputError(f"cannot create a folder beside it: {error.strerror or error}", file=str(target)) from None
    return staging


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass
