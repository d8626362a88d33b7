"""``clair-kg serve --load`` as the store holder loads it: the files parsed once, into the store that
serves them, in memory and on disk; /health counts their statements; an on-disk store is loaded once
per served release (its marker is the release's identity, not the bytes of a dump)."""

from __future__ import annotations

from pathlib import Path

import httpx
from test_sparql_live import LiveServer, start_server, stop_server, w3c_graphs

from clair_kg.release import Release
from clair_kg.store.loading import extra_graphs

GRAPH = "http://example.org/graph/mine"
TRIG = """@prefix ex: <http://example.org/> .
ex:thing ex:p "in my graph" ; ex:b [ ex:r "a blank node: a dump of it differs from start to start" ] .
<http://example.org/graph/elsewhere> { ex:thing ex:q "named elsewhere in the file" . }
"""


def _count(server: LiveServer, query: str) -> int:
    r = httpx.post(server.sparql, data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def _check(server: LiveServer, expected_quads: int) -> None:
    in_mine = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{GRAPH}> {{ <http://example.org/thing> ?p ?o }} }}"
    assert _count(server, in_mine) == 3  # the TriG file's own graph went into its target too
    elsewhere = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <http://example.org/graph/elsewhere> { ?s ?p ?o } }"
    assert _count(server, elsewhere) == 0
    assert _count(server, "SELECT (COUNT(*) AS ?n) WHERE { <http://example.org/thing> ?p ?o }") == 3  # and the merge
    # the default graph is the merge of every graph, the largest --load graph (kept out of the copy,
    # read beside it) included: the query workers are handed it with the store
    merged = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }"
    assert _count(server, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == _count(server, merged)
    health = httpx.get(server.url + "/health").json()
    assert health["quads"] == expected_quads


def test_load_in_memory_and_on_disk(tmp_path: Path, release: Release) -> None:
    mine = tmp_path / "mine.trig"
    mine.write_text(TRIG, encoding="utf-8")
    w3c = [f"{path}={iri}" for iri, path in sorted(w3c_graphs().items())]
    expected = release.info.quads + extra_graphs([*w3c, f"{mine}={GRAPH}"]).statements
    server = start_server(f"--load={mine}={GRAPH}", isolation="process")
    try:
        _check(server, expected)
    finally:
        stop_server(server)
    store = tmp_path / "store"
    marker = store.with_name("store.release")
    for attempt in range(2):
        server = start_server(f"--load={mine}={GRAPH}", "--store-path", str(store), isolation="process")
        try:
            _check(server, expected)
        finally:
            stop_server(server)
        if attempt == 0:
            first = marker.stat().st_mtime_ns
    assert marker.stat().st_mtime_ns == first  # the same release: not loaded again
