"""The whole web tier over a RemoteStore backed by a real ``oxigraph serve``.

The store is injected into the same app factory as in production; nothing here is mocked. This is
the path users take when they outgrow one machine: the web tier is stateless, the store is theirs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import rdflib
from conftest import app_for, free_port
from fastapi.testclient import TestClient

from clair_kg.publish import Distribution
from clair_kg.settings import Settings
from clair_kg.store import RemoteStore

OFFICES = """PREFIX clair: <https://w3id.org/clair-kg/ontology#>
SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?o a clair:OverseasOffice }"""


@pytest.fixture(scope="module")
def remote_client(settings: Settings, remote_store: RemoteStore, distribution: Distribution) -> Iterator[TestClient]:
    app = app_for(settings, remote_store, distribution)
    with TestClient(app) as client:
        yield client


def test_sparql_select_and_construct(remote_client: TestClient) -> None:
    r = remote_client.get("/sparql", params={"query": OFFICES}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    assert r.json()["results"]["bindings"][0]["n"]["value"] == "7"
    assert r.headers["etag"]
    construct = "CONSTRUCT { ?s ?p ?o } WHERE { BIND(<https://w3id.org/clair-kg/id/org/mofa> AS ?s) ?s ?p ?o }"
    r = remote_client.post("/sparql", content=construct, headers={
        "Content-Type": "application/sparql-query", "Accept": "text/turtle"})
    assert r.status_code == 200, r.text
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    assert rdflib.Literal("外務省", lang="ja") in set(g.objects())


def test_sparql_errors_are_4xx(remote_client: TestClient) -> None:
    r = remote_client.get("/sparql", params={"query": "SELECT * WHERE {"})
    assert r.status_code == 400
    r = remote_client.post("/sparql", data={"update": "DROP ALL"})
    assert 400 <= r.status_code < 500


def test_linked_data_search_and_named_queries(remote_client: TestClient) -> None:
    r = remote_client.get("/doc/office/london.ttl")
    assert r.status_code == 200
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    assert (rdflib.URIRef("https://w3id.org/clair-kg/id/office/london"), None, None) in g
    r = remote_client.get("/search", params={"q": "外務省"}, headers={"Accept": "application/json"})
    assert r.status_code == 200
    assert r.json()["results"][0]["id"].endswith("org/mofa")
    r = remote_client.get("/queries/overseas-offices", headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200
    assert len({b["office"]["value"] for b in r.json()["results"]["bindings"]}) == 7


def test_dead_remote_store_is_503_with_retry_after(settings: Settings, distribution: Distribution) -> None:
    port = free_port()  # nothing listens here
    dead = RemoteStore(f"http://127.0.0.1:{port}/query", timeout=2)
    app = app_for(settings, dead, distribution)
    with TestClient(app) as client:
        r = client.get("/sparql", params={"query": OFFICES})
        assert r.status_code == 503 and r.headers["retry-after"], r.text
        assert "Traceback" not in r.text
        assert client.get("/search", params={"q": "London"}).status_code == 503
        assert client.get("/doc/office/london.ttl").status_code == 503
        health = client.get("/health")
        assert health.status_code == 503 and health.json()["status"] == "store unavailable"
    dead.close()
