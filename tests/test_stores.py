"""Every Store method, identically, on both implementations over the real graph.

``embedded`` is pyoxigraph in memory; ``remote`` is a :class:`RemoteStore` in front of a real
``oxigraph serve`` subprocess (the ``oxigraph`` CLI comes from the dev extra), loaded through the Graph
Store Protocol; ``virtuoso`` is a :class:`RemoteStore` in front of a real, private Virtuoso (Debian's
virtuoso-opensource, from ``make system-deps``), its differences handled by its dialect. All must give
the same answers to the same queries.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import pyoxigraph
import pytest
from conftest import VirtuosoServer, free_port
from pyoxigraph import Literal, NamedNode, QueryBoolean, QueryResultsFormat, QuerySolutions

from clair_kg.errors import BadRequest, ForbiddenOperation, QuerySyntaxError, StoreUnavailable
from clair_kg.release import Release
from clair_kg.store import GRAPH_FORMATS, RESULT_FORMATS, DatasetSpec, EmbeddedStore, RemoteStore, Store
from clair_kg.store.base import QueryForm
from clair_kg.store.dialects import MERGED_GRAPH, STANDARD, Virtuoso

ID = "https://w3id.org/clair-kg/id/"
GRAPH = "https://w3id.org/clair-kg/graph/"
CLAIR = NamedNode(ID + "org/clair")
LONDON = NamedNode(ID + "office/london")
PREFIXES = """\
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX schema: <https://schema.org/>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX clair: <https://w3id.org/clair-kg/ontology#>
"""
HOSTILE = '" } ; DROP ALL ; #'


# --- the two stores ---------------------------------------------------------------------------


#: each store under test and its fixture: a remote store over oxigraph serve, and over Virtuoso
STORES = {"embedded": "embedded_store", "remote": "remote_store", "virtuoso": "virtuoso_store"}


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest) -> Store:
    result: Store = request.getfixturevalue(STORES[request.param])
    return result


@pytest.fixture(params=["remote", "virtuoso"])
def both(request: pytest.FixtureRequest, embedded_store: EmbeddedStore) -> tuple[Store, Store]:
    """The embedded store and one remote store, to compare their answers."""
    remote: Store = request.getfixturevalue(STORES[request.param])
    return embedded_store, remote


# --- helpers ------------------------------------------------------------------------------------


def _rows(rows: list[dict[str, pyoxigraph.NamedNode | pyoxigraph.Literal | object]]) -> Counter[str]:
    """A multiset of rows, each as a canonical string, for comparing result sets."""
    return Counter(json.dumps(sorted((k, str(v)) for k, v in row.items())) for row in rows)


def _parsed_rows(body: bytes, media_type: str) -> Counter[str] | bool:
    """Parse a serialized SELECT/ASK result; rows as a multiset (CSV loses term kinds: plain values)."""
    if media_type == "text/csv":
        text = body.decode("utf-8")
        if text.strip() in ("true", "false"):  # not a standard, but what some stores write for ASK
            return text.strip() == "true"
        reader = csv.reader(io.StringIO(text))
        header = next(reader)
        return Counter(json.dumps(sorted(zip(header, line, strict=True))) for line in reader)
    fmt = {"application/sparql-results+json": QueryResultsFormat.JSON,
           "application/sparql-results+xml": QueryResultsFormat.XML,
           "text/tab-separated-values": QueryResultsFormat.TSV}[media_type]
    parsed = pyoxigraph.parse_query_results(body, format=fmt)
    if isinstance(parsed, QueryBoolean):
        return bool(parsed)
    assert isinstance(parsed, QuerySolutions)
    names = [v.value for v in parsed.variables]
    return _rows([{n: s[n] for n in names if s[n] is not None} for s in parsed])




def _parsed_triples(body: bytes, media_type: str) -> set[str]:
    return {str(q.triple) for q in pyoxigraph.parse(body, format=GRAPH_FORMATS[media_type])}


# --- queries both stores must answer alike ------------------------------------------------------

SELECTS = {
    "labels ordered": "SELECT ?s ?l WHERE { ?s rdfs:label ?l } ORDER BY ?l ?s",
    "counts by type": "SELECT ?t (COUNT(*) AS ?n) WHERE { ?s a ?t } GROUP BY ?t ORDER BY DESC(?n) ?t",
    "offices, cities, countries": """SELECT ?office ?city ?country WHERE {
        ?office a clair:OverseasOffice ; org:unitOf <https://w3id.org/clair-kg/id/org/clair> ;
            schema:location ?city .
        ?city schema:containedInPlace ?country . } ORDER BY ?office""",
    "text filter": 'SELECT ?s ?l WHERE { ?s rdfs:label ?l FILTER(CONTAINS(LCASE(?l), "office")) }',
    "per graph": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    "japanese labels": 'SELECT ?s ?l WHERE { ?s skos:prefLabel ?l FILTER(LANG(?l) = "ja") }',
    "optional": "SELECT ?s ?alt WHERE { ?s a schema:City OPTIONAL { ?s skos:altLabel ?alt } }",
}
CONSTRUCTS = {
    "describe": "DESCRIBE <https://w3id.org/clair-kg/id/org/clair>",
    "construct": "CONSTRUCT { ?s rdfs:label ?l } WHERE { ?s a schema:City ; rdfs:label ?l }",
}
ASKS = {
    "true": "ASK { <https://w3id.org/clair-kg/id/org/clair> rdfs:label ?l }",
    "false": "ASK { <https://w3id.org/clair-kg/id/org/nowhere> ?p ?o }",
}


# --- size and graphs ------------------------------------------------------------------------------


def test_len_counts_the_quads(store: Store, release: Release) -> None:
    assert len(store) == release.info.quads > 0


def test_graphs_are_the_source_graphs(store: Store, release: Release) -> None:
    graphs = store.graphs()
    assert list(graphs) == sorted(release.info.graphs)
    assert GRAPH + "wikipedia-article" in graphs


# --- select / ask / construct with bindings ---------------------------------------------------------


def test_select_binds_a_named_node(store: Store) -> None:
    rows = store.select(PREFIXES + "SELECT ?l WHERE { ?s rdfs:label ?l }", bindings={"s": CLAIR})
    labels = {row["l"] for row in rows}
    assert Literal("Council of Local Authorities for International Relations", language="en") in labels
    assert all(isinstance(t, Literal) for t in labels)
    assert any(t.language == "ja" for t in labels if isinstance(t, Literal))


def test_select_binds_a_literal_with_a_language_tag(store: Store) -> None:
    query = PREFIXES + "SELECT ?s WHERE { ?s rdfs:label ?l }"
    rows = store.select(query, bindings={"l": Literal("CLAIR London Office", language="en")})
    assert rows == [{"s": LONDON}]
    # the tag is part of the term: untagged, or tagged otherwise, it matches nothing
    assert store.select(query, bindings={"l": Literal("CLAIR London Office")}) == []
    assert store.select(query, bindings={"l": Literal("CLAIR London Office", language="ja")}) == []


def test_select_keeps_unbound_variables_out_of_rows(store: Store) -> None:
    rows = store.select(PREFIXES + SELECTS["optional"])
    assert rows and any("alt" not in row for row in rows) and any("alt" in row for row in rows)


def test_hostile_literal_binding_matches_nothing_and_changes_nothing(store: Store, release: Release) -> None:
    query = PREFIXES + "SELECT ?s WHERE { ?s rdfs:label ?l }"
    assert store.select(query, bindings={"l": Literal(HOSTILE)}) == []
    assert store.select(query, bindings={"l": Literal(HOSTILE, language="en")}) == []
    assert store.ask(PREFIXES + "ASK { ?s rdfs:label ?l }", bindings={"l": Literal(HOSTILE)}) is False
    assert store.construct(PREFIXES + "CONSTRUCT WHERE { ?s rdfs:label ?l }", bindings={"l": Literal(HOSTILE)}) == []
    assert len(store) == release.info.quads


def test_ask(store: Store) -> None:
    assert store.ask(PREFIXES + ASKS["true"]) is True
    assert store.ask(PREFIXES + ASKS["false"]) is False
    assert store.ask(PREFIXES + "ASK { ?s rdfs:label ?l }", bindings={"s": LONDON}) is True
    assert store.ask(PREFIXES + "ASK { ?s rdfs:label ?l }", bindings={"s": NamedNode(ID + "org/none")}) is False


def test_construct_and_describe(store: Store) -> None:
    described = store.construct(CONSTRUCTS["describe"])
    assert described and all(t.subject == CLAIR for t in described)
    built = store.construct(PREFIXES + CONSTRUCTS["construct"])
    assert built and all(str(t.predicate) == "<http://www.w3.org/2000/01/rdf-schema#label>" for t in built)
    bound = store.construct(PREFIXES + "CONSTRUCT WHERE { ?s rdfs:label ?l }", bindings={"s": LONDON})
    assert Literal("CLAIR London Office", language="en") in [t.object for t in bound]
    assert all(t.subject == LONDON for t in bound)
    bound = store.construct(PREFIXES + "CONSTRUCT { ?s rdfs:label ?l } WHERE { ?s rdfs:label ?l }",
                            bindings={"s": LONDON, "l": Literal("CLAIR London Office", language="en")})
    assert [t.object for t in bound] == [Literal("CLAIR London Office", language="en")]


def test_bindings_pre_bind_variables_that_are_not_projected(store: Store) -> None:
    """Named queries bind parameters the SELECT does not project, used in GROUP BY and BIND."""
    grouped = PREFIXES + """SELECT ?p (COUNT(*) AS ?n) WHERE { ?entity ?p ?o } GROUP BY ?p ORDER BY ?p"""
    inlined = grouped.replace("?entity", "<https://w3id.org/clair-kg/id/office/london>")
    assert store.select(grouped, bindings={"entity": LONDON}) == store.select(inlined)
    defaulted = PREFIXES + """SELECT ?l WHERE {
        BIND(COALESCE(?who, <https://w3id.org/clair-kg/id/org/clair>) AS ?x) ?x rdfs:label ?l }"""
    london = {r["l"] for r in store.select(defaulted, bindings={"who": LONDON})}
    assert Literal("CLAIR London Office", language="en") in london
    assert Literal("CLAIR London Office", language="en") not in {r["l"] for r in store.select(defaulted)}


def test_named_query_with_a_parameter(store: Store, project_root: Path) -> None:
    text = (project_root / "queries" / "entity-sources.rq").read_text(encoding="utf-8")
    bound = store.select(text, bindings={"entity": LONDON})
    everything = store.select(text)
    assert bound and len(bound) < len(everything)
    if "entity" in bound[0]:  # the query projects its parameter: binding it is filtering by it
        assert _rows(bound) == _rows([r for r in everything if r.get("entity") == LONDON])  # type: ignore[arg-type]


def test_binding_names_and_blank_nodes_are_checked(store: Store) -> None:
    with pytest.raises(BadRequest):
        store.select("SELECT * WHERE { ?s ?p ?o }", bindings={"s) } ; DROP ALL ; #": LONDON})
    with pytest.raises(BadRequest):
        store.select("SELECT * WHERE { ?s ?p ?o }", bindings={"s": pyoxigraph.BlankNode()})


def test_wrong_form_for_the_method_is_an_error(store: Store) -> None:
    with pytest.raises(QuerySyntaxError):
        store.select(PREFIXES + ASKS["true"])
    with pytest.raises(QuerySyntaxError):
        store.ask(PREFIXES + SELECTS["text filter"])


# --- execute: every media type, parseable ----------------------------------------------------------


@pytest.mark.parametrize("media_type", sorted(RESULT_FORMATS))
def test_execute_select_in_every_result_format(store: Store, media_type: str) -> None:
    query = PREFIXES + SELECTS["offices, cities, countries"]
    result = store.execute(query, media_type=media_type)
    assert result.form is QueryForm.SELECT and result.media_type == media_type
    parsed = _parsed_rows(result.body, media_type)
    assert isinstance(parsed, Counter) and sum(parsed.values()) == 6  # Singapore has no containing country


@pytest.mark.parametrize("media_type", sorted(RESULT_FORMATS))
def test_execute_ask_in_every_result_format(store: Store, media_type: str) -> None:
    for name, expected in (("true", True), ("false", False)):
        result = store.execute(PREFIXES + ASKS[name], media_type=media_type)
        assert result.form is QueryForm.ASK
        if media_type == "text/csv":  # SPARQL CSV has no boolean form; only require something readable
            assert result.body.decode("utf-8").strip().lower().endswith(str(expected).lower())
        else:
            assert _parsed_rows(result.body, media_type) is expected


@pytest.mark.parametrize("media_type", sorted(GRAPH_FORMATS))
def test_execute_graph_in_every_graph_format(store: Store, media_type: str) -> None:
    result = store.execute(CONSTRUCTS["describe"], media_type=media_type)
    assert result.form in (QueryForm.CONSTRUCT, QueryForm.DESCRIBE)
    expected = {str(t) for t in store.construct(CONSTRUCTS["describe"])}
    assert _parsed_triples(result.body, media_type) == expected


def test_execute_keeps_language_tags_and_datatypes(store: Store) -> None:
    query = PREFIXES + 'SELECT ?l (COUNT(*) AS ?n) WHERE { ?s rdfs:label ?l FILTER(LANG(?l) = "ja") } GROUP BY ?l'
    for media_type in ("application/sparql-results+json", "application/sparql-results+xml",
                       "text/tab-separated-values"):
        body = store.execute(query, media_type=media_type).body
        parsed = pyoxigraph.parse_query_results(body, format={
            "application/sparql-results+json": QueryResultsFormat.JSON,
            "application/sparql-results+xml": QueryResultsFormat.XML,
            "text/tab-separated-values": QueryResultsFormat.TSV}[media_type])
        assert isinstance(parsed, QuerySolutions)
        solutions = list(parsed)
        assert solutions
        for s in solutions:
            assert isinstance(s["l"], Literal) and s["l"].language == "ja"
            assert isinstance(s["n"], Literal) and s["n"].datatype.value.endswith("#integer")


# --- datasets -------------------------------------------------------------------------------------


def _count(store: Store, query: str, dataset: DatasetSpec) -> int:
    body = store.execute(query, media_type="application/sparql-results+json", dataset=dataset).body
    parsed = pyoxigraph.parse_query_results(body, format=QueryResultsFormat.JSON)
    assert isinstance(parsed, QuerySolutions)
    rows = list(parsed)
    value = rows[0]["n"] if rows else None
    return int(value.value) if isinstance(value, Literal) else 0


COUNT_DEFAULT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
COUNT_NAMED = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


COUNT_DISTINCT_NAMED = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }"


def test_default_graph_is_the_set_merge_of_the_source_graphs(store: Store, release: Release) -> None:
    """SPARQL 1.1 §13: a triple two sources state counts once in the default graph (on both backends)."""
    merged = _count(store, COUNT_DEFAULT, DatasetSpec())
    assert merged == _count(store, COUNT_DISTINCT_NAMED, DatasetSpec()) == store.statements()
    assert merged < _count(store, COUNT_NAMED, DatasetSpec()) == len(store) == release.info.quads
    # nothing in the default graph that no source states, and GRAPH ?g never sees the default graph
    assert _count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?o } } }",
                  DatasetSpec()) == 0


