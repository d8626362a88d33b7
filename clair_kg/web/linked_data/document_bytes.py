"""An entity document's bytes: the same bytes :func:`~clair_kg.publish.rdfio.serialize_graph` writes,
in less of Python's time.

Once an uncached ``/doc/…`` document is read without SPARQL, writing it costs as much as reading
it, and most of that was Python-level work per term: three ``str()`` calls per statement to sort, a
look at every term for the prefixes it needs, and JSON-LD built as dictionaries and then indented
by recursion. Here:

- the statements are sorted once by their N-Triples lines, which pyoxigraph writes for all of
  them in one call (the order is ``sort_triples``': UTF-8 bytes sort as the text does, and the
  line's closing `` .`` sorts before anything that could continue a term);
- the prefixes Turtle declares are found by looking at each distinct term once (a document names
  its entity, its properties and its neighbours many times);
- Turtle is written by ``pyoxigraph.serialize``, N-Triples joined from the sorted lines;
- JSON-LD is written as text in one pass, with what each IRI becomes (its compact form, its
  ``{"@id": …}`` block) remembered across documents.

``tests/test_entity_documents.py`` checks the bytes equal ``serialize_graph``'s for every entity of
the CLAIR graph and of a synthetic one, and for awkward statements. RDF/XML (rarely asked for) is
left to ``serialize_graph``.
"""

from __future__ import annotations

__all__ = ["FAST_FORMATS", "document_bytes"]

from collections.abc import Iterable
from functools import lru_cache
from json.encoder import encode_basestring

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, serialize

from ...namespaces import RDF_TYPE, XSD_STRING
from ...publish.rdfio import PREFIXES, TERM_ALIASES, compact_iri, serialize_graph, to_jsonld

TURTLE = "text/turtle"
N_TRIPLES = "application/n-triples"
JSON_LD = "application/ld+json"
#: the formats written here; any other goes to ``serialize_graph``
FAST_FORMATS = frozenset({TURTLE, N_TRIPLES, JSON_LD})

_XSD = PREFIXES["xsd"]
_ENTITY_SPACE = "https://w3id.org/clair-kg/id/"  # ids stay whole in JSON-LD (rdfio._node_ref)
_ALIAS_OF = {iri: key for key, iri in TERM_ALIASES.items()}


def document_bytes(triples: Iterable[Triple], media_type: str, *, context_ref: str | None = None) -> bytes:
    """``serialize_graph(triples, media_type, context_ref=context_ref)``, written faster.

    ``context_ref`` is the URL the published context is at (the document embeds that context, as
    ``serialize_graph`` does for a string).
    """
    if media_type not in FAST_FORMATS:
        return serialize_graph(triples, media_type, context_ref=context_ref)
    statements = list(triples)
    # N-Triples writes one line per statement, in the order given: each line is its statement's key
    lines = (serialize(statements, format=RdfFormat.N_TRIPLES) or b"").split(b"\n")[:-1]
    assert len(lines) == len(statements), "one N-Triples line per statement"
    order = sorted(range(len(lines)), key=lines.__getitem__)
    if media_type == N_TRIPLES:
        return b"".join(lines[i] + b"\n" for i in _unique(order, lines))
    ordered = [statements[i] for i in _unique(order, lines)]
    if media_type == JSON_LD:
        return _jsonld(ordered)
    return serialize(ordered, format=RdfFormat.TURTLE, prefixes=_prefixes(ordered)) or b""


def _prefixes(triples: list[Triple]) -> dict[str, str]:
    """The prefixes ``serialize_graph`` declares for ``triples``: those of every IRI, ``xsd`` for a
    literal typed in it (a plain literal too: its datatype is ``xsd:string``), in prefix order.

    Each distinct term is looked at once (a document names the same few IRIs many times).
    """
    terms: set[object] = set()
    for t in triples:
        terms.update((t.subject, t.predicate, t.object))
    used: dict[str, str] = {}
    for term in terms:
        if isinstance(term, NamedNode):
            used.update(_prefixes_of(term.value))
        elif isinstance(term, Literal) and term.datatype.value.startswith(_XSD):
            used["xsd"] = _XSD
    return dict(sorted(used.items()))


