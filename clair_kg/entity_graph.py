"""An entity's graph: what the store says about one resource, for its document (``/doc/…``).

(Not SPARQL's ``DESCRIBE``, nor the endpoint's Service Description: this module builds the
:class:`EntityDocument` the linked-data pages and RDF documents are made from.)

:func:`describe` gathers, from any :class:`~clair_kg.store.Store`:

- the resource's own statements (and those of blank nodes it points to, two levels deep),
- the statements of others that point to it (incoming links),
- the labels of everything involved (objects, linking subjects, properties, classes),

each statement with the named graphs (sources) that state it, so a page can put the source beside
every value and show conflicting claims side by side. Its IRI is bound as a query parameter.

:func:`document_triples` reads the same graph without the sources, for the RDF documents. Its
definition is one CONSTRUCT (:data:`DOCUMENT_CONSTRUCT`, which names the IRI as a term in its text:
why, there), which a remote store answers; the embedded store is read with pyoxigraph's pattern
matching instead (:func:`document_from_patterns`: the same triples, tested for every entity,
without SPARQL's parse and plan, which cost most of an uncached document).
"""

from __future__ import annotations

__all__ = [
    "EntityDocument", "Statement", "VocabularyLabels", "construct_document_triples", "describe",
    "document_from_patterns", "document_query", "document_triples", "entity_iris", "label_language",
    "pick_label", "select_fixed",
]

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import chain

import pyoxigraph
from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, QuerySolutions, QueryTriples, Triple

from .namespaces import PREFIXES, RDF_TYPE
from .store import EmbeddedStore, Rows, Store, Term
from .store.evaluation import evaluate_query

RDFS_LABEL = PREFIXES["rdfs"] + "label"
SKOS_PREF = PREFIXES["skos"] + "prefLabel"
LABEL_PROPERTIES = (SKOS_PREF, RDFS_LABEL)
#: Cap on incoming links in one document (a hub such as a country can have many).
MAX_INCOMING = 2000
#: Solutions the one-query document may have (each is one statement, a label four per linking
#: thing): more, and it is a hub, read the capped way.
FIRST_TRY_LIMIT = 8 * MAX_INCOMING

# ?e is bound by the caller. It must appear in a triple pattern of every branch: bindings act like
# a VALUES clause joined at the end, so "BIND(?e AS ?s)" would not see them.
_OWN = """
SELECT ?s ?p ?o ?g WHERE {
  { GRAPH ?g { ?e ?p ?o } }
  UNION
  { GRAPH ?g0 { ?e ?p0 ?s } FILTER(isBlank(?s)) GRAPH ?g { ?s ?p ?o } }
  UNION
  { GRAPH ?g0 { ?e ?p0 ?b } FILTER(isBlank(?b)) GRAPH ?g1 { ?b ?p1 ?s } FILTER(isBlank(?s))
    GRAPH ?g { ?s ?p ?o } }
}
"""

_INCOMING = f"""
SELECT ?s ?p ?g WHERE {{ GRAPH ?g {{ ?s ?p ?e }} FILTER(!isBlank(?s)) }}
ORDER BY ?s ?p ?g LIMIT {MAX_INCOMING}
"""

_LABELS = """
SELECT DISTINCT ?x ?lp ?l WHERE {
  { ?e ?x ?o1 }
  UNION { ?e ?p2 ?x }
  UNION { ?x ?p3 ?e }
  UNION { ?s4 ?x ?e }
  UNION { ?e ?p5 ?b5 FILTER(isBlank(?b5)) ?b5 ?x ?o5 }
  UNION { ?e ?p6 ?b6 FILTER(isBlank(?b6)) ?b6 ?p7 ?x }
  FILTER(isIRI(?x))
  VALUES ?lp { <http://www.w3.org/2004/02/skos/core#prefLabel> <http://www.w3.org/2000/01/rdf-schema#label> }
  ?x ?lp ?l .
  FILTER(isLiteral(?l))
}
"""


