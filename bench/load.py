"""Load generators: wrk (Debian's, driven by a Lua script that rotates over the query URLs) or,
when wrk is missing, a bounded asyncio client with the same shape (N keep-alive connections, a
fixed duration, the same request rotation). Both return a :class:`RunResult`.
"""

from __future__ import annotations

__all__ = ["DISTINCT_SUFFIX", "MIXES", "RunResult", "find_wrk", "read_wrk_json", "rotation_script", "run_python",
           "run_wrk"]

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
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
    mix: str  # "cached" or "distinct" (see MIXES)
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


#: what the distinct mix appends to a request's URL: `` #`` (URL-encoded) and then a number, a
#: SPARQL comment that makes every query text new, so no result cache (ours or another's) can answer
DISTINCT_SUFFIX = "%20%23"

#: the two mixes: ``cached`` repeats the same six requests (a result cache answers most of them);
#: ``distinct`` makes each request's query text unique with a trailing comment (real traffic)
MIXES = ("cached", "distinct")


def request_path(base_path: str, query: BenchQuery) -> str:
    return base_path + "?" + urlencode({"query": query.text})


def find_wrk() -> str | None:
    return shutil.which("wrk")


_LUA = """\
local paths = %(paths)s
local accepts = %(accepts)s
local extra = %(headers)s
local function headers_of(k)
  local h = {["Accept"] = accepts[k]}
  for name, value in pairs(extra) do h[name] = value end
  return h
end
local reqs = {}
local i = 0
init = function(args)
  for k = 1, #paths do
    reqs[k] = wrk.format("GET", paths[k], headers_of(k))
  end
  i = math.random(0, #paths - 1)
end
%(request)s
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


_REQUEST_CACHED = """\
request = function()
  i = (i % #reqs) + 1
  return reqs[i]
end"""

# Each wrk thread gets its own number from setup() (run in the main Lua state), so the comments
# stay unique with several threads too: `` #<thread>-<counter>``.
_REQUEST_DISTINCT = """\
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
local n = 0
request = function()
  i = (i % #paths) + 1
  n = n + 1
  return wrk.format("GET", paths[i] .. \"""" + DISTINCT_SUFFIX + """\" .. (thread_id or 0) .. "-" .. n,
                    headers_of(i))
end"""


def _lua_list(items: Sequence[str]) -> str:
    return "{" + ", ".join(json.dumps(item) for item in items) + "}"  # JSON strings are valid Lua strings here


def rotation_script(paths: Sequence[str], accepts: Sequence[str], *, distinct: bool = False,
                    headers: Mapping[str, str] | None = None) -> str:
    """The wrk script every bench drives a server with: GET ``paths`` in rotation (``accepts[i]`` for
    ``paths[i]``, plus ``headers``), each connection starting at a random place; with ``distinct`` every
    request is made unique by a trailing comment. Its summary line is read by :func:`read_wrk_json`."""
    extra = "{" + ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in (headers or {}).items()) + "}"
    return _LUA % {"paths": _lua_list(paths), "accepts": _lua_list(accepts), "headers": extra,
                   "request": _REQUEST_DISTINCT if distinct else _REQUEST_CACHED}


def read_wrk_json(returncode: int, stdout: str, stderr: str) -> dict[str, Any]:
    """The summary a :func:`rotation_script` run printed, with ``errors``: every failed request
    (connect, read, write, timeout, and non-2xx/3xx statuses)."""
    line = next((x for x in stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({returncode}): {stderr.strip() or stdout.strip()}")
    data: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
    data["errors"] = data["connect"] + data["read"] + data["write"] + data["status"] + data["timeout"]
    return data


def run_wrk(
    wrk: str, *, server: str, run: int, base_url: str, query_path: str, queries: tuple[BenchQuery, ...],
    connections: int, duration: float, threads: int, timeout: float, workdir: Path,
    mid_run: Callable[[], dict[str, Any]] | None = None, mix: str = "cached",
) -> RunResult:
    """One wrk run of ``mix``; ``mid_run`` is called half-way through and its answer joins ``detail``."""
    paths = [request_path(query_path, q) for q in queries]
    script = workdir / f"rotate-{mix}-{server}-{run}.lua"
    script.write_text(rotation_script(paths, [q.accept for q in queries], distinct=mix == "distinct"))
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
    data = read_wrk_json(proc.returncode, stdout, stderr)
    duration_s = data["duration_us"] / 1e6
    return RunResult(
        server=server, run=run, tool="wrk", mix=mix, duration_s=duration_s, requests=data["requests"],
        errors=data["errors"],
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


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response (Content-Length, chunked, or to EOF); its status and whether it closes."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length: int | None = None
    chunked = close = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
        elif name == b"connection" and value == b"close":
            close = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                    pass
                break
            await reader.readexactly(size + 2)
    elif length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()
        close = True
    return status, close


async def _drive(
    base_url: str, paths: list[str], accepts: list[str], connections: int, duration: float, timeout: float,
    mid_run: Callable[[], dict[str, Any]] | None, distinct: bool = False,
) -> tuple[list[float], dict[str, int], float, dict[str, Any]]:
    """``connections`` keep-alive connections, each sending the rotating requests until the deadline."""
    url = httpx.URL(base_url)
    host, port = url.host, url.port or 80
    requests = [f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: {accept}\r\n\r\n".encode("ascii")
                for path, accept in zip(paths, accepts, strict=True)]
    sent = 0

    def next_request(i: int) -> bytes:
        nonlocal sent
        if not distinct:
            return requests[i % len(requests)]
        sent += 1
        path, accept = paths[i % len(paths)], accepts[i % len(accepts)]
        return (f"GET {path}{DISTINCT_SUFFIX}{sent} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Accept: {accept}\r\n\r\n").encode("ascii")
    latencies: list[float] = []
    kinds: dict[str, int] = {}
    seen: dict[str, Any] = {}
    start = time.perf_counter()
    deadline = start + duration

    def failed(kind: str) -> None:
        kinds[kind] = kinds.get(kind, 0) + 1

    async def connection(offset: int) -> None:
        i = offset
        writer: asyncio.StreamWriter | None = None
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
                assert writer is not None
                current = writer
                current.write(next_request(i))
                i += 1
                status, close = await asyncio.wait_for(_read_response(reader), timeout)
                if status >= 400:
                    failed(str(status))
                if close:
                    current.close()
                    writer = None
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    TimeoutError) as exc:
                failed(type(exc).__name__)
                if writer is not None:
                    writer.close()
                writer = None
            latencies.append(time.perf_counter() - t0)
        if writer is not None:
            writer.close()

    async def probe() -> None:
        nonlocal seen
        if mid_run is not None:
            await asyncio.sleep(duration / 2)
            seen = await asyncio.get_running_loop().run_in_executor(None, mid_run)

    await asyncio.wait_for(
        asyncio.gather(probe(), *(connection(n) for n in range(connections))), timeout=duration + timeout + 10
    )
    return latencies, kinds, time.perf_counter() - start, seen


def run_python(
    *, server: str, run: int, base_url: str, query_path: str, queries: tuple[BenchQuery, ...],
    connections: int, duration: float, timeout: float, mid_run: Callable[[], dict[str, Any]] | None = None,
    mix: str = "cached",
) -> RunResult:
    """The fallback load generator: plain asyncio streams speaking HTTP/1.1 keep-alive (no wrk needed)."""
    paths = [request_path(query_path, q) for q in queries]
    accepts = [q.accept for q in queries]
    latencies, kinds, elapsed, seen = asyncio.run(
        _drive(base_url, paths, accepts, connections, duration, timeout, mid_run, distinct=mix == "distinct")
    )
    ordered = sorted(latencies)
    mean = sum(ordered) / len(ordered) if ordered else 0.0
    return RunResult(
        server=server, run=run, tool="asyncio", mix=mix, duration_s=elapsed, requests=len(ordered),
        errors=sum(kinds.values()), rps=len(ordered) / elapsed if elapsed else 0.0,
        p50_ms=_percentile(ordered, 50) * 1000, p99_ms=_percentile(ordered, 99) * 1000,
        mean_ms=mean * 1000, max_ms=(ordered[-1] if ordered else 0.0) * 1000, detail={"errors": kinds, **seen},
    )
