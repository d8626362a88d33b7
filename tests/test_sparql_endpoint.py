"""/sparql through the app factory (in-process HTTP, real store, real query worker): negotiation,
ETag/304, CORS, the service description, the query page, datasets and the row cap."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from conftest import app_for
from fastapi.testclient import TestClient
from rdflib import Graph, Literal, Namespace, URIRef

from clair_kg.errors import ForbiddenOperation
from clair_kg.publish import Distribution
from clair_kg.settings import Settings
from clair_kg.store import EmbeddedStore
from clair_kg.store.analysis import analyse, check_services

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
PREFIXES = "PREFIX clair: <https://w3id.org/clair-kg/ontology#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
OFFICES = PREFIXES + "SELECT ?o WHERE { ?o a clair:OverseasOffice } ORDER BY ?o"
MOFA = "https://w3id.org/clair-kg/id/org/mofa"
DESCRIBE = f"DESCRIBE <{MOFA}>"


def _rows(response: object) -> list[dict[str, dict[str, str]]]:
    data = json.loads(response.content)  # type: ignore[attr-defined]
    return list(data["results"]["bindings"])


@pytest.mark.parametrize("accept, expected", [
    (None, "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv;q=0.5, text/tab-separated-values;q=0.9", "text/tab-separated-values"),
    ("application/json", "application/sparql-results+json"),
    ("text/*", "text/csv"),
])
def test_select_negotiates_by_accept(client: TestClient, accept: str | None, expected: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", params={"query": OFFICES}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected
    assert "Accept" in response.headers["vary"]


@pytest.mark.parametrize("fmt, expected", [
    ("json", "application/sparql-results+json"), ("xml", "application/sparql-results+xml"),
    ("csv", "text/csv"), ("tsv", "text/tab-separated-values"),
])
def test_format_parameter_wins_over_accept(client: TestClient, fmt: str, expected: str) -> None:
    response = client.get("/sparql", params={"query": OFFICES, "format": fmt}, headers={"Accept": "text/csv"})
    assert response.headers["content-type"].split(";")[0] == expected


@pytest.mark.parametrize("accept, parse_as", [
    (None, "turtle"), ("text/turtle", "turtle"), ("application/n-triples", "nt"),
    ("application/ld+json", "json-ld"), ("application/rdf+xml", "xml"), ("application/trig", "trig"),
    ("application/n-quads", "nquads"),
])
def test_describe_in_every_rdf_format_keeps_language_tags(client: TestClient, accept: str | None,
                                                          parse_as: str) -> None:
    response = client.get("/sparql", params={"query": DESCRIBE}, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    graph = Graph().parse(data=response.content, format=parse_as)
    assert Literal("外務省", lang="ja") in set(graph.objects(URIRef(MOFA), None))


def test_datatypes_survive_csv_and_json(client: TestClient) -> None:
    query = 'SELECT ?n ?d WHERE { BIND(42 AS ?n) BIND("2024-01-01"^^<http://www.w3.org/2001/XMLSchema#date> AS ?d) }'
    row = _rows(client.get("/sparql", params={"query": query}))[0]
    assert row["n"]["datatype"].endswith("#integer") and row["d"]["datatype"].endswith("#date")


def test_etag_and_304(client: TestClient) -> None:
    first = client.get("/sparql", params={"query": OFFICES})
    etag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public")
    again = client.get("/sparql", params={"query": OFFICES}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other_format = client.get("/sparql", params={"query": OFFICES, "format": "xml"})
    assert other_format.headers["etag"] != etag


def test_cors_on_answers_and_preflight(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    preflight = client.options("/sparql", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == "content-type"


def test_union_default_graph_and_graph_per_source(client: TestClient) -> None:
    union = _rows(client.get("/sparql", params={"query": OFFICES}))
    assert len(union) == 7
    per_graph = _rows(client.get("/sparql", params={
        "query": PREFIXES + "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?o a clair:OverseasOffice } }"}))
    assert {r["g"]["value"] for r in per_graph} >= {"https://w3id.org/clair-kg/graph/wikipedia-article"}


def test_protocol_dataset_unknown_graph_is_empty(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": OFFICES, "default-graph-uri": "http://example.org/none"})
    assert response.status_code == 200 and _rows(response) == []
    named = client.get("/sparql", params={
        "query": "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
        "named-graph-uri": "https://w3id.org/clair-kg/graph/wikipedia-article"})
    assert {r["g"]["value"] for r in _rows(named)} == {"https://w3id.org/clair-kg/graph/wikipedia-article"}


def test_relative_iris_resolve_against_the_dataset_base(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "ASK { <id/org/mofa> ?p ?o }"})
    assert response.json()["boolean"] is True


@pytest.mark.parametrize("headers, status", [
    ({}, 415),
    ({"Content-Type": "text/plain"}, 415),
    ({"Content-Type": "application/sparql-query; charset=ISO-8859-1"}, 415),
    ({"Content-Type": "application/sparql-update"}, 403),
])
def test_post_media_types(client: TestClient, headers: dict[str, str], status: int) -> None:
    assert client.post("/sparql", content=b"ASK {}", headers=headers).status_code == status


def test_post_forms_and_head(client: TestClient) -> None:
    form = client.post("/sparql", data={"query": OFFICES})
    assert form.status_code == 200 and len(_rows(form)) == 7
    direct = client.post("/sparql", content=OFFICES.encode(), headers={"Content-Type": "application/sparql-query"})
    assert direct.content == form.content
    head = client.head("/sparql", params={"query": OFFICES})
    assert head.status_code == 200 and head.content == b""
    assert client.delete("/sparql").status_code == 405


def test_service_description_names_the_url_asked(client: TestClient) -> None:
    response = client.get("/sparql/")
    assert response.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=response.text, format="turtle")
    assert (None, SD.endpoint, URIRef("http://testserver/sparql/")) in graph
    assert (None, SD.name, URIRef("https://w3id.org/clair-kg/graph/wikipedia-article")) in graph
    as_jsonld = client.get("/sparql", headers={"Accept": "application/ld+json"})
    assert as_jsonld.headers["content-type"] == "application/ld+json"
    assert (None, SD.endpoint, URIRef("http://testserver/sparql")) in Graph().parse(
        data=as_jsonld.text, format="json-ld")


def test_browsers_get_a_query_page_with_examples(client: TestClient) -> None:
    page = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<form id="query-form" method="get" action="/sparql">' in page.text
    assert "clair:OverseasOffice" in page.text and "jet-positions" in page.text
    assert "yasgui.min.js" in page.text  # loaded only on request, with an error fallback
    results = client.get("/sparql", params={"query": OFFICES}, headers={"Accept": "text/html"})
    assert results.status_code == 200 and "7 rows" in results.text
    assert "https://w3id.org/clair-kg/id/office/london" in results.text
    broken = client.get("/sparql", params={"query": "SELECT {"}, headers={"Accept": "text/html"})
    assert broken.status_code == 400 and "syntax error" in broken.text


@pytest.fixture(scope="module")
def capped(embedded_store: EmbeddedStore, distribution: Distribution, settings: Settings) -> Iterator[TestClient]:
    app = app_for(settings.with_overrides(max_rows=3, yasgui_url=""), embedded_store, distribution)
    with TestClient(app) as test_client:
        yield test_client


@pytest.mark.parametrize("fmt, count", [
    ("json", lambda r: len(_rows(r))),
    ("tsv", lambda r: len(r.text.splitlines()) - 1),
    ("csv", lambda r: len(r.text.splitlines()) - 1),
])
def test_row_cap_cuts_and_says_so(capped: TestClient, fmt: str, count: object) -> None:
    response = capped.get("/sparql", params={"query": OFFICES, "format": fmt})
    assert count(response) == 3  # type: ignore[operator]
    assert "max_rows=3" in response.headers["x-results-truncated"]
    small = capped.get("/sparql", params={"query": OFFICES + " LIMIT 2", "format": fmt})
    assert "x-results-truncated" not in small.headers


def test_row_cap_applies_to_graphs(capped: TestClient) -> None:
    response = capped.get("/sparql", params={"query": DESCRIBE, "format": "nt"})
    assert len(response.text.strip().splitlines()) == 3 and "x-results-truncated" in response.headers


def test_page_without_yasgui_has_no_script(capped: TestClient) -> None:
    page = capped.get("/sparql", headers={"Accept": "text/html"})
    assert "yasgui.min.js" not in page.text and "<script" not in page.text
    assert '<form id="query-form"' in page.text


@pytest.mark.parametrize("query, services, dataset", [
    ("SELECT * { SERVICE <http://a/> { ?s ?p ?o } }", ("http://a/",), False),
    ("PREFIX e: <http://b/> SELECT * FROM <urn:g> { SERVICE SILENT e:x { ?s ?p ?o } }", ("http://b/x",), True),
    ('SELECT * { ?s ?p "SERVICE <http://a/> {}" }', (), False),
    ("SELECT * { ?s ?p ?o } # SERVICE <http://a/>", (), False),
    ("SELECT ?service { ?service a <https://schema.org/Service> }", (), False),
])
def test_query_analysis(query: str, services: tuple[str, ...], dataset: bool) -> None:
    facts = analyse(query)
    assert facts.services == services and facts.has_dataset_clause is dataset


def test_service_allowlist() -> None:
    facts = analyse("SELECT * { SERVICE <http://a/> { ?s ?p ?o } }")
    check_services(facts, ("http://a/",))
    with pytest.raises(ForbiddenOperation):
        check_services(facts, ("http://b/",))


def test_every_example_query_runs_and_finds_something(client: TestClient) -> None:
    """The one list of examples (query page and landing page): each runs here and has an answer."""
    from clair_kg.web.examples import EXAMPLES

    assert any(e.on_landing for e in EXAMPLES)
    for example in EXAMPLES:
        r = client.get("/sparql", params={"query": example.query}, headers={"Accept": "application/n-triples, "
                       "application/sparql-results+json;q=0.9"})
        assert r.status_code == 200, (example.title, r.text)
        assert r.text.count("\n") > 1 if r.headers["content-type"].startswith("application/n-triples") \
            else r.json()["results"]["bindings"], example.title
