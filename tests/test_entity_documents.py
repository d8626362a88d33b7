"""Entity documents in one query, the document cache and the front door's fast path (issue 12 item 3).

The one CONSTRUCT of :func:`clair_kg.entity_graph.document_triples` must give exactly the graph the
three queries of :func:`describe` give, for every entity; a hub (more than ``MAX_INCOMING`` links
to it) keeps its cap; a cached document is served without asking the store again, also through
304, HEAD and the ``/id`` hop; a bad ``Accept`` is still 406 once the document is cached.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pyoxigraph
import pytest
from fastapi.testclient import TestClient
from pyoxigraph import NamedNode, Quad, RdfFormat, Triple, parse, serialize

from clair_kg.entity_graph import (
    MAX_INCOMING,
    describe,
    document_query,
    document_triples,
    entity_iris,
    select_fixed,
)
from clair_kg.project import Project
from clair_kg.publish import Distribution
from clair_kg.release import Release
from clair_kg.runtime import DocumentCache, build_runtime
from clair_kg.settings import Settings
from clair_kg.store import EmbeddedStore, Rows, Term
from clair_kg.store.diagnostics import check_depth
from clair_kg.web import create_app

BASE = "https://w3id.org/clair-kg/"
LONDON = "/doc/office/london"


def _set(triples: list[Triple]) -> set[tuple[str, str, str]]:
    return {(str(t.subject), str(t.predicate), str(t.object)) for t in triples}


class CountingStore(EmbeddedStore):
    """The real embedded store, counting the CONSTRUCT and SELECT queries it is asked (and the
    reads of its pyoxigraph store, which entity documents query directly)."""

    @property
    def inner(self) -> pyoxigraph.Store:
        self.queries += 1
        return super().inner

    def __init__(self) -> None:
        super().__init__(base_iri=BASE)
        self.queries = 0

    def construct(self, query: str, *, bindings: Mapping[str, Term] | None = None) -> list[Triple]:
        self.queries += 1
        return super().construct(query, bindings=bindings)

    def select(self, query: str, *, bindings: Mapping[str, Term] | None = None) -> Rows:
        self.queries += 1
        return super().select(query, bindings=bindings)


@pytest.fixture()
def counting(release: Release, project: Project,
             distribution: Distribution) -> Iterator[tuple[TestClient, CountingStore]]:
    store = CountingStore()
    store.load_nquads(release.nquads)
    settings = Settings(project_root=project.root, query_timeout=5.0, query_workers=1)
    with TestClient(create_app(build_runtime(settings, store, distribution)), base_url="http://testserver") as client:
        yield client, store


def test_one_query_gives_the_same_graph_as_describe_for_every_entity(embedded_store: EmbeddedStore) -> None:
    entities = sorted(entity_iris(embedded_store, BASE))
    assert len(entities) > 50
    for iri in entities:
        expected = _set(describe(embedded_store, iri).triples())
        assert _set(document_triples(embedded_store, iri)) == expected, iri


def test_the_document_query_names_the_iri_as_a_term_and_refuses_what_is_not_one() -> None:
    text = document_query(BASE + "id/office/london")
    assert "$e" not in text and f"<{BASE}id/office/london>" in text
    check_depth(text)  # the embedded store runs it without the check: its shape must pass it
    with pytest.raises(ValueError):
        document_query("not an iri> } DELETE WHERE { ?s ?p ?o")


def test_the_pages_fixed_queries_pass_the_depth_check_they_skip() -> None:
    from clair_kg import entity_graph
    from clair_kg.store.bindings import bind_in_text
    from clair_kg.web.linked_data import claims, entity_document

    london = {"e": NamedNode(BASE + "id/office/london")}
    for query in (entity_graph._OWN, entity_graph._INCOMING, entity_graph._LABELS, claims._QUANTITIES,
                  entity_document._PLACES, entity_document._SUBJECT_TYPES):
        check_depth(bind_in_text(query, london))


def test_select_fixed_answers_what_select_answers(embedded_store: EmbeddedStore) -> None:
    from clair_kg import entity_graph

    london = {"e": NamedNode(BASE + "id/office/london")}
    fixed = select_fixed(embedded_store, entity_graph._OWN, bindings=london)
    plain = embedded_store.select(entity_graph._OWN, bindings=london)
    assert len(fixed) > 5 and fixed == plain and fixed.variables == plain.variables


def test_a_hub_keeps_the_cap_on_incoming_links(release: Release, project: Project,
                                               distribution: Distribution) -> None:
    hub = BASE + "id/place/hub-test"
    graph = NamedNode(BASE + "graph/hub-test")
    quads = [Quad(NamedNode(f"{BASE}id/place/spoke-{i:05d}"), NamedNode("https://schema.org/containedInPlace"),
                  NamedNode(hub), graph) for i in range(MAX_INCOMING + 5)]
    store = EmbeddedStore(base_iri=BASE)
    store.load_nquads(release.nquads + (serialize(quads, format=RdfFormat.N_QUADS) or b""))
    first_try = store.construct(document_query(hub))
    assert sum(1 for t in first_try if t.object == NamedNode(hub)) > MAX_INCOMING  # so the capped way is taken
    settings = Settings(project_root=project.root, query_timeout=5.0, query_workers=1)
    with TestClient(create_app(build_runtime(settings, store, distribution))) as client:
        response = client.get("/doc/place/hub-test.nt")
    assert response.status_code == 200
    incoming = [t for t in parse(response.content, format=RdfFormat.N_TRIPLES) if t.object == NamedNode(hub)]
    assert len(incoming) == MAX_INCOMING


def test_a_cached_document_is_served_without_the_store(counting: tuple[TestClient, CountingStore]) -> None:
    client, store = counting
    first = client.get(LONDON, headers={"accept": "text/turtle"})
    assert first.status_code == 200
    asked = store.queries
    assert asked >= 1
    again = client.get(LONDON, headers={"accept": "text/turtle"})
    by_suffix = client.get(LONDON + ".ttl")
    assert store.queries == asked  # both from the cache
    assert again.content == first.content == by_suffix.content
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["link"] == first.headers["link"] and 'rel="alternate"' in again.headers["link"]
    assert again.headers["vary"] == "Accept" and "vary" not in by_suffix.headers
    assert again.headers["content-type"] == "text/turtle; charset=utf-8"
    # another format is another document: one more query, then cached too
    jsonld = client.get(LONDON, headers={"accept": "application/ld+json"})
    assert jsonld.status_code == 200 and store.queries == asked + 1
    assert client.get(LONDON, headers={"accept": "application/ld+json"}).content == jsonld.content
    assert store.queries == asked + 1


def test_conditional_head_and_id_hop_on_the_fast_path(counting: tuple[TestClient, CountingStore]) -> None:
    client, store = counting
    first = client.get(LONDON + ".jsonld")
    tag = first.headers["etag"]
    asked = store.queries
    not_modified = client.get(LONDON + ".jsonld", headers={"if-none-match": tag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == tag and "link" in not_modified.headers
    head = client.head(LONDON + ".jsonld")
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == tag
    hop = client.get("/id/office/london.jsonld?x=1", follow_redirects=False)
    assert hop.status_code == 303 and hop.headers["location"] == "/doc/office/london.jsonld?x=1"
    assert hop.headers["vary"] == "Accept"
    assert store.queries == asked
    # an entity that does not exist is still 404, a format nobody offers still 406, cached or not
    assert client.get("/id/office/atlantis", follow_redirects=False).status_code == 404
    assert client.get(LONDON, headers={"accept": "image/png"}).status_code == 406
    assert client.get(LONDON + ".jsonld", headers={"accept": "image/png"}).status_code == 200


def test_the_html_page_is_not_taken_from_the_rdf_cache(counting: tuple[TestClient, CountingStore]) -> None:
    client, _ = counting
    assert client.get(LONDON + ".ttl").status_code == 200
    page = client.get(LONDON, headers={"accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<html" in page.text


def test_cors_reaches_a_cached_document(counting: tuple[TestClient, CountingStore]) -> None:
    client, _ = counting
    client.get(LONDON + ".ttl")
    cached = client.get(LONDON + ".ttl", headers={"origin": "https://example.org"})
    assert cached.headers.get("access-control-allow-origin") == "*"


def test_jsonld_is_written_as_json_would_indent_it(embedded_store: EmbeddedStore) -> None:
    import json

    from clair_kg.publish.rdfio import serialize_graph

    for iri in sorted(entity_iris(embedded_store, BASE)):
        body = serialize_graph(document_triples(embedded_store, iri), "application/ld+json")
        assert body.decode("utf-8") == json.dumps(json.loads(body), ensure_ascii=False, indent=1) + "\n", iri
    own_context = {"@context": {"x": "https://example.org/", "e": {}, "n": [1, True, None, "\u00e9\"\n"]}}
    body = serialize_graph([], "application/ld+json", context_ref=own_context)
    assert body.decode("utf-8") == json.dumps(json.loads(body), ensure_ascii=False, indent=1) + "\n"
    assert json.loads(body)["@context"] == own_context["@context"]


def test_the_document_cache_is_bounded_by_entries_and_bytes() -> None:
    cache = DocumentCache(2, max_bytes=800)
    cache.put("a", "t", b"1")
    cache.put("b", "t", b"2")
    assert cache.get("a", "t") == b"1"  # a is now the most recently used
    cache.put("c", "t", b"3")
    assert cache.get("b", "t") is None and cache.get("a", "t") == b"1" and len(cache) == 2
    cache.put("big", "t", b"x" * 101)  # more than an eighth of the bytes: never kept
    assert cache.get("big", "t") is None
    bytes_bound = DocumentCache(100, max_bytes=800)
    for i in range(10):
        bytes_bound.put(str(i), "t", b"y" * 100)
    assert len(bytes_bound) == 8 and bytes_bound.get("0", "t") is None and bytes_bound.get("9", "t") is not None
    off = DocumentCache(0)
    off.put("a", "t", b"1")
    assert off.get("a", "t") is None and len(off) == 0


def test_with_the_cache_off_every_document_is_read_again(release: Release, project: Project,
                                                         distribution: Distribution) -> None:
    store = CountingStore()
    store.load_nquads(release.nquads)
    settings = Settings(project_root=project.root, query_timeout=5.0, query_workers=1, cache_size=0)
    runtime = build_runtime(settings, store, distribution)
    with TestClient(create_app(runtime)) as client:
        first = client.get(LONDON + ".ttl")
        asked = store.queries
        second = client.get(LONDON + ".ttl")
    assert first.content == second.content and store.queries == asked + 1 and len(runtime.documents) == 0
