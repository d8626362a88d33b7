"""``make bench-scale`` (``python -m bench.scale``): what clair-kg costs as the graph grows, side by side
with ``oxigraph serve`` on the same data.

For each size (default 10^4, 10^5, 10^6 statements; 10^7 with ``--sizes``) it writes the deterministic
synthetic graph (:mod:`bench.synthetic`) and measures, stage by stage (``--stages``):

- ``validate``, ``build``: ``clair-kg validate`` and ``clair-kg build`` of a project whose data is the
  synthetic graph (cold: ``CLAIR_KG_NO_CACHE=1``), wall time and peak RSS;
- ``start``: ``clair-kg serve --workers 2 --load FILE=GRAPH`` (the real command) to ``/health`` 200, for
  each backend (``--backends``): ``memory`` (the default store), ``disk`` (``--store-path``) and ``remote``
  (``--remote-query-url`` against the ``oxigraph serve`` below, loaded beforehand with exactly what
  clair-kg serves); against ``oxigraph serve --union-default-graph``'s start plus one Graph Store
  ``POST`` of the same N-Quads (a second oxigraph, loaded as clair-kg loads a remote store, is the peer
  of everything else and the remote backend's store);
- ``memory``: PSS and RSS summed over each server's process tree, after the load stages;
- ``documents``: ``/doc/<entity>`` as Turtle over many entities, against oxigraph's equivalent CONSTRUCT,
  with each server's CPU time per request; plus ``bench/documents.py``'s fuller benchmark;
- ``search``, ``reconcile``: one request at a time (median) and under load (clair-kg only);
- ``sparql``: the distinct SPARQL mix of ``bench/run.py`` (pointed at the synthetic graph), against oxigraph.

Every load runs ``--connections`` connections for ``--duration`` seconds (Debian's wrk, else a bounded
asyncio client); the comparisons run ABAB (``--rounds``). It prints one table (size × backend × measure:
clair-kg, oxigraph, ratio), writes ``scale.json`` and ``scale.png`` (each cost against size, log-log)
under ``--out`` (default ``bench/results/``), and stops every process it started, also on Ctrl-C or SIGTERM.
``--check`` exits 1 when the largest size misses one of issue 12's targets.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlencode

import httpx

from . import synthetic
from .load import find_wrk
from .scale_stages import (
    TURTLE,
    Load,
    Workload,
    check_documents,
    check_sparql_answers,
    construct_query,
    one_at_a_time,
    run_cli,
    scale_project,
    sparql_under_load,
    under_load,
    workload,
)
from .servers import Server, ServerFailed, Servers, tree_memory

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
STAGES = ("validate", "build", "start", "memory", "documents", "search", "reconcile", "sparql")
BACKENDS = ("memory", "disk", "remote")
SERVER_STAGES = frozenset(STAGES) - {"validate", "build"}
MB = 1e6


@dataclass(frozen=True)
class Target:
    """One of issue 12's targets, checked at the largest size by ``--check``."""

    measure: str
    backend: str
    column: str  # "ours" or "ratio"
    limit: float
    at_most: bool

    def met(self, value: float) -> bool:
        return value <= self.limit if self.at_most else value >= self.limit


TARGETS = (
    Target("search one ms", "memory", "ours", 50.0, True),
    Target("reconcile batch of 3 ms", "memory", "ours", 150.0, True),
    Target("search req/s", "memory", "ours", 200.0, False),
    Target("reconcile req/s", "memory", "ours", 200.0, False),
    Target("memory PSS MB", "memory", "ratio", 3.0, True),
    Target("start to healthy s", "memory", "ratio", 2.0, True),
    Target("documents req/s", "memory", "ratio", 0.5, False),
    Target("validate s", "-", "ours", 120.0, True),
    Target("validate peak RSS MB", "-", "ours", 3000.0, True),
)


@dataclass
class Measure:
    """One line of the table: a measure of one size and backend, ours and (where it has one) oxigraph's."""

    statements: int
    backend: str  # memory | disk | remote | "-" (the build side has no backend)
    measure: str
    unit: str
    ours: float | None
    oxigraph: float | None = None
    #: how it was measured: each round, errors, p99, the load average, whether the answers were checked
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.oxigraph:
            return None
        return self.ours / self.oxigraph

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


