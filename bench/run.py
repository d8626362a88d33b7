"""``python -m bench``: our server against ``oxigraph serve`` and rdflib-endpoint on the same data.

1. Write the release N-Quads (the real CLAIR graph) to a file.
2. Start ``clair-kg serve --workers 2`` (and, for comparison, the same with its result cache off),
   ``oxigraph serve --union-default-graph`` loaded with that file, and ``rdflib-endpoint serve`` on it,
   each on a free 127.0.0.1 port.
3. Check every server gives the same number of answers to every query of the mix.
4. Drive each with the same rotating query mixes (GET ``?query=``): ``cached`` (the six queries as they
   are) and ``distinct`` (each made unique by a trailing ``#N`` comment), N connections, a fixed duration,
   ABAB order: ours, oxigraph, ours, oxigraph, then rdflib-endpoint twice.
5. Print req/s, p50, p99 and errors per run and per server, the ratios against the targets, and
   write everything as JSON under ``bench/results/``.

Every server process is stopped at the end, also on Ctrl-C or an error.
"""

from __future__ import annotations

__all__ = ["main"]

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import pyoxigraph

from .load import DISTINCT_SUFFIX, MIXES, RunResult, find_wrk, run_python, run_wrk
from .queries import QUERIES, BenchQuery
from .servers import Server, ServerFailed, Servers

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
KINDS = ("ours", "base", "oxigraph", "ours-nocache", "ours-nocache-restart", "rdflib-endpoint")
#: the servers each mix measures, in ABAB order (those started and answering right)
MIX_SERVERS = {
    "cached": ("ours", "base", "oxigraph", "ours-nocache", "ours-nocache-restart"),
    # with every query text new, ours-nocache would only repeat ours: it is left out
    "distinct": ("ours", "base", "oxigraph", "ours-nocache-restart"),
}
TARGETS = {"rps_vs_oxigraph": 0.8, "rps_vs_rdflib": 15.0, "p99_vs_oxigraph": 2.0}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measured run (default 10)")
    p.add_argument("--rdflib-duration", type=float, default=None,
                   help="seconds per rdflib-endpoint run (default: --duration)")
    p.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: leave the CPUs to the servers)")
    p.add_argument("--workers", type=int, default=2, help="HTTP workers of our server (default 2)")
    p.add_argument("--query-workers", type=int, default=None,
                   help="query worker processes per HTTP worker of our server (default: its own default)")
    p.add_argument("--warmup", type=float, default=2.0,
                   help="seconds of unmeasured load on each server before its first run (default 2)")
    p.add_argument("--pause", type=float, default=1.0, help="seconds of quiet before each run (default 1)")
    p.add_argument("--timeout", type=float, default=10.0, help="per-request timeout in seconds (default 10)")
    p.add_argument("--only", default="ours,oxigraph,ours-nocache,rdflib-endpoint",
                   help="comma-separated servers to run, of: " + ", ".join(KINDS))
    p.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto",
                   help="load generator: wrk (Debian; installed with apt-get when missing and possible), "
                        "or the bounded asyncio client; auto prefers wrk")
    p.add_argument("--mix", default=",".join(MIXES),
                   help="comma-separated query mixes to run, of: cached (the same six requests over and over), "
                        "distinct (each query text made unique by a trailing '#N' comment); default both")
    p.add_argument("--rounds", type=int, default=2,
                   help="ABAB rounds per mix: each server runs this many times, interleaved (default 2)")
    p.add_argument("--baseline-src", type=Path, default=None,
                   help="also run `base`: clair-kg serve with this source folder first on PYTHONPATH (e.g. an "
                        "unchanged checkout), measured side by side with `ours`")
    p.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    p.add_argument("--keep-logs", action="store_true", help="keep the servers' logs folder")
    return p


# --- answers ---------------------------------------------------------------------------------------

_RDF_TYPES = {
    "application/n-triples": pyoxigraph.RdfFormat.N_TRIPLES,
    "text/turtle": pyoxigraph.RdfFormat.TURTLE,
    "application/rdf+xml": pyoxigraph.RdfFormat.RDF_XML,
    "application/ld+json": pyoxigraph.RdfFormat.JSON_LD,
    "application/n-quads": pyoxigraph.RdfFormat.N_QUADS,
    "application/trig": pyoxigraph.RdfFormat.TRIG,
}


