"""What `beuwi bench` reports: the JSON CI and dashboards read, one Markdown table, and a latency plot.

Definitions (also printed under the Markdown table):
- end-to-end latency (p50/p95/p99/max) and throughput (rps): as wrk measures them over HTTP, keep-alive connections;
- server p50/p99: the engine's own time per search, `took_ms`, sent as `Server-Timing: engine;dur=<ms>`;
- baseline p50/p99: round-trip time of the 2019 engine's own query on its own model (beuwi/bench/original.py), run
  one at a time on Neo4j 5.26 with APOC, on the same catalogue and profiles, through the official driver;
- baseline_falkordb p50/p99: the same for the query's port to this project's model on the engine's FalkorDB
  (beuwi/bench/baseline.py, GRAPH.RO_QUERY);
- speedup_vs_original_query = baseline_p50_ms / server_p50_ms; speedup_vs_falkordb_port likewise;
- throughput_vs_noop = a workload's rps / the no-op `/api/ping` rps through the same stack at the same load.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

from .wrk import WrkResult

REQUIRED_WORKLOAD_KEYS = ("programmes", "p50_ms", "p95_ms", "p99_ms", "max_ms", "rps", "server_p50_ms",
                          "server_p99_ms", "baseline_p50_ms", "speedup_vs_original_query")
REQUIRED_NOOP_KEYS = ("rps", "p99_ms")
REQUIRED_KEYS = ("workloads", "noop", "throughput_vs_noop", "machine", "baseline", "baseline_falkordb", "graph_timings")
TIMING_KEYS = ("programmes", "load_s", "activate_s", "read_s", "delete_s", "engine_ready_s", "worker_rss_mb")
# What the 2019 engine's own report measured: its query's mean time at 1,000 documents, on its Neo4j and machine.
REPORTED_2019 = {"mean_ms": [27, 63], "documents": 1000}
FEW_REQUESTS = 100  # fewer answers than this in a run make its tail percentiles anecdotal: flagged in the table
PLOT_CURVE = ("original-L3-Q5", "scale-10k", "scale-100k")  # the same profile shape (L3, 25 subjects) at 1k..100k


def percentile(values: Iterable[float], p: float) -> float | None:
    """Nearest-rank percentile (what wrk and rotate.lua use), None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def workload_entry(result: WrkResult, *, programmes: int, baseline_ms: Sequence[float], cores: int,
                   falkordb_baseline_ms: Sequence[float] = (), worker_rss_mb: float | None = None, **extra) -> dict:
    """One workload's JSON: the required keys first, then what helps read them."""
    server = result.server_ms
    server_p50 = server.get("p50")
    baseline_p50, port_p50 = percentile(baseline_ms, 50), percentile(falkordb_baseline_ms, 50)
    speedup = baseline_p50 / server_p50 if baseline_p50 is not None and server_p50 else None
    port_speedup = port_p50 / server_p50 if port_p50 is not None and server_p50 else None
    lat = result.latency_ms if result.requests else {}
    return {
        "programmes": programmes,
        "p50_ms": _round(lat.get("p50")),
        "p95_ms": _round(lat.get("p95")),
        "p99_ms": _round(lat.get("p99")),
        "max_ms": _round(lat.get("max")),
        "rps": _round(result.rps, 1),
        "server_p50_ms": _round(server_p50),
        "server_p99_ms": _round(server.get("p99")),
        "baseline_p50_ms": _round(baseline_p50),
        "speedup_vs_original_query": _round(speedup, 2),
        "server_p95_ms": _round(server.get("p95")),
        "server_max_ms": _round(server.get("max")),
        "baseline_p99_ms": _round(percentile(baseline_ms, 99)),
        "baseline_queries": len(baseline_ms),
        "baseline_falkordb_p50_ms": _round(port_p50),
        "baseline_falkordb_p99_ms": _round(percentile(falkordb_baseline_ms, 99)),
        "baseline_falkordb_queries": len(falkordb_baseline_ms),
        "speedup_vs_falkordb_port": _round(port_speedup, 2),
        "mean_ms": _round(lat.get("mean")),
        "requests": result.requests,
        "duration_s": _round(result.duration_s, 2),
        "non_2xx": result.non2xx,
        "socket_errors": result.socket_errors,
        "stale": result.stale,
        "bytes_per_response": round(result.bytes / result.requests) if result.requests else None,
        "load_generator_cpu_s": _round(result.cpu_s, 2),
        "load_generator_cpu_share": _round(result.cpu_cores / cores if cores else None, 3),
        "worker_rss_mb": _round(worker_rss_mb, 1),
        **extra,
    }