# --- one size --------------------------------------------------------------------------------------

class SizeRun:
    """Everything measured at one size; ``servers`` owns every process started for it."""

    def __init__(self, size: int, args: argparse.Namespace, workdir: Path, servers: Servers) -> None:
        self.size, self.args, self.workdir, self.servers = size, args, workdir, servers
        self.measures: list[Measure] = []
        self.notes: list[str] = []
        self.statements = 0
        self.peer_merged_s = 0.0

    def add(self, backend: str, measure: str, unit: str, ours: float | None, oxigraph: float | None = None,
            **detail: Any) -> None:
        self.measures.append(Measure(self.statements, backend, measure, unit, ours, oxigraph, detail))

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", file=sys.stderr, flush=True)

    def log(self, text: str) -> None:
        print(f"  [{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    # --- the build side ---

    def build_side(self, stages: list[str]) -> None:
        project = scale_project(self.workdir / "project", self.size)
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("CLAIR_KG_")},
               "CLAIR_KG_NO_CACHE": "1", "SOURCE_DATE_EPOCH": "1700000000"}
        commands = {"validate": ["validate"], "build": ["build", "--out", str(self.workdir / "dist")]}
        for stage in ("validate", "build"):
            if stage not in stages:
                continue
            shutil.rmtree(project / ".clair-kg-cache", ignore_errors=True)  # cold, whatever the cache does
            self.log(f"clair-kg {stage}")
            run = run_cli(["--project", str(project), *commands[stage]], log=self.workdir / f"{stage}.log",
                          timeout=self.args.cli_timeout, env=env)
            if run.returncode != 0:
                what = "stopped at the time limit" if run.returncode is None else f"exited {run.returncode}"
                self.note(f"clair-kg {stage} {what} after {run.seconds:.0f} s: {run.tail}")
            ok = run.returncode == 0
            self.add("-", f"{stage} s", "s", run.seconds if ok else None, exit=run.returncode)
            self.add("-", f"{stage} peak RSS MB", "MB", run.peak_rss / MB if ok else None)
        shutil.rmtree(project, ignore_errors=True)
        shutil.rmtree(self.workdir / "dist", ignore_errors=True)

    # --- the servers ---

    def serving_side(self, stages: list[str], backends: list[str], nquads: Path, load: Workload) -> None:
        served = _served_nquads(nquads)  # the real project's release plus the synthetic graph, as serve loads it
        # the peer of "start to healthy": oxigraph as its own users start it (union default graph, one POST)
        self.log("oxigraph serve --union-default-graph: start and load (timed)")
        started = time.perf_counter()
        timed = self.servers.start_oxigraph(served, load_timeout=self.args.start_timeout, union_default_graph=True)
        peer_start = time.perf_counter() - started
        self.servers.stop(timed)
        # the peer of every other measure, and the remote store: the same dataset as clair-kg's (the source
        # graphs and their merge as the default graph, loaded as clair-kg loads a remote store)
        self.log("oxigraph serve: start and load as clair-kg loads a remote store")
        started = time.perf_counter()
        peer = self.servers.start_oxigraph(served, load_timeout=self.args.start_timeout)
        self.peer_merged_s = time.perf_counter() - started
        self.log(f"started {peer.name} pid {peer.proc.pid} in {self.peer_merged_s:.1f} s")
        del served
        for backend in backends:
            self.one_backend(backend, stages, nquads, load, peer, peer_start)
        self.servers.stop(peer)

    def one_backend(self, backend: str, stages: list[str], nquads: Path, load: Workload, peer: Server,
                    peer_start: float) -> None:
        extra = ["--load", f"{nquads}={synthetic.GRAPH}"]
        if backend == "disk":
            extra += ["--store-path", str(self.workdir / "store")]
        elif backend == "remote":  # the peer already holds exactly what is served (loaded above)
            extra += ["--remote-query-url", peer.query_url]
        self.log(f"clair-kg serve --workers {self.args.workers} ({backend})")
        started = time.perf_counter()
        try:
            ours = self.servers.start_ours(ROOT, workers=self.args.workers, name=f"ours-{backend}",
                                           extra_args=tuple(extra), timeout=self.args.start_timeout)
        except ServerFailed as exc:
            self.note(f"clair-kg serve ({backend}) did not start: {exc}")
            return
        healthy = time.perf_counter() - started
        self.log(f"started {ours.name} pid {ours.proc.pid}, healthy in {healthy:.1f} s")
        if "start" in stages:
            self.add(backend, "start to healthy s", "s", healthy, peer_start,
                     oxigraph_loaded_as_clair_kg_loads_a_remote_store_s=self.peer_merged_s)
        try:
            self.backend_stages(backend, stages, ours, peer, load)
        except (ServerFailed, RuntimeError, httpx.HTTPError, OSError, subprocess.TimeoutExpired) as exc:
            # one failed stage costs this backend's remaining stages, not the whole run
            self.note(f"{backend}: a stage failed: {type(exc).__name__}: {exc}"[:2000])
        finally:
            self.servers.stop(ours)
            shutil.rmtree(self.workdir / "store", ignore_errors=True)

    def backend_stages(self, backend: str, stages: list[str], ours: Server, peer: Server, load: Workload) -> None:
        start_memory = tree_memory(ours.proc.pid)
        if "documents" in stages:
            self.documents(backend, ours, peer, load)
        if "search" in stages:
            self.single_and_load(backend, ours, "search", load.search_paths, "search one ms")
        if "reconcile" in stages:
            self.single_and_load(backend, ours, "reconcile", load.reconcile_paths, "reconcile batch of 3 ms")
        if "sparql" in stages:
            self.sparql(backend, ours, peer, load)
        if "memory" in stages:
            mine, theirs = tree_memory(ours.proc.pid), tree_memory(peer.proc.pid)
            self.add(backend, "memory PSS MB", "MB", mine.pss / MB, theirs.pss / MB,
                     processes=mine.processes, at_start_mb=start_memory.pss / MB,
                     store_is_the_peer=backend == "remote")
            self.add(backend, "memory RSS MB", "MB", mine.rss / MB, theirs.rss / MB, processes=mine.processes,
                     at_start_mb=start_memory.rss / MB)

    def _abab(self, what: str, backend: str, ours: Server, peer: Server, run_ours: Callable[[int], Load],
              run_peer: Callable[[int], Load]) -> tuple[Load, Load, dict[str, Any]]:
        """``--rounds`` runs of each, interleaved, and the CPU time each request cost its server: a
        steadier measure than req/s on a shared machine, where a server with more processes also gets
        a larger share of the CPUs. For ``remote`` clair-kg's cost includes the store's CPU during its runs."""
        mine: list[Load] = []
        theirs: list[Load] = []
        loads: list[float] = []
        cpu_ours: list[float] = []
        cpu_peer: list[float] = []

        def cpu(*servers: Server) -> float:
            return sum(s.cpu_seconds() or 0.0 for s in servers)

        counted = (ours, peer) if backend == "remote" else (ours,)
        for n in range(self.args.rounds):
            loads.append(os.getloadavg()[0])
            before = cpu(*counted)
            mine.append(run_ours(n))
            cpu_ours.append((cpu(*counted) - before) * 1000 / max(1, mine[-1].requests))
            before = cpu(peer)
            theirs.append(run_peer(n))
            cpu_peer.append((cpu(peer) - before) * 1000 / max(1, theirs[-1].requests))
        self.add(backend, f"{what} CPU ms/request", "ms", statistics.mean(cpu_ours), statistics.mean(cpu_peer),
                 rounds=list(zip(cpu_ours, cpu_peer, strict=True)), includes_store=backend == "remote")
        detail = {"rounds": [{"ours": a.to_json(), "oxigraph": b.to_json()} for a, b in zip(mine, theirs, strict=True)],
                  "loadavg": loads}
        return _mean_load(mine), _mean_load(theirs), detail

    def documents(self, backend: str, ours: Server, peer: Server, load: Workload) -> None:
        self.log(f"documents ({backend})")
        problems = check_documents(ours.base, peer.query_url, load.entities)
        for problem in problems[:5]:
            self.note(f"documents: {problem}")
        ours_paths = tuple(f"/doc/{e}" for e in load.entities)
        peer_paths = tuple(f"/query?{urlencode({'query': construct_query(synthetic.ID + e)})}" for e in load.entities)

        def drive(base: str, paths: tuple[str, ...], name: str) -> Load:
            return under_load(base, paths, connections=self.args.connections, duration=self.args.duration,
                              workdir=self.workdir, accept=TURTLE, name=name)

        mine, theirs, detail = self._abab("documents", backend, ours, peer,
                                          lambda n: drive(ours.base, ours_paths, f"doc-ours-{n}"),
                                          lambda n: drive(peer.base, peer_paths, f"doc-oxi-{n}"))
        self.add(backend, "documents req/s", "req/s", mine.rps, theirs.rps, entities=len(load.entities),
                 errors=mine.errors + theirs.errors, checked=not problems, p99_ms=[mine.p99_ms, theirs.p99_ms],
                 **detail)

    def single_and_load(self, backend: str, ours: Server, what: str, paths: tuple[str, ...], one: str) -> None:
        self.log(f"{what} ({backend})")
        median, errors = one_at_a_time(ours.base, paths, self.args.repeat)
        self.add(backend, one, "ms", median, errors=errors)
        result = under_load(ours.base, paths, connections=self.args.connections, duration=self.args.duration,
                            workdir=self.workdir, name=f"{what}-{backend}")
        self.add(backend, f"{what} req/s", "req/s", result.rps, errors=result.errors, p99_ms=result.p99_ms,
                 loadavg=os.getloadavg()[0])

    def sparql(self, backend: str, ours: Server, peer: Server, load: Workload) -> None:
        self.log(f"SPARQL distinct mix ({backend})")
        problems = check_sparql_answers(ours.query_url, peer.query_url, load.queries)
        for problem in problems:
            self.note(f"sparql answers differ: {problem}")

        def drive(server: Server, name: str, n: int) -> Load:
            return sparql_under_load(server.base, server.query_path, load.queries, name=name, run=n,
                                     connections=self.args.connections, duration=self.args.duration,
                                     workdir=self.workdir)

        mine, theirs, detail = self._abab("SPARQL distinct mix", backend, ours, peer,
                                          lambda n: drive(ours, f"ours-{backend}", n),
                                          lambda n: drive(peer, "oxigraph", n))
        self.add(backend, "SPARQL distinct mix req/s", "req/s", mine.rps, theirs.rps, checked=not problems,
                 errors=mine.errors + theirs.errors, p99_ms=[mine.p99_ms, theirs.p99_ms], **detail)