@lru_cache(maxsize=65536)  # the same few hundred properties, classes and neighbours in every document
def _prefixes_of(iri: str) -> tuple[tuple[str, str], ...]:
    return tuple((prefix, namespace) for prefix, namespace in PREFIXES.items() if iri.startswith(namespace))


def _unique(order: list[int], lines: list[bytes]) -> list[int]:
    """``order`` without a statement given twice (the same line next to itself, once sorted)."""
    return [i for n, i in enumerate(order) if n == 0 or lines[i] != lines[order[n - 1]]]


# --- JSON-LD, byte for byte as rdfio.to_jsonld with the published context -------------------------
# Nesting: the document is level 0, "@graph"'s list level 1, a node level 2, a single value level 3,
# a value in a list level 4 (json.dumps(indent=1) indents one space a level).

@lru_cache(maxsize=65536)
def _ref(iri: str) -> str:
    return iri if iri.startswith(_ENTITY_SPACE) else compact_iri(iri)


@lru_cache(maxsize=65536)
def _key(predicate: str) -> str:
    return _ALIAS_OF.get(predicate) or compact_iri(predicate)


@lru_cache(maxsize=1)
def _context_text() -> str:
    """The published context as ``to_jsonld`` writes it (cut from an empty document it wrote)."""
    empty = to_jsonld([]).decode("utf-8")
    head, tail = '{\n "@context": ', ',\n "@graph": []\n}\n'
    assert empty.startswith(head) and empty.endswith(tail), "to_jsonld's layout changed"
    return empty[len(head):-len(tail)]


def _node_ref(term: NamedNode | BlankNode) -> str:
    return "_:" + term.value if isinstance(term, BlankNode) else _ref(term.value)


@lru_cache(maxsize=65536)
def _iri_value(iri: str) -> str:
    """An IRI object at level 3: ``{"@id": …}``."""
    return '{\n    "@id": ' + encode_basestring(_ref(iri)) + "\n   }"


@lru_cache(maxsize=65536)
def _type_value(iri: str) -> str:
    return encode_basestring(compact_iri(iri))


def _value(term: object) -> str:
    """An object at level 3 (one level deeper: each line break followed by one more space)."""
    if isinstance(term, NamedNode):
        return _iri_value(term.value)
    if isinstance(term, BlankNode):
        return '{\n    "@id": ' + encode_basestring("_:" + term.value) + "\n   }"
    assert isinstance(term, Literal), "documents hold IRIs, blank nodes and literals"
    language = term.language
    if language:
        return '{\n    "@value": ' + encode_basestring(term.value) + ',\n    "@language": ' + encode_basestring(
            language) + "\n   }"
    datatype = term.datatype.value
    if datatype == XSD_STRING:
        return encode_basestring(term.value)  # a string has no line break: the same at any level
    return '{\n    "@value": ' + encode_basestring(term.value) + ',\n    "@type": ' + _type_value(datatype) + "\n   }"


def _key_order(key: str) -> tuple[bool, str]:
    return key != "@type", key  # "@type" first, then the keys in order


def _jsonld(ordered: list[Triple]) -> bytes:
    nodes: dict[str, dict[str, list[str]]] = {}
    for t in ordered:
        subject = t.subject
        assert isinstance(subject, NamedNode | BlankNode)
        sid = _node_ref(subject)
        props = nodes.get(sid)
        if props is None:
            props = nodes[sid] = {}
        predicate, obj = t.predicate.value, t.object
        if predicate == RDF_TYPE and isinstance(obj, NamedNode):
            props.setdefault("@type", []).append(_type_value(obj.value))
        else:
            props.setdefault(_key(predicate), []).append(_value(obj))
    parts = []
    for sid, props in nodes.items():
        node = ['{\n   "@id": ', encode_basestring(sid)]
        for key in sorted(props, key=_key_order):
            values = props[key]
            node += [",\n   ", encode_basestring(key), ": "]
            if len(values) == 1:
                node.append(values[0])
            else:
                node += ["[", ",".join("\n    " + v.replace("\n", "\n ") for v in values), "\n   ]"]
        node.append("\n  }")
        parts.append("".join(node))
    graph = "[" + ",".join("\n  " + part for part in parts) + "\n ]" if parts else "[]"
    return ('{\n "@context": ' + _context_text() + ',\n "@graph": ' + graph + "\n}\n").encode("utf-8")
