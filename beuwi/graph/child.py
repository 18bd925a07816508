"""What the two embedded graph servers share as child processes: one starter per data dir, stopped with it."""
from __future__ import annotations

import ctypes
import fcntl
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None  # found before any fork


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def stop_with_starter():
    """A preexec_fn that makes the kernel send the child SIGTERM when the starting thread ends, however it ends.

    Only for a main thread: another thread (a request thread of a development server) ends long before its process.
    """
    if _LIBC and threading.current_thread() is threading.main_thread():
        return lambda: _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    return None


@contextmanager
def locked(path: Path):
    """An exclusive lock on `path`, held across processes until the block ends."""
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
