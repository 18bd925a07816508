"""The embedded Neo4j: Neo4j 5.26 Community run by the project's launcher (`neo4j_launcher/`) in a JVM of its own.

It is the real database engine, with its store on disk under `<data dir>/neo4j` and Bolt on a loopback port, reached
by the official driver exactly as a Neo4j server or Aura is. As with the embedded FalkorDB, commands sharing a data
dir share one server: the first starts it and records {pid, port} in `server.json`; only the starter stops it, and
the kernel stops it with the starting process (SIGTERM, which the JVM answers with a clean shutdown).

Auth is on: the password of user `neo4j` is generated once into `password` (mode 0600) and handed to the JVM in
its environment. The launcher is built by Maven the first time (a few minutes on a fresh machine, the jars cached in
Maven's local repository); later starts only check that the build is newer than its sources.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable

from beuwi.ports import free_port

from .child import locked, say, stopped_with_starter
from .store import GraphUnavailable

LAUNCHER = Path(__file__).resolve().parent / "neo4j_launcher"
JAR = LAUNCHER / "target" / "neo4j-launcher-1.jar"
CLASSPATH = LAUNCHER / "target" / "classpath.txt"
PLUGINS = LAUNCHER / "target" / "plugins"
MAIN = "org.beuwi.neo4j.Launcher"
APOC_CLASSES = ("apoc.coll.Coll",)  # what the 2019 query calls (apoc.coll.intersection)
HEAP = "768m"  # bounded for 2 cores / 24 GB; the page cache (256 MB) is set by the launcher
# What Neo4j's own start script opens, so its page cache reaches direct buffers without a slower fallback.
OPENS = [f"--add-opens=java.base/{package}=ALL-UNNAMED" for package in ("java.nio", "sun.nio.ch", "java.lang", "java.io")]
START_TIMEOUT = 180.0  # seconds for a JVM to open the store and answer on Bolt (about 12 s here)
BUILD_TIMEOUT = 1200.0
STOP_TIMEOUT = 60.0
QUIET_SECONDS = 2.0
JAVA_HINT = "install a Java 17 JDK (apt-get install openjdk-17-jdk-headless), or set BEUWI_EMBEDDED_GRAPH=falkordb"


class EmbeddedNeo4j:
    user = "neo4j"

    def __init__(self, directory: Path, port: int, pid: int, process: subprocess.Popen | None, apoc: bool):
        self.directory = directory
        self.port = port
        self.pid = pid
        self.apoc = apoc
        self._process = process  # set only in the process that started the server

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.port}"

    @property
    def connection(self) -> dict:
        """The GRAPH_* settings that reach it."""
        return {"GRAPH_URI": self.uri, "GRAPH_USER": self.user, "GRAPH_PASSWORD": self.password}

    @property
    def password(self) -> str:
        return (self.directory / "password").read_text().strip()

    @property
    def owned(self) -> bool:
        return self._process is not None

    @classmethod
    def ensure(cls, data_dir: str | Path, port: int | None = None, *, apoc: bool = False,
               progress: Callable[[str], None] = say) -> "EmbeddedNeo4j":
        """The server for this data dir, answering on Bolt: the running one, else a new one owned by this process,
        on `port` or a free one. `apoc` registers the APOC functions the benchmark's baseline calls."""
        directory = Path(data_dir).resolve() / "neo4j"
        directory.mkdir(parents=True, exist_ok=True)
        with locked(directory / "server.lock"):
            running = _running(directory / "server.json", progress)
            if running:
                if apoc and not running.get("apoc"):
                    raise GraphUnavailable(f"the embedded Neo4j of {data_dir} (pid {running['pid']}) runs without "
                                           "APOC; stop the command that started it, or use another data dir")
                return cls(directory, running["port"], running["pid"], None, bool(running.get("apoc")))
            return cls._start(directory, port, apoc, progress)

    @classmethod
    def _start(cls, directory: Path, port: int | None, apoc: bool, progress) -> "EmbeddedNeo4j":
        java = _java()
        build(progress)
        port = port or free_port()
        _check_port_free(port)
        password = _password(directory / "password")
        log = directory / "server.log"
        classpath = [str(JAR), *CLASSPATH.read_text().strip().split(os.pathsep)]
        if apoc:
            classpath += [str(jar) for jar in sorted(PLUGINS.glob("apoc-core-*.jar"))]
        command = [java, "-Xms256m", f"-Xmx{HEAP}", "-XX:+ExitOnOutOfMemoryError", "-Dfile.encoding=UTF-8",
                   *OPENS,
                   "-cp", os.pathsep.join(classpath), MAIN, str(directory / "store"), str(port),
                   *(APOC_CLASSES if apoc else ())]
        began = time.monotonic()
        offset = log.stat().st_size if log.exists() else 0
        with open(log, "ab") as out:
            process = subprocess.Popen(stopped_with_starter(command), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True,
                                       env={**os.environ, "BEUWI_NEO4J_PASSWORD": password})
        started = cls(directory, port, process.pid, process, apoc)
        try:
            _wait_until_ready(process, log, offset, began, directory, progress)
        except BaseException:
            started.stop()
            raise
        (directory / "server.json").write_text(json.dumps({"pid": process.pid, "port": port, "apoc": apoc}))
        return started

    def stop(self) -> None:
        """Shut it down cleanly (SIGTERM: the JVM closes the store), if this process started it."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        (self.directory / "server.json").unlink(missing_ok=True)
        self._process = None


def build(progress: Callable[[str], None] = say) -> None:
    """Build the launcher with Maven unless its build is newer than its sources (and its jars are still there)."""
    with locked(LAUNCHER / ".build.lock"):
        if _built():
            return
        mvn = shutil.which("mvn")
        if not mvn:
            raise GraphUnavailable("Maven is not installed: the embedded Neo4j's launcher is built with it once "
                                   "(apt-get install maven), or set BEUWI_EMBEDDED_GRAPH=falkordb")
        progress("graph: building the Neo4j launcher with Maven (once; the first time downloads Neo4j, a few minutes)")
        log = LAUNCHER / "build.log"
        with open(log, "wb") as out:
            try:
                done = subprocess.run([mvn, "-B", "-q", "-f", str(LAUNCHER / "pom.xml"), "package"], stdout=out,
                                      stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise GraphUnavailable(f"building the Neo4j launcher took over {BUILD_TIMEOUT:.0f} s; see {log}")
        if done.returncode or not _built():
            errors = [line.removeprefix("[ERROR] ") for line in log.read_text(errors="replace").splitlines()
                      if line.startswith("[ERROR]") and line.strip() != "[ERROR]"][:3]
            raise GraphUnavailable("Maven could not build the Neo4j launcher (is Maven Central reachable?): "
                                   + (" ".join(errors) or f"see {log}"))


def _built() -> bool:
    if not (JAR.exists() and CLASSPATH.exists()):
        return False
    sources = [LAUNCHER / "pom.xml", *(LAUNCHER / "src").rglob("*.java")]
    if JAR.stat().st_mtime < max(path.stat().st_mtime for path in sources):
        return False
    return all(Path(jar).exists() for jar in CLASSPATH.read_text().strip().split(os.pathsep))


def _java() -> str:
    java = shutil.which("java", path=f"{os.environ['JAVA_HOME']}/bin") if os.environ.get("JAVA_HOME") else None
    java = java or shutil.which("java")
    if not java:
        raise GraphUnavailable(f"Java is not installed: the embedded Neo4j runs in a JVM; {JAVA_HINT}")
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(found.group(1)) if found else 0
    major = int(found.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8
    if major < 17:
        raise GraphUnavailable(f"Neo4j 5 needs Java 17 or later, and {java} is Java {major or 'unknown'}; {JAVA_HINT}")
    return java


def _password(path: Path) -> str:
    """The password of this data dir's server, made once; the launcher sets it at every start."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(24))
    return path.read_text().strip()


