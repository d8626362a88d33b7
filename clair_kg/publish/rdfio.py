"""Deterministic RDF writing: the same statements always give the same bytes.

pyoxigraph's serializers stream what they are given, so feeding them statements in one canonical
order (sorted by their N-Triples form) makes Turtle, TriG and RDF/XML reproducible. JSON-LD is
written here rather than by a library so it can be compacted with the project's published
``@context`` (readable keys such as ``label`` and ``org:unitOf``) and still be byte-stable.
Blank nodes are relabelled from their content (:func:`canonical_blank_nodes`), so a dump made from
a store (which relabels blank nodes on load) equals one made from the build's N-Quads.
"""

from __future__ import annotations

__all__ = [
    "PREFIXES",
    "compact_iri",
    "canonical_blank_nodes",
    "deterministic_gzip",
    "jsonld_context",
    "serialize_graph",
    "serialize_dataset",
    "sort_quads",
    "sort_triples",
    "to_jsonld",
]

import gzip
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from json.encoder import encode_basestring
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Triple, serialize

from ..canonical import canonical_blank_nodes
from ..namespaces import PREFIXES as NAMESPACE_PREFIXES
from ..namespaces import RDF_TYPE, XSD_STRING

#: Prefixes used in every Turtle/TriG/RDF-XML output and in the JSON-LD @context: the project's one
#: table (clair_kg/namespaces.py). Append only there: the context is published and consumers rely on its keys.
PREFIXES: Mapping[str, str] = NAMESPACE_PREFIXES

#: Short keys of the JSON-LD context for the most used properties.
TERM_ALIASES: dict[str, str] = {
    "label": "http://www.w3.org/2000/01/rdf-schema#label",
    "comment": "http://www.w3.org/2000/01/rdf-schema#comment",
    "prefLabel": "http://www.w3.org/2004/02/skos/core#prefLabel",
    "altLabel": "http://www.w3.org/2004/02/skos/core#altLabel",
    "definition": "http://www.w3.org/2004/02/skos/core#definition",
    "note": "http://www.w3.org/2004/02/skos/core#note",
    "description": "https://schema.org/description",
    "sameAs": "http://www.w3.org/2002/07/owl#sameAs",
}
_ALIAS_OF = {iri: key for key, iri in TERM_ALIASES.items()}

_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def jsonld_context() -> dict[str, Any]:
    """The published JSON-LD context (served at ``/context.jsonld``)."""
    context: dict[str, Any] = dict(PREFIXES)
    context.update(TERM_ALIASES)
    return {"@context": context}