#: The RDF document of an entity in one query (what :meth:`EntityDocument.triples` holds): its own
#: statements, those of its blank nodes two levels deep, the links of others to it, and the labels
#: of every IRI involved. Over the default graph (the merge of the sources): the document names no
#: source. The incoming links are not capped one by one here, only the whole answer (a LIMIT, so a
#: hub costs a bounded first try): :func:`document_triples` reads an entity with more than
#: :data:`MAX_INCOMING` links to it the capped way instead.
#:
#: ``$e`` is the entity. :func:`document_query` writes the IRI in its place (its N-Triples form,
#: validated when the ``NamedNode`` was made, as :func:`~clair_kg.store.bindings.bind_in_text`
#: writes a binding) rather than binding it with a VALUES block: pyoxigraph plans the nested
#: UNION groups without seeing a VALUES binding and scans the graph for each (measured: about 100×
#: slower at 10^4 statements), while with the IRI in the text every branch is an index lookup.
DOCUMENT_CONSTRUCT = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
CONSTRUCT { $e ?p ?o . ?b ?bp ?bo . ?s ?ip $e . ?x ?lp ?l . }
WHERE {
  { $e ?p ?o }
  UNION { $e ?p0 ?b FILTER(isBlank(?b)) ?b ?bp ?bo }
  UNION { $e ?p1 ?b1 FILTER(isBlank(?b1)) ?b1 ?p2 ?b FILTER(isBlank(?b)) ?b ?bp ?bo }
  UNION { ?s ?ip $e FILTER(!isBlank(?s)) }
  UNION {
    { $e ?x ?o1 } UNION { $e ?p3 ?x } UNION { ?x ?p4 $e } UNION { ?s4 ?x $e }
    UNION { $e ?p5 ?b5 FILTER(isBlank(?b5)) ?b5 ?x ?o5 } UNION { $e ?p6 ?b6 FILTER(isBlank(?b6)) ?b6 ?p7 ?x }
    ?x ?lp ?l
    FILTER(isIRI(?x) && isLiteral(?l) && ?lp IN (skos:prefLabel, rdfs:label))
  }
}
LIMIT """ + str(FIRST_TRY_LIMIT) + "\n"


@dataclass(frozen=True)
class Statement:
    subject: NamedNode | BlankNode
    predicate: NamedNode
    object: Term
    graphs: tuple[str, ...]  # named graphs (sources) stating it, sorted

    @property
    def triple(self) -> Triple:
        return Triple(self.subject, self.predicate, self.object)


@dataclass(frozen=True)
class EntityDocument:
    iri: str
    statements: tuple[Statement, ...]  # about the resource itself (and its blank nodes)
    incoming: tuple[Statement, ...]  # others pointing at it
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # IRI -> language -> label
    label_triples: tuple[Triple, ...] = ()

    @property
    def node(self) -> NamedNode:
        return NamedNode(self.iri)

    @property
    def own(self) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if isinstance(s.subject, NamedNode) and s.subject.value == self.iri)

    @property
    def blank_statements(self) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if isinstance(s.subject, BlankNode))

    def triples(self) -> list[Triple]:
        """The RDF document: own statements, incoming links and the labels of linked resources."""
        seen: dict[str, Triple] = {}
        for t in [s.triple for s in self.statements] + [s.triple for s in self.incoming] + list(self.label_triples):
            seen.setdefault(f"{t.subject} {t.predicate} {t.object}", t)
        return list(seen.values())


def label_language(labels: dict[str, str], lang: str) -> str | None:
    """The language key :func:`pick_label` picks from ``labels`` (``""`` for an untagged label).

    ``lang`` first, else English, else Japanese, else untagged, else any; None when there is none.
    """
    for candidate in (lang, "en", "ja", ""):
        if candidate in labels:
            return candidate
    return next(iter(labels), None)


def pick_label(labels: dict[str, str], lang: str) -> str | None:
    """The label in ``lang``, else English, else Japanese, else any; None when there is none."""
    key = label_language(labels, lang)
    return None if key is None else labels[key]


_ENTITY_IRIS = """
SELECT DISTINCT ?e WHERE {
  { ?e ?p ?o } UNION { ?s ?p ?e }
  FILTER(isIRI(?e) && STRSTARTS(STR(?e), ?space))
}"""


def entity_iris(store: Store, base_iri: str) -> frozenset[str]:
    """Every IRI under ``{base}id/`` the graph mentions, as a subject or an object.

    Read once per runtime, so ``/id`` and ``/doc`` learn whether an entity exists without a query.
    """
    rows = store.select(_ENTITY_IRIS, bindings={"space": Literal(f"{base_iri}id/")})
    return frozenset(t.value for t in (row.get("e") for row in rows) if isinstance(t, NamedNode))


def document_query(iri: str) -> str:
    """The CONSTRUCT query :func:`document_triples` evaluates for ``iri`` (see :data:`DOCUMENT_CONSTRUCT`).

    :raises ValueError: ``iri`` is not an IRI.
    """
    return DOCUMENT_CONSTRUCT.replace("$e", str(NamedNode(iri)))


def document_triples(store: Store, iri: str, *, vocabulary: VocabularyLabels | None = None) -> list[Triple]:
    """The RDF document about ``iri`` (the graph :data:`DOCUMENT_CONSTRUCT` defines); for a hub, the
    capped :func:`describe`.

    The embedded store is read by :func:`document_from_patterns`, a remote one with the CONSTRUCT
    (:func:`construct_document_triples`): a SPARQL endpoint has no pattern API. ``vocabulary`` keeps
    the labels of the properties and classes every document repeats (one per runtime).
    """
    if isinstance(store, EmbeddedStore):
        triples = document_from_patterns(store.inner, iri, vocabulary=vocabulary, kept_out=store.kept_out)
        return describe(store, iri).triples() if triples is None else triples
    return construct_document_triples(store, iri)


def construct_document_triples(store: Store, iri: str) -> list[Triple]:
    """The RDF document about ``iri`` with one CONSTRUCT; for a hub, the capped :func:`describe`.

    A hub is known by the answer itself (more than :data:`MAX_INCOMING` links to ``iri``, or the
    LIMIT reached), so no list of hubs has to be read beforehand.
    """
    triples = _construct(store, document_query(iri))
    node = NamedNode(iri)
    incoming = sum(1 for t in triples if t.object == node and not isinstance(t.subject, BlankNode))
    if len(triples) >= FIRST_TRY_LIMIT or incoming > MAX_INCOMING:
        return describe(store, iri).triples()
    return triples


_DEFAULT_GRAPH = DefaultGraph()
_LABEL_NODES = (NamedNode(SKOS_PREF), NamedNode(RDFS_LABEL))
_RDF_TYPE_NODE = NamedNode(RDF_TYPE)


class VocabularyLabels:
    """The label statements of properties and classes, read once per store and kept.

    Every document carries the labels of its properties and of its subject's classes (the
    CONSTRUCT's label branch): the same few hundred terms in every document, two pattern reads
    each (in a synthetic unit's document 8 of the 10 IRIs whose labels it holds, 16 of its 22
    reads). The release never changes while it is served (as for the runtime's document cache), so
    what was read stays right. Bounded: past ``max_terms`` terms the rest are read every time (a
    graph that uses so many is not the common case).
    """

    def __init__(self, store: pyoxigraph.Store, *, max_terms: int = 4096,
                 kept_out: NamedNode | None = None) -> None:
        self.store = store
        self.kept_out = kept_out
        self.max_terms = max_terms
        self._labels: dict[NamedNode, tuple[Triple, ...]] = {}

    @classmethod
    def of_store(cls, store: Store) -> VocabularyLabels | None:
        """The labels of ``store``'s vocabulary, for :func:`document_triples`; None for a remote store."""
        return cls(store.inner, kept_out=store.kept_out) if isinstance(store, EmbeddedStore) else None

    def of(self, term: NamedNode) -> tuple[Triple, ...]:
        labels = self._labels.get(term)
        if labels is None:
            labels = _labels_of(self.store, term, self.kept_out)
            if len(self._labels) < self.max_terms:
                self._labels[term] = labels  # one dict store, atomic under the GIL
        return labels

    def __len__(self) -> int:
        return len(self._labels)

    def __contains__(self, term: object) -> bool:
        return term in self._labels


def _labels_of(store: pyoxigraph.Store, term: NamedNode, kept_out: NamedNode | None) -> tuple[Triple, ...]:
    """``term``'s ``skos:prefLabel`` and ``rdfs:label`` statements with a literal (in the default graph,
    and in ``kept_out``, the large graph read beside it: ``EmbeddedStore.kept_out``).

    Asked of every graph and the default graph's kept: pyoxigraph starts a read of one named graph
    (the default graph too) several times slower than a read of all of them (measured: about
    4 µs against 0.3), and a label is in two graphs (its source's and the merge), not more. A
    statement of ``kept_out`` is not in the default graph (the merge leaves it out), so it counts once.
    """
    return tuple(quad.triple for lp in _LABEL_NODES for quad in store.quads_for_pattern(term, lp, None)
                 if isinstance(quad.object, Literal)
                 and (isinstance(quad.graph_name, DefaultGraph) or quad.graph_name == kept_out))


def document_from_patterns(store: pyoxigraph.Store, iri: str, *, vocabulary: VocabularyLabels | None = None,
                           kept_out: NamedNode | None = None) -> list[Triple] | None:
    """The graph :data:`DOCUMENT_CONSTRUCT` gives for ``iri``, read with pyoxigraph's pattern matching
    over the default graph (the merge of the sources); None for a hub (more than
    :data:`MAX_INCOMING` links to ``iri`` — counted as they are read, so a hub costs that many at
    most — or :data:`FIRST_TRY_LIMIT` statements), which the caller reads the capped way.

    Branch by branch, as the CONSTRUCT's: the entity's statements; those of its blank nodes and of
    theirs; the statements of others (not blank nodes) that point to it; and the labels of every
    IRI the label branch names: the entity's properties and objects, the subjects and properties
    of the links to it, the properties and objects of its blank nodes' statements.

    ``kept_out`` is the large graph left out of the default graph's copy and read beside it
    (``EmbeddedStore.kept_out``): every read is made of both, which share no statement.
    """
    if vocabulary is not None and (vocabulary.store is not store or vocabulary.kept_out != kept_out):
        raise ValueError("the vocabulary's labels were read from another store")
    entity = NamedNode(iri)
    read = store.quads_for_pattern

    def match(s: NamedNode | BlankNode | None, o: NamedNode | BlankNode | None) -> Iterable[Quad]:
        if kept_out is None:  # the common case: one read, no generator in between
            return read(s, None, o, _DEFAULT_GRAPH)
        return chain(read(s, None, o, _DEFAULT_GRAPH), read(s, None, o, kept_out))

    graph: set[Triple] = set()
    named: set[NamedNode] = set()  # whose labels the document holds: entities, read every time
    terms: set[NamedNode] = set()  # properties and classes, whose labels ``vocabulary`` may keep
    blanks: list[BlankNode] = []
    for quad in match(entity, None):
        triple = quad.triple
        graph.add(triple)
        predicate, obj = triple.predicate, triple.object
        terms.add(predicate)
        if isinstance(obj, NamedNode):
            (terms if predicate == _RDF_TYPE_NODE else named).add(obj)
        elif isinstance(obj, BlankNode):
            blanks.append(obj)
    deeper: list[BlankNode] = []
    for blank in blanks:
        for quad in match(blank, None):
            triple = quad.triple
            graph.add(triple)
            obj = triple.object
            terms.add(triple.predicate)
            if isinstance(obj, NamedNode):
                named.add(obj)
            elif isinstance(obj, BlankNode):
                deeper.append(obj)
    for blank in deeper:  # the second level's statements; their terms are not labelled
        graph.update(quad.triple for quad in match(blank, None))
    incoming = 0
    for quad in match(None, entity):
        subject = quad.subject
        terms.add(quad.predicate)  # also of a blank node's link (the label branch's ``?s4 ?x $e``)
        if isinstance(subject, BlankNode):
            continue
        incoming += 1
        if incoming > MAX_INCOMING:
            return None
        graph.add(quad.triple)
        if isinstance(subject, NamedNode):
            named.add(subject)
    for term in terms:
        graph.update(vocabulary.of(term) if vocabulary is not None else _labels_of(store, term, kept_out))
    for node in named - terms:
        graph.update(_labels_of(store, node, kept_out))
    if len(graph) >= FIRST_TRY_LIMIT:
        return None
    return list(graph)


def _construct(store: Store, query: str) -> list[Triple]:
    """``store.construct(query)``, without tokenising the text again for its depth on the embedded store.

    The depth check guards against what users send; this query's shape is ours and fixed (a test
    checks it), while its text is new for every IRI, so the check would miss its memo every time
    and cost as much as the evaluation itself (measured: 360 µs of about 800).
    """
    if isinstance(store, EmbeddedStore):
        result = evaluate_query(store.inner, query, base_iri=store.base_iri, kept_out=store.kept_out)
        assert isinstance(result, QueryTriples), "a CONSTRUCT answers triples"
        return list(result)
    return store.construct(query)


def select_fixed(store: Store, query: str, *, bindings: dict[str, Term] | None = None) -> Rows:
    """``store.select(query, bindings=…)`` for one of the pages' own queries (a fixed text, trusted).

    On the embedded store the depth check is left out, as in :func:`_construct`: the bound text is
    new for every entity, so tokenising it again cost about 360 µs a query on every page.
    """
    if not isinstance(store, EmbeddedStore):
        return store.select(query, bindings=bindings)
    result = evaluate_query(store.inner, query, base_iri=store.base_iri, bindings=bindings,
                            kept_out=store.kept_out)
    assert isinstance(result, QuerySolutions), "a SELECT answers solutions"
    names = [v.value for v in result.variables]
    rows = Rows(names)
    for solution in result:
        rows.append({name: term for name in names if (term := solution[name]) is not None})
    return rows


def _group(
    rows: list[dict[str, Term]], *, subject_key: str, object_of: NamedNode | None, default_subject: NamedNode
) -> list[Statement]:
    graphs: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    terms: dict[tuple[str, str, str], tuple[Term, Term, Term]] = {}
    for row in rows:
        s = row.get(subject_key, object_of if object_of is not None else default_subject)
        p = row["p"]
        o = row["o"] if object_of is None else object_of
        key = (str(s), str(p), str(o))
        terms[key] = (s, p, o)
        g = row.get("g")
        if isinstance(g, NamedNode):
            graphs[key].add(g.value)
    out = []
    for key in sorted(terms):
        s, p, o = terms[key]
        assert isinstance(s, NamedNode | BlankNode) and isinstance(p, NamedNode)
        out.append(Statement(s, p, o, tuple(sorted(graphs[key]))))
    return out


def describe(store: Store, iri: str) -> EntityDocument:
    """Everything the document about ``iri`` holds (empty statements if the graph does not know it)."""
    node = NamedNode(iri)
    rows = select_fixed(store, _OWN, bindings={"e": node})
    own = _group(rows, subject_key="s", object_of=None, default_subject=node)
    rows = select_fixed(store, _INCOMING, bindings={"e": node})
    incoming = _group(rows, subject_key="s", object_of=node, default_subject=node)
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    label_triples: list[Triple] = []
    rows = select_fixed(store, _LABELS, bindings={"e": node})
    for st in own:
        if st.subject == node and st.predicate.value in LABEL_PROPERTIES and isinstance(st.object, Literal):
            rows.append({"x": node, "lp": st.predicate, "l": st.object})
    rows.sort(key=lambda r: (str(r["x"]), LABEL_PROPERTIES.index(r["lp"].value), str(r["l"])))  # type: ignore[union-attr]
    for row in rows:
        x, lp, lit = row["x"], row["lp"], row["l"]
        assert isinstance(x, NamedNode) and isinstance(lp, NamedNode) and isinstance(lit, Literal)
        labels[x.value].setdefault(lit.language or "", lit.value)
        if x.value != iri:
            label_triples.append(Triple(x, lp, lit))
    return EntityDocument(
        iri=iri,
        statements=tuple(own),
        incoming=tuple(incoming),
        labels=dict(labels),
        label_triples=tuple(label_triples),
    )