def answer_count(response: httpx.Response, quirks: list[str] | None = None) -> int | bool | str:
    """Rows of a SELECT, the boolean of an ASK, distinct triples of a graph; a string says what went wrong.

    A graph sent with a results media type (rdflib-endpoint labels DESCRIBE's RDF/XML as
    ``application/sparql-results+xml``) is still counted, and the mislabel is noted in ``quirks``.
    """
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:120]!r}"
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if media in ("application/sparql-results+json", "application/json"):
            data = response.json()
            if "boolean" in data:
                return bool(data["boolean"])
            return len(data["results"]["bindings"])
        if media == "application/sparql-results+xml" and b"<rdf:RDF" in response.content[:2000]:
            if quirks is not None:
                quirks.append(f"{response.request.url.path}: an RDF/XML graph labelled {media}")
            media = "application/rdf+xml"
        if media == "application/sparql-results+xml":
            parsed = pyoxigraph.parse_query_results(response.content, format=pyoxigraph.QueryResultsFormat.XML)
            return bool(parsed) if isinstance(parsed, pyoxigraph.QueryBoolean) else len(list(parsed))
        if media in _RDF_TYPES:
            return len({str(q.triple) for q in pyoxigraph.parse(response.content, format=_RDF_TYPES[media])})
    except (ValueError, KeyError, SyntaxError) as exc:
        return f"unparseable {media}: {exc}"
    return f"unexpected media type {media!r}"


def verify(
    servers: list[Server], quirks: dict[str, list[str]], mixes: tuple[str, ...] = ("cached",)
) -> dict[str, dict[str, int | bool | str]]:
    """Each query once against each server: what it answers (counts), for a like-with-like check.

    With the distinct mix, each query is also sent as that mix sends it (with a trailing comment),
    under the name ``<query>#``.
    """
    answers: dict[str, dict[str, int | bool | str]] = {}
    suffixes = [""] + (["#"] if "distinct" in mixes else [])
    with httpx.Client(timeout=30) as client:
        for server in servers:
            answers[server.name] = {}
            noted = quirks.setdefault(server.name, [])
            for q, suffix in ((q, suffix) for suffix in suffixes for q in QUERIES):
                text = q.text + (" #verify" if suffix else "")
                try:
                    response = client.get(server.query_url, params={"query": text}, headers={"Accept": q.accept})
                    answers[server.name][q.name + suffix] = answer_count(response, noted)
                except httpx.HTTPError as exc:
                    answers[server.name][q.name + suffix] = f"no answer: {exc}"
    return answers


def warm_up(server: Server, queries: tuple[BenchQuery, ...], rounds: int = 3) -> None:
    with httpx.Client(timeout=30) as client:
        for _ in range(rounds):
            for q in queries:
                client.get(server.query_url, params={"query": q.text}, headers={"Accept": q.accept})


# --- reporting ---------------------------------------------------------------------------------------


@dataclass
class Summary:
    server: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    #: the lowest and highest req/s and p99 of the runs (the noise on a shared machine)
    rps_min: float = 0.0
    rps_max: float = 0.0
    p99_min: float = 0.0
    p99_max: float = 0.0
    runs: int = 0
    #: the server's own CPU time per request (all its processes; mean of the runs), where known
    cpu_us_per_request: float | None = None


def summarize(runs: list[RunResult]) -> dict[str, Summary]:
    """Per server, the mean of its runs (pass the runs of one mix)."""
    out: dict[str, Summary] = {}
    for name in dict.fromkeys(r.server for r in runs):
        mine = [r for r in runs if r.server == name]
        n = len(mine)
        out[name] = Summary(
            server=name,
            rps=sum(r.rps for r in mine) / n,
            p50_ms=sum(r.p50_ms for r in mine) / n,
            p99_ms=sum(r.p99_ms for r in mine) / n,
            errors=sum(r.errors for r in mine),
            requests=sum(r.requests for r in mine),
            rps_min=min(r.rps for r in mine), rps_max=max(r.rps for r in mine),
            p99_min=min(r.p99_ms for r in mine), p99_max=max(r.p99_ms for r in mine),
            runs=n,
            cpu_us_per_request=(sum(cpus) / len(cpus)) if (cpus := [
                r.detail["cpu_us_per_request"] for r in mine if "cpu_us_per_request" in r.detail]) else None,
        )
    return out