def documents_bench(run: SizeRun) -> None:
    """The fuller entity-document benchmark (``bench/documents.py``: hot and cold document
    caches, the /id → /doc pair, HTML, answers checked equal), when it is there: it starts its own
    ``clair-kg serve --workers N --load`` (in memory) and ``oxigraph serve`` for the size. Without
    it, the ``documents`` stage is this module's own (:meth:`SizeRun.documents`) alone."""
    try:
        documents = importlib.import_module("bench.documents")
        measure_documents = documents.measure
    except (ImportError, AttributeError) as exc:
        run.note(f"bench.documents is not available ({exc}): the documents stage is bench.scale's own only")
        return
    run.log("bench.documents (its own servers, in memory)")
    try:
        with contextlib.redirect_stdout(sys.stderr):  # its progress lines; stdout is the table
            rows = measure_documents([run.size], duration=run.args.duration, rounds=run.args.rounds,
                                     connections=run.args.connections, workers=run.args.workers,
                                     start_timeout=run.args.start_timeout)
    except (ServerFailed, RuntimeError, httpx.HTTPError, OSError, subprocess.TimeoutExpired) as exc:
        run.note(f"bench.documents failed: {type(exc).__name__}: {exc}"[:2000])
        return
    peer = next((r for r in rows if r.mix == "oxigraph"), None)
    for row in rows:
        if row.mix == "oxigraph":
            continue
        run.add("memory", f"documents {row.mix} doc/s (bench.documents)", "doc/s", row.documents_per_s,
                peer.rps if peer is not None and row.mix != "html" else None, served_statements=row.statements,
                p99_ms=row.p99_ms, errors=row.errors, runs=row.runs)