def test_dataset_default_graphs(store: Store) -> None:
    one = _count(store, COUNT_DEFAULT, DatasetSpec(default_graphs=(GRAPH + "wikipedia-article",)))
    two = _count(store, COUNT_DEFAULT, DatasetSpec(default_graphs=(GRAPH + "wikipedia-article", GRAPH + "reference")))
    everything = _count(store, COUNT_DEFAULT, DatasetSpec())
    assert 0 < one < two <= everything
    # default-graph-uri alone: no named graphs (SPARQL 1.1 Query 13.2, like FROM without FROM NAMED)
    assert _count(store, COUNT_NAMED, DatasetSpec(default_graphs=(GRAPH + "wikipedia-article",))) == 0


def test_dataset_named_graphs(store: Store) -> None:
    spec = DatasetSpec(named_graphs=(GRAPH + "wikipedia-article",))
    body = store.execute("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                         media_type="application/sparql-results+json", dataset=spec).body
    expected = _rows([{"g": NamedNode(GRAPH + "wikipedia-article")}])
    assert _parsed_rows(body, "application/sparql-results+json") == expected
    # named-graph-uri alone: the default graph is empty (like FROM NAMED without FROM)
    assert _count(store, COUNT_DEFAULT, spec) == 0
    full = DatasetSpec(default_graphs=(GRAPH + "reference",), named_graphs=(GRAPH + "wikipedia-article",))
    reference = DatasetSpec(default_graphs=(GRAPH + "reference",))
    assert _count(store, COUNT_DEFAULT, full) == _count(store, COUNT_DEFAULT, reference)
    assert _count(store, COUNT_NAMED, full) == _count(store, COUNT_NAMED, spec) > 0


def test_dataset_unknown_graph_is_empty_not_an_error(store: Store) -> None:
    unknown = "https://example.org/no-such-graph"
    assert _count(store, COUNT_DEFAULT, DatasetSpec(default_graphs=(unknown,))) == 0
    assert _count(store, COUNT_NAMED, DatasetSpec(named_graphs=(unknown,))) == 0
    result = store.execute("ASK { ?s ?p ?o }", media_type="application/sparql-results+json",
                           dataset=DatasetSpec(default_graphs=(unknown,)))
    assert _parsed_rows(result.body, "application/sparql-results+json") is False


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["SELECT ?s WHERE { ?s }", "SELEKT * WHERE { ?s ?p ?o }", "ASK {", ""])
def test_syntax_errors(store: Store, query: str) -> None:
    with pytest.raises(QuerySyntaxError):
        store.select(query)
    with pytest.raises(QuerySyntaxError):
        store.execute(query, media_type="application/sparql-results+json")


