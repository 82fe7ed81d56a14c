"""Worker processes that do not outlive the process that started them.

A process pool's workers wait for work on a queue; when their parent is killed (``kill -9`` leaves it no
chance to stop them) they would wait forever. :func:`exit_with_parent`, run as the pool's initializer, asks
Linux to kill the worker with its parent (``PR_SET_PDEATHSIG``) and, on every system, starts a thread that ends
the worker once its parent process is gone.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1
_POLL_SECONDS = 0.5


def exit_with_parent() -> None:
    """Pool initializer: end this worker when the process that started it ends.

    That is the caller itself, or with the ``forkserver`` start method the fork server, which ends with the caller.
    """
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watcher below still ends the worker
    threading.Thread(target=_watch, args=(parent,), name="seldkit-parent-watch", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_POLL_SECONDS)
    os._exit(1)
