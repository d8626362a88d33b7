"""The SPARQL 1.1 Service Description of the endpoint (https://www.w3.org/TR/sparql11-service-description/).

A bare GET on /sparql returns it. ``sd:endpoint`` is the exact URL the client asked (the W3C tests
check that), and the dataset lists every named graph with its size; the default graph is their
union (``sd:UnionDefaultGraph``).
"""

from __future__ import annotations

__all__ = ["serialize_description", "service_description"]

from collections.abc import Mapping, Sequence

import pyoxigraph
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from .. import namespaces
from ..formats import FORMAT_IRIS, GRAPH_FORMATS, RESULT_FORMATS

SD = "http://www.w3.org/ns/sparql-service-description#"
RDF_TYPE = NamedNode(namespaces.RDF_TYPE)
XSD_INTEGER = NamedNode(namespaces.PREFIXES["xsd"] + "integer")
VOID = namespaces.PREFIXES["void"]
DCTERMS = namespaces.PREFIXES["dcterms"]

assert set(FORMAT_IRIS) == set(RESULT_FORMATS) | set(GRAPH_FORMATS)

#: the prefixes a Service Description is written with (sd and formats are only used here)
PREFIXES = {"sd": SD, "formats": "http://www.w3.org/ns/formats/", "void": VOID, "dcterms": DCTERMS}


def _sd(term: str) -> NamedNode:
    return NamedNode(SD + term)


def service_description(
    endpoint: str,
    *,
    graph_sizes: Mapping[str, int],
    title: str,
    federation: bool,
) -> list[Triple]:
    """The triples of the description of the endpoint at ``endpoint``."""
    service = BlankNode("service")
    dataset = BlankNode("dataset")
    default_graph = BlankNode("defaultGraph")
    triples = [
        Triple(service, RDF_TYPE, _sd("Service")),
        Triple(service, _sd("endpoint"), NamedNode(endpoint)),
        Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        Triple(service, _sd("feature"), _sd("UnionDefaultGraph")),
        Triple(service, _sd("defaultEntailmentRegime"), NamedNode("http://www.w3.org/ns/entailment/Simple")),
        Triple(service, NamedNode(DCTERMS + "title"), Literal(title, language="en")),
        Triple(service, _sd("defaultDataset"), dataset),
        Triple(dataset, RDF_TYPE, _sd("Dataset")),
        Triple(dataset, _sd("defaultGraph"), default_graph),
        Triple(default_graph, RDF_TYPE, _sd("Graph")),
        Triple(default_graph, NamedNode(VOID + "triples"),
               Literal(str(sum(graph_sizes.values())), datatype=XSD_INTEGER)),
    ]
    if federation:
        triples.append(Triple(service, _sd("feature"), _sd("BasicFederatedQuery")))
    for iri in FORMAT_IRIS.values():
        triples.append(Triple(service, _sd("resultFormat"), NamedNode(iri)))
    for index, (name, size) in enumerate(sorted(graph_sizes.items())):
        named = BlankNode(f"named{index}")
        graph = BlankNode(f"graph{index}")
        triples += [
            Triple(dataset, _sd("namedGraph"), named),
            Triple(named, RDF_TYPE, _sd("NamedGraph")),
            Triple(named, _sd("name"), NamedNode(name)),
            Triple(named, _sd("graph"), graph),
            Triple(graph, RDF_TYPE, _sd("Graph")),
            Triple(graph, NamedNode(VOID + "triples"), Literal(str(size), datatype=XSD_INTEGER)),
        ]
    return triples


def serialize_description(triples: Sequence[Triple], fmt: pyoxigraph.RdfFormat) -> bytes:
    prefixes = PREFIXES if fmt in (pyoxigraph.RdfFormat.TURTLE, pyoxigraph.RdfFormat.TRIG) else None
    return pyoxigraph.serialize(triples, format=fmt, prefixes=prefixes) or b""
