"""``python -m bench.documents``: entity documents against ``oxigraph serve``'s equivalent CONSTRUCT.

For each size (default 10^4, 10^5, 10^6 statements) it:

1. writes the deterministic synthetic graph (:mod:`bench.synthetic`) as Turtle, and the whole
   dataset ours serves (the CLAIR release plus that graph, as ``clair-kg serve --load`` reads it) as
   N-Quads for oxigraph;
2. starts ``clair-kg serve --workers 2 --load synthetic.ttl=GRAPH`` and ``oxigraph serve
   --union-default-graph`` (in memory, the N-Quads posted to ``/store``), each on a free
   ``127.0.0.1`` port in its own process group (stopped at the end, also on an error);
3. picks entities spread over the synthetic graph (organisations, units, cities, countries,
   memberships) and checks, for a sample of them, that ours' Turtle and JSON-LD documents and
   oxigraph's answer to the document's CONSTRUCT (:func:`clair_kg.entity_graph.document_query`, the
   query that defines a document: ours reads the same graph with pyoxigraph's pattern matching,
   :func:`clair_kg.entity_graph.document_from_patterns`) are the same graph;
4. drives each mix with wrk (16 connections, ``--duration`` seconds), side by side in ABAB order,
   ``--rounds`` times:

   - ``oxigraph``: ``GET /query?query=<the entity's CONSTRUCT>``, Turtle, cycling over the entities;
   - ``doc-hot``: ``GET /doc/<entity>``, Turtle and JSON-LD alternately, cycling over fewer
     entities than ours' document cache holds (after the first lap every request is a cache hit);
   - ``doc-cold``: the same over more entities than the cache holds, in order, so with an LRU every
     request misses: the uncached cost;
   - ``id-doc``: the ``/id`` → 303 → ``/doc`` pair a linked-data client makes, over the hot pool
     (both requests of a pair counted; ``documents/s`` is half the requests);
   - ``html``: ``GET /doc/<entity>`` as a browser asks for it (``text/html``, English), cold;

5. prints, per size and mix, req/s (mean, min..max), p50, p99, errors, each server's CPU time per
   request and the load average before each run, and the ratios to oxigraph (target: ``doc-hot``,
   ``doc-cold`` and ``id-doc`` documents/s ≥ 0.5× oxigraph); writes ``bench/results/documents.json``.

On a shared machine req/s moves with the load (recorded per run); the server's own CPU time per
request moves much less. ``--query-isolation restart`` starts ours without query worker processes
(documents never reach them): at 10^6 on a busy 2-core machine the workers' own copies of the
graph may not load within their start deadline.

:func:`measure` runs all of it and returns the rows (``make bench-scale`` calls it).
"""

from __future__ import annotations

__all__ = ["MIXES", "DocRow", "measure", "main"]

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlencode

import httpx
import pyoxigraph

from clair_kg.entity_graph import document_query
from clair_kg.errors import ClairKgError
from clair_kg.project import Project
from clair_kg.release import prepare_release
from clair_kg.store.loading import extra_graphs

from . import synthetic
from .load import find_wrk, read_wrk_json, rotation_script
from .servers import Server, ServerFailed, Servers, free_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TURTLE = "text/turtle"
JSONLD = "application/ld+json"
#: the mixes, in the order each round runs them (ABAB: oxigraph between each of ours)
MIXES = ("oxigraph", "doc-hot", "oxigraph", "id-doc", "oxigraph", "doc-cold", "html")
#: ours' document cache holds ``cache_size`` documents (the default, 1024): the hot pool fits in it
CACHE_ENTRIES = 1024
HOT_ENTITIES = 400  # x 2 formats = 800 documents
COLD_MIN_ENTITIES = 2 * CACHE_ENTRIES  # x 2 formats: four times what the cache holds


@dataclass
class DocRow:
    size: int  # statements asked of the generator
    statements: int  # statements served (synthetic + the CLAIR release)
    mix: str
    server: str
    runs: list[dict[str, Any]] = field(default_factory=list)  # each: rps, p50_ms, p99_ms, errors, cpu_us, load
    rps: float = 0.0  # mean over the runs
    documents_per_s: float = 0.0  # rps, or rps / 2 for the /id + /doc pair
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    cpu_us_per_request: float | None = None
    ratio: float | None = None  # documents/s against oxigraph's CONSTRUCT req/s at this size


# --- the servers -----------------------------------------------------------------------------------