@pytest.mark.parametrize("update", [
    "INSERT DATA { <http://example.org/s> <http://example.org/p> <http://example.org/o> }",
    "DELETE WHERE { ?s ?p ?o }",
    "DROP ALL",
    "CLEAR DEFAULT",
    "LOAD <http://example.org/data.ttl>",
    "ADD <http://example.org/a> TO <http://example.org/b>",
    "PREFIX ex: <http://example.org/>\nDELETE { ?s ?p ?o } INSERT { ?s ex:p 1 } WHERE { ?s ?p ?o }",
])
def test_updates_are_forbidden_and_change_nothing(store: Store, update: str, release: Release) -> None:
    with pytest.raises(ForbiddenOperation):
        store.execute(update, media_type="application/sparql-results+json")
    with pytest.raises(ForbiddenOperation):
        store.select(update)
    assert len(store) == release.info.quads


def test_dead_remote_is_unavailable() -> None:
    port = free_port()  # nothing listens here
    dead = RemoteStore(f"http://127.0.0.1:{port}/query", data_url=f"http://127.0.0.1:{port}/store", timeout=2)
    try:
        with pytest.raises(StoreUnavailable):
            dead.select("SELECT * WHERE { ?s ?p ?o }")
        with pytest.raises(StoreUnavailable):
            dead.ask("ASK {}")
        with pytest.raises(StoreUnavailable):
            dead.execute("ASK {}", media_type="application/sparql-results+json")
        with pytest.raises(StoreUnavailable):
            dead.load_nquads(b"")
        with pytest.raises(StoreUnavailable):
            dead.graphs()
    finally:
        dead.close()


