"""``clair-kg serve`` as an operator runs it: refuses invalid data, serves with several web
processes, and leaves no process behind on SIGTERM or Ctrl-C (SIGINT)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import free_port
from test_sparql_live import LiveServer, start_server, stop_server

from clair_kg.release import Release

PREFIXES = "@prefix clair: <https://w3id.org/clair-kg/ontology#> .\n"


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_refuses_to_start_on_invalid_data(tmp_path: Path, project_root: Path) -> None:
    shutil.copytree(project_root / "ontology", tmp_path / "ontology")
    shutil.copytree(project_root / "queries" / "checks", tmp_path / "queries" / "checks")
    (tmp_path / "data" / "test").mkdir(parents=True)
    (tmp_path / "data" / "test" / "office.ttl").write_text(
        PREFIXES + "<https://w3id.org/clair-kg/id/office/nowhere> a clair:OverseasOffice .\n"
    )
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-c", "from clair_kg.cli import main; raise SystemExit(main())",
         "--project", str(tmp_path), "serve", "--port", str(port)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert "office/nowhere" in result.stderr and "Traceback" not in result.stderr


def test_load_of_a_missing_or_broken_file_names_it(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ttl"
    broken.write_text("<a> <b> .\n")
    for spec, words in ((str(tmp_path / "missing.ttl"), "cannot read"), (str(broken), "not valid Turtle")):
        result = subprocess.run(
            [sys.executable, "-c", "from clair_kg.cli import main; raise SystemExit(main())",
             "serve", "--port", str(free_port()), "--load", spec],
            capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 2, result.stderr
        assert spec.split("=")[0] in result.stderr and words in result.stderr and "Traceback" not in result.stderr


def _select(server: LiveServer, query: str) -> list[dict[str, str]]:
    r = httpx.post(server.sparql, data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return [{k: v["value"] for k, v in b.items()} for b in r.json()["results"]["bindings"]]


def test_load_fills_the_default_graph_or_a_named_graph_as_a_graph_store_would(tmp_path: Path) -> None:
    """FILE -> the default graph, FILE=IRI -> that named graph; relative IRIs resolve against the file's URL
    or the graph IRI; `_:a` in two files is two blank nodes; GRAPH ?g never sees the default graph's data."""
    mine = tmp_path / "mine.ttl"
    mine.write_text('<thing> <http://example.org/p> _:a . _:a <http://example.org/q> "in the default graph" .\n')
    named = tmp_path / "named.ttl"
    named.write_text('<thing> <http://example.org/p> _:a . _:a <http://example.org/q> "in a named graph" .\n')
    graph = "http://example.org/graph/extra"
    server = start_server(f"--load={mine}", f"--load={named}={graph}", isolation="process")
    try:
        rows = _select(server, "SELECT ?s ?b ?v WHERE { ?s <http://example.org/p> ?b . ?b <http://example.org/q> ?v }")
        by_value = {r["v"]: r for r in rows}
        assert set(by_value) == {"in the default graph", "in a named graph"}  # the default graph merges both
        assert by_value["in the default graph"]["s"] == mine.resolve().parent.as_uri() + "/thing"
        assert by_value["in a named graph"]["s"] == "http://example.org/graph/thing"
        assert by_value["in the default graph"]["b"] != by_value["in a named graph"]["b"]  # blank nodes per file
        in_graphs = _select(server, "SELECT ?g ?v WHERE { GRAPH ?g { ?b <http://example.org/q> ?v } }")
        assert in_graphs == [{"g": graph, "v": "in a named graph"}]
    finally:
        stop_server(server)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_two_web_processes_serve_and_leave_nothing_behind(stop_signal: signal.Signals) -> None:
    server: LiveServer = start_server(workers=2)
    try:
        with httpx.Client() as client:
            for i in range(8):  # reach both web processes, so both start their query workers
                response = client.get(server.sparql, params={"query": f"ASK {{ ?s ?p ?o }} # {i}"},
                                      headers={"Connection": "close"})
                assert response.status_code == 200 and response.json()["boolean"] is True
        family = _descendants(server.proc.pid)
        # query isolation "restart" (start_server passes it): queries run in the web processes themselves
        webs = [p for p in family if b"clair_kg.server.process" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert len(webs) == 2
        server.proc.send_signal(stop_signal)
        assert server.proc.wait(timeout=20) is not None
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in family) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [p for p in family if _alive(p)] == []
    finally:
        stop_server(server)


OFFICES = ("PREFIX clair: <https://w3id.org/clair-kg/ontology#> "
           "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?o a clair:OverseasOffice }")


def test_on_disk_store_serves_and_a_stale_one_is_rebuilt(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    marker = tmp_path / "store.release"
    for attempt in ("fresh", "stale"):
        if attempt == "stale":
            marker.write_text("0" * 64 + "\n")  # as if an older release had been loaded
        server = start_server("--store-path", str(store_dir), workers=2)
        try:
            r = httpx.get(server.sparql, params={"query": OFFICES},
                          headers={"Accept": "application/sparql-results+json"})
            assert r.status_code == 200, r.text
            assert r.json()["results"]["bindings"][0]["n"]["value"] == "7"
            assert httpx.get(server.url + "/doc/office/london.ttl").status_code == 200
        finally:
            stop_server(server)
        assert store_dir.is_dir()
        assert marker.read_text().strip() != "0" * 64


def test_on_disk_store_is_reused_for_the_same_release(tmp_path: Path, release: Release) -> None:
    from clair_kg.store import EmbeddedStore
    from clair_kg.store.opening import _ensure_disk_store

    path = tmp_path / "store"
    _ensure_disk_store(path, release.nquads)
    first = (tmp_path / "store.release").stat().st_mtime_ns
    _ensure_disk_store(path, release.nquads)
    assert (tmp_path / "store.release").stat().st_mtime_ns == first  # not reloaded
    assert len(EmbeddedStore.open_read_only(path)) == release.info.quads
