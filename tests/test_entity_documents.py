"""Entity documents without SPARQL, the document cache and the front door's fast path (issue 12 item 3).

The one CONSTRUCT (:func:`clair_kg.entity_graph.construct_document_triples`, what a remote store
answers) must give exactly the graph the three queries of :func:`describe` give, for every entity;
the embedded store's pattern reads (:func:`document_from_patterns`) exactly the CONSTRUCT's graph,
for every entity of the CLAIR graph, of the CLAIR graph beside a 10^4 synthetic one, and of a graph
of edge cases (blank nodes two and three levels deep, links from blank nodes, IRIs as labels, a
statement two sources make, hubs); a hub (more than ``MAX_INCOMING`` links to it) keeps its cap;
:func:`document_bytes` writes what ``serialize_graph`` writes; a cached document is served without
asking the store again, also through 304, HEAD and the ``/id`` hop; a bad ``Accept`` is still 406
once the document is cached.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyoxigraph
import pytest
from fastapi.testclient import TestClient
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Triple, parse, serialize

from bench import synthetic
from clair_kg.entity_graph import (
    FIRST_TRY_LIMIT,
    MAX_INCOMING,
    VocabularyLabels,
    construct_document_triples,
    describe,
    document_from_patterns,
    document_query,
    document_triples,
    entity_iris,
    select_fixed,
)
from clair_kg.project import Project
from clair_kg.publish import Distribution
from clair_kg.publish.rdfio import serialize_graph
from clair_kg.release import Release
from clair_kg.runtime import DocumentCache, build_runtime
from clair_kg.settings import Settings
from clair_kg.store import EmbeddedStore, RemoteStore, Rows, Term
from clair_kg.store.diagnostics import check_depth
from clair_kg.web import create_app
from clair_kg.web.linked_data.document_bytes import FAST_FORMATS, document_bytes

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
        assert _set(construct_document_triples(embedded_store, iri)) == expected, iri


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


# --- the pattern reads give the CONSTRUCT's graph -----------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
SYNTHETIC_SIZE = 10_000
ID = BASE + "id/"
#: what a document may hold that the CLAIR graph has none of (no blank nodes, no links from them)
EDGE_CASES = f"""
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix schema: <https://schema.org/> .
@prefix thing: <{ID}thing/> .

thing:a a schema:Thing ;
  rdfs:label "A"@en, "エー"@ja ;
  skos:prefLabel thing:not-a-literal ;
  schema:knows thing:a, thing:b ;
  schema:address [
    schema:name "level one" ; schema:knowsAbout thing:c ;
    schema:member [ schema:name "level two" ; schema:knowsAbout thing:d ;
                    schema:member [ schema:name "level three" ] ]
  ] .