class _DocServers(Servers):
    """:class:`bench.servers.Servers` plus the two ways this bench starts its servers."""

    def start_ours_loaded(self, graph: Path, *, workers: int, timeout: float, isolation: str | None) -> Server:
        port = free_port()
        cli = Path(sys.executable).with_name("clair-kg")
        argv = [str(cli)] if cli.exists() else [sys.executable, "-m", "clair_kg"]
        argv += ["--project", str(ROOT), "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--workers", str(workers), "--load", f"{graph}={synthetic.GRAPH}"]
        argv += ["--query-isolation", isolation] if isolation else []
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIR_KG_")}
        proc, log = self._spawn("ours", argv, env)
        server = Server("ours", f"http://127.0.0.1:{port}", "/sparql", proc, log,
                        notes=[" ".join(argv[argv.index("serve"):])])
        self._started.append(server)
        self._wait(server, server.base + "/health", timeout)
        return server

    def start_oxigraph_union(self, nquads: Path, *, timeout: float) -> Server:
        cli = Path(sys.executable).with_name("oxigraph")
        if not cli.exists():
            raise ServerFailed("the `oxigraph` CLI is missing: pip install -e '.[dev]'")
        port = free_port()
        proc, log = self._spawn("oxigraph", [str(cli), "serve", "--bind", f"127.0.0.1:{port}",
                                             "--union-default-graph"])
        server = Server("oxigraph", f"http://127.0.0.1:{port}", "/query", proc, log,
                        notes=["oxigraph serve --union-default-graph (in memory, N-Quads posted to /store)"])
        self._started.append(server)
        self._wait(server, server.query_url + "?query=ASK%7B%7D", timeout)
        with httpx.Client(timeout=max(timeout, 600)) as client:
            response = client.post(server.base + "/store", content=nquads.read_bytes(),
                                   headers={"Content-Type": "application/n-quads"})
        if not response.is_success:
            raise ServerFailed(f"loading oxigraph failed: {response.status_code} {response.text[:300]}")
        return server


# --- the data --------------------------------------------------------------------------------------

def _write_data(size: int, workdir: Path) -> tuple[Path, Path, int, list[str]]:
    """The synthetic Turtle, the whole served dataset as N-Quads, its statement count, the entity IRIs."""
    graph = workdir / f"synthetic-{size}.ttl"
    synthetic.write(graph, size)
    release = prepare_release(Project(ROOT))
    extra = extra_graphs([f"{graph}={synthetic.GRAPH}"])
    nquads = workdir / f"dataset-{size}.nq"
    nquads.write_bytes(release.nquads + extra.nquads)
    subjects = list(dict.fromkeys(s[1:-1] for s, _, _ in synthetic.triples(size)))
    return graph, nquads, release.info.quads + extra.statements, subjects


def _spread(items: list[str], n: int) -> list[str]:
    """``n`` items evenly spread over ``items`` (all of them when there are fewer)."""
    if n >= len(items):
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def _doc_path(iri: str) -> str:
    return "/doc/" + iri.removeprefix(synthetic.BASE + "id/")


def _id_path(iri: str) -> str:
    return "/id/" + iri.removeprefix(synthetic.BASE + "id/")


def _construct_path(iri: str) -> str:
    return "/query?" + urlencode({"query": document_query(iri)})


def _graph(body: bytes, media: str) -> set[tuple[str, str, str]]:
    fmt = pyoxigraph.RdfFormat.from_media_type(media)
    assert fmt is not None, media
    return {(str(t.subject), str(t.predicate), str(t.object)) for t in pyoxigraph.parse(body, format=fmt)}


def check_answers(ours: Server, oxigraph: Server, entities: list[str]) -> int:
    """Ours' Turtle and JSON-LD documents equal oxigraph's CONSTRUCT answer, entity by entity."""
    with httpx.Client(timeout=60) as client:
        for iri in entities:
            theirs = client.get(oxigraph.base + _construct_path(iri), headers={"Accept": TURTLE})
            theirs.raise_for_status()
            expected = _graph(theirs.content, TURTLE)
            for media in (TURTLE, JSONLD):
                mine = client.get(ours.base + _doc_path(iri), headers={"Accept": media})
                mine.raise_for_status()
                got = _graph(mine.content, media)
                if got != expected:
                    raise AssertionError(f"{iri} as {media}: ours has {len(got - expected)} statements oxigraph "
                                         f"has not, oxigraph {len(expected - got)} ours has not")
            hop = client.get(ours.base + _id_path(iri), headers={"Accept": TURTLE})
            if hop.status_code != 303 or hop.headers.get("location") != _doc_path(iri):
                raise AssertionError(f"/id of {iri}: {hop.status_code} {hop.headers.get('location')}")
    return len(entities)


