"""Every /sparql guardrail, against the live server (query time limit 1 s, two query workers).

Time limit: a query that cannot finish is answered 503 within limit + 2 s and its CPU work ends —
with "restart" isolation the web process that ran it exits (within limit + 2 s) and a
replacement takes over; with "process" isolation its query worker is killed and replaced — and the
server keeps answering. SERVICE and FROM never open a
connection to where the client says. Malformed, non-UTF-8, oversized and unacceptable requests are
all 4xx, and a burst of 400 malformed requests leaves the server answering normally.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import socket
import time
from pathlib import Path

import httpx
import pytest
from test_sparql_live import QUERY_TIMEOUT, LiveServer, shared_server, start_server, stop_server, stop_shared_server

HUGE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
CLK_TCK = os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="session")
def server(request: pytest.FixtureRequest) -> LiveServer:
    request.addfinalizer(stop_shared_server)
    return shared_server()


@pytest.fixture(scope="module")
def process_server() -> LiveServer:
    """A server with query_isolation "process" (one web process, two query worker processes)."""
    server = start_server(isolation="process")
    yield server
    stop_server(server)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def _busy_workers(pids: list[int], interval: float = 0.5) -> list[int]:
    before = {}
    for pid in pids:
        try:
            before[pid] = _cpu_seconds(pid)
        except OSError:
            continue  # gone: certainly not busy
    time.sleep(interval)
    busy = []
    for pid, start in before.items():
        try:
            if _cpu_seconds(pid) - start > interval * 0.2:
                busy.append(pid)
        except OSError:
            pass
    return busy


def _gone_by(pids: list[int], deadline: float) -> bool:
    """Whether every process in ``pids`` has exited (or is a zombie) by ``deadline`` (monotonic)."""
    def alive(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not any(alive(p) for p in pids)


def test_a_query_over_the_time_limit_is_stopped(server: LiveServer) -> None:
    httpx.get(server.sparql, params={"query": "ASK {}"})
    webs_before = server.web_pids()
    assert len(webs_before) == 1
    started = time.monotonic()
    response = httpx.get(server.sparql, params={"query": HUGE}, timeout=30)
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert f"{QUERY_TIMEOUT:g} s" in response.json()["error"]
    assert elapsed < QUERY_TIMEOUT + 2
    # the web process that ran it has exited (its CPU work with it) within limit + 2 s
    assert _gone_by(webs_before, started + QUERY_TIMEOUT + 2)
    # a replacement takes its place, the server answers, and nothing in its process tree is busy
    server.wait_healthy()
    webs_after = server.web_pids()
    assert len(webs_after) == 1 and not set(webs_after) & set(webs_before)
    assert _busy_workers(server.tree_pids()) == []
    ok = httpx.get(server.sparql, params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"})
    assert ok.status_code == 200 and int(ok.json()["results"]["bindings"][0]["n"]["value"]) > 1000


def test_two_runaway_queries_at_once_both_stop(server: LiveServer) -> None:
    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            return list(await asyncio.gather(*(
                client.post(server.sparql, content=HUGE + f" # {i}",
                            headers={"Content-Type": "application/sparql-query"}) for i in range(2)
            )))

    server.wait_healthy()
    httpx.get(server.sparql, params={"query": "ASK {}"})
    webs_before = server.web_pids()
    started = time.monotonic()
    responses = asyncio.run(run())
    assert [r.status_code for r in responses] == [503, 503]
    assert time.monotonic() - started < QUERY_TIMEOUT + 2
    assert _gone_by(webs_before, started + QUERY_TIMEOUT + 2)
    server.wait_healthy()
    assert _busy_workers(server.tree_pids()) == []
    assert httpx.get(server.sparql, params={"query": "ASK { ?s ?p ?o }"}).status_code == 200


def test_a_query_over_the_time_limit_is_stopped_with_process_isolation(process_server: LiveServer) -> None:
    server = process_server
    httpx.get(server.sparql, params={"query": "ASK {}"})
    workers_before = server.worker_pids()
    started = time.monotonic()
    response = httpx.get(server.sparql, params={"query": HUGE}, timeout=30)
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert f"{QUERY_TIMEOUT:g} s" in response.json()["error"]
    assert elapsed < QUERY_TIMEOUT + 2
    # the worker that ran it is gone, and none of the workers is still burning CPU on it
    assert _busy_workers(workers_before) == []
    # a replacement takes its place and the server answers
    deadline = time.monotonic() + 20
    while len(server.worker_pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(server.worker_pids()) == 2
    assert set(server.worker_pids()) != set(workers_before)
    ok = httpx.get(server.sparql, params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"})
    assert ok.status_code == 200 and int(ok.json()["results"]["bindings"][0]["n"]["value"]) > 1000


def test_two_runaway_queries_at_once_both_stop_with_process_isolation(process_server: LiveServer) -> None:
    server = process_server
    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            return list(await asyncio.gather(*(
                client.post(server.sparql, content=HUGE + f" # {i}",
                            headers={"Content-Type": "application/sparql-query"}) for i in range(2)
            )))

    httpx.get(server.sparql, params={"query": "ASK {}"})  # both workers up before we look
    workers_before = server.worker_pids()
    started = time.monotonic()
    responses = asyncio.run(run())
    assert [r.status_code for r in responses] == [503, 503]
    assert time.monotonic() - started < QUERY_TIMEOUT + 2
    assert _busy_workers(workers_before) == []


@pytest.fixture
def listener() -> tuple[socket.socket, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.3)
    yield sock, sock.getsockname()[1]
    sock.close()


def _connected(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except TimeoutError:
        return False
    conn.close()
    return True


@pytest.mark.parametrize("template", [
    "SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE SILENT <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
    "PREFIX l: <http://127.0.0.1:{port}/> SELECT * WHERE {{ SERVICE l:sparql {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ BIND(<http://127.0.0.1:{port}/> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
    'SELECT * WHERE {{ ?s ?p """a"b""" .SERVICE <http://127.0.0.1:{port}/> {{ ?s ?p "o" }} }}',
])
def test_service_is_refused_and_never_connects(server: LiveServer, listener: tuple[socket.socket, int],
                                               template: str) -> None:
    sock, port = listener
    response = httpx.get(server.sparql, params={"query": template.format(port=port)})
    assert response.status_code == 403
    assert "SERVICE" in response.json()["error"]
    assert not _connected(sock)


