"""A remote store as operators meet it: published to with ``clair-kg load``, then down, slow or
answering garbage — the web tier says 503 with ``Retry-After`` and a message, ``/health`` says so, and
it recovers by itself when the store comes back (a real ``oxigraph serve``, stopped and started)."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import PROJECT_BASE, PROJECT_ROOT, _oxigraph_cli, app_for, free_port, wait_for_sparql
from fastapi.testclient import TestClient

from clair_kg.publish import Distribution
from clair_kg.release import Release
from clair_kg.settings import Settings
from clair_kg.store import RemoteStore

pytestmark = pytest.mark.remote

OFFICES = ("PREFIX clair: <https://w3id.org/clair-kg/ontology#> "
           "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?o a clair:OverseasOffice }")


@contextmanager
def oxigraph_on(location: Path, port: int) -> Iterator[str]:
    log = location.parent / f"{location.name}-oxigraph-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([_oxigraph_cli(), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                                stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_sparql(proc, base + "/query", "oxigraph serve", log, timeout=30)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _load(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "clair_kg", "--project", str(PROJECT_ROOT), "load", *args],
                          capture_output=True, text=True, timeout=180)


def test_load_publishes_the_release_idempotently_and_a_failure_keeps_the_previous_one(
    tmp_path: Path, release: Release
) -> None:
    with oxigraph_on(tmp_path / "store", free_port()) as base:
        args = ("--query-url", base + "/query", "--data-url", base + "/store")
        for _ in range(2):  # the second run replaces the first: same content, nothing doubled
            done = _load(*args)
            assert done.returncode == 0, done.stderr
            assert f"{len(release.info.graphs)} source graphs" in done.stderr
            store = RemoteStore(base + "/query", base_iri=PROJECT_BASE)
            assert len(store) == release.info.quads
            assert store.statements() < release.info.quads
            store.close()
        failed = _load("--query-url", base + "/query", "--data-url", base + "/no-such-endpoint")
        assert failed.returncode == 2 and "Traceback" not in failed.stderr
        assert "still holds what it held before" in failed.stderr and "clair-kg load --query-url" in failed.stderr
        store = RemoteStore(base + "/query", base_iri=PROJECT_BASE)
        assert len(store) == release.info.quads  # the previous release is still queryable
        store.close()


def test_load_never_prints_a_password_from_the_urls() -> None:
    # nothing listens on this port: the load fails after validating, and says what to run again
    base = f"http://dba:s3cret-Pw@127.0.0.1:{free_port()}"
    failed = _load("--query-url", base + "/query", "--data-url", base + "/store", "--timeout", "5")
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert "s3cret-Pw" not in failed.stderr
    assert f"--data-url http://dba:PASSWORD@{base.rsplit('@', 1)[1]}/store" in failed.stderr


def test_store_down_then_back_503_with_retry_after_then_recovery(
    tmp_path: Path, settings: Settings, distribution: Distribution, release: Release
) -> None:
    port, location = free_port(), tmp_path / "store"
    with oxigraph_on(location, port) as base:
        loader = RemoteStore(base + "/query", data_url=base + "/store")
        loader.load_nquads(release.nquads)
        loader.close()
    store = RemoteStore(f"http://127.0.0.1:{port}/query", timeout=3, base_iri=PROJECT_BASE)
    with TestClient(app_for(settings.with_overrides(cache_size=0), store, distribution)) as client:
        for path in ("/sparql?query=" + OFFICES, "/doc/office/london.ttl", "/search?q=London&format=json", "/health"):
            r = client.get(path, headers={"Accept": "application/json"})
            assert r.status_code == 503, (path, r.status_code, r.text)
            assert int(r.headers["retry-after"]) > 0 and "127.0.0.1" in r.text and "Traceback" not in r.text
        with oxigraph_on(location, port):  # the same store comes back on the same address
            assert client.get("/health").status_code == 200
            r = client.get("/sparql", params={"query": OFFICES}, headers={"Accept": "application/sparql-results+json"})
            assert r.status_code == 200 and r.json()["results"]["bindings"][0]["n"]["value"] == "7"
            assert client.get("/search", params={"q": "London", "format": "json"}).status_code == 200
    store.close()


class _Garbage(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        body = b"<html>this is not SPARQL</html>"
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


def test_a_store_answering_garbage_is_503_not_500(settings: Settings, distribution: Distribution) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    store = RemoteStore(f"http://127.0.0.1:{server.server_address[1]}/query", timeout=3)
    try:
        with TestClient(app_for(settings, store, distribution), raise_server_exceptions=False) as client:
            for path in ("/sparql?query=" + OFFICES, "/doc/office/london.ttl", "/health"):
                r = client.get(path, headers={"Accept": "application/json"})
                assert r.status_code == 503, (path, r.status_code, r.text)
                assert "not" in r.json()["error"]
    finally:
        server.shutdown()
        server.server_close()
        store.close()