def noop_entry(result: WrkResult, *, cores: int) -> dict:
    lat = result.latency_ms if result.requests else {}
    return {
        "rps": _round(result.rps, 1), "p99_ms": _round(lat.get("p99")), "p50_ms": _round(lat.get("p50")),
        "p95_ms": _round(lat.get("p95")), "max_ms": _round(lat.get("max")), "requests": result.requests,
        "duration_s": _round(result.duration_s, 2), "non_2xx": result.non2xx, "socket_errors": result.socket_errors,
        "load_generator_cpu_s": _round(result.cpu_s, 2),
        "load_generator_cpu_share": _round(result.cpu_cores / cores if cores else None, 3),
    }


def assemble(workloads: dict, noop: dict, machine: dict, **extra) -> dict:
    noop_rps = noop.get("rps") or 0
    return {
        "workloads": workloads,
        "noop": noop,
        "throughput_vs_noop": {name: (round(w["rps"] / noop_rps, 3) if noop_rps else None)
                               for name, w in workloads.items()},
        "machine": machine,
        **extra,
    }


def over_limit(data: dict, max_p99_ms: float) -> list[str]:
    """Workloads (and the no-op) whose end-to-end p99 is at or over the limit, or that got errors, with why."""
    found = []
    for name, entry in [*data["workloads"].items(), ("noop", data["noop"])]:
        p99 = entry.get("p99_ms")
        if not entry.get("requests"):
            found.append(f"{name}: no request completed")
        elif p99 is None or p99 >= max_p99_ms:
            found.append(f"{name}: p99 {_fmt(p99)} ms >= {max_p99_ms:g} ms")
        errors = (entry.get("non_2xx") or 0) + (entry.get("socket_errors") or 0)
        if errors:
            found.append(f"{name}: {errors} of {entry.get('requests')} requests failed "
                         f"({entry.get('non_2xx')} non-2xx, {entry.get('socket_errors')} socket errors or timeouts)")
    return found