# --- both stores, same answers ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SELECTS))
def test_same_select_results(both: tuple[Store, Store], name: str) -> None:
    embedded, remote = both
    rows = _rows(embedded.select(PREFIXES + SELECTS[name]))  # type: ignore[arg-type]
    assert rows and rows == _rows(remote.select(PREFIXES + SELECTS[name]))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(SELECTS))
@pytest.mark.parametrize("media_type", sorted(RESULT_FORMATS))
def test_same_serialized_select_results(both: tuple[Store, Store], name: str, media_type: str) -> None:
    embedded, remote = both
    a = _parsed_rows(embedded.execute(PREFIXES + SELECTS[name], media_type=media_type).body, media_type)
    b = _parsed_rows(remote.execute(PREFIXES + SELECTS[name], media_type=media_type).body, media_type)
    assert a == b


@pytest.mark.parametrize("name", sorted(CONSTRUCTS))
def test_same_graphs(both: tuple[Store, Store], name: str) -> None:
    embedded, remote = both
    a = {str(t) for t in embedded.construct(PREFIXES + CONSTRUCTS[name])}
    assert a and a == {str(t) for t in remote.construct(PREFIXES + CONSTRUCTS[name])}


@pytest.mark.parametrize("name", sorted(ASKS))
def test_same_ask(both: tuple[Store, Store], name: str) -> None:
    embedded, remote = both
    assert embedded.ask(PREFIXES + ASKS[name]) is remote.ask(PREFIXES + ASKS[name])


