"""Two settings tried as a user would, against a running ``clair-kg serve``: each has one owner and is
honoured on every route (issue: settings with two owners or half applied)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from test_sparql_live import LiveServer, start_server, stop_server

BASE = "http://data.example.org/kg/"
ALLOWED = "https://allowed.example"

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = start_server(isolation="process", env={"CLAIR_KG_BASE_IRI": BASE, "CLAIR_KG_CORS_ORIGINS": ALLOWED})
    yield live
    stop_server(live)


def test_base_iri_names_ids_documents_void_search_reconciliation_and_named_queries(server: LiveServer) -> None:
    r = httpx.get(server.url + "/id/org/clair", headers={"Accept": "text/turtle"})
    assert r.status_code == 303 and r.headers["location"].endswith("/doc/org/clair")
    doc = httpx.get(server.url + "/doc/org/clair.nt")
    assert doc.status_code == 200
    assert f"<{BASE}id/org/clair>" in doc.text and "<https://w3id.org/clair-kg/id/" not in doc.text
    void = httpx.get(server.url + "/.well-known/void", headers={"Accept": "application/n-triples"})
    assert f"<{BASE}dataset>" in void.text and "w3id.org/clair-kg/dataset" not in void.text
    hits = httpx.get(server.url + "/search", params={"q": "London", "format": "json"}).json()
    assert any(h["id"] == f"{BASE}id/office/london" for h in hits["results"])
    manifest = httpx.get(server.url + "/reconcile").json()
    assert manifest["identifierSpace"] == f"{BASE}id/"
    batch = httpx.post(server.url + "/reconcile", data={"queries": '{"q0": {"query": "London office"}}'}).json()
    assert "office/london" in [c["id"] for c in batch["q0"]["result"]]
    named = httpx.get(server.url + "/queries/jet-positions", params={"format": "json"}).json()
    assert len(named["results"]["bindings"]) == 3  # the query's relative <id/programme/jet> resolves under BASE
    sparql = httpx.get(server.url + "/sparql", params={"query": "ASK { <id/org/clair> ?p ?o }"},
                       headers={"Accept": "application/sparql-results+json"})
    assert sparql.json()["boolean"] is True


@pytest.mark.parametrize("path", ["/doc/org/clair.ttl", "/sparql?query=ASK%7B%7D", "/search?q=clair&format=json",
                                  "/doc/office/nowhere.ttl", "/queries", "/downloads/SHA256SUMS"])
def test_cors_origins_on_every_route_including_errors(server: LiveServer, path: str) -> None:
    allowed = httpx.get(server.url + path, headers={"Origin": ALLOWED})
    assert allowed.headers.get("access-control-allow-origin") == ALLOWED, path
    assert "origin" in allowed.headers.get("vary", "").lower()
    other = httpx.get(server.url + path, headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in other.headers, path
    assert other.status_code == allowed.status_code