thing:b rdfs:label "B" ; skos:prefLabel "B, preferred"@en ; schema:knows thing:a .
thing:c rdfs:label "C"@en .
thing:d rdfs:label "D"@en .
thing:not-a-literal rdfs:label "an IRI used as a label"@en .
[ schema:knows thing:a ; rdfs:label "anonymous"@en ] .
schema:knows rdfs:label "knows"@en .
schema:address skos:prefLabel "address"@en .
schema:member rdfs:label "member"@en .
schema:knowsAbout rdfs:label "knows about"@en .
schema:Thing rdfs:label "Thing"@en ; skos:prefLabel "Thing"@en .
"""
HUB = ID + "place/hub-test"
ALMOST_HUB = ID + "place/almost-hub-test"
BIG = ID + "thing/big-test"




def _edge_case_quads() -> bytes:
    """The edge cases in one source graph (one statement also in a second), the hubs and a big entity."""
    graph, other = NamedNode(BASE + "graph/edge-cases"), NamedNode(BASE + "graph/edge-cases-again")
    quads = [Quad(t.subject, t.predicate, t.object, graph)
             for t in parse(EDGE_CASES.encode("utf-8"), format=RdfFormat.TURTLE)]
    label = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    quads.append(Quad(NamedNode(ID + "thing/a"), label, Literal("A", language="en"), other))
    contained = NamedNode("https://schema.org/containedInPlace")
    for hub, spokes in ((HUB, MAX_INCOMING + 1), (ALMOST_HUB, MAX_INCOMING)):
        quads += [Quad(NamedNode(f"{hub}/spoke-{i:05d}"), contained, NamedNode(hub), graph) for i in range(spokes)]
    quads += [Quad(NamedNode(BIG), NamedNode("https://schema.org/identifier"), Literal(str(i)), graph)
              for i in range(FIRST_TRY_LIMIT)]
    return serialize(quads, format=RdfFormat.N_QUADS) or b""


@pytest.fixture(scope="module")
def wide_store(release: Release) -> EmbeddedStore:
    """The CLAIR release, the 10^4 synthetic graph and the edge cases, in one embedded store."""
    out = io.StringIO()
    synthetic.write_nquads(out, SYNTHETIC_SIZE, 0)
    store = EmbeddedStore(base_iri=BASE)
    store.load_nquads(release.nquads + out.getvalue().encode("utf-8") + _edge_case_quads())
    return store


def _wide_entities(store: EmbeddedStore) -> list[str]:
    entities = sorted(entity_iris(store, BASE))
    assert len(entities) > 1300  # the CLAIR graph's, the synthetic graph's, the edge cases'
    return entities


def test_pattern_reads_give_the_constructs_graph_for_every_entity_of_the_clair_graph(
        embedded_store: EmbeddedStore) -> None:
    vocabulary = VocabularyLabels(embedded_store.inner)
    for iri in sorted(entity_iris(embedded_store, BASE)) + list(embedded_store.graphs()):
        expected = _set(construct_document_triples(embedded_store, iri))
        assert _set(document_triples(embedded_store, iri)) == expected, iri
        assert _set(document_triples(embedded_store, iri, vocabulary=vocabulary)) == expected, iri
    assert len(vocabulary) > 10  # the labels of the properties and classes, read once


def test_pattern_reads_give_the_constructs_graph_beside_a_synthetic_graph_and_the_edge_cases(
        wide_store: EmbeddedStore) -> None:
    vocabulary = VocabularyLabels(wide_store.inner)
    hubs = []
    for iri in _wide_entities(wide_store):
        expected = _set(construct_document_triples(wide_store, iri))
        assert _set(document_triples(wide_store, iri, vocabulary=vocabulary)) == expected, iri
        if document_from_patterns(wide_store.inner, iri) is None:
            hubs.append(iri)
    assert hubs == [HUB, BIG]  # read the capped way, as the CONSTRUCT's first try sends them


def test_the_edge_cases_are_read_as_the_construct_defines_them(wide_store: EmbeddedStore) -> None:
    triples = document_from_patterns(wide_store.inner, ID + "thing/a")
    assert triples is not None
    graph = _set(triples)
    literals = {o for _, _, o in graph if o.startswith('"')}
    assert '"level one"' in literals and '"level two"' in literals, "blank nodes two levels deep"
    assert '"level three"' not in literals, "no third level"
    assert '"C"@en' in literals, "the label of an IRI a blank node points to"
    assert '"D"@en' not in literals, "a second-level blank node's objects are not labelled"
    assert '"an IRI used as a label"@en' in literals, "an object's label"
    assert f"<{ID}thing/not-a-literal>" in {o for _, _, o in graph}
    assert '"anonymous"@en' not in literals, "a link from a blank node is not in the document"
    assert '"knows"@en' in literals and '"member"@en' in literals and '"address"@en' in literals
    assert '"Thing"@en' in literals, "the class's labels"
    assert sum(1 for s, p, o in graph if o == '"A"@en') == 1, "stated by two sources, once in the document"
    assert len(triples) == len(graph), "no statement twice"


def test_a_hub_costs_a_bounded_read_and_keeps_its_cap(wide_store: EmbeddedStore) -> None:
    assert document_from_patterns(wide_store.inner, HUB) is None
    almost = document_from_patterns(wide_store.inner, ALMOST_HUB)
    assert almost is not None and sum(1 for t in almost if t.object == NamedNode(ALMOST_HUB)) == MAX_INCOMING
    hub = document_triples(wide_store, HUB)
    assert sum(1 for t in hub if t.object == NamedNode(HUB)) == MAX_INCOMING
    big = document_triples(wide_store, BIG)
    assert len(big) >= FIRST_TRY_LIMIT and _set(big) == _set(describe(wide_store, BIG).triples())


def test_the_vocabulary_labels_belong_to_one_store_and_are_bounded(embedded_store: EmbeddedStore,
                                                                     wide_store: EmbeddedStore) -> None:
    with pytest.raises(ValueError):
        document_from_patterns(wide_store.inner, BASE + "id/office/london",
                               vocabulary=VocabularyLabels(embedded_store.inner))
    small = VocabularyLabels(embedded_store.inner, max_terms=3)
    london = BASE + "id/office/london"
    assert _set(document_triples(embedded_store, london, vocabulary=small)) == _set(
        construct_document_triples(embedded_store, london))
    assert len(small) == 3
    assert VocabularyLabels.of_store(embedded_store) is not None
    assert VocabularyLabels.of_store(RemoteStore("http://127.0.0.1:9/sparql")) is None  # it reads CONSTRUCTs


def test_the_runtime_keeps_the_vocabulary_labels_its_documents_read(runtime: Any, client: TestClient) -> None:
    assert runtime.vocabulary is not None and runtime.vocabulary.store is runtime.store.inner
    assert client.get("/doc/office/london.ttl").status_code == 200
    assert NamedNode("http://www.w3.org/ns/org#unitOf") in runtime.vocabulary


# --- the bytes are serialize_graph's ---------------------------------------------------------------

def test_document_bytes_are_serialize_graphs_for_every_entity(embedded_store: EmbeddedStore,
                                                              wide_store: EmbeddedStore) -> None:
    context = BASE + "context.jsonld"
    checked = 0
    for store in (embedded_store, wide_store):
        vocabulary = VocabularyLabels(store.inner)
        for iri in sorted(entity_iris(store, BASE)):
            if iri in (HUB, BIG, ALMOST_HUB):
                continue  # thousands of statements: covered below once, not three times each
            triples = document_triples(store, iri, vocabulary=vocabulary)
            for media in sorted(FAST_FORMATS):
                assert document_bytes(triples, media, context_ref=context) == serialize_graph(
                    triples, media, context_ref=context), (iri, media)
            checked += 1
    assert checked > 1400
    hub = document_triples(wide_store, HUB)
    for media in sorted(FAST_FORMATS):
        assert document_bytes(hub, media) == serialize_graph(hub, media), media


def test_document_bytes_of_awkward_statements() -> None:
    s = NamedNode(ID + "thing/x")
    blank = BlankNode("b1")
    xsd = "http://www.w3.org/2001/XMLSchema#"
    triples = [
        Triple(s, NamedNode("https://schema.org/name"), Literal('quote " backslash \\ newline \n tab \t é 日本')),
        Triple(s, NamedNode("https://schema.org/name"), Literal("x", language="en")),
        Triple(s, NamedNode("https://schema.org/name"), Literal("x", language="en-GB")),
        Triple(s, NamedNode("https://schema.org/foundingDate"), Literal("1988", datatype=NamedNode(xsd + "gYear"))),
        Triple(s, NamedNode("https://example.org/odd!"), blank),
        Triple(s, NamedNode("https://example.org/odd"), Literal("1")),
        Triple(blank, NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), NamedNode("https://schema.org/Thing")),
        Triple(blank, NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), BlankNode("b2")),
        Triple(NamedNode("https://example.org/elsewhere"), NamedNode("https://schema.org/about"), s),
    ]
    for media in ("text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"):
        expected = serialize_graph(triples, media, context_ref=BASE + "context.jsonld")
        assert document_bytes(triples + triples[:3], media, context_ref=BASE + "context.jsonld") == expected, media
        assert document_bytes([], media) == serialize_graph([], media), media
    body = document_bytes(triples, "application/ld+json")
    assert body.decode("utf-8") == json.dumps(json.loads(body), ensure_ascii=False, indent=1) + "\n"


def test_a_literal_that_quotes_a_namespace_declares_no_prefix() -> None:
    triples = [Triple(NamedNode(ID + "thing/x"), NamedNode("https://schema.org/description"),
                      Literal("see <http://www.w3.org/ns/org#unitOf>, org:unitOf")),
               Triple(NamedNode(ID + "thing/x"), NamedNode("https://schema.org/url"),
                      Literal("https://example.org/", datatype=NamedNode("http://www.w3.org/ns/org#notADatatype")))]
    fast = document_bytes(triples, "text/turtle")
    assert fast == serialize_graph(triples, "text/turtle") and b"@prefix org:" not in fast