def test_same_size_and_graphs(both: tuple[Store, Store]) -> None:
    embedded, remote = both
    assert len(embedded) == len(remote)
    assert list(embedded.graphs()) == list(remote.graphs())


def test_from_clause_selects_its_graph_not_the_merge(store: Store) -> None:
    """A query's own FROM wins over the merged default graph (on a remote store too, now that it serves
    its real default graph rather than oxigraph's union, which ignored FROM)."""
    graph = "https://w3id.org/clair-kg/graph/jet-about-en"
    count_from = f"SELECT (COUNT(*) AS ?n) FROM <{graph}> WHERE {{ ?s ?p ?o }}"
    count_graph = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    count_all = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    n_from = int(store.select(count_from)[0]["n"].value)
    assert n_from == int(store.select(count_graph)[0]["n"].value)
    assert 0 < n_from < int(store.select(count_all)[0]["n"].value)


def test_from_inside_a_long_string_is_not_a_dataset_clause(store: Store) -> None:
    """A FROM on a later line of a \"\"\"long string\"\"\" leaves the union default graph in place."""
    text = 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER(?o != """a\nfrom b""") }'
    assert int(store.select(text)[0]["n"].value) > 0


# --- Virtuoso: what its dialect hides ---------------------------------------------------------------


def test_the_dialect_is_found_by_probing(remote_store: RemoteStore, virtuoso_store: RemoteStore) -> None:
    assert remote_store.dialect is STANDARD
    assert isinstance(virtuoso_store.dialect, Virtuoso)


