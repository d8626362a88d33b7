"""A live ``clair-kg serve`` shared by the SPARQL test modules, and checks of the running server.

One server per test session (started by whichever module asks first, stopped at session end):
the real project, plus the W3C protocol test graphs added with ``--load`` as the named graphs the
manifest names, a 1 s query time limit (so the timeout test is quick) and two query workers, with
query isolation "restart" (queries run on threads of a supervised web process).
Other modules use it through their own session fixture calling :func:`shared_server`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import PROJECT_ROOT, free_port
from rdflib import Graph, Namespace

W3C = Path(__file__).resolve().parent / "w3c" / "sparql" / "sparql11"
PROTOCOL_MANIFEST = W3C / "protocol" / "manifest.ttl"
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
QUERY_TIMEOUT = 1.0


@dataclass
class LiveServer:
    url: str  # http://127.0.0.1:PORT
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def sparql(self) -> str:
        return self.url + "/sparql"

    def worker_pids(self) -> list[int]:
        """The query worker processes of the (single, unsupervised) web process ("process" isolation)."""
        return self._children(self.proc.pid, b"clair_kg.sparql.worker")

    def web_pids(self) -> list[int]:
        """The web processes under the supervisor (live ones, not zombies)."""
        return self._children(self.proc.pid, b"clair_kg.server.process")

    def tree_pids(self) -> list[int]:
        """Every live process of the server: the supervisor and all its descendants."""
        found, todo = [self.proc.pid], [self.proc.pid]
        while todo:
            children = self._children(todo.pop(), b"")
            found += children
            todo += children
        return sorted(found)

    @staticmethod
    def _children(parent: int, marker: bytes) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            if int(ppid) == parent and state != "Z" and marker in cmdline:
                pids.append(int(entry.name))
        return sorted(pids)

    def wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"the server did not answer /health again:\n{self.log.read_text()[-3000:]}")


def w3c_graphs() -> dict[str, Path]:
    """Graph IRI -> data file, for every ``ut:graphData`` of the protocol manifest."""
    manifest = Graph().parse(PROTOCOL_MANIFEST, publicID=PROTOCOL_MANIFEST.as_uri())
    graphs: dict[str, Path] = {}
    for data in manifest.objects(None, UT.graphData):
        file = manifest.value(data, UT.graph)
        label = manifest.value(data, RDFS.label)
        assert file is not None and label is not None
        graphs[str(label)] = Path(str(file).removeprefix("file://"))
    return graphs


def start_server(*extra: str, workers: int = 1, isolation: str = "restart",
                 env: dict[str, str] | None = None) -> LiveServer:
    """A live `clair-kg serve`; ``isolation`` is passed explicitly so each mode is tested whatever the default.

    ``env`` adds environment variables (``CLAIR_KG_*`` settings) to the server's.
    """
    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"clair-kg-test-serve-{port}.log"
    loads = [f"--load={path}={iri}" for iri, path in sorted(w3c_graphs().items())]
    cmd = [
        sys.executable, "-c", "from clair_kg.cli import main; raise SystemExit(main())",
        "--project", str(PROJECT_ROOT), "serve", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--query-timeout", str(QUERY_TIMEOUT), "--query-workers", "2",
        "--query-isolation", isolation,
        *loads, *extra,
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, **(env or {})})
    server = LiveServer(f"http://127.0.0.1:{port}", proc, log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"clair-kg serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(server.url + "/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop_server(server)
    raise RuntimeError(f"clair-kg serve did not answer /health:\n{log.read_text()[-3000:]}")


def stop_server(server: LiveServer) -> None:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.proc.pid, signal.SIGKILL)
            server.proc.wait()


_SHARED: list[LiveServer] = []


def shared_server() -> LiveServer:
    if not _SHARED:
        _SHARED.append(start_server())
    return _SHARED[0]


def stop_shared_server() -> None:
    while _SHARED:
        stop_server(_SHARED.pop())


@pytest.fixture(scope="session")
def live(request: pytest.FixtureRequest) -> LiveServer:
    request.addfinalizer(stop_shared_server)
    return shared_server()


def test_health_and_both_endpoint_paths_answer_without_redirect(live: LiveServer) -> None:
    assert httpx.get(live.url + "/health").status_code == 200
    query = {"query": "ASK { }"}
    for path in ("/sparql", "/sparql/"):
        response = httpx.get(live.url + path, params=query, follow_redirects=False)
        assert response.status_code == 200, path
        assert response.json() == {"head": {}, "boolean": True}


def test_queries_run_in_a_supervised_web_process(live: LiveServer) -> None:
    """Isolation "restart": even one web process runs under the supervisor, no query workers."""
    httpx.get(live.sparql, params={"query": "ASK { ?s ?p ?o }"})
    webs = live.web_pids()
    assert len(webs) == 1
    assert [p for p in live.tree_pids() if b"clair_kg.sparql.worker" in Path(f"/proc/{p}/cmdline").read_bytes()] == []


def test_query_workers_are_child_processes_with_process_isolation() -> None:
    server = start_server(isolation="process")
    try:
        httpx.get(server.sparql, params={"query": "ASK { ?s ?p ?o }"})  # workers start on the first query
        assert len(server.worker_pids()) == 2
    finally:
        stop_server(server)
