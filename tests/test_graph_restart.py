"""The graph server (FalkorDB, and Neo4j) goes away, hangs and comes back while engines serve a light load.

An engine with a snapshot keeps answering 200 from it and stays ready (health says degraded); an engine that never
had one answers a fast 503 with a JSON error; no request hangs past the graph timeout (on Neo4j, the driver's retry
of it); both recover by themselves when the graph returns, with no restart.
"""
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing
from pathlib import Path

import pytest

from beuwi.csv_catalogue import parse_catalogue
from beuwi.graph import EMBEDDED, open_store
from beuwi.graph.store import GraphUnavailable

from beuwi.ports import free_port
from .processes import RestartableGraph, get_json, start_engine, stop, wait_until, wait_until_live

SAMPLE = Path(__file__).resolve().parent.parent / "uploads" / "sample-catalogue.csv"
SEARCH = "/api/search?subject=Mathematics%20(CSEC)&subject=English%20A%20(CSEC)"
GRAPH_TIMEOUT = 1
# Only guards against hangs, not latency targets. An answer may wait for one graph call that times out: on Neo4j a
# connection attempt plus the driver's retry of it, one backoff (about 1 s) later (3.1 s measured).
HANG_GUARD = {"falkordb": GRAPH_TIMEOUT + 2, "neo4j": 2 * GRAPH_TIMEOUT + 4}
# A query on a connection opened before the freeze: FalkorDB's client gives up after the socket timeout; Neo4j's
# driver after the silence the server said it allows (the launcher's Bolt keep-alive, 1 s x 5 probes), and then
# retries on a new connection (6.8 s measured).
SILENT_GUARD = {"falkordb": GRAPH_TIMEOUT + 2, "neo4j": 5 + HANG_GUARD["neo4j"] + 4}


@pytest.fixture(params=EMBEDDED)
def graph_with_sample(request, tmp_path):
    """A graph server of this test's own with the sample catalogue active; yields (graph, active version)."""
    graph = RestartableGraph(tmp_path / "graph", request.param)
    with closing(open_store(graph.settings)) as store:
        version = store.activate(store.load(parse_catalogue(SAMPLE.read_bytes()).programmes).id).id
    yield graph, version
    graph.stop()


class Engine:
    """`beuwi serve search` on the graph, checking every answer arrives within the graph's HANG_GUARD."""

    def __init__(self, tmp_path: Path, graph: RestartableGraph, cleanup: ExitStack):
        self.port = free_port()
        self.guard = HANG_GUARD[graph.kind]
        log = tmp_path / f"engine-{self.port}.log"
        process = start_engine(self.port, log, **graph.settings, GRAPH_TIMEOUT=GRAPH_TIMEOUT,
                               ACTIVE_CHECK_SECONDS=0.5)
        cleanup.callback(stop, process)
        wait_until_live(process, self.port, log)

    def get(self, path: str) -> tuple[int, dict]:
        started = time.monotonic()
        status, body = get_json(f"http://127.0.0.1:{self.port}{path}", timeout=30)
        took = time.monotonic() - started
        assert took < self.guard, f"GET {path} took {took:.1f} s"
        return status, body

    def status(self, path: str) -> int:
        return self.get(path)[0]


class Load:
    """Searches one after another from a thread until stopped, keeping every status and duration."""

    def __init__(self, engine: Engine):
        self.answers: list[tuple[int, float]] = []
        self._engine = engine
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                status, _ = get_json(f"http://127.0.0.1:{self._engine.port}{SEARCH}", timeout=30)
            except OSError as exc:
                status = repr(exc)
            self.answers.append((status, time.monotonic() - started))
            time.sleep(0.05)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=60)


def concurrently(engine: Engine, path: str, times: int) -> list[tuple[int, dict]]:
    """More requests at once than the engine has threads, so some wait for others' graph calls."""
    with ThreadPoolExecutor(times) as pool:
        return list(pool.map(engine.get, [path] * times))


def test_engines_ride_out_a_graph_restart_and_a_hung_graph(tmp_path, graph_with_sample):
    graph, version = graph_with_sample
    with ExitStack() as cleanup:
        serving = Engine(tmp_path, graph, cleanup)
        wait_until(lambda: serving.status("/api/health/ready") == 200, "the first engine is ready")
        load = Load(serving)
        cleanup.callback(load.stop)

        graph.stop()
        wait_until(lambda: serving.get("/api/health")[1]["status"] == "degraded", "health says degraded", 10)
        health = serving.get("/api/health")
        assert health[0] == 200 and health[1]["catalogue"] == version
        assert health[1]["error"].startswith("graph unavailable: ")
        assert serving.get("/api/health/ready") == (200, {"ready": True, "catalogue": version})
        assert serving.get(SEARCH)[1]["catalogue"] == version

        cold = Engine(tmp_path, graph, cleanup)  # started while the graph is down: it never had a snapshot
        status, body = cold.get(SEARCH)
        assert status == 503 and body["error"].startswith("catalogue unavailable: ")
        status, body = cold.get("/api/health/ready")
        assert status == 503 and body["ready"] is False and body["error"].startswith("catalogue unavailable: ")
        assert cold.get("/api/health")[1]["status"] == "unavailable"
        assert cold.get("/api/health/live") == (200, {"status": "live"})

        graph.start()
        wait_until(lambda: cold.status(SEARCH) == 200, "the cold engine serves", 10)
        assert cold.get("/api/health/ready") == (200, {"ready": True, "catalogue": version})
        wait_until(lambda: serving.get("/api/health") == (200, {"status": "ok", "catalogue": version}),
                   "the first engine's health is ok again", 10)
        pooled = open_store({**graph.settings, "GRAPH_TIMEOUT": GRAPH_TIMEOUT}, write=False)
        cleanup.callback(pooled.close)
        pooled.ping()  # a connection opened before the freeze, as the engines' are
        asking = ThreadPoolExecutor(1)
        cleanup.callback(asking.shutdown)

        with graph.paused():
            with pytest.raises(GraphUnavailable):  # not a concurrent.futures TimeoutError: the client gave up
                asking.submit(pooled.ping).result(timeout=SILENT_GUARD[graph.kind])
            latecomer = Engine(tmp_path, graph, cleanup)  # no snapshot, and the graph does not answer
            assert {status for status, _ in concurrently(latecomer, SEARCH, 8)} == {503}
            assert latecomer.status("/api/health/ready") == 503
            for engine in (serving, cold):
                assert [status for status, _ in concurrently(engine, SEARCH, 8)] == [200] * 8
                assert engine.status("/api/health/ready") == 200
                wait_until(lambda: engine.get("/api/health")[1]["status"] == "degraded", "health says degraded",
                           SILENT_GUARD[graph.kind])
        wait_until(lambda: latecomer.status(SEARCH) == 200, "the latecomer serves once the graph answers", 10)
        wait_until(lambda: serving.get("/api/health")[1]["status"] == "ok", "health is ok after the hang", 10)
        load.stop()

    assert load.answers, "the load thread made no request"
    assert {status for status, _ in load.answers} == {200}
    assert max(took for _, took in load.answers) < HANG_GUARD[graph.kind]