def test_blank_nodes_come_back_as_blank_nodes(store: Store) -> None:
    """Virtuoso writes its blank nodes as ``nodeID://…`` in JSON results; they must read as blank nodes."""
    query = "SELECT ?s ?o WHERE { ?s <http://www.w3.org/1999/02/22-rdf-syntax-ns#first> ?o FILTER(isBlank(?s)) }"
    rows = store.select(query)
    assert rows and all(isinstance(r["s"], pyoxigraph.BlankNode) for r in rows)
    parsed = _parsed_rows(store.execute(query, media_type="text/tab-separated-values").body,
                          "text/tab-separated-values")
    assert isinstance(parsed, Counter) and sum(parsed.values()) == len(rows)
    # one identity per node: a blank subject found in the merge is the same node in its source graph
    same = ("SELECT (COUNT(*) AS ?n) WHERE { ?s <http://www.w3.org/1999/02/22-rdf-syntax-ns#first> ?o "
            "FILTER(isBlank(?s)) GRAPH ?g { ?s <http://www.w3.org/1999/02/22-rdf-syntax-ns#first> ?o } }")
    assert int(store.select(same)[0]["n"].value) >= len(rows)


@pytest.mark.parametrize("name", ["embedded", "virtuoso"])  # oxigraph serve answers 500 for it: 503 here
def test_a_function_the_engine_lacks_is_a_bad_request(request: pytest.FixtureRequest, name: str) -> None:
    store: Store = request.getfixturevalue(STORES[name])
    with pytest.raises(BadRequest):
        store.select("SELECT * WHERE { ?s ?p ?o FILTER(<urn:x-no-such:function>(?o)) }")