@lru_cache(maxsize=65536)  # the same few hundred properties and classes, in every document
def compact_iri(iri: str) -> str:
    """``prefix:local`` when a known prefix fits, else the IRI itself."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace):
            local = iri[len(namespace):]
            if _LOCAL.match(local):
                return f"{prefix}:{local}"
    return iri


def sort_triples(triples: Iterable[Triple]) -> list[Triple]:
    unique = {(str(t.subject), str(t.predicate), str(t.object)): t for t in triples}
    return [unique[k] for k in sorted(unique)]


def sort_quads(quads: Iterable[Quad]) -> list[Quad]:
    unique = {(str(q.graph_name), str(q.subject), str(q.predicate), str(q.object)): q for q in quads}
    return [unique[k] for k in sorted(unique)]


_GRAPH_FORMATS = {
    "text/turtle": RdfFormat.TURTLE,
    "application/n-triples": RdfFormat.N_TRIPLES,
    "application/rdf+xml": RdfFormat.RDF_XML,
}
_DATASET_FORMATS = {
    "application/trig": RdfFormat.TRIG,
    "application/n-quads": RdfFormat.N_QUADS,
}


@lru_cache(maxsize=65536)
def _prefixes_of(iri: str) -> tuple[tuple[str, str], ...]:
    return tuple((prefix, ns) for prefix, ns in PREFIXES.items() if iri.startswith(ns))


def _used_prefixes(terms: Iterable[Any]) -> dict[str, str]:
    used: dict[str, str] = {}
    for term in terms:
        if isinstance(term, NamedNode):
            used.update(_prefixes_of(term.value))
        elif isinstance(term, Literal) and term.datatype.value.startswith(PREFIXES["xsd"]):
            used["xsd"] = PREFIXES["xsd"]
    return dict(sorted(used.items()))


def serialize_graph(
    triples: Iterable[Triple], media_type: str, *, context_ref: str | dict[str, Any] | None = None
) -> bytes:
    """One graph in ``media_type`` (Turtle, N-Triples, RDF/XML or JSON-LD), canonical order."""
    ordered = sort_triples(triples)
    if media_type == "application/ld+json":
        return to_jsonld(ordered, context_ref=context_ref)
    fmt = _GRAPH_FORMATS[media_type]
    if fmt is RdfFormat.N_TRIPLES:
        return "".join(f"{t.subject} {t.predicate} {t.object} .\n" for t in ordered).encode("utf-8")
    prefixes = _used_prefixes(x for t in ordered for x in (t.subject, t.predicate, t.object))
    if fmt is RdfFormat.RDF_XML:
        # RDF/XML needs a namespace for every predicate; pyoxigraph makes one up where none fits.
        prefixes = _used_prefixes(x for t in ordered for x in (t.predicate, t.object)) | prefixes
    return serialize(ordered, format=fmt, prefixes=prefixes) or b""


def serialize_dataset(
    quads: Iterable[Quad], media_type: str, *, context_ref: str | dict[str, Any] | None = None
) -> bytes:
    """Named graphs in TriG, N-Quads or JSON-LD, canonical order."""
    ordered = sort_quads(quads)
    if media_type == "application/ld+json":
        return to_jsonld(ordered, context_ref=context_ref)
    fmt = _DATASET_FORMATS[media_type]
    if fmt is RdfFormat.N_QUADS:
        return "".join(f"{q.subject} {q.predicate} {q.object} {q.graph_name} .\n" for q in ordered).encode(
            "utf-8"
        )
    prefixes = _used_prefixes(x for q in ordered for x in (q.subject, q.predicate, q.object))
    return serialize(ordered, format=fmt, prefixes=prefixes) or b""


def _node_ref(term: Any) -> str:
    if isinstance(term, BlankNode):
        return "_:" + term.value
    return compact_iri(term.value) if not term.value.startswith("https://w3id.org/clair-kg/id/") else term.value


def _value(term: Any) -> Any:
    if isinstance(term, NamedNode | BlankNode):
        return {"@id": _node_ref(term)}
    assert isinstance(term, Literal)
    if term.language:
        return {"@value": term.value, "@language": term.language}
    if term.datatype.value == XSD_STRING:
        return term.value
    return {"@value": term.value, "@type": compact_iri(term.datatype.value)}


def _nodes(triples: Iterable[Triple]) -> list[dict[str, Any]]:
    subjects: dict[str, dict[str, list[Any]]] = {}
    order: list[str] = []
    for t in triples:
        sid = _node_ref(t.subject)
        if sid not in subjects:
            subjects[sid] = {}
            order.append(sid)
        props = subjects[sid]
        if t.predicate.value == RDF_TYPE and isinstance(t.object, NamedNode):
            props.setdefault("@type", []).append(compact_iri(t.object.value))
            continue
        key = _ALIAS_OF.get(t.predicate.value) or compact_iri(t.predicate.value)
        props.setdefault(key, []).append(_value(t.object))
    nodes = []
    for sid in order:
        node: dict[str, Any] = {"@id": sid}
        for key in sorted(subjects[sid], key=lambda k: (k != "@type", k)):
            values = subjects[sid][key]
            node[key] = values[0] if len(values) == 1 else values
        nodes.append(node)
    return nodes


def to_jsonld(
    statements: Sequence[Triple] | Sequence[Quad], *, context_ref: str | dict[str, Any] | None = None
) -> bytes:
    """Compact JSON-LD: ``{"@context": …, "@graph": [nodes]}``; quads become one node per graph.

    The context is always inline, so any JSON-LD processor reads the document with no network
    (issue 9: a remote ``@context`` had to be fetched from an address that did not resolve).
    ``context_ref`` may be a context object to embed instead of the published one; a string (the
    URL the same context is published at, ``/context.jsonld``) is accepted for the callers that
    pass one and does not change the document. Statements must already be sorted.
    """
    published = not isinstance(context_ref, dict)
    context: Any = context_ref if not published else jsonld_context()["@context"]
    if isinstance(context, dict) and "@context" in context:
        context = context["@context"]
    graph: list[dict[str, Any]]
    if statements and isinstance(statements[0], Quad):
        by_graph: dict[str, list[Triple]] = {}
        for q in statements:
            assert isinstance(q, Quad)
            by_graph.setdefault(_node_ref(q.graph_name), []).append(q.triple)
        graph = [{"@id": g, "@graph": _nodes(ts)} for g, ts in by_graph.items()]
    else:
        graph = _nodes(s for s in statements if isinstance(s, Triple))
    context_text = _published_context_text() if published else _indented(context, 1)
    return ('{\n "@context": ' + context_text + ',\n "@graph": ' + _indented(graph, 1) + "\n}\n").encode("utf-8")


@lru_cache(maxsize=1)
def _published_context_text() -> str:
    return _indented(jsonld_context()["@context"], 1)


def _indented(value: Any, level: int = 0) -> str:
    """``json.dumps(value, ensure_ascii=False, indent=1)`` at nesting ``level``, byte for byte.

    json's indenting encoder is its pure-Python one (the C encoder has no indent); this writes the
    same text with the C string escaper and joins, in about 60 % of the time (entity documents
    are written on every request the document cache misses).
    """
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        pad = "\n" + " " * (level + 1)
        inner = ",".join(pad + encode_basestring(str(k)) + ": " + _indented(v, level + 1) for k, v in value.items())
        return "{" + inner + "\n" + " " * level + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        pad = "\n" + " " * (level + 1)
        return "[" + ",".join(pad + _indented(v, level + 1) for v in value) + "\n" + " " * level + "]"
    return json.dumps(value)


def deterministic_gzip(data: bytes) -> bytes:
    """gzip with no file name and mtime 0, so the same input always gives the same bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as out:
        out.write(data)
    return buffer.getvalue()
