"""Load generators: wrk (Debian's, driven by a Lua script that rotates over the query URLs) or,
when wrk is missing, a bounded asyncio/httpx client with the same shape (N connections, a fixed
duration, the same request rotation). Both return a :class:`RunResult`.
"""

from __future__ import annotations

__all__ = ["RunResult", "find_wrk", "run_httpx", "run_wrk"]

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from .queries import BenchQuery


@dataclass
class RunResult:
    server: str
    run: int
    tool: str
    duration_s: float
    requests: int
    errors: int  # non-2xx responses, timeouts, socket errors
    rps: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    detail: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def request_path(base_path: str, query: BenchQuery) -> str:
    return base_path + "?" + urlencode({"query": query.text})


def find_wrk() -> str | None:
    return shutil.which("wrk")


_LUA = """\
local paths = %(paths)s
local accepts = %(accepts)s
local reqs = {}
local i = 0
init = function(args)
  for k = 1, #paths do
    reqs[k] = wrk.format("GET", paths[k], {["Accept"] = accepts[k]})
  end
  i = math.random(0, #paths - 1)
end
request = function()
  i = (i %% #reqs) + 1
  return reqs[i]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %%d, "duration_us": %%d, "bytes": %%d, "connect": %%d, "read": %%d, ' ..
    '"write": %%d, "status": %%d, "timeout": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, ' ..
    '"max_us": %%d, "mean_us": %%f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def _lua_list(items: list[str]) -> str:
    return "{" + ", ".join(json.dumps(item) for item in items) + "}"  # JSON strings are valid Lua strings here


def run_wrk(
    wrk: str, *, server: str, run: int, base_url: str, query_path: str, queries: tuple[BenchQuery, ...],
    connections: int, duration: float, threads: int, timeout: float, workdir: Path,
    mid_run: Callable[[], dict[str, Any]] | None = None,
) -> RunResult:
    """One wrk run; ``mid_run`` is called half-way through and its answer joins ``detail``."""
    paths = [request_path(query_path, q) for q in queries]
    script = workdir / f"rotate-{server}-{run}.lua"
    script.write_text(_LUA % {"paths": _lua_list(paths), "accepts": _lua_list([q.accept for q in queries])})
    seconds = max(1, round(duration))
    argv = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
            "--timeout", f"{max(1, round(timeout))}s", "-s", str(script), base_url]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen: dict[str, Any] = {}
        if mid_run is not None:
            time.sleep(seconds / 2)
            seen = mid_run()
        stdout, stderr = proc.communicate(timeout=seconds + timeout + 30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    line = next((x for x in stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {stderr.strip() or stdout.strip()}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    duration_s = data["duration_us"] / 1e6
    errors = data["connect"] + data["read"] + data["write"] + data["status"] + data["timeout"]
    return RunResult(
        server=server, run=run, tool="wrk", duration_s=duration_s, requests=data["requests"], errors=errors,
        rps=data["requests"] / duration_s if duration_s else 0.0,
        p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000,
        mean_ms=data["mean_us"] / 1000, max_ms=data["max_us"] / 1000,
        detail={**{k: data[k] for k in ("connect", "read", "write", "status", "timeout", "bytes", "p90_us")},
                **seen},
    )


def _percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


async def _drive(
    base_url: str, paths: list[str], accepts: list[str], connections: int, duration: float, timeout: float
) -> tuple[list[float], int, float, dict[str, int]]:
    latencies: list[float] = []
    errors = 0
    kinds: dict[str, int] = {}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as client:
        start = time.perf_counter()
        deadline = start + duration

        async def worker(offset: int) -> None:
            nonlocal errors
            i = offset
            while time.perf_counter() < deadline:
                k = i % len(paths)
                i += 1
                t0 = time.perf_counter()
                try:
                    response = await client.get(paths[k], headers={"Accept": accepts[k]})
                    await response.aread()
                    if response.status_code >= 400:
                        errors += 1
                        kinds[str(response.status_code)] = kinds.get(str(response.status_code), 0) + 1
                except httpx.HTTPError as exc:
                    errors += 1
                    kinds[type(exc).__name__] = kinds.get(type(exc).__name__, 0) + 1
                latencies.append(time.perf_counter() - t0)

        await asyncio.wait_for(
            asyncio.gather(*(worker(n) for n in range(connections))), timeout=duration + timeout + 10
        )
        elapsed = time.perf_counter() - start
    return latencies, errors, elapsed, kinds


def run_httpx(
    *, server: str, run: int, base_url: str, query_path: str, queries: tuple[BenchQuery, ...],
    connections: int, duration: float, timeout: float, mid_run: Callable[[], dict[str, Any]] | None = None,
) -> RunResult:
    paths = [request_path(query_path, q) for q in queries]
    accepts = [q.accept for q in queries]
    latencies, errors, elapsed, kinds = asyncio.run(
        _drive(base_url, paths, accepts, connections, duration, timeout)
    )
    seen = mid_run() if mid_run is not None else {}  # after the run: connections are still open
    ordered = sorted(latencies)
    mean = sum(ordered) / len(ordered) if ordered else 0.0
    return RunResult(
        server=server, run=run, tool="httpx-async", duration_s=elapsed, requests=len(ordered), errors=errors,
        rps=len(ordered) / elapsed if elapsed else 0.0,
        p50_ms=_percentile(ordered, 50) * 1000, p99_ms=_percentile(ordered, 99) * 1000,
        mean_ms=mean * 1000, max_ms=(ordered[-1] if ordered else 0.0) * 1000, detail={"errors": kinds, **seen},
    )

