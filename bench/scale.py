"""``make bench-scale`` (``python -m bench.scale``): search and reconciliation against graph size.

For each size (default 10^4, 10^5, 10^6 statements) it:

1. writes the deterministic synthetic graph (:mod:`bench.synthetic`) as N-Quads to a temporary folder;
2. starts a server on a free ``127.0.0.1`` port — ``python -m bench.scale serve``: the real app
   (``create_app``) over an in-memory store loaded with that file, the label index built once before
   it listens, then ``--processes`` web processes forked from it (sharing store and index pages) —
   and records the time to build the index and to answer ``/health``;
3. measures one request at a time (median of ``--repeat`` requests, over the server's loopback
   HTTP, so what a client sees): ``/search`` for a name prefix, a Japanese substring and a typo,
   and ``/reconcile`` with a batch of 3 queries (a name, a name with a type, a name with a property);
4. drives ``/search`` and then ``/reconcile`` with 16 connections for ``--duration`` seconds each
   (wrk when installed — Debian's ``wrk`` — else the bounded asyncio client of ``bench/load.py``);
5. prints a table, writes ``bench/results/scale.json`` and a plot ``bench/results/scale.png``
   (matplotlib, a dev dependency) of each cost against size, and stops the server.

Targets at 10^6 (issue 12): one search <= 50 ms, one reconcile batch of 3 <= 150 ms, >= 200 req/s
each under 16 connections. ``--check`` exits 1 when the largest size misses one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from . import synthetic
from .load import find_wrk

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
UNIT = "http://www.w3.org/ns/org#OrganizationalUnit"
TARGETS = {"search_ms": 50.0, "reconcile_ms": 150.0, "search_rps": 200.0, "reconcile_rps": 200.0}


# --- the server (a child process) -----------------------------------------------------------------

def serve(nquads: Path, port: int, processes: int, timeout: float) -> int:
    """Load, index, then serve on 127.0.0.1:``port`` with ``processes`` forked web processes."""
    import uvicorn

    from clair_kg.release import release_info
    from clair_kg.settings import Settings
    from clair_kg.store import EmbeddedStore
    from clair_kg.web import create_app
    from clair_kg.web.search_api import build_label_index

    data = nquads.read_bytes()
    started = time.perf_counter()
    store = EmbeddedStore()
    store.load_nquads(data)
    loaded = time.perf_counter()
    settings = Settings(project_root=ROOT, query_workers=1, query_isolation="restart", search_timeout=timeout)
    app = create_app(settings, store, release_info(data, (synthetic.GRAPH,)))
    del data
    index = build_label_index(app, app.state.ctx)
    indexed = time.perf_counter()
    print(json.dumps({"load_s": loaded - started, "index_s": indexed - loaded, "entities": len(index),
                      "index_bytes": index.path.stat().st_size}), flush=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    sock.set_inheritable(True)

    def run() -> None:
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        uvicorn.Server(config).run(sockets=[sock])

    if processes <= 1:
        run()
        return 0
    children = []
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:  # a web process: the store and the index were loaded before the fork
            try:
                run()
            finally:
                os._exit(0)
        children.append(pid)

    def stop(signum: int, frame: object) -> None:
        for child in children:
            try:
                os.kill(child, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        os.waitpid(child, 0)
    return 0


@dataclass
class Server:
    proc: subprocess.Popen[str]
    base: str
    startup: dict[str, Any]
    healthy_s: float

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(nquads: Path, *, processes: int, timeout: float, log: Path) -> Server:
    port = _free_port()
    argv = [sys.executable, "-m", "bench.scale", "serve", "--nquads", str(nquads), "--port", str(port),
            "--processes", str(processes), "--search-timeout", str(timeout)]
    started = time.perf_counter()
    with log.open("w") as err:
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=10)
        raise RuntimeError(f"the server exited ({proc.returncode}); see {log}")
    startup = json.loads(line)
    deadline = time.monotonic() + 600
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}); see {log}")
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise RuntimeError(f"the server did not answer /health within 600 s; see {log}")
        time.sleep(0.1)
    return Server(proc, base, startup, time.perf_counter() - started)


# --- what is asked --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Workload:
    """Requests built from the generated graph's own names (so each has answers at every size)."""

    search_paths: tuple[str, ...]
    reconcile_paths: tuple[str, ...]