def test_schema_service_is_a_name_not_a_service_call(server: LiveServer) -> None:
    query = "PREFIX schema: <https://schema.org/> SELECT * WHERE { ?x a schema:Service ; schema:serviceType ?t }"
    assert httpx.get(server.sparql, params={"query": query}).status_code == 200


@pytest.mark.parametrize("template", [
    "SELECT * FROM <http://127.0.0.1:{port}/x> WHERE {{ ?s ?p ?o }}",
    "SELECT * FROM NAMED <http://127.0.0.1:{port}/x> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
])
def test_from_selects_graphs_of_the_store_and_never_connects(
    server: LiveServer, listener: tuple[socket.socket, int], template: str
) -> None:
    sock, port = listener
    response = httpx.get(server.sparql, params={"query": template.format(port=port)})
    assert response.status_code == 200
    assert response.json()["results"]["bindings"] == []  # the store has no such graph: empty
    assert not _connected(sock)


def test_from_overrides_the_union_default_graph(server: LiveServer) -> None:
    query = ("SELECT (COUNT(*) AS ?n) FROM <http://kasei.us/2009/09/sparql/data/data1.rdf> "
             "WHERE { ?s ?p ?o }")
    response = httpx.get(server.sparql, params={"query": query})
    count = int(response.json()["results"]["bindings"][0]["n"]["value"])
    union = httpx.get(server.sparql, params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"})
    assert 0 < count < int(union.json()["results"]["bindings"][0]["n"]["value"])


@pytest.mark.parametrize("body, content_type", [
    (b"LOAD <http://127.0.0.1:9/data.ttl>", "application/sparql-update"),
    (b"LOAD <http://127.0.0.1:9/data.ttl>", "application/sparql-query"),
    (b"update=LOAD%20%3Chttp%3A%2F%2F127.0.0.1%3A9%2F%3E", "application/x-www-form-urlencoded"),
    (b"query=INSERT%20DATA%20%7B%20%3Cs%3E%20%3Cp%3E%20%3Co%3E%20%7D", "application/x-www-form-urlencoded"),
])
def test_updates_in_any_form_are_refused_as_read_only(server: LiveServer, body: bytes, content_type: str) -> None:
    response = httpx.post(server.sparql, content=body, headers={"Content-Type": content_type})
    assert response.status_code == 403
    assert "read-only" in response.json()["error"]


def test_malformed_query_is_400_with_line_and_column(server: LiveServer) -> None:
    response = httpx.get(server.sparql, params={"query": "SELECT * WHERE {\n  ?s ?p \n}"})
    assert response.status_code == 400
    assert re.search(r"at line 3, column 1: expected a triple.s object", response.json()["error"])  # issue 9 wording


@pytest.mark.parametrize("request_kwargs", [
    {"method": "GET", "url": "/sparql?query=ASK%20%7B%7D%20%23%FF%FE"},
    {"method": "POST", "url": "/sparql", "content": b"ASK {} #\xff\xfe",
     "headers": {"Content-Type": "application/sparql-query"}},
    {"method": "POST", "url": "/sparql", "content": b"query=ASK%20%7B%7D%23%C3%28",
     "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
])
def test_invalid_utf8_is_400(server: LiveServer, request_kwargs: dict[str, object]) -> None:
    kwargs = dict(request_kwargs)
    kwargs["url"] = server.url + str(kwargs["url"])
    response = httpx.request(**kwargs)  # type: ignore[arg-type]
    assert response.status_code == 400
    assert "UTF-8" in response.json()["error"]


def test_unacceptable_accept_is_406_listing_formats(server: LiveServer) -> None:
    response = httpx.get(server.sparql, params={"query": "SELECT * { ?s ?p ?o } LIMIT 1"},
                         headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "application/sparql-results+json" in response.json()["supported"]


def test_a_50_mb_body_gets_413_quickly(server: LiveServer) -> None:
    body = b"query=" + b"A" * (50 * 1024 * 1024)
    started = time.monotonic()
    try:
        response = httpx.post(server.sparql, content=body,
                              headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
        assert response.status_code == 413
    except httpx.WriteError:
        pass  # the server answered 413 and closed before the client finished sending
    assert time.monotonic() - started < 5
    assert httpx.get(server.url + "/health").status_code == 200  # and it keeps serving


def test_a_streamed_body_without_length_gets_413(server: LiveServer) -> None:
    # Twice the 1 MB cap, chunked (no Content-Length): small enough that the socket buffers take
    # the rest after the server stops reading, so the client always gets to read the 413.
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(32):
            yield b"A" * (64 * 1024)

    response = httpx.post(server.sparql, content=chunks(),
                          headers={"Content-Type": "application/sparql-query"}, timeout=30)
    assert response.status_code == 413
    assert "1000000" in response.json()["error"]
    assert httpx.get(server.url + "/health").status_code == 200


def test_a_long_query_string_gets_414(server: LiveServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=10)
    try:
        conn.request("GET", "/sparql?query=ASK%20%7B%7D%20%23" + "x" * 120_000)
        response = conn.getresponse()
        assert response.status == 414
        assert b"100000" in response.read()
    finally:
        conn.close()


def test_a_long_but_allowed_query_string_is_answered(server: LiveServer) -> None:
    """Between httptools' own 64 KiB URL limit and our 100,000-character cap a GET still works."""
    conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=10)
    try:
        conn.request("GET", "/sparql?query=ASK%20%7B%7D%20%23" + "x" * 70_000,
                     headers={"Accept": "application/sparql-results+json"})
        response = conn.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["boolean"] is True
    finally:
        conn.close()


async def _raw_get(host: str, port: int, targets: list[str], headers: str = "") -> list[int]:
    """GET each target in turn on one keep-alive connection; the status codes (a lean client:
    httpx's async pool costs milliseconds a request, which would make this test measure httpx)."""
    reader, writer = await asyncio.open_connection(host, port)
    statuses = []
    try:
        for target in targets:
            writer.write(f"GET {target} HTTP/1.1\r\nHost: {host}\r\n{headers}\r\n".encode())
            await writer.drain()
            status_line = await reader.readline()
            statuses.append(int(status_line.split()[1]))
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
    finally:
        writer.close()
    return statuses


def test_400_concurrent_malformed_requests_leave_the_server_answering(server: LiveServer) -> None:
    bad = [
        "/sparql?query=SELECT%20*%20WHERE%20%7B%20%3Fs%20%3Fp%20",  # syntax error
        "/sparql?query=ASK%20%7B%7D&update=CLEAR%20ALL",  # update
        "/sparql?query=ASK%20%7B%7D&query=ASK%20%7B%7D",  # two queries
        "/sparql?query=ASK%20%7B%7D&format=image%2Fpng",  # unacceptable format
        "/sparql?query=ASK%20%7B%7D%20%23%FF",  # not UTF-8
    ]
    host, port = "127.0.0.1", int(server.url.rsplit(":", 1)[1])

    async def burst() -> list[int]:
        per_connection = [[bad[(c * 20 + i) % len(bad)] for i in range(20)] for c in range(20)]
        results = await asyncio.gather(*(_raw_get(host, port, targets) for targets in per_connection))
        return [status for statuses in results for status in statuses]

    started = time.monotonic()
    statuses = asyncio.run(burst())
    assert len(statuses) == 400 and all(400 <= s < 500 for s in statuses), sorted(set(statuses))
    assert time.monotonic() - started < 10
    ok = httpx.get(server.sparql, params={"query": "ASK { ?s ?p ?o }"})
    assert ok.status_code == 200 and ok.json()["boolean"] is True
