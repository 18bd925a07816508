"""Driving `wrk` (Debian's wrk 4.1, LuaJIT) with rotate.lua, and reading what it reports.

wrk runs as a child process; its own CPU time comes from wait4's resource usage for exactly that child, since it
shares the machine's cores with the engine it measures.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Sequence
from urllib.parse import quote, urlencode

MARKER = "BEUWI-BENCH "


class WrkError(RuntimeError):
    pass


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    bytes: int
    errors: dict  # socket errors by kind, and `status` (HTTP >= 400) as wrk counts them
    non2xx: int
    stale: int  # answers from another catalogue than the one expected
    latency_ms: dict  # p50, p90, p95, p99, max, mean
    server_ms: dict  # count, p50, p95, p99, max: the engine's own time from Server-Timing
    cpu_s: float = 0.0  # user + system CPU wrk used
    wall_s: float = 0.0
    command: list = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def socket_errors(self) -> int:
        return sum(v for k, v in self.errors.items() if k != "status")

    @property
    def cpu_cores(self) -> float:
        """wrk's average CPU use, in cores."""
        return self.cpu_s / self.wall_s if self.wall_s else 0.0


def parse_output(stdout: str) -> WrkResult:
    """The result from wrk's output: rotate.lua's `BEUWI-BENCH {json}` line, latencies converted to milliseconds."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER):])
            break
    else:
        raise WrkError("wrk printed no result line:\n" + stdout[-2000:])
    latency = {k: (v / 1000 if v is not None else None) for k, v in data["latency_us"].items()}
    return WrkResult(
        requests=int(data["requests"]), duration_s=data["duration_us"] / 1e6, bytes=int(data["bytes"]),
        errors=dict(data["errors"]), non2xx=int(data["non2xx"]), stale=int(data["stale"]),
        latency_ms=latency, server_ms=dict(data["server_ms"]),
    )


def script_path() -> Path:
    return Path(str(resources.files("beuwi.bench").joinpath("rotate.lua")))


def executable() -> str:
    found = shutil.which("wrk")
    if not found:
        raise WrkError("wrk is not installed (Debian: apt-get install wrk)")
    return found


def version() -> str:
    try:
        out = subprocess.run([executable(), "-v"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError, WrkError):
        return "unknown"
    found = re.search(r"wrk\s+(\S+)", out.stdout or out.stderr)
    return found[1] if found else "unknown"


def search_path(labels: Sequence[str]) -> str:
    return "/api/search?" + urlencode([("subject", label) for label in labels], quote_via=quote)


def write_paths(paths: Sequence[str], directory: str | Path) -> Path:
    handle, name = tempfile.mkstemp(suffix=".paths", dir=directory)
    with os.fdopen(handle, "w") as out:
        out.write("\n".join(paths) + "\n")
    return Path(name)


def run(base_url: str, paths_file: Path, *, duration: float, connections: int = 8, threads: int = 2,
        expected: str = "", timeout: float = 30.0) -> WrkResult:
    """One wrk run against `base_url`, rotating through the paths in `paths_file`."""
    threads = max(1, min(threads, connections))
    command = [executable(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency",
               "--timeout", f"{max(1, round(timeout))}s", "-s", str(script_path()), base_url, "--",
               str(paths_file), expected]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=out, stderr=err)
        try:
            _, status, usage = os.wait4(process.pid, 0)  # the rusage of exactly this child
        except BaseException:
            process.kill()
            process.wait()
            raise
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise WrkError(f"wrk exited with {process.returncode}: {stderr.strip() or stdout[-2000:]}")
    result = parse_output(stdout)
    return replace(result, cpu_s=usage.ru_utime + usage.ru_stime, wall_s=wall, command=command)