def test_virtuoso_system_graphs_and_the_merge_graph_stay_out_of_sight(virtuoso_store: RemoteStore,
                                                                     release: Release) -> None:
    assert MERGED_GRAPH not in virtuoso_store.graphs()
    rows = virtuoso_store.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert sorted(str(r["g"].value) for r in rows) == sorted(release.info.graphs)
    assert virtuoso_store.ask("ASK { ?s a <http://www.openlinksw.com/schemas/virtrdf#QuadMap> }") is False


def test_virtuoso_replace_drops_graphs_the_new_release_lacks(virtuoso_store: RemoteStore, release: Release) -> None:
    dropped = GRAPH + "wikipedia-article"
    smaller = b"".join(line + b"\n" for line in release.nquads.splitlines() if f"<{dropped}>".encode() not in line)
    try:
        virtuoso_store.load_nquads(smaller, replace=True)
        assert dropped not in virtuoso_store.graphs() and len(virtuoso_store.graphs()) == len(release.info.graphs) - 1
        assert 0 < len(virtuoso_store) < release.info.quads
        assert _count(virtuoso_store, COUNT_DEFAULT, DatasetSpec(default_graphs=(dropped,))) == 0
    finally:  # the session's store holds the release again
        virtuoso_store.load_nquads(release.nquads, replace=True)
    assert len(virtuoso_store) == release.info.quads and list(virtuoso_store.graphs()) == sorted(release.info.graphs)
    assert virtuoso_store.statements() == _count(virtuoso_store, COUNT_DISTINCT_NAMED, DatasetSpec())


def test_virtuoso_refuses_a_request_dataset_beside_the_querys_own(virtuoso_store: RemoteStore) -> None:
    """Virtuoso would add the request's graphs to the query's FROM (the protocol says: replace them)."""
    query = f"SELECT (COUNT(*) AS ?n) FROM <{GRAPH}jetprogramme> WHERE {{ ?s ?p ?o }}"
    with pytest.raises(BadRequest, match="one place only"):
        virtuoso_store.execute(query, media_type="application/sparql-results+json",
                               dataset=DatasetSpec(default_graphs=(GRAPH + "wikipedia-article",)))


def test_virtuoso_writes_need_the_password(virtuoso_server: VirtuosoServer, release: Release) -> None:
    wrong = RemoteStore(virtuoso_server.query_url,
                        data_url=virtuoso_server.data_url.replace(virtuoso_server.password, "wrong"))
    anonymous = RemoteStore(virtuoso_server.query_url, data_url=virtuoso_server.base + "/sparql-graph-crud-auth")
    try:
        for store in (wrong, anonymous):
            with pytest.raises(StoreUnavailable, match="digest auth"):
                store.load_nquads(release.nquads, replace=True)
            assert not store.replace_is_atomic
            assert len(store) == release.info.quads  # nothing was written
    finally:
        wrong.close()
        anonymous.close()
