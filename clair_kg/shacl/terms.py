"""Terms between the two libraries: the shapes are read with rdflib (a small graph, and pyshacl's
own reading of it), the data is read from pyoxigraph (the store the release already holds).

A literal's checks that depend on its value (is ``"abc"^^xsd:integer`` well-formed? is 5 < 7.0?)
use rdflib's reading of the literal, as pyshacl does, so both engines decide them alike."""

from __future__ import annotations

from functools import lru_cache

import pyoxigraph
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

#: a node of the data graph, as pyoxigraph gives it
Term = pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def to_oxigraph(node: Node) -> Term:
    """A shapes-graph node (a parameter such as sh:hasValue's) as the data graph spells it."""
    if isinstance(node, URIRef):
        return pyoxigraph.NamedNode(str(node))
    if isinstance(node, BNode):
        return pyoxigraph.BlankNode(str(node))
    if isinstance(node, Literal):
        if node.language:
            return pyoxigraph.Literal(str(node), language=node.language)
        if node.datatype is None:
            return pyoxigraph.Literal(str(node))
        return pyoxigraph.Literal(str(node), datatype=pyoxigraph.NamedNode(str(node.datatype)))
    raise TypeError(f"not an RDF term: {node!r}")


def to_rdflib(term: Term) -> Node:
    """A data-graph term as rdflib (and so pyshacl) reads it: an untyped literal has no datatype."""
    if isinstance(term, pyoxigraph.Literal):
        return rdflib_literal(term.value, term.datatype.value, term.language)
    if isinstance(term, pyoxigraph.NamedNode):
        return URIRef(term.value)
    return BNode(term.value)


@lru_cache(maxsize=262144)
def rdflib_literal(lexical: str, datatype: str, language: str | None) -> Literal:
    if language:
        return Literal(lexical, lang=language)
    if datatype == XSD_STRING:
        return Literal(lexical)
    return Literal(lexical, datatype=URIRef(datatype))
