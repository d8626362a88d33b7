"""Real SPARQL clients (SPARQLWrapper, rdflib's SPARQLStore) against a live ``clair-kg serve``.

They check real answers from the CLAIR graph: seven overseas offices, and the Japanese label of the
Ministry of Foreign Affairs (外務省) arriving with its ``@ja`` tag in every result format.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, GET, JSON, JSONLD, POST, RDFXML, TSV, TURTLE, XML, SPARQLWrapper
from test_sparql_live import LiveServer, shared_server, stop_shared_server

PREFIXES = """PREFIX clair: <https://w3id.org/clair-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
OFFICES = PREFIXES + (
    "SELECT ?office ?label WHERE { ?office a clair:OverseasOffice ; rdfs:label ?label "
    "FILTER(LANG(?label) = \"en\") } ORDER BY ?office"
)
MOFA = "https://w3id.org/clair-kg/id/org/mofa"
MOFA_LABELS = PREFIXES + f"SELECT ?label WHERE {{ <{MOFA}> rdfs:label ?label }} ORDER BY ?label"
MOFA_GRAPH = PREFIXES + f"CONSTRUCT {{ <{MOFA}> rdfs:label ?label }} WHERE {{ <{MOFA}> rdfs:label ?label }}"


@pytest.fixture(scope="session")
def server(request: pytest.FixtureRequest) -> LiveServer:
    request.addfinalizer(stop_shared_server)
    return shared_server()


def _wrapper(server: LiveServer, query: str, fmt: str, method: str) -> SPARQLWrapper:
    sparql = SPARQLWrapper(server.sparql)
    sparql.setQuery(query)
    sparql.setReturnFormat(fmt)
    sparql.setMethod(method)
    return sparql


@pytest.mark.parametrize("method", [GET, POST])
def test_sparqlwrapper_json_counts_seven_overseas_offices(server: LiveServer, method: str) -> None:
    result = _wrapper(server, OFFICES, JSON, method).queryAndConvert()
    assert isinstance(result, dict)
    offices = {b["office"]["value"] for b in result["results"]["bindings"]}
    assert len(offices) == 7
    assert "https://w3id.org/clair-kg/id/office/london" in offices


@pytest.mark.parametrize("method", [GET, POST])
def test_sparqlwrapper_json_keeps_the_japanese_label(server: LiveServer, method: str) -> None:
    result = _wrapper(server, MOFA_LABELS, JSON, method).queryAndConvert()
    assert isinstance(result, dict)
    labels = {(b["label"]["value"], b["label"].get("xml:lang")) for b in result["results"]["bindings"]}
    assert ("外務省", "ja") in labels
    assert ("Ministry of Foreign Affairs", "en") in labels


@pytest.mark.parametrize("method", [GET, POST])
def test_sparqlwrapper_xml(server: LiveServer, method: str) -> None:
    document = _wrapper(server, MOFA_LABELS, XML, method).queryAndConvert()
    literals = document.getElementsByTagName("literal")  # type: ignore[union-attr]
    found = {(node.firstChild.data, node.getAttribute("xml:lang")) for node in literals}
    assert ("外務省", "ja") in found


@pytest.mark.parametrize("fmt, delimiter", [(CSV, ","), (TSV, "\t")])
@pytest.mark.parametrize("method", [GET, POST])
def test_sparqlwrapper_csv_and_tsv(server: LiveServer, fmt: str, delimiter: str, method: str) -> None:
    raw = _wrapper(server, OFFICES, fmt, method).queryAndConvert()
    text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    assert rows[0] == (["office", "label"] if fmt == CSV else ["?office", "?label"])
    assert len(rows) == 1 + 7


@pytest.mark.parametrize("fmt", [TURTLE, JSONLD, RDFXML])
@pytest.mark.parametrize("method", [GET, POST])
def test_sparqlwrapper_construct(server: LiveServer, fmt: str, method: str) -> None:
    result = _wrapper(server, MOFA_GRAPH, fmt, method).queryAndConvert()
    if isinstance(result, Graph):
        graph = result
    else:
        text = result.decode("utf-8") if isinstance(result, bytes) else result
        graph = Graph().parse(data=text if isinstance(text, str) else json.dumps(text),
                              format={TURTLE: "turtle", JSONLD: "json-ld", RDFXML: "xml"}[fmt])
    labels = set(graph.objects(URIRef(MOFA), None))
    assert Literal("外務省", lang="ja") in labels
    assert Literal("Ministry of Foreign Affairs", lang="en") in labels


def test_rdflib_sparqlstore_select_ask_construct(server: LiveServer) -> None:
    store = SPARQLStore(server.sparql, returnFormat="json")
    graph = Graph(store=store)
    offices = list(graph.query(OFFICES))
    assert len({row[0] for row in offices}) == 7  # type: ignore[index]
    labels = {row[0] for row in graph.query(MOFA_LABELS)}  # type: ignore[index]
    assert Literal("外務省", lang="ja") in labels
    assert graph.query(PREFIXES + f"ASK {{ <{MOFA}> rdfs:label \"外務省\"@ja }}").askAnswer is True
    constructed = graph.query(MOFA_GRAPH).graph
    assert constructed is not None and (URIRef(MOFA), None, Literal("外務省", lang="ja")) in constructed


def test_rdflib_sparqlstore_with_xml_results_and_post(server: LiveServer) -> None:
    store = SPARQLStore(server.sparql, returnFormat="xml", method="POST")
    graph = Graph(store=store)
    labels = {row[0] for row in graph.query(MOFA_LABELS)}  # type: ignore[index]
    assert Literal("外務省", lang="ja") in labels
    count = list(graph.query(PREFIXES + "SELECT (COUNT(?o) AS ?n) { ?o a clair:OverseasOffice }"))
    assert int(count[0][0]) == 7  # type: ignore[index]