def _check_port_free(port: int) -> None:
    with socket.socket() as probe:
        # As Netty binds: connections of a killed server left in TIME_WAIT do not make the port taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise GraphUnavailable(f"Bolt port {port} is already taken by another program; stop it or leave the "
                                   "port to BeUWI's choice") from None


def _running(record: Path, progress) -> dict | None:
    """The recorded server if its process is our launcher and its Bolt port accepts connections."""
    try:
        server = json.loads(record.read_text())
    except (OSError, ValueError):
        return None
    try:
        if MAIN not in Path(f"/proc/{server['pid']}/cmdline").read_bytes().decode(errors="replace"):
            raise OSError("another program has that pid now")
        socket.create_connection(("127.0.0.1", server["port"]), timeout=2).close()
        return server
    except (OSError, KeyError, TypeError):
        progress(f"graph: the Neo4j recorded in {record} (pid {server.get('pid')}) is gone; starting a new one")
        record.unlink(missing_ok=True)
        return None


def _wait_until_ready(process, log: Path, offset: int, began: float, directory: Path, progress) -> None:
    """Until the launcher prints its ready line; a launcher that stops first says why in one line."""
    said = False
    while True:
        out = _since(log, offset)
        if "\nready bolt://" in "\n" + out:
            if said:
                progress(f"graph: Neo4j ready after {time.monotonic() - began:.0f} s")
            return
        if process.poll() is not None:
            raise GraphUnavailable(_failure(out, directory))
        waited = time.monotonic() - began
        if waited > START_TIMEOUT:
            raise GraphUnavailable(f"the embedded Neo4j in {directory} did not start in {START_TIMEOUT:.0f} s; "
                                   f"see {log} and {directory / 'store' / 'logs' / 'debug.log'}")
        if not said and waited >= QUIET_SECONDS:
            progress(f"graph: starting the embedded Neo4j in {directory} (a JVM: about 15 s)")
            said = True
        time.sleep(0.1)


def _since(log: Path, offset: int) -> str:
    with open(log, "rb") as handle:
        handle.seek(offset)
        return handle.read().decode(errors="replace")


def _failure(out: str, directory: Path) -> str:
    """The launcher's own error line, in words that name the cause; never a stack trace."""
    errors = [line.removeprefix("error: ") for line in out.splitlines() if line.startswith("error: ")]
    reason = errors[-1] if errors else (out.strip().splitlines() or ["no output"])[-1]
    if "locked by another process" in reason or "FileLockException" in reason:
        return (f"the Neo4j store in {directory / 'store'} is in use by another process (a Neo4j not started by "
                "BeUWI, or one that is still stopping); stop it or use another data dir")
    if "Address already in use" in reason:
        return f"the embedded Neo4j could not bind its Bolt port: {reason[:300]}"
    if "OutOfMemoryError" in out:
        return f"the embedded Neo4j ran out of its {HEAP} heap"
    return f"the embedded Neo4j stopped while starting: {reason[:500]}"