def _mean_load(loads: list[Load]) -> Load:
    return Load(statistics.mean(x.rps for x in loads), statistics.mean(x.p50_ms for x in loads),
                statistics.mean(x.p99_ms for x in loads), sum(x.errors for x in loads),
                sum(x.requests for x in loads), loads[0].tool)


def _served_nquads(nquads: Path) -> bytes:
    """What ``clair-kg serve --load nquads=GRAPH`` serves: the project's release and the file's quads
    (already in that graph; no blank nodes), so oxigraph holds the same dataset."""
    from clair_kg.project import Project
    from clair_kg.release import prepare_release

    release = prepare_release(Project(ROOT))
    return release.nquads + nquads.read_bytes()


def measure_size(size: int, args: argparse.Namespace, workdir: Path, servers: Servers) -> SizeRun:
    run = SizeRun(size, args, workdir, servers)
    nquads = workdir / f"synthetic-{size}.nq"
    started = time.perf_counter()
    run.statements = synthetic.write(nquads, size)
    run.log(f"{run.statements:,} statements written in {time.perf_counter() - started:.1f} s")
    run.add("-", "generate s", "s", time.perf_counter() - started)
    stages, backends = args.stages, args.backends
    if "validate" in stages or "build" in stages:
        run.build_side(stages)
    if SERVER_STAGES & set(stages) and backends:
        run.serving_side(stages, backends, nquads, workload(size))
    if "documents" in stages and args.documents_bench:
        documents_bench(run)
    nquads.unlink(missing_ok=True)
    return run


