"""What the two embedded graph servers share as child processes: one starter per data dir, stopped with it."""
from __future__ import annotations

import fcntl
import shutil
import sys
import threading
from contextlib import contextmanager
from pathlib import Path


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def stopped_with_starter(command: list[str]) -> list[str]:
    """The command, run so that the kernel sends it SIGTERM when the starting thread ends, however it ends
    (PR_SET_PDEATHSIG, set by util-linux's setpriv, which then execs the command).

    Not a preexec_fn: that makes Python fork instead of vfork, and in a process that has loaded gRPC (the Firebase
    clients) its fork handlers then ran in the child and aborted it before the exec (seen once in CI: the embedded
    FalkorDB "did not start", killed by SIGABRT). Only for a main thread: another thread (a request thread of a
    development server) ends long before its process.
    """
    setpriv = shutil.which("setpriv")
    if setpriv and sys.platform.startswith("linux") and threading.current_thread() is threading.main_thread():
        return [setpriv, "--pdeathsig", "TERM", "--", *command]
    return command


@contextmanager
def locked(path: Path):
    """An exclusive lock on `path`, held across processes until the block ends."""
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