def _fmt(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _times(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.1f}x"


def timings_table(timings: dict) -> str:
    """One row per graph and catalogue size: load, activate, read-back, delete, the engine's ready-time and RSS."""
    head = ["graph", "programmes", "load s", "activate s", "read-back s", "delete s", "engine ready s", "worker RSS"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for graph, rows in timings.items():
        for r in rows:
            lines.append("| " + " | ".join([
                graph, _fmt(r["programmes"]), _fmt(r["load_s"]), _fmt(r["activate_s"], 3), _fmt(r["read_s"]),
                _fmt(r["delete_s"]), _fmt(r["engine_ready_s"]),
                "-" if r.get("worker_rss_mb") is None else f"{r['worker_rss_mb']:.0f} MB"]) + " |")
    return "\n".join(lines)


def markdown(data: dict) -> str:
    """One table, then the no-op floor, the settings, the machine and the definitions."""
    head = ["workload", "programmes", "p50", "p95", "p99", "max", "rps", "vs no-op", "server p50", "server p99",
            "original Neo4j+APOC p50", "p99", "speedup", "original on FalkorDB p50", "p99", "speedup", "wrk CPU",
            "worker RSS"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    ratios = data.get("throughput_vs_noop", {})
    for name, w in data["workloads"].items():
        flags = []
        if w.get("non_2xx") or w.get("socket_errors"):
            flags.append(f"{(w.get('non_2xx') or 0) + (w.get('socket_errors') or 0)} errors")
        if w.get("stale"):
            flags.append(f"{w['stale']} stale")
        if w.get("requests") is not None and w["requests"] < FEW_REQUESTS:
            flags.append(f"only {w['requests']} requests")
        label = f"{name}" + (f" ({', '.join(flags)})" if flags else "")
        share = w.get("load_generator_cpu_share")
        cells = [label, _fmt(w["programmes"]), _fmt(w["p50_ms"]), _fmt(w["p95_ms"]), _fmt(w["p99_ms"]),
                 _fmt(w["max_ms"]), _fmt(w["rps"], 0), _fmt(ratios.get(name)), _fmt(w["server_p50_ms"]),
                 _fmt(w["server_p99_ms"]), _fmt(w["baseline_p50_ms"]), _fmt(w.get("baseline_p99_ms")),
                 _times(w["speedup_vs_original_query"]), _fmt(w.get("baseline_falkordb_p50_ms")),
                 _fmt(w.get("baseline_falkordb_p99_ms")), _times(w.get("speedup_vs_falkordb_port")),
                 "-" if share is None else f"{share * 100:.0f}%",
                 "-" if w.get("worker_rss_mb") is None else f"{w['worker_rss_mb']:.0f} MB"]
        lines.append("| " + " | ".join(cells) + " |")
    noop = data["noop"]
    out = ["\n".join(lines), ""]
    base, port, then = data.get("baseline") or {}, data.get("baseline_falkordb") or {}, data.get("reported_2019")
    if base:
        out.append(f"Baseline: the 2019 engine's own query ({base['source']['repo']}, {base['source']['path']}, "
                   f"`{base['source']['function']}`) on its own model, on {base.get('server')} "
                   f"(apoc: {str(base.get('apoc')).lower()}); changed: {base.get('changes')}. Second baseline: its "
                   f"port to this project's model on {port.get('server', 'FalkorDB')}, without APOC.")
    if then:
        out.append(f"The 2019 report's own numbers: {then['mean_ms'][0]}-{then['mean_ms'][1]} ms mean per query at "
                   f"{then['documents']:,} documents.")
    out.append(f"No-op floor (`GET /api/ping`, same stack and load): {_fmt(noop.get('rps'), 0)} rps, "
               f"p50 {_fmt(noop.get('p50_ms'))} ms, p99 {_fmt(noop.get('p99_ms'))} ms, "
               f"wrk CPU {_fmt((noop.get('load_generator_cpu_share') or 0) * 100, 0)}%.")
    catalogues = data.get("catalogues") or {}
    if catalogues:
        out.append("Catalogue loads (store.load + activate on FalkorDB; the original's model on Neo4j): " + ", ".join(
            f"{name} ({_fmt(c['programmes'])} programmes) {c['load_s']:.1f} s, "
            + ("not in Neo4j (v2)" if c.get("original_load_s") is None else f"Neo4j {c['original_load_s']:.1f} s")
            for name, c in catalogues.items()) + ".")
    if data.get("graph_timings"):
        out += ["", "Graph timings (L3 programmes; read-back = store.programmes, the engine's snapshot read; engine "
                "ready = `beuwi serve search` start to its first answer naming the catalogue; worker RSS = its "
                "largest worker then):", "", timings_table(data["graph_timings"]), ""]
    settings = data.get("settings") or {}
    if settings:
        out.append(f"Settings: {settings.get('mode')} run, {settings.get('connections')} connections from wrk with "
                   f"{settings.get('wrk_threads')} threads, {settings.get('duration_s')} s per workload after a "
                   f"warm-up; engine: {settings.get('workers')} gunicorn workers x {settings.get('threads')} threads; "
                   f"graph: {settings.get('graph')}; whole run {_fmt(data.get('wall_s'), 0)} s.")
    m = data.get("machine") or {}
    if m:
        versions = ", ".join(f"{k} {v}" for k, v in (m.get("versions") or {}).items())
        load = m.get("load_average_at_start")
        out.append(f"Machine: {m.get('cores')} cores ({m.get('cpu', '?')}), {_fmt(m.get('memory_gb'), 1)} GB, "
                   f"{m.get('os', '?')}; {versions}"
                   + (f"; load average at start {load[0]:.2f}" if load else "") + ".")
    out.append("")
    out.append("Latencies in ms. End-to-end: measured by wrk over keep-alive HTTP. Server: the engine's own time per "
               "search (`took_ms`, from the `Server-Timing` header). Original Neo4j+APOC: the 2019 engine's own query "
               "on its own model, on Neo4j with APOC; original on FalkorDB: its port to this graph model without "
               "APOC, on the engine's FalkorDB; both timed round trip one query at a time on the same catalogue and "
               "profiles. Speedup = baseline p50 / server p50. vs no-op = rps / no-op rps. wrk CPU = CPU the load "
               "generator itself used, as a share of all the machine's cores (it shares them with the engine). "
               "Worker RSS = largest engine worker's resident memory after the workload. Flags: errors = non-2xx answers, "
               "socket errors and timeouts; stale = answers from the previous catalogue; few requests = tail "
               "percentiles from too few answers to mean much. Workloads: `sample` = the "
               "sample catalogue with student-like profiles (6-9 CSEC + 2-4 CAPE subjects); `sample-cached` = the "
               "same on a fresh engine as deployed, with its answer cache on (every other workload runs with the cache "
               "off, to measure the matcher; its server times are mostly cache lookups); `original-Ln-Qk` = 1,000 "
               "programmes of the original benchmark's level n, Q1..Q5 = queries of 5, 10, 15, 20, 25 subjects; "
               "`scale-*` = L3 programmes, "
               "25-subject queries (the original-L3-Q5 shape at 10k and 100k); `sample` runs on the v1 sample "
               "catalogue (uploads/v1), which the baselines can hold. Requirement model v2, on the engine only (the "
               "2019 model has no schemes, units, uncounted subjects, GCE or associate degrees, so no baseline): "
               "`sample-v2` = the v2 sample catalogue, `v2-*` = generated v2 catalogues (1-3 schemes, CAPE unit "
               "references and counts, uncounted subjects, GCE O-Level routes, associate-degree schemes, "
               "conditions), both with student-like v2 profiles (6-9 CSEC or GCE O-Level + 2-4 CAPE subjects or "
               "single units or GCE A-Levels, some associate degrees).")
    return "\n".join(out) + "\n"


def plot(data: dict, path: str) -> None:
    """Latency against catalogue size (log-log): ours end to end and server-side, and the baseline query."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    workloads = data["workloads"]
    curve = [workloads[name] for name in PLOT_CURVE if name in workloads]
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    sizes = [w["programmes"] for w in curve]
    series = [
        ("ours, end to end p50", "p50_ms", "C0", "-", "o"),
        ("ours, end to end p99", "p99_ms", "C0", "--", "o"),
        ("ours, server p50", "server_p50_ms", "C2", "-", "s"),
        ("ours, server p99", "server_p99_ms", "C2", "--", "s"),
        ("original query, Neo4j+APOC, p50", "baseline_p50_ms", "C3", "-", "^"),
        ("original query, Neo4j+APOC, p99", "baseline_p99_ms", "C3", "--", "^"),
        ("original query on FalkorDB, p50", "baseline_falkordb_p50_ms", "C1", "-", "v"),
    ]
    for label, key, color, style, marker in series:
        points = [(s, w.get(key)) for s, w in zip(sizes, curve) if w.get(key)]
        if points:
            ax.plot(*zip(*points), style, color=color, marker=marker, label=label)
    if "sample" in workloads:
        s = workloads["sample"]
        for key, color, marker in (("p99_ms", "C0", "o"), ("server_p99_ms", "C2", "s"), ("baseline_p99_ms", "C3", "^")):
            if s.get(key):
                ax.scatter([s["programmes"]], [s[key]], facecolors="none", edgecolors=color, marker=marker)
        ax.annotate("sample (p99)", (s["programmes"], s.get("p99_ms") or 1), textcoords="offset points",
                    xytext=(5, 5), fontsize=8)
    if data.get("noop", {}).get("p99_ms"):
        ax.axhline(data["noop"]["p99_ms"], color="grey", linestyle=":", label="no-op p99")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("programmes in the catalogue")
    ax.set_ylabel("ms")
    ax.set_title("BeUWI search latency vs catalogue size (L3 programmes, 25-subject queries)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