# --- the table, the JSON, the plot ------------------------------------------------------------------

def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(measures: list[Measure]) -> str:
    lines = ["| statements | backend | measure | clair-kg | oxigraph serve | ratio |", "|---|---|---|---|---|---|"]
    for m in measures:
        ratio = f"{m.ratio:.2f}×" if m.ratio is not None else "—"
        lines.append(f"| {m.statements:,} | {m.backend} | {m.measure} | {_fmt(m.ours)} | {_fmt(m.oxigraph)} "
                     f"| {ratio} |")
    return "\n".join(lines)


def pivot(measures: list[dict[str, Any]]) -> str:
    """The docs' table: a line per backend and measure, a column per size, ``clair-kg / oxigraph (ratio)``."""
    sizes = sorted({int(m["statements"]) for m in measures})
    order: dict[tuple[str, str], None] = {}
    for m in measures:
        if m["measure"] != "generate s":
            order.setdefault((m["backend"], m["measure"]))
    ranked = sorted(order, key=lambda k: (k[0] != "-", BACKENDS.index(k[0]) if k[0] in BACKENDS else -1))
    cells = {(m["backend"], m["measure"], int(m["statements"])): m for m in measures}
    head = "| backend | measure | " + " | ".join(f"{n:,}" for n in sizes) + " |"
    lines = [head, "|---|---|" + "---|" * len(sizes)]
    for backend, name in ranked:
        row = []
        for n in sizes:
            cell = cells.get((backend, name, n))
            if cell is None or cell["ours"] is None:
                row.append("—")
            elif cell.get("oxigraph"):
                row.append(f"{_fmt(cell['ours'])} / {_fmt(cell['oxigraph'])} ({cell['ours'] / cell['oxigraph']:.2f}×)")
            else:
                row.append(_fmt(cell["ours"]))
        lines.append(f"| {backend} | {name} | " + " | ".join(row) + " |")
    return "\n".join(lines)