# --- the load --------------------------------------------------------------------------------------



def _requests(mix: str, entities: list[str], hot: list[str]) -> tuple[list[str], list[str]]:
    """The rotation of (path, Accept) of one mix."""
    if mix == "oxigraph":
        return [_construct_path(e) for e in entities], [TURTLE] * len(entities)
    if mix == "html":
        return [_doc_path(e) for e in entities], ["text/html"] * len(entities)
    pool = hot if mix in ("doc-hot", "id-doc") else entities
    paths: list[str] = []
    accepts: list[str] = []
    for iri in pool:
        for media in (TURTLE, JSONLD):
            if mix == "id-doc":
                paths += [_id_path(iri), _doc_path(iri)]
                accepts += [media, media]
            else:
                paths.append(_doc_path(iri))
                accepts.append(media)
    return paths, accepts


def run_once(wrk: str, server: Server, paths: list[str], accepts: list[str], *, connections: int,
             duration: float, workdir: Path, name: str) -> dict[str, Any]:
    """One bounded wrk run; req/s, latencies, errors (non-2xx/3xx too) and the server's CPU per request."""
    script = workdir / f"{name}.lua"
    script.write_text(rotation_script(paths, accepts, headers={"Accept-Language": "en"}))
    load = os.getloadavg()[0]
    cpu_before = server.cpu_seconds()
    seconds = max(1, round(duration))
    argv = [wrk, "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s", "-s", str(script),
            server.base]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    cpu_after = server.cpu_seconds()
    data = read_wrk_json(done.returncode, done.stdout, done.stderr)
    requests = data["requests"]
    cpu = (cpu_after - cpu_before) / requests * 1e6 if requests and cpu_before is not None and cpu_after else None
    return {"rps": requests / (data["duration_us"] / 1e6), "p50_ms": data["p50_us"] / 1000,
            "p99_ms": data["p99_us"] / 1000, "errors": data["errors"], "requests": requests,
            "cpu_us": cpu, "load": round(load, 2)}


def _warm(server: Server, paths: list[str], accepts: list[str], limit: int, *, each_process: int = 1) -> None:
    """Ask each of the first ``limit`` requests once, or ``each_process`` times on new connections
    (which the kernel spreads over the web processes, each with its own document cache)."""
    fresh = httpx.Limits(max_keepalive_connections=0) if each_process > 1 else httpx.Limits()
    with httpx.Client(base_url=server.base, timeout=60, limits=fresh) as client:
        for path, accept in list(zip(paths, accepts, strict=True))[:limit]:
            for _ in range(each_process):
                client.get(path, headers={"Accept": accept})


def measure_size(size: int, args: argparse.Namespace, wrk: str, workdir: Path) -> list[DocRow]:
    graph, nquads, statements, subjects = _write_data(size, workdir)
    cold_n = max(COLD_MIN_ENTITIES, min(args.entities, len(subjects)))
    entities = _spread(subjects, cold_n)
    hot = _spread(subjects, HOT_ENTITIES)
    rows: dict[str, DocRow] = {}
    with _DocServers(workdir) as servers:
        oxigraph = servers.start_oxigraph_union(nquads, timeout=120)
        ours = servers.start_ours_loaded(graph, workers=args.workers, timeout=args.start_timeout,
                                         isolation=args.query_isolation)
        checked = check_answers(ours, oxigraph, _spread(entities, 40))
        print(f"{size}: {statements} statements; {checked} entities checked equal (Turtle, JSON-LD, /id hop); "
              f"{len(entities)} cold, {len(hot)} hot entities", flush=True)
        for mix in dict.fromkeys(MIXES):  # warm every server and fill the hot pool once
            paths, accepts = _requests(mix, entities, hot)
            _warm(oxigraph if mix == "oxigraph" else ours, paths, accepts, 2 * len(hot) * 2)
        for round_ in range(1, args.rounds + 1):
            for n, mix in enumerate(MIXES):
                if mix not in args.mixes and mix != "oxigraph":
                    continue
                server = oxigraph if mix == "oxigraph" else ours
                paths, accepts = _requests(mix, entities, hot)
                if mix == "doc-hot":  # the last round's cold mix evicted it: every process caches it again
                    _warm(ours, paths, accepts, len(paths), each_process=6)
                run = run_once(wrk, server, paths, accepts, connections=args.connections, duration=args.duration,
                               workdir=workdir, name=f"{size}-{mix}-{round_}-{n}")
                print(f"  round {round_} {mix:9} {run['rps']:8.0f} req/s  p99 {run['p99_ms']:6.1f} ms  "
                      f"errors {run['errors']}  cpu {run['cpu_us'] or 0:6.0f} us/req  load {run['load']}", flush=True)
                row = rows.setdefault(mix, DocRow(size, statements, mix, server.name))
                row.runs.append(run)
    for row in rows.values():
        row.rps = statistics.fmean(r["rps"] for r in row.runs)
        row.documents_per_s = row.rps / 2 if row.mix == "id-doc" else row.rps
        row.p50_ms = statistics.fmean(r["p50_ms"] for r in row.runs)
        row.p99_ms = statistics.fmean(r["p99_ms"] for r in row.runs)
        row.errors = sum(r["errors"] for r in row.runs)
        cpus = [r["cpu_us"] for r in row.runs if r["cpu_us"] is not None]
        row.cpu_us_per_request = statistics.fmean(cpus) if cpus else None
    base = rows.get("oxigraph")
    for row in rows.values():
        if base is not None and base.rps and row.mix != "oxigraph":
            row.ratio = row.documents_per_s / base.rps
    return list(rows.values())


