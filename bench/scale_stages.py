"""The measures of ``python -m bench.scale``, one function per stage; :mod:`bench.scale` runs them.

- :func:`run_cli`: a ``clair-kg`` command (``validate``, ``build``), its wall time and peak RSS;
- :func:`scale_project`: a temporary project folder holding the synthetic graph as its one source;
- :func:`workload`: the search, reconciliation, document and SPARQL requests, built from the
  generated graph's own names so each has answers at every size;
- :func:`one_at_a_time`, :func:`under_load`, :func:`sparql_under_load`: latency of single requests
  and throughput under N connections, each bounded by its duration.
"""

from __future__ import annotations

__all__ = [
    "CliRun", "Load", "Workload", "check_sparql_answers", "one_at_a_time", "run_cli", "scale_project",
    "sparql_under_load", "under_load", "workload",
]

import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from . import synthetic
from .load import find_wrk, read_wrk_json, rotation_script, run_python, run_wrk
from .queries import JSON_RESULTS, N_TRIPLES, PREFIXES, BenchQuery
from .run import answer_count

ROOT = Path(__file__).resolve().parent.parent
UNIT = "http://www.w3.org/ns/org#OrganizationalUnit"
TURTLE = "text/turtle"


# --- the build side: clair-kg validate / build --------------------------------------------------------

@dataclass(frozen=True)
class CliRun:
    seconds: float
    #: the largest resident set of the command or any process it waited for (getrusage's ru_maxrss)
    peak_rss: int
    returncode: int | None  # None: stopped at the time limit
    tail: str


def _clair_kg() -> list[str]:
    beside = Path(sys.executable).with_name("clair-kg")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "clair_kg"]