#: what each panel of the plot draws: (title, y label, measure, how a value becomes a cost)
PER_REQUEST = "ms per request (1000 / req/s)"
PANELS: tuple[tuple[str, str, str, Callable[[float], float]], ...] = (
    ("clair-kg validate", "seconds", "validate s", lambda v: v),
    ("clair-kg build", "seconds", "build s", lambda v: v),
    ("start to healthy", "seconds", "start to healthy s", lambda v: v),
    ("memory of the process tree (PSS)", "MB", "memory PSS MB", lambda v: v),
    ("entity documents, under load", PER_REQUEST, "documents req/s", lambda v: 1000 / v),
    ("SPARQL distinct mix, under load", PER_REQUEST, "SPARQL distinct mix req/s", lambda v: 1000 / v),
    ("/search", "ms", "search one ms", lambda v: v),
    ("/reconcile, batch of 3", "ms", "reconcile batch of 3 ms", lambda v: v),
)


def plot(measures: list[Measure], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is missing (pip install -e '.[dev]'): no plot", file=sys.stderr)
        return False
    fig, axes = plt.subplots(2, 4, figsize=(17, 7.5))
    for ax, (title, ylabel, name, cost) in zip(axes.flat, PANELS, strict=True):
        chosen = [m for m in measures if m.measure == name and m.ours]
        for backend in dict.fromkeys(m.backend for m in chosen):
            line = sorted((m.statements, cost(m.ours)) for m in chosen if m.backend == backend and m.ours)
            label = "clair-kg" if backend == "-" else f"clair-kg, {backend}"
            ax.plot([x for x, _ in line], [y for _, y in line], "o-", label=label)
        peer: dict[int, float] = {}
        for m in chosen:
            if m.oxigraph:
                peer.setdefault(m.statements, cost(m.oxigraph))
        if peer:
            xs = sorted(peer)
            ax.plot(xs, [peer[x] for x in xs], "k^--", label="oxigraph serve")
        ax.set(xscale="log", yscale="log", xlabel="statements", ylabel=ylabel, title=title)
        if chosen:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
    fig.suptitle("clair-kg against graph size (synthetic graph; lower is better)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def check(measures: list[Measure]) -> list[str]:
    """The targets the largest size misses (a target whose measure was not taken is not reported)."""
    if not measures:
        return []
    largest = max(m.statements for m in measures)
    missed = []
    for target in TARGETS:
        for m in measures:
            if m.statements == largest and m.measure == target.measure and m.backend == target.backend:
                value = m.ours if target.column == "ours" else m.ratio
                if value is None or not target.met(value):
                    op = "≤" if target.at_most else "≥"
                    missed.append(f"{target.measure} ({target.backend}, {target.column}) = {_fmt(value)}, "
                                  f"target {op} {target.limit:g}")
    return missed


# --- the command -----------------------------------------------------------------------------------

def _list(raw: str, allowed: tuple[str, ...], what: str) -> list[str]:
    chosen = [x.strip() for x in raw.split(",") if x.strip()]
    unknown = [x for x in chosen if x not in allowed]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown {what}: {', '.join(unknown)} (choose from {', '.join(allowed)})")
    return chosen


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=(__doc__ or "").split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("engines", help="measure SQLite FTS5 against tantivy for the substring index")
    report = sub.add_parser("report", help="print docs/scaling.md's table (and redraw the plot) from scale.json files")
    report.add_argument("json", type=Path, nargs="+", help="scale.json files of earlier runs (merged)")
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="statement counts, comma-separated (default 10000,100000,1000000; up to 10000000)")
    parser.add_argument("--stages", type=lambda s: _list(s, STAGES, "stage"), default=list(STAGES),
                        help="comma-separated, of: " + ", ".join(STAGES) + " (default all)")
    parser.add_argument("--backends", type=lambda s: _list(s, BACKENDS, "backend"), default=list(BACKENDS),
                        help="comma-separated, of: " + ", ".join(BACKENDS) + " (default all)")
    parser.add_argument("--workers", type=int, default=2, help="clair-kg serve --workers (default 2)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per load run (default 8)")
    parser.add_argument("--rounds", type=int, default=2, help="ABAB rounds of each comparison under load (default 2)")
    parser.add_argument("--repeat", type=int, default=5, help="one-at-a-time requests per path (default 5)")
    parser.add_argument("--cli-timeout", type=float, default=1800.0,
                        help="seconds clair-kg validate / build may take before they are stopped (default 1800)")
    parser.add_argument("--start-timeout", type=float, default=900.0,
                        help="seconds a server may take to become healthy (default 900)")
    parser.add_argument("--no-documents-bench", dest="documents_bench", action="store_false",
                        help="in the documents stage, skip bench/documents.py (the fuller benchmark, "
                             "run when it is there)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for scale.json and scale.png")
    parser.add_argument("--keep-workdir", action="store_true", help="keep the temporary folder (logs)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the largest size misses a target")
    return parser


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds through Servers.__exit__, which stops every server


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    if args.command == "engines":
        return _engines(sizes, args)
    if args.command == "report":
        merged = [m for path in args.json for m in json.loads(path.read_text())["measures"]]
        print(pivot(merged))
        if plot([Measure(**{k: v for k, v in m.items() if k != "ratio"}) for m in merged], args.out / "scale.png"):
            print(f"plot: {args.out / 'scale.png'}")
        return 0
    signal.signal(signal.SIGTERM, _on_sigterm)
    measures: list[Measure] = []
    notes: dict[int, list[str]] = {}
    started: list[dict[str, Any]] = []
    loadavg = {"before": os.getloadavg()}
    tmp = Path(tempfile.mkdtemp(prefix="clair-kg-scale-"))
    try:
        for size in sizes:
            print(f"size {size:,} (load average {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
            workdir = tmp / f"size-{size}"
            workdir.mkdir()
            with Servers(workdir) as servers:
                try:
                    run = measure_size(size, args, workdir, servers)
                finally:
                    started += [{"name": s.name, "pid": s.proc.pid} for s in servers.started]
            measures += run.measures
            notes[run.statements] = run.notes
            print(table(run.measures), file=sys.stderr, flush=True)
            # what is measured so far, in case a larger size fails or is stopped
            write_json(args.out / "scale.partial.json", args, argv, sizes, measures, notes, started,
                       {**loadavg, "now": os.getloadavg()})
    except KeyboardInterrupt:
        print("interrupted: every server was stopped", file=sys.stderr)
        return 130
    finally:
        if args.keep_workdir:
            print(f"logs kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    loadavg["after"] = os.getloadavg()
    print(table(measures))
    write_json(args.out / "scale.json", args, argv, sizes, measures, notes, started, loadavg)
    print(f"results: {args.out / 'scale.json'}")
    if plot(measures, args.out / "scale.png"):
        print(f"plot: {args.out / 'scale.png'}")
    if args.check:
        missed = check(measures)
        for line in missed:
            print(f"missed at the largest size: {line}", file=sys.stderr)
        return 1 if missed else 0
    return 0


def write_json(path: Path, args: argparse.Namespace, argv: list[str] | None, sizes: list[int],
               measures: list[Measure], notes: dict[int, list[str]], started: list[dict[str, Any]],
               loadavg: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "command": "python -m bench.scale " + " ".join(argv if argv is not None else sys.argv[1:]),
        "sizes": sizes, "stages": args.stages, "backends": args.backends, "workers": args.workers,
        "connections": args.connections, "duration_s": args.duration, "rounds": args.rounds,
        "load_tool": "wrk" if find_wrk() else "httpx", "cpus": os.cpu_count(), "loadavg": loadavg,
        "python": platform.python_version(), "measures": [m.to_json() for m in measures],
        "notes": {str(k): v for k, v in notes.items()}, "servers": started,
    }, indent=2))


def _engines(sizes: list[int], args: argparse.Namespace) -> int:
    from .scale_engines import compare_engines

    results = compare_engines(sizes, args.repeat)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "engines.json").write_text(json.dumps(results, indent=2))
    keys = list(results[0]) if results else []
    print("| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
    for r in results:
        print("| " + " | ".join(f"{v:.2f}" if isinstance(v, float) else f"{v:,}" for v in r.values()) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