def ratios(summary: dict[str, Summary], mix: str = "cached") -> list[dict[str, Any]]:
    """The ratios against the targets for one mix's summary; the rows are named ``<mix>: ...``."""
    rows = _ratios(summary)
    for row in rows:
        row["name"] = f"{mix}: {row['name']}"
        row["mix"] = mix
    return rows


def _ratios(summary: dict[str, Summary]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    ours, ox, rdf = summary.get("ours"), summary.get("oxigraph"), summary.get("rdflib-endpoint")
    if ours and ox and ox.rps:
        value = ours.rps / ox.rps
        rows.append({"name": "req/s ours / oxigraph", "value": value, "target": ">= 0.8",
                     "met": value >= TARGETS["rps_vs_oxigraph"],
                     "spread": f"{ours.rps_min / ox.rps_max:.2f}..{ours.rps_max / ox.rps_min:.2f}"})
    if ours and rdf and rdf.rps:
        value = ours.rps / rdf.rps
        rows.append({"name": "req/s ours / rdflib-endpoint", "value": value, "target": ">= 15",
                     "met": value >= TARGETS["rps_vs_rdflib"]})
    if ours and ox and ox.p99_ms:
        value = ours.p99_ms / ox.p99_ms
        rows.append({"name": "p99 ours / oxigraph", "value": value, "target": "<= 2",
                     "met": value <= TARGETS["p99_vs_oxigraph"]})
    if ours and ox and ours.cpu_us_per_request and ox.cpu_us_per_request:
        rows.append({"name": "CPU per request oxigraph / ours (info)",
                     "value": ox.cpu_us_per_request / ours.cpu_us_per_request, "target": "-", "met": None})
    base = summary.get("base")
    if ours and base and base.cpu_us_per_request and ours.cpu_us_per_request:
        rows.append({"name": "CPU per request base / ours (info)",
                     "value": base.cpu_us_per_request / ours.cpu_us_per_request, "target": "-", "met": None})
    if ours and base and base.rps:
        rows.append({"name": "req/s ours / base (info)", "value": ours.rps / base.rps, "target": "-", "met": None,
                     "spread": f"{ours.rps_min / base.rps_max:.2f}..{ours.rps_max / base.rps_min:.2f}"})
        rows.append({"name": "p99 ours / base (info)", "value": ours.p99_ms / base.p99_ms, "target": "-",
                     "met": None})
    if base and ox and ox.rps:
        rows.append({"name": "req/s base / oxigraph (info)", "value": base.rps / ox.rps, "target": "-",
                     "met": None})
    if ours:
        rows.append({"name": "errors ours", "value": ours.errors, "target": "0", "met": ours.errors == 0})
    nocache = summary.get("ours-nocache")
    if nocache and ox and ox.rps:
        rows.append({"name": "req/s ours-nocache / oxigraph (info)", "value": nocache.rps / ox.rps,
                     "target": "-", "met": None})
        rows.append({"name": "p99 ours-nocache / oxigraph (info)", "value": nocache.p99_ms / ox.p99_ms,
                     "target": "-", "met": None})
    restart = summary.get("ours-nocache-restart")
    if restart and ox and ox.rps:
        rows.append({"name": "req/s ours-nocache-restart / oxigraph (info)", "value": restart.rps / ox.rps,
                     "target": "-", "met": None})
        rows.append({"name": "p99 ours-nocache-restart / oxigraph (info)", "value": restart.p99_ms / ox.p99_ms,
                     "target": "-", "met": None})
    return rows


def table(runs: list[RunResult], summaries: dict[str, dict[str, Summary]], ratio_rows: list[dict[str, Any]]) -> str:
    lines = [f"{'mix':<8} {'server':<20} {'run':>3} {'tool':<7} {'requests':>9} {'req/s':>9} {'p50 ms':>8} "
             f"{'p99 ms':>8} {'max ms':>8} {'errors':>6} {'load':>5} {'cpu us/req':>10}  conns/process"]
    for r in runs:
        spread = "/".join(str(n) for n in r.detail.get("connections_per_process", [])) or "?"
        load = r.detail.get("loadavg_1min_before")
        shown_load = f"{load:.2f}" if isinstance(load, float) else "?"
        cpu = r.detail.get("cpu_us_per_request")
        shown_cpu = f"{cpu:.0f}" if isinstance(cpu, float) else "?"
        lines.append(f"{r.mix:<8} {r.server:<20} {r.run:>3} {r.tool:<7} {r.requests:>9} {r.rps:>9.1f} "
                     f"{r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.max_ms:>8.1f} {r.errors:>6} {shown_load:>5} "
                     f"{shown_cpu:>10}  {spread}")
    lines.append("")
    lines.append(f"{'mix':<8} {'server (mean of runs)':<28} {'req/s':>9} {'(min..max)':>17} {'p50 ms':>8} "
                 f"{'p99 ms':>8} {'(min..max)':>13} {'errors':>6} {'cpu us/req':>10}")
    for mix, summary in summaries.items():
        for s in summary.values():
            cpu = "?" if s.cpu_us_per_request is None else f"{s.cpu_us_per_request:.0f}"
            lines.append(f"{mix:<8} {s.server:<28} {s.rps:>9.1f} {f'({s.rps_min:.0f}..{s.rps_max:.0f})':>17} "
                         f"{s.p50_ms:>8.2f} {s.p99_ms:>8.2f} {f'({s.p99_min:.1f}..{s.p99_max:.1f})':>13} "
                         f"{s.errors:>6} {cpu:>10}")
    if ratio_rows:
        lines.append("")
        for row in ratio_rows:
            verdict = "" if row["met"] is None else ("met" if row["met"] else "MISSED")
            value = row["value"]
            shown = f"{value:.2f}" if isinstance(value, float) else str(value)
            spread = f"  (runs: {row['spread']})" if row.get("spread") else ""
            lines.append(f"{row['name']:<52} {shown:>8}   target {row['target']:<6} {verdict}{spread}")
    return "\n".join(lines)


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "machine": platform.machine(), "cpus": str(os.cpu_count())}
    for dist in ("pyoxigraph", "oxigraph", "rdflib", "rdflib-endpoint", "uvicorn", "fastapi", "clair-kg"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    wrk = find_wrk()
    if wrk:
        proc = subprocess.run([wrk, "--version"], capture_output=True, text=True, timeout=10)
        out["wrk"] = (proc.stdout or proc.stderr).splitlines()[0] if (proc.stdout or proc.stderr) else "?"
    return out


def _ensure_wrk(mode: str) -> str | None:
    if mode == "python":
        return None
    wrk = find_wrk()
    if wrk is None and shutil.which("apt-get") and os.geteuid() == 0:
        print("bench: wrk is missing; installing Debian's wrk with apt-get", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, timeout=300, check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, timeout=300, check=False)
        wrk = find_wrk()
    if wrk is None and mode == "wrk":
        raise SystemExit("bench: wrk is not installed (apt-get install wrk), or use --loadgen python")
    if wrk is None:
        print("bench: wrk unavailable; using the asyncio load generator (it caps out lower)", flush=True)
    return wrk


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


# --- main --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    wanted = [k.strip() for k in args.only.split(",") if k.strip()]
    unknown = [k for k in wanted if k not in KINDS]
    if unknown:
        raise SystemExit(f"bench: unknown server(s) {unknown}; choose from {', '.join(KINDS)}")
    if args.baseline_src is not None and "base" not in wanted:
        wanted.insert(wanted.index("ours") + 1 if "ours" in wanted else 0, "base")
    if "base" in wanted and args.baseline_src is None:
        raise SystemExit("bench: `base` needs --baseline-src DIR (a clair-kg source folder)")
    mixes = tuple(m.strip() for m in args.mix.split(",") if m.strip())
    if not mixes or any(m not in MIXES for m in mixes):
        raise SystemExit(f"bench: --mix takes a comma-separated list of {', '.join(MIXES)}")
    wrk = _ensure_wrk(args.loadgen)
    signal.signal(signal.SIGTERM, _on_sigterm)

    from clair_kg.project import Project
    from clair_kg.release import prepare_release

    workdir = Path(tempfile.mkdtemp(prefix="clair-kg-bench-"))
    failed = False
    try:
        print("bench: preparing the release N-Quads…", flush=True)
        release = prepare_release(Project(ROOT), validate=False)
        dump = workdir / "graph.nq"
        dump.write_bytes(release.nquads)
        print(f"bench: {release.info.quads} quads in {len(release.info.graphs)} graphs -> {dump}", flush=True)

        with Servers(workdir) as servers:
            started: dict[str, Server] = {}
            problems: dict[str, str] = {}
            ours_env = {} if args.query_workers is None else {"CLAIR_KG_QUERY_WORKERS": str(args.query_workers)}
            starters = {
                "ours": lambda: servers.start_ours(ROOT, workers=args.workers, env_overrides=ours_env or None),
                "base": lambda: servers.start_ours(
                    ROOT, workers=args.workers, name="base",
                    env_overrides={**ours_env, "PYTHONPATH": str(Path(args.baseline_src).resolve())}),
                "ours-nocache": lambda: servers.start_ours(
                    ROOT, workers=args.workers, name="ours-nocache",
                    env_overrides={**ours_env, "CLAIR_KG_CACHE_SIZE": "0"}),
                "ours-nocache-restart": lambda: servers.start_ours(
                    ROOT, workers=args.workers, name="ours-nocache-restart",
                    env_overrides={**ours_env, "CLAIR_KG_CACHE_SIZE": "0", "CLAIR_KG_QUERY_ISOLATION": "restart"}),
                "oxigraph": lambda: servers.start_oxigraph(dump),
                "rdflib-endpoint": lambda: servers.start_rdflib_endpoint(dump),
            }
            for kind in wanted:
                print(f"bench: starting {kind}…", flush=True)
                t0 = time.monotonic()
                try:
                    started[kind] = starters[kind]()
                    print(f"bench:   {kind} ready at {started[kind].query_url} in {time.monotonic() - t0:.1f} s",
                          flush=True)
                except ServerFailed as exc:
                    problems[kind] = str(exc)
                    print(f"bench:   {kind} FAILED to start: {exc}", flush=True)

            quirks: dict[str, list[str]] = {}
            answers = verify(list(started.values()), quirks, mixes)
            reference_name = "oxigraph" if "oxigraph" in answers else next(iter(answers), None)
            reference = answers.get(reference_name or "", {})
            mismatches: dict[str, dict[str, Any]] = {}
            print("\nanswers per query (rows / boolean / distinct triples):")
            print(f"  {'query':<16}" + "".join(f"{name:>18}" for name in answers))
            for asked in next(iter(answers.values()), {}):
                print(f"  {asked:<16}" + "".join(f"{str(answers[n][asked])[:17]:>18}" for n in answers))
            for name, got in answers.items():
                bad = {q: {"got": v, "expected": reference.get(q)} for q, v in got.items() if v != reference.get(q)}
                if bad:
                    mismatches[name] = bad
            for name, bad in mismatches.items():
                print(f"bench: {name} does not answer like {reference_name}: {bad}", flush=True)
            for name, notes in quirks.items():
                for note in notes:
                    print(f"bench: note: {name}: {note}", flush=True)
            measurable = [n for n in started if n not in mismatches or all(
                isinstance(v["got"], int | bool) for v in mismatches[n].values())]
            for name in started:
                if name not in measurable:
                    problems[name] = "wrong or failed answers: " + json.dumps(mismatches[name], default=str)[:400]
                    print(f"bench: not measuring {name}: it fails queries of the mix", flush=True)

            # Per mix: the servers ABAB (`--rounds` times), then rdflib-endpoint (cached mix only).
            plan: list[tuple[str, str]] = []
            for mix in mixes:
                fast = [n for n in MIX_SERVERS[mix] if n in measurable]
                plan += [(mix, n) for n in fast * args.rounds]
                if mix == "cached" and "rdflib-endpoint" in measurable:
                    plan += [(mix, "rdflib-endpoint")] * 2
            runs: list[RunResult] = []
            counts: dict[tuple[str, str], int] = {}
            def measure(mix: str, name: str, run: int, duration: float) -> RunResult:
                server = started[name]

                def spread() -> dict[str, Any]:
                    return {"connections_per_process": sorted(server.connections_per_process().values(), reverse=True)}
                if wrk:
                    return run_wrk(
                        wrk, server=name, run=run, base_url=server.base, query_path=server.query_path,
                        queries=QUERIES, connections=args.connections, duration=duration, threads=args.threads,
                        timeout=args.timeout, workdir=workdir, mid_run=spread, mix=mix,
                    )
                return run_python(
                    server=name, run=run, base_url=server.base, query_path=server.query_path,
                    queries=QUERIES, connections=args.connections, duration=duration, timeout=args.timeout,
                    mid_run=spread, mix=mix,
                )

            warmed: set[tuple[str, str]] = set()
            print(f"\nbench: {len(plan)} runs, {args.connections} connections, "
                  f"{args.duration:.0f} s each ({'wrk' if wrk else 'asyncio'}), order: "
                  + " ".join(f"{mix}:{name}" for mix, name in plan), flush=True)
            for mix, name in plan:
                counts[mix, name] = counts.get((mix, name), 0) + 1
                server = started[name]
                duration = (args.rdflib_duration or args.duration) if name == "rdflib-endpoint" else args.duration
                if (mix, name) not in warmed:
                    # right before its first run (so no other server's backlog spills into a run), every
                    # HTTP worker process of this server, each with its own cache, sees the mix
                    if mix == "cached":
                        warm_up(server, QUERIES)
                    if args.warmup > 0:
                        measure(mix, name, 0, args.warmup)
                    warmed.add((mix, name))
                time.sleep(args.pause)  # let the previous run's in-flight requests drain
                load_before = os.getloadavg()[0]
                cpu_before = server.cpu_seconds()
                result = measure(mix, name, counts[mix, name], duration)
                cpu_after = server.cpu_seconds()
                result.detail["loadavg_1min_before"] = load_before
                if cpu_before is not None and cpu_after is not None and result.requests:
                    # CPU of the processes alive at the end (a worker replaced mid-run is not counted)
                    result.detail["cpu_us_per_request"] = 1e6 * max(0.0, cpu_after - cpu_before) / result.requests
                runs.append(result)
                cpu = result.detail.get("cpu_us_per_request")
                print(f"bench:   {mix} {name} #{result.run}: {result.rps:.1f} req/s, p50 {result.p50_ms:.2f} ms, "
                      f"p99 {result.p99_ms:.2f} ms, {result.errors} errors, "
                      f"{'?' if cpu is None else f'{cpu:.0f}'} CPU us/request (load average before: {load_before:.2f}; "
                      f"connections per server process: {result.detail.get('connections_per_process') or '?'})",
                      flush=True)
                if not server.alive():
                    problems[name] = f"exited during the run:\n{server.log_tail()}"
                    print(f"bench: {name} died during its run", flush=True)
                    break

            summaries = {mix: summarize([r for r in runs if r.mix == mix]) for mix in mixes}
            ratio_rows = [row for mix in mixes for row in ratios(summaries[mix], mix)]
            print("\n" + table(runs, summaries, ratio_rows))
            for name, problem in problems.items():
                print(f"\n{name}: {problem}")

            RESULTS.mkdir(exist_ok=True)
            stamp = time.strftime("%Y%m%d-%H%M%S")
            out = RESULTS / f"bench-{stamp}.json"
            out.write_text(json.dumps({
                "when": stamp,
                "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
                "config": {k: v for k, v in vars(args).items()},
                "versions": _versions(),
                "servers": {n: {"url": s.query_url, "notes": s.notes} for n, s in started.items()},
                "queries": [{"name": q.name, "query": q.text, "accept": q.accept} for q in QUERIES],
                "mixes": {"cached": "the six queries as they are", "distinct": f"each + '{DISTINCT_SUFFIX}<n>'"},
                "answers": answers,
                "mismatches": mismatches,
                "quirks": quirks,
                "problems": problems,
                "runs": [r.to_json() for r in runs],
                "summary": {mix: {n: vars(s) for n, s in summary.items()} for mix, summary in summaries.items()},
                "ratios": ratio_rows,
            }, indent=2, default=str))
            print(f"\nbench: results written to {out.relative_to(ROOT)}")
            missed = [r for r in ratio_rows if r["met"] is False]
            failed = bool(problems)
            if args.check and (missed or problems):
                return 1
            return 0
    except KeyboardInterrupt:
        print("\nbench: interrupted; servers stopped", file=sys.stderr)
        failed = True
        return 130
    finally:
        if args.keep_logs or failed:
            print(f"bench: server logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
