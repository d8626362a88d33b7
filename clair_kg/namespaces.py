"""The one table of namespaces the graph uses, and the IRIs the code names most often.

Pure data (standard library only), so any module may import it without pulling in rdflib or
pyoxigraph. :data:`PREFIXES` is what the writers (Turtle, TriG, RDF/XML, the JSON-LD ``@context``)
abbreviate with; :data:`SPARQL_PREFIXES` is the subset every SPARQL query gets predeclared, as the
Wikidata Query Service does: a query that declares a prefix itself always wins.

Append only: the JSON-LD context is published and consumers rely on its keys.
"""

from __future__ import annotations

__all__ = [
    "CLAIR",
    "DATA_NS",
    "ID_NS",
    "OWL_SAME_AS",
    "PREFIXES",
    "RDFS_LABEL",
    "RDF_LANGSTRING",
    "RDF_TYPE",
    "SKOS_NOTE",
    "SPARQL_PREFIXES",
    "XSD_STRING",
    "prefix_declarations",
]

from collections.abc import Mapping
from types import MappingProxyType

#: prefix -> namespace IRI, for every namespace the graph, its ontology and its shapes use
PREFIXES: Mapping[str, str] = MappingProxyType({
    "clair": "https://w3id.org/clair-kg/ontology#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcterms": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "org": "http://www.w3.org/ns/org#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "schema": "https://schema.org/",
    "sh": "http://www.w3.org/ns/shacl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "spdx": "http://spdx.org/rdf/terms#",
    "time": "http://www.w3.org/2006/time#",
    "vann": "http://purl.org/vocab/vann/",
    "void": "http://rdfs.org/ns/void#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
})

#: the prefixes a SPARQL query may use without declaring them (CLI, /sparql, named queries)
SPARQL_PREFIXES: Mapping[str, str] = MappingProxyType({
    name: PREFIXES[name]
    for name in ("rdf", "rdfs", "owl", "xsd", "skos", "schema", "org", "dcterms", "prov", "time",
                 "dcat", "void", "foaf", "clair")
})

CLAIR = PREFIXES["clair"]
#: entity IRIs are ID_NS + "{type}/{slug}"; the part after it is the external identifier
ID_NS = "https://w3id.org/clair-kg/id/"
#: documents about entities (what /id/ redirects to with 303)
DATA_NS = "https://w3id.org/clair-kg/doc/"

RDF_TYPE = PREFIXES["rdf"] + "type"
RDF_LANGSTRING = PREFIXES["rdf"] + "langString"
RDFS_LABEL = PREFIXES["rdfs"] + "label"
XSD_STRING = PREFIXES["xsd"] + "string"
OWL_SAME_AS = PREFIXES["owl"] + "sameAs"
SKOS_NOTE = PREFIXES["skos"] + "note"


def prefix_declarations(prefixes: Mapping[str, str] = SPARQL_PREFIXES) -> str:
    """``PREFIX name: <iri>`` lines, one per prefix (for pages, docs and stores without ``prefixes=``)."""
    width = max(len(name) for name in prefixes) + 1
    return "".join(f"PREFIX {name + ':':<{width}} <{iri}>\n" for name, iri in prefixes.items())