def run_cli(args: list[str], *, log: Path, timeout: float, env: dict[str, str] | None = None) -> CliRun:
    """Run ``clair-kg ARGS`` in its own process group; past ``timeout`` the group is killed."""
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen([*_clair_kg(), *args], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    deadline = time.monotonic() + timeout
    status: int | None = None
    usage = None
    try:
        while True:
            pid, wait_status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status = os.waitstatus_to_exitcode(wait_status)
                proc.returncode = status  # reaped here: Popen must not wait for it again
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
    finally:
        if status is None:
            _kill_group(proc)
    seconds = time.perf_counter() - started
    text = log.read_text(errors="replace").strip().splitlines()
    return CliRun(seconds, (usage.ru_maxrss if usage else 0) * 1024, status, "\n".join(text[-3:]))


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def scale_project(folder: Path, statements: int) -> Path:
    """A project whose data is the synthetic graph alone (``data/synthetic/``), with the repository's
    own ontology, shapes and queries: what ``clair-kg validate`` and ``build`` are measured on."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for part in ("ontology", "queries"):
        shutil.copytree(ROOT / part, folder / part)
    (folder / "data" / "synthetic").mkdir(parents=True)
    synthetic.write(folder / "data" / "synthetic" / "synthetic.ttl", statements)
    return folder


# --- what is asked ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Workload:
    """Requests built from the generated graph's own names (so each has answers at every size)."""

    search_paths: tuple[str, ...]
    reconcile_paths: tuple[str, ...]
    #: entity paths (``org/org-1``), for ``/doc/...`` and the equivalent CONSTRUCT
    entities: tuple[str, ...]
    #: the SPARQL mix of bench/queries.py, pointed at the synthetic graph (see :func:`scale_queries`)
    queries: tuple[BenchQuery, ...] = field(default=())


def _org_names(statements: int, picks: int) -> list[tuple[str, str, str, str]]:
    """(org id, English name, Japanese name, its city id) of ``picks`` organisations spread over the graph.

    Two passes over the generator (count, then read the chosen ones), so that only the chosen
    organisations are ever held, whatever the size."""
    type_of_org = f"<{synthetic.RDF_TYPE}>", f"<{synthetic.ORG}FormalOrganization>"
    count = sum(1 for s, p, o in synthetic.triples(statements) if (p, o) == type_of_org)
    step = max(1, count // picks)
    chosen = {f"<{synthetic.ID}org/org-{n}>": n for n in range(1, count + 1, step)[:picks]}
    orgs: dict[str, dict[str, str]] = {}
    for s, p, o in synthetic.triples(statements):
        if s not in chosen:
            continue
        entry = orgs.setdefault(s, {})
        if p == f"<{synthetic.SKOS}prefLabel>":
            entry["ja" if o.endswith("@ja") else "en"] = o.rsplit("@", 1)[0].strip('"')
        elif p == f"<{synthetic.SCHEMA}location>":
            entry["city"] = o.strip("<>").split("/id/", 1)[1]
    out = []
    for iri in sorted(orgs, key=chosen.__getitem__):
        e = orgs[iri]
        out.append((iri.strip("<>").split("/id/", 1)[1], e["en"], e["ja"], e["city"]))
    return out


def scale_queries(org_iri: str) -> tuple[BenchQuery, ...]:
    """bench/queries.py's six queries, pointed at the synthetic graph and bounded so that both servers
    return the same rows: the entity of DESCRIBE and ASK is a synthetic organisation, the two-hop join
    follows units (the synthetic graph has no overseas offices), and the two queries whose result grows
    with the graph get ``LIMIT 1000`` (without it clair-kg cuts at ``max_rows`` and oxigraph does not)."""
    return (
        BenchQuery("describe", f"DESCRIBE <{org_iri}>", N_TRIPLES),
        BenchQuery("labels-ordered",
                   PREFIXES + "SELECT ?s ?l WHERE { ?s rdfs:label ?l } ORDER BY ?l ?s LIMIT 1000", JSON_RESULTS),
        BenchQuery("counts-by-type",
                   PREFIXES + "SELECT ?t (COUNT(*) AS ?n) WHERE { ?s a ?t } GROUP BY ?t ORDER BY DESC(?n) ?t",
                   JSON_RESULTS),
        BenchQuery("two-hop-join",
                   PREFIXES + "SELECT ?unit ?city ?country WHERE { ?unit a org:OrganizationalUnit ; "
                   "schema:location ?city . ?city schema:containedInPlace ?country . ?country rdfs:label ?name } "
                   "ORDER BY ?unit ?name LIMIT 1000", JSON_RESULTS),
        BenchQuery("text-filter",
                   PREFIXES + 'SELECT ?s ?l WHERE { ?s rdfs:label ?l FILTER(CONTAINS(LCASE(STR(?l)), "office")) } '
                   "ORDER BY ?s ?l LIMIT 1000", JSON_RESULTS),
        BenchQuery("ask", PREFIXES + f"ASK {{ ?u org:unitOf <{org_iri}> . ?u rdfs:label ?l }}", JSON_RESULTS),
    )


def workload(statements: int, picks: int = 8) -> Workload:
    searches, batches, entities = [], [], []
    names = _org_names(statements, picks)
    for org, en, ja, city in names:
        first = en.split()[0]
        typo = first[:2] + first[3:] if len(first) > 4 else first + "a"
        searches += [f"/search?{urlencode({'q': first[:5]})}", f"/search?{urlencode({'q': ja[1:4]})}",
                     f"/search?{urlencode({'q': typo})}"]
        batch = {"q0": {"query": en}, "q1": {"query": f"{en} Office", "type": UNIT},
                 "q2": {"query": first, "properties": [{"pid": "location", "v": {"id": city}}]}}
        batches.append(f"/reconcile?{urlencode({'queries': json.dumps(batch)})}")
        entities += [org, f"unit/{org.split('/', 1)[1]}-1", city]
    queries = scale_queries(synthetic.ID + names[0][0])
    return Workload(tuple(searches), tuple(batches), tuple(dict.fromkeys(entities)), queries)


def construct_query(entity_iri: str) -> str:
    """oxigraph's equivalent of an entity document: its own statements, the statements that point at
    it, and the labels of the things on either side (what ``clair_kg.entity_graph.describe`` reads)."""
    e = f"<{entity_iri}>"
    return (
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
        f"CONSTRUCT {{ {e} ?p ?o . ?s ?q {e} . ?x ?lp ?l }} WHERE {{ "
        f"{{ {e} ?p ?o }} UNION {{ ?s ?q {e} }} UNION "
        f"{{ {{ {e} ?p1 ?x }} UNION {{ ?x ?q1 {e} }} ?x ?lp ?l FILTER(?lp IN (rdfs:label, skos:prefLabel)) }} }}"
    )


# --- single requests and load -----------------------------------------------------------------------

def one_at_a_time(base: str, paths: tuple[str, ...], repeat: int,
                  accept: str = "application/json") -> tuple[float, int]:
    """Median latency in ms of ``paths`` (each asked ``repeat`` times after one warm-up), and errors."""
    times, errors = [], 0
    with httpx.Client(base_url=base, timeout=60) as client:
        for path in paths:
            client.get(path, headers={"accept": accept})
            for _ in range(repeat):
                started = time.perf_counter()
                status = client.get(path, headers={"accept": accept}).status_code
                times.append((time.perf_counter() - started) * 1000)
                errors += status != 200
    return statistics.median(times), errors


@dataclass(frozen=True)
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    tool: str

    def to_json(self) -> dict[str, Any]:
        return {"rps": self.rps, "p50_ms": self.p50_ms, "p99_ms": self.p99_ms, "errors": self.errors,
                "requests": self.requests, "tool": self.tool}




def under_load(base: str, paths: tuple[str, ...], *, connections: int, duration: float, workdir: Path,
               accept: str = "application/json", name: str = "load") -> Load:
    """req/s, p50, p99 and errors with ``connections`` connections for ``duration`` seconds (GET ``paths``
    in rotation; wrk when installed, else a bounded asyncio client)."""
    wrk = find_wrk()
    if wrk is not None:
        script = workdir / f"{name}.lua"
        script.write_text(rotation_script(paths, [accept] * len(paths)))
        seconds = max(1, round(duration))
        argv = [wrk, "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
                "-s", str(script), base]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
        data = read_wrk_json(out.returncode, out.stdout, out.stderr)
        elapsed = data["duration_us"] / 1e6
        return Load(data["requests"] / elapsed, data["p50_us"] / 1000, data["p99_us"] / 1000, data["errors"],
                    data["requests"], "wrk")
    return asyncio.run(_python_load(base, paths, connections, duration, accept))


async def _python_load(base: str, paths: tuple[str, ...], connections: int, duration: float, accept: str) -> Load:
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
                    status = (await client.get(paths[i % len(paths)], headers={"accept": accept})).status_code
                except httpx.HTTPError:
                    status = 0
                latencies.append(time.perf_counter() - started)
                errors += status != 200
                i += 1

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(connection(n) for n in range(connections))), duration + 30)
    elapsed = time.perf_counter() - started
    latencies.sort()
    if not latencies:
        return Load(0.0, 0.0, 0.0, errors, 0, "httpx")
    return Load(len(latencies) / elapsed, latencies[len(latencies) // 2] * 1000,
                latencies[int(len(latencies) * 0.99)] * 1000, errors, len(latencies), "httpx")


def sparql_under_load(base: str, query_path: str, queries: tuple[BenchQuery, ...], *, name: str, run: int,
                      connections: int, duration: float, workdir: Path) -> Load:
    """The distinct mix of bench/run.py (every query text made new by a trailing comment, so no result
    cache answers) against one server."""
    wrk = find_wrk()
    if wrk is not None:
        result = run_wrk(wrk, server=name, run=run, base_url=base, query_path=query_path, queries=queries,
                         connections=connections, duration=duration, threads=1, timeout=10.0, workdir=workdir,
                         mix="distinct")
    else:
        result = run_python(server=name, run=run, base_url=base, query_path=query_path, queries=queries,
                            connections=connections, duration=duration, timeout=10.0, mix="distinct")
    return Load(result.rps, result.p50_ms, result.p99_ms, result.errors, result.requests, result.tool)


def check_sparql_answers(ours: str, peer: str, queries: tuple[BenchQuery, ...]) -> list[str]:
    """Each query of the mix once against both query URLs: the differences in what they answer
    (rows, the ASK boolean, distinct triples), so like is compared with like."""
    problems = []
    with httpx.Client(timeout=60) as client:
        for q in queries:
            got = [answer_count(client.get(url, params={"query": q.text}, headers={"Accept": q.accept}))
                   for url in (ours, peer)]
            if got[0] != got[1] or isinstance(got[0], str):
                problems.append(f"{q.name}: clair-kg {got[0]!r}, oxigraph {got[1]!r}")
    return problems


def check_documents(ours_base: str, peer_query_url: str, entities: tuple[str, ...]) -> list[str]:
    """Every entity's document is there on both sides (200, Turtle, at least one statement)."""
    problems = []
    with httpx.Client(timeout=60) as client:
        for path in entities:
            mine = client.get(f"{ours_base}/doc/{path}", headers={"accept": TURTLE})
            theirs = client.get(peer_query_url, params={"query": construct_query(synthetic.ID + path)},
                                headers={"accept": TURTLE})
            for who, response in (("clair-kg", mine), ("oxigraph", theirs)):
                if response.status_code != 200 or f"id/{path}" not in response.text:
                    problems.append(f"{who} /doc/{path}: HTTP {response.status_code} {response.text[:80]!r}")
    return problems