def measure(sizes: list[int], *, duration: float = 8.0, rounds: int = 2, connections: int = 16, workers: int = 2,
            entities: int = 20_000, mixes: tuple[str, ...] = MIXES, start_timeout: float = 900.0,
            query_isolation: str | None = None) -> list[DocRow]:
    """Every size, every mix: the rows of the table (``make bench-scale`` calls this).

    ``query_isolation="restart"`` starts ours without query worker processes (documents never use
    them); on a busy 2-core machine the workers' own copies of a 10^6 graph may not load within
    their start deadline.
    """
    wrk = find_wrk()
    if wrk is None:
        raise RuntimeError("wrk is missing: apt-get install wrk")
    args = argparse.Namespace(duration=duration, rounds=rounds, connections=connections, workers=workers,
                              entities=entities, mixes=mixes, start_timeout=start_timeout,
                              query_isolation=query_isolation)
    rows: list[DocRow] = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix=f"bench-documents-{size}-") as tmp:
            rows += measure_size(size, args, wrk, Path(tmp))
    return rows


def table(rows: list[DocRow]) -> str:
    lines = ["| statements | mix | server | req/s (min..max) | documents/s | × oxigraph | p50 ms | p99 ms | errors "
             "| CPU µs/req | load |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lo, hi = min(x["rps"] for x in r.runs), max(x["rps"] for x in r.runs)
        loads = f"{min(x['load'] for x in r.runs):.1f}..{max(x['load'] for x in r.runs):.1f}"
        lines.append(
            f"| {r.statements:,} | {r.mix} | {r.server} | {r.rps:,.0f} ({lo:,.0f}..{hi:,.0f}) "
            f"| {r.documents_per_s:,.0f} "
            f"| {'' if r.ratio is None else f'{r.ratio:.2f}'} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.errors} "
            f"| {'' if r.cpu_us_per_request is None else f'{r.cpu_us_per_request:,.0f}'} | {loads} |")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.documents", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="statements, comma-separated")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="clair-kg serve --workers")
    parser.add_argument("--entities", type=int, default=20_000,
                        help=f"entities of the cold mixes (at least {COLD_MIN_ENTITIES}, at most all)")
    parser.add_argument("--mixes", default=",".join(dict.fromkeys(MIXES)), help="which of ours' mixes to run")
    parser.add_argument("--query-isolation", choices=["process", "restart"],
                        help="ours' --query-isolation (default: the server's); documents never use the query workers")
    parser.add_argument("--out", type=Path, default=RESULTS / "documents.json")
    return parser


def _sizes(text: str) -> Iterator[int]:
    for part in text.split(","):
        if part.strip():
            yield int(float(part))


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # so the servers' context stops every process group it started


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in the background
    started = time.monotonic()
    try:
        rows = measure(list(_sizes(args.sizes)), duration=args.duration, rounds=args.rounds,
                       connections=args.connections, workers=args.workers, entities=args.entities,
                       mixes=tuple(m.strip() for m in args.mixes.split(",")), query_isolation=args.query_isolation)
    except KeyboardInterrupt:
        print("bench.documents: stopped", file=sys.stderr)
        return 130
    except (ServerFailed, ClairKgError, RuntimeError, AssertionError) as exc:
        print(f"bench.documents: {exc}", file=sys.stderr)
        return 1
    print(table(rows))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps([asdict(r) for r in rows], indent=1) + "\n")
    print(f"written {args.out} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