def _org_names(statements: int, picks: int) -> list[tuple[str, str, str, str]]:
    """(org id, English name, Japanese name, its city id) of ``picks`` organisations spread over the graph."""
    orgs: dict[str, dict[str, str]] = {}
    for s, p, o in synthetic.triples(statements):
        if "/id/org/" not in s:
            continue
        entry = orgs.setdefault(s.strip("<>"), {})
        if p == f"<{synthetic.SKOS}prefLabel>":
            entry["ja" if o.endswith("@ja") else "en"] = o.rsplit("@", 1)[0].strip('"')
        elif p == f"<{synthetic.SCHEMA}location>":
            entry["city"] = o.strip("<>").split("/id/", 1)[1]
    ids = sorted(orgs, key=lambda iri: int(iri.rsplit("-", 1)[1]))
    step = max(1, len(ids) // picks)
    out = []
    for iri in ids[::step][:picks]:
        e = orgs[iri]
        out.append((iri.split("/id/", 1)[1], e["en"], e["ja"], e["city"]))
    return out


def workload(statements: int) -> Workload:
    searches, batches = [], []
    for _, en, ja, city in _org_names(statements, 8):
        first = en.split()[0]
        typo = first[:2] + first[3:] if len(first) > 4 else first + "a"
        searches += [f"/search?{urlencode({'q': first[:5]})}", f"/search?{urlencode({'q': ja[1:4]})}",
                     f"/search?{urlencode({'q': typo})}"]
        batch = {"q0": {"query": en}, "q1": {"query": f"{en} Office", "type": UNIT},
                 "q2": {"query": first, "properties": [{"pid": "location", "v": {"id": city}}]}}
        batches.append(f"/reconcile?{urlencode({'queries': json.dumps(batch)})}")
    return Workload(tuple(searches), tuple(batches))


def one_at_a_time(base: str, paths: tuple[str, ...], repeat: int) -> tuple[float, int]:
    """Median latency in ms of ``paths`` (each asked ``repeat`` times after one warm-up), and errors."""
    times, errors = [], 0
    with httpx.Client(base_url=base, timeout=60) as client:
        for path in paths:
            client.get(path)
            for _ in range(repeat):
                started = time.perf_counter()
                status = client.get(path, headers={"accept": "application/json"}).status_code
                times.append((time.perf_counter() - started) * 1000)
                errors += status != 200
    return statistics.median(times), errors


_LUA = """\
local paths = %s
local i = 0
request = function()
  i = (i %% #paths) + 1
  return wrk.format("GET", paths[i], {["Accept"] = "application/json"})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH_JSON {"requests": %%d, "duration_us": %%d, "errors": %%d, "p50_us": %%d, ' ..
    '"p99_us": %%d}\\n', summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def under_load(base: str, paths: tuple[str, ...], *, connections: int, duration: float,
               workdir: Path) -> dict[str, Any]:
    """req/s, p50, p99 and errors with ``connections`` connections for ``duration`` seconds."""
    wrk = find_wrk()
    if wrk is not None:
        script = workdir / "rotate.lua"
        script.write_text(_LUA % ("{" + ", ".join(json.dumps(p) for p in paths) + "}"))
        argv = [wrk, "-t", "1", "-c", str(connections), "-d", f"{max(1, round(duration))}s", "--timeout", "10s",
                "-s", str(script), base]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
        line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
        if line is None:
            raise RuntimeError(f"wrk failed: {out.stderr or out.stdout}")
        data = json.loads(line.removeprefix("BENCH_JSON "))
        seconds = data["duration_us"] / 1e6
        return {"rps": data["requests"] / seconds, "p50_ms": data["p50_us"] / 1000,
                "p99_ms": data["p99_us"] / 1000, "errors": data["errors"], "tool": "wrk"}
    return asyncio.run(_python_load(base, paths, connections, duration))


async def _python_load(base: str, paths: tuple[str, ...], connections: int, duration: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + duration

    async def connection(n: int) -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            i = n
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                try:
                    status = (await client.get(paths[i % len(paths)])).status_code
                except httpx.HTTPError:
                    status = 0
                latencies.append(time.perf_counter() - started)
                errors += status != 200
                i += 1

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(connection(n) for n in range(connections))), duration + 30)
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"rps": len(latencies) / elapsed, "p50_ms": latencies[len(latencies) // 2] * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000, "errors": errors, "tool": "httpx"}


# --- one size, the table, the plot ----------------------------------------------------------------

@dataclass
class Row:
    statements: int
    entities: int
    load_s: float
    index_s: float
    index_mb: float
    healthy_s: float
    search_ms: float
    reconcile_ms: float
    search_rps: float
    reconcile_rps: float
    search_p99_ms: float
    reconcile_p99_ms: float
    errors: int


def measure(size: int, args: argparse.Namespace, workdir: Path) -> Row:
    nquads = workdir / f"synthetic-{size}.nq"
    statements = synthetic.write(nquads, size)
    load = workload(size)
    print(f"  {statements} statements written; starting the server", file=sys.stderr, flush=True)
    server = start_server(nquads, processes=args.processes, timeout=args.search_timeout,
                          log=workdir / f"server-{size}.log")
    try:
        search_ms, e1 = one_at_a_time(server.base, load.search_paths, args.repeat)
        reconcile_ms, e2 = one_at_a_time(server.base, load.reconcile_paths, args.repeat)
        search = under_load(server.base, load.search_paths, connections=args.connections,
                            duration=args.duration, workdir=workdir)
        reconcile = under_load(server.base, load.reconcile_paths, connections=args.connections,
                               duration=args.duration, workdir=workdir)
    finally:
        server.stop()
        nquads.unlink(missing_ok=True)
    return Row(
        statements=statements, entities=int(server.startup["entities"]), load_s=server.startup["load_s"],
        index_s=server.startup["index_s"], index_mb=server.startup["index_bytes"] / 1e6,
        healthy_s=server.healthy_s, search_ms=search_ms, reconcile_ms=reconcile_ms,
        search_rps=float(search["rps"]), reconcile_rps=float(reconcile["rps"]),
        search_p99_ms=float(search["p99_ms"]), reconcile_p99_ms=float(reconcile["p99_ms"]),
        errors=e1 + e2 + int(search["errors"]) + int(reconcile["errors"]),
    )


def table(rows: list[Row]) -> str:
    head = ("| statements | entities | load s | index build s | index MB | start→healthy s | /search ms "
            "| /reconcile (3) ms | /search req/s | /reconcile req/s | p99 search / reconcile ms | errors |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        lines.append(
            f"| {r.statements:,} | {r.entities:,} | {r.load_s:.1f} | {r.index_s:.1f} | {r.index_mb:.0f} "
            f"| {r.healthy_s:.1f} | {r.search_ms:.1f} | {r.reconcile_ms:.1f} | {r.search_rps:.0f} "
            f"| {r.reconcile_rps:.0f} | {r.search_p99_ms:.0f} / {r.reconcile_p99_ms:.0f} | {r.errors} |")
    return "\n".join(lines)


def plot(rows: list[Row], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is missing (pip install -e '.[dev]'): no plot", file=sys.stderr)
        return False
    sizes = [r.statements for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot(sizes, [r.search_ms for r in rows], "o-", label="/search, one request (ms)")
    left.plot(sizes, [r.reconcile_ms for r in rows], "s-", label="/reconcile batch of 3 (ms)")
    left.plot(sizes, [r.index_s * 1000 for r in rows], "^--", label="index build (ms)")
    left.axhline(TARGETS["search_ms"], color="C0", lw=0.7, ls=":")
    left.axhline(TARGETS["reconcile_ms"], color="C1", lw=0.7, ls=":")
    left.set(xscale="log", yscale="log", xlabel="statements", ylabel="milliseconds", title="latency and build")
    left.legend(fontsize=8)
    right.plot(sizes, [r.search_rps for r in rows], "o-", label="/search")
    right.plot(sizes, [r.reconcile_rps for r in rows], "s-", label="/reconcile (3 queries)")
    right.axhline(TARGETS["search_rps"], color="grey", lw=0.7, ls=":", label="target 200 req/s")
    right.set(xscale="log", xlabel="statements", ylabel="requests per second",
              title="throughput, 16 connections")
    right.legend(fontsize=8)
    fig.suptitle("clair-kg search and reconciliation against graph size (synthetic graph)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    srv = sub.add_parser("serve", help="(internal) serve one synthetic file")
    srv.add_argument("--nquads", type=Path, required=True)
    srv.add_argument("--port", type=int, required=True)
    srv.add_argument("--processes", type=int, default=1)
    srv.add_argument("--search-timeout", type=float, default=2.0)
    sub.add_parser("engines", help="measure SQLite FTS5 against tantivy for the substring index")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="statement counts, comma-separated")
    parser.add_argument("--processes", type=int, default=2, help="web processes forked after loading (2)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of load per endpoint and size")
    parser.add_argument("--repeat", type=int, default=5, help="one-at-a-time requests per path")
    parser.add_argument("--search-timeout", type=float, default=2.0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--check", action="store_true", help="exit 1 if the largest size misses a target")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args.nquads, args.port, args.processes, args.search_timeout)
    sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    if args.command == "engines":
        results = compare_engines(sizes, args.repeat)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "engines.json").write_text(json.dumps(results, indent=2))
        keys = list(results[0]) if results else []
        print("| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
        for r in results:
            print("| " + " | ".join(f"{v:.2f}" if isinstance(v, float) else f"{v:,}" for v in r.values()) + " |")
        return 0
    rows = []
    with tempfile.TemporaryDirectory(prefix="clair-kg-scale-") as tmp:
        for size in sizes:
            print(f"size {size:,}", file=sys.stderr, flush=True)
            rows.append(measure(size, args, Path(tmp)))
            print(table(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    print(table(rows))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scale.json").write_text(json.dumps({
        "rows": [asdict(r) for r in rows], "targets": TARGETS, "processes": args.processes,
        "connections": args.connections, "duration_s": args.duration, "load_tool": "wrk" if find_wrk() else "httpx",
        "cpus": os.cpu_count(), "loadavg": os.getloadavg(),
    }, indent=2))
    if plot(rows, args.out / "scale.png"):
        print(f"plot: {args.out / 'scale.png'}")
    if args.check and rows:
        last = asdict(rows[-1])
        missed = [k for k, v in TARGETS.items() if (last[k] > v if k.endswith("_ms") else last[k] < v)]
        if missed:
            print("missed at the largest size: " + ", ".join(missed), file=sys.stderr)
            return 1
    return 0



# --- the engine choice: SQLite FTS5 (trigram) against tantivy (n-grams) ------------------------------

def _label_norms(statements: int) -> list[str]:
    """The normalised labels of the synthetic graph, in ranking order's stand-in (shortest first)."""
    from clair_kg.search import normalise

    seen: dict[str, None] = {}
    for _, p, o in synthetic.triples(statements):
        if p in (f"<{synthetic.RDFS_LABEL}>", f"<{synthetic.SKOS}prefLabel>", f"<{synthetic.SKOS}altLabel>"):
            seen.setdefault(normalise(o.rsplit("@", 1)[0].strip('"')))
    return sorted(seen, key=lambda t: (len(t), t))


def _engine_queries(norms: list[str]) -> list[str]:
    picks = norms[:: max(1, len(norms) // 12)][:12]
    out = []
    for text in picks:
        words = text.split()
        out += [text[1:5] if len(text) > 5 else text, words[-1][:6] if words else text]  # mid-substring, a word
    return out


def compare_engines(sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    """Build time and substring latency (the 10 best-ranked labels containing the query) of each engine."""
    import sqlite3

    try:
        import tantivy
    except ImportError:
        tantivy = None
        print("tantivy is not installed (pip install tantivy): measuring SQLite FTS5 only", file=sys.stderr)
    rows = []
    for size in sizes:
        norms = _label_norms(size)
        queries = _engine_queries(norms)
        with tempfile.TemporaryDirectory(prefix="clair-kg-engines-") as tmp:
            db = sqlite3.connect(Path(tmp) / "fts.sqlite")
            started = time.perf_counter()
            db.execute("CREATE TABLE label (n INTEGER PRIMARY KEY, norm TEXT)")
            db.executemany("INSERT INTO label VALUES (?, ?)", enumerate(norms, start=1))
            db.execute("CREATE VIRTUAL TABLE t USING fts5(norm, content='label', content_rowid='n', "
                       "tokenize='trigram')")
            db.execute("INSERT INTO t (t) VALUES ('rebuild')")
            db.commit()
            sqlite_build = time.perf_counter() - started
            times, found = [], 0
            for q in queries:
                for _ in range(repeat):
                    started = time.perf_counter()
                    if len(q) >= 3:
                        phrase = '"' + q.replace('"', '""') + '"'
                        got = db.execute("SELECT rowid FROM t WHERE t MATCH ? ORDER BY rowid LIMIT 10",
                                         [phrase]).fetchall()
                    times.append((time.perf_counter() - started) * 1000)
                found += len(got) if len(q) >= 3 else 0
            row: dict[str, Any] = {"statements": size, "labels": len(norms), "sqlite_build_s": sqlite_build,
                                   "sqlite_substring_ms": statistics.median(times),
                                   "sqlite_substring_max_ms": max(times), "sqlite_hits": found}
            db.close()
            if tantivy is not None:
                started = time.perf_counter()
                builder = tantivy.SchemaBuilder()
                builder.add_text_field("norm", stored=False, tokenizer_name="tri", index_option="basic")
                builder.add_integer_field("rank", stored=True, fast=True)
                schema = builder.build()
                (Path(tmp) / "tantivy").mkdir()
                index = tantivy.Index(schema, path=str(Path(tmp) / "tantivy"))
                index.register_tokenizer("tri", tantivy.TextAnalyzerBuilder(
                    tantivy.Tokenizer.ngram(min_gram=3, max_gram=3, prefix_only=False)).build())
                writer = index.writer(heap_size=100_000_000, num_threads=1)
                for n, text in enumerate(norms, start=1):
                    writer.add_document(tantivy.Document(norm=text, rank=n))
                writer.commit()
                writer.wait_merging_threads()
                index.reload()
                tantivy_build = time.perf_counter() - started
                searcher = index.searcher()
                times, found = [], 0
                for q in queries:
                    grams = sorted({q[i:i + 3] for i in range(len(q) - 2)})
                    for _ in range(repeat):
                        started = time.perf_counter()
                        if grams:
                            # every trigram must occur; the best-ranked first (then checked as a substring)
                            query = tantivy.Query.boolean_query([
                                (tantivy.Occur.Must, tantivy.Query.term_query(schema, "norm", g)) for g in grams])
                            hits = searcher.search(query, limit=40, order_by_field="rank",
                                                   order=tantivy.Order.Asc).hits
                            texts = [norms[int(searcher.doc(address)["rank"][0]) - 1] for _, address in hits]
                            got = [t for t in texts if q in t][:10]
                        times.append((time.perf_counter() - started) * 1000)
                    found += len(got) if grams else 0
                row.update({"tantivy_build_s": tantivy_build, "tantivy_substring_ms": statistics.median(times),
                            "tantivy_substring_max_ms": max(times), "tantivy_hits": found})
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
