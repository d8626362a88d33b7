"""Which focus nodes a change can affect, so that only they are validated again.

SHACL shapes read more than their focus node: a property shape reads the node's values, ``sh:class``
reads each value's ``rdf:type`` (in whatever file states it), ``sh:inversePath`` reads statements
*about other nodes* that point at the focus. A change to one file can therefore change the findings
of nodes described elsewhere, and "validate the changed file" is wrong. What is right, and what this
module computes:

1. **How far the shapes read** (:func:`shapes_reach`): the longest walk a shape takes from its focus
   node (``depth``: ``org:memberDuring/time:hasEnd`` is 2 steps, a value's ``sh:class`` is 1 more),
   and the predicates it walks *backwards* (inverse paths, ``sh:targetObjectsOf``). A walk forwards
   may follow any predicate (an over-estimate that is always safe). Anything whose reach cannot be
   bounded this way — ``sh:zeroOrMorePath``, SPARQL constraints, rules, an unknown parameter — gives
   ``None``, and the whole graph is validated.
2. **The changed statements**: the difference between the last validated release's N-Quads and
   today's (both sorted, blank nodes labelled by content, so an unchanged statement has the same
   text). A change to an ``rdfs:subClassOf`` statement, which ``sh:class`` and ``sh:targetClass``
   follow to any length, validates everything.
3. **The focus nodes whose findings can change** (:func:`scope`): a node's findings depend only on
   the statements it reads. If a walk of at most ``depth - 1`` steps from a node F reaches a changed
   statement's subject (or its object, when that predicate is read backwards), F is re-checked. The
   first changed statement on any walk is reached through unchanged statements only, which are in
   today's graph, so walking today's graph backwards from the changed statements finds every such F.
   SPARQL targets (``sh:target [ a sh:SPARQLTarget ]``) are run with pyoxigraph on the last and on
   today's graph, and every node that entered or left one is re-checked too.
4. **The statements those nodes read** (a subgraph): everything within their reach, plus every
   statement that mentions them, the ontology and all ``rdfs:subClassOf`` statements. pyshacl runs
   on that subgraph; its findings about the re-checked nodes equal a whole-graph run's, because each
   of them reads the same statements in both. (Its findings about other nodes of the subgraph, whose
   surroundings are cut, are dropped; their previous findings are kept.) Before trusting it, each
   SPARQL target is run on the subgraph too and must select the same re-checked nodes as on the
   whole graph; else the whole graph is validated.
"""

from __future__ import annotations

__all__ = ["Reach", "Scope", "changed_quads", "nodes", "scope", "shapes_reach", "sparql_targets", "term_key"]

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyoxigraph
from rdflib import RDF, SH, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from .sources import SourceSet, rdflib_graph

RDFS_SUBCLASS_OF = "http://www.w3.org/2000/01/rdf-schema#subClassOf"

#: a node of the graph, as pyoxigraph gives it
Term = pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal | pyoxigraph.Triple

#: parameters that look at the node they apply to (a focus node, or a property shape's value) and
#: nothing else: they read no statement
_NO_READ = frozenset(SH[n] for n in (
    "datatype", "nodeKind", "minLength", "maxLength", "pattern", "flags", "languageIn", "in", "hasValue",
    "minInclusive", "maxInclusive", "minExclusive", "maxExclusive", "minCount", "maxCount", "uniqueLang",
    "qualifiedMinCount", "qualifiedMaxCount", "ignoredProperties",
))
#: parameters that read the statements of the node they apply to, one step: its rdf:type (sh:class;
#: the rdfs:subClassOf chain is handled apart), or all its properties (sh:closed)
_ONE_STEP = frozenset((SH["class"], SH.closed))
#: parameters of a property shape that compare its values with another property of the *focus* node
_PAIR = frozenset(SH[n] for n in ("equals", "disjoint", "lessThan", "lessThanOrEquals"))
#: parameters naming one shape, or a list of shapes, checked on the node they apply to
_SHAPE = frozenset((SH.node, SH["not"], SH.qualifiedValueShape, SH.property))
_SHAPE_LIST = frozenset((SH["and"], SH["or"], SH.xone))
#: what says nothing about validation, or is a target (read at the focus node itself)
_INERT = frozenset(SH[n] for n in (
    "path", "message", "name", "description", "severity", "deactivated", "order", "group", "defaultValue",
    "targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "target",
))
_UNBOUNDED = frozenset((SH.zeroOrMorePath, SH.oneOrMorePath))
#: whole-graph features: their reach is not bounded by walks from the focus node
_GLOBAL = frozenset((SH.rule, SH.sparql, SH.SPARQLFunction, SH.SPARQLTargetType, SH.JSTarget, SH.JSTargetType,
                     SH.JSConstraint, SH.entailment, SH.shapesGraph, SH.qualifiedValueShapesDisjoint, SH.declare,
                     SH.prefixes))


class _Unbounded(Exception):
    """The shapes read further than a bounded walk: validate the whole graph."""


@dataclass(frozen=True)
class Reach:
    """How far the shapes read from a focus node."""

    depth: int  # the most steps a walk from a focus node takes
    inverse: frozenset[str]  # predicates walked against their direction (or read to find targets)
    sparql_targets: tuple[str, ...]  # the SELECT of each SPARQL target


def shapes_reach(shapes: Graph) -> Reach | None:
    """The reach of every shape in ``shapes``, or None when it cannot be bounded."""
    try:
        return _Analysis(shapes).reach()
    except _Unbounded:
        return None


class _Analysis:
    def __init__(self, shapes: Graph) -> None:
        self.g = shapes
        self.inverse: set[str] = set()
        self.depths: dict[Node, int] = {}
        self.open: set[Node] = set()

    def reach(self) -> Reach:
        if any(p in _GLOBAL or o in _GLOBAL for _s, p, o in self.g):
            raise _Unbounded
        shapes: set[Node] = set(self.g.subjects(RDF.type, SH.NodeShape))
        shapes |= set(self.g.subjects(RDF.type, SH.PropertyShape)) | set(self.g.subjects(SH.path, None))
        for kind in (*_SHAPE, *_TARGETS):
            shapes |= set(self.g.subjects(kind, None))
        sparql: list[str] = []
        for shape in list(shapes):
            for p in self.g.objects(shape, SH.targetObjectsOf):
                self.inverse.add(str(p))
            for target in self.g.objects(shape, SH.target):
                select = self.g.value(target, SH.select)
                if (target, RDF.type, SH.SPARQLTarget) not in self.g or select is None:
                    raise _Unbounded
                sparql.append(str(select))
        depth = max((self.depth(s) for s in shapes), default=0)
        return Reach(depth=depth, inverse=frozenset(self.inverse), sparql_targets=tuple(sorted(sparql)))

    def depth(self, shape: Node) -> int:
        """Steps a walk from the node ``shape`` is applied to can take."""
        if shape in self.depths:
            return self.depths[shape]
        if shape in self.open:  # a shape that refers to itself: no bound
            raise _Unbounded
        self.open.add(shape)
        path = self.g.value(shape, SH.path)
        at_node = 0  # steps taken from the node the constraints apply to
        at_focus = 0  # steps taken from the focus node (a property shape's pair constraints)
        for p, o in self.g.predicate_objects(shape):
            if not isinstance(p, URIRef) or not str(p).startswith(str(SH)) or p in _INERT or p in _NO_READ:
                continue
            if p in _ONE_STEP:
                at_node = max(at_node, 1)
            elif p in _PAIR and path is not None:
                at_focus = max(at_focus, 1)
            elif p in _SHAPE:
                at_node = max(at_node, self.depth(o))
            elif p in _SHAPE_LIST:
                at_node = max([at_node, *(self.depth(m) for m in Collection(self.g, o))])
            else:
                raise _Unbounded
        steps = at_node if path is None else max(self.path_length(path, forward=True) + at_node, at_focus)
        self.open.discard(shape)
        self.depths[shape] = steps
        return steps

    def path_length(self, path: Node, *, forward: bool) -> int:
        if isinstance(path, URIRef):
            if not forward:
                self.inverse.add(str(path))
            return 1
        if isinstance(path, Literal):
            raise _Unbounded
        if (path, RDF.first, None) in self.g:  # a sequence
            return sum(self.path_length(step, forward=forward) for step in Collection(self.g, path))
        for p, o in self.g.predicate_objects(path):
            if p == SH.inversePath:
                return self.path_length(o, forward=not forward)
            if p == SH.alternativePath:
                return max(self.path_length(step, forward=forward) for step in Collection(self.g, o))
            if p == SH.zeroOrOnePath:
                return self.path_length(o, forward=forward)
            if p in _UNBOUNDED:
                raise _Unbounded
        raise _Unbounded


_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)


def term_key(term: Node) -> str:
    """A node in N-Triples, as pyoxigraph writes it: the key a finding's focus node is kept under."""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal):
        if term.language:
            return str(pyoxigraph.Literal(str(term), language=term.language))
        datatype = pyoxigraph.NamedNode(str(term.datatype)) if term.datatype is not None else None
        return str(pyoxigraph.Literal(str(term), datatype=datatype))
    return str(term)


def changed_quads(before: bytes, after: bytes) -> list[pyoxigraph.Quad]:
    """The statements in one of two sorted N-Quads texts and not in the other."""
    old, new = before.split(b"\n"), after.split(b"\n")
    i = j = 0
    changed: list[bytes] = []
    while i < len(old) and j < len(new):  # both sorted: one merge, no sets of a million lines
        if old[i] == new[j]:
            i, j = i + 1, j + 1
        elif old[i] < new[j]:
            changed.append(old[i])
            i += 1
        else:
            changed.append(new[j])
            j += 1
    changed += old[i:] + new[j:]
    text = b"\n".join(line for line in changed if line)
    return list(pyoxigraph.parse(text, format=pyoxigraph.RdfFormat.N_QUADS)) if text else []


@dataclass(frozen=True)
class Scope:
    """The focus nodes to validate again (as :func:`term_key` spells them) and what they read."""

    focus: frozenset[str]
    triples: frozenset[pyoxigraph.Triple]

    def graph(self) -> Graph:
        """What they read, as an rdflib graph (for pyshacl)."""
        return rdflib_graph(self.triples)

    def store(self) -> pyoxigraph.Store:
        """What they read, in the default graph of a store of its own (for :mod:`clair_kg.shacl`)."""
        store = pyoxigraph.Store()
        store.extend(pyoxigraph.Quad(t.subject, t.predicate, t.object, pyoxigraph.DefaultGraph())
                     for t in self.triples)
        return store


def sparql_targets(sources: SourceSet, reach: Reach) -> dict[str, frozenset[str]]:
    """The nodes each SPARQL target selects in today's graph (kept, so the next run can tell which
    nodes entered or left a target without loading the last graph again)."""
    graphs = {pyoxigraph.NamedNode(g) for g in sources.data_graph_iris}
    return {select: frozenset(_targets(sources.store, select, graphs)) for select in reach.sparql_targets}


def scope(sources: SourceSet, before: bytes, reach: Reach, *,
          targeted_before: dict[str, frozenset[str]] | None = None,
          targeted_now: dict[str, frozenset[str]] | None = None) -> Scope | None:
    """What to validate again after the sources changed from ``before`` (the N-Quads last validated,
    same shapes and ontology); None when only the whole graph will do. ``targeted_before`` and
    ``targeted_now`` are :func:`sparql_targets` of the last and today's graph, when known."""
    data_graphs = {pyoxigraph.NamedNode(g) for g in sources.data_graph_iris}
    changed = [q for q in changed_quads(before, sources.to_nquads()) if q.graph_name in data_graphs]
    if any(q.predicate.value == RDFS_SUBCLASS_OF for q in changed):
        return None
    walk = _Walker(sources.store, data_graphs, reach)
    start: set[Term] = set()
    for q in changed:
        start.add(q.subject)
        if q.predicate.value in reach.inverse:
            start.add(q.object)
    focus = walk.backwards(start, max(reach.depth - 1, 0))
    now = targeted_now if targeted_now is not None else sparql_targets(sources, reach)
    if reach.sparql_targets:
        if targeted_before is None or set(targeted_before) != set(reach.sparql_targets):
            previous = pyoxigraph.Store()
            previous.bulk_load(before, format=pyoxigraph.RdfFormat.N_QUADS)
            targeted_before = {select: frozenset(_targets(previous, select, data_graphs))
                               for select in reach.sparql_targets}
            del previous
        for select in reach.sparql_targets:
            focus |= {_node(k) for k in now[select] ^ targeted_before[select]}
    keys = frozenset(str(t) for t in focus)
    triples = walk.read_by(focus, max(reach.depth - 1, 0))
    triples |= walk.graph_triples(sources.project.graph_iri("ontology"))
    triples |= walk.with_predicate(RDFS_SUBCLASS_OF)
    if reach.sparql_targets:
        sub = pyoxigraph.Store()
        sub.extend(pyoxigraph.Quad(t.subject, t.predicate, t.object, pyoxigraph.DefaultGraph()) for t in triples)
        for select in reach.sparql_targets:
            if _targets(sub, select, None) & keys != now[select] & keys:
                return None
    return Scope(focus=keys, triples=frozenset(triples))


def nodes(keys: Iterable[str]) -> list[Term]:
    """Terms back from their N-Triples keys, in the order given (parsed as one document)."""
    text = "".join(f"<urn:s> <urn:p> {key} .\n" for key in keys)
    return [q.object for q in pyoxigraph.parse(text, format=pyoxigraph.RdfFormat.N_TRIPLES)] if text else []


def _node(key: str) -> Term:
    """A term back from its N-Triples key (a SPARQL target's result)."""
    (quad,) = pyoxigraph.parse(f"<urn:s> <urn:p> {key} .", format=pyoxigraph.RdfFormat.N_TRIPLES)
    term: Term = quad.object
    return term


def _targets(store: pyoxigraph.Store, select: str, graphs: set[pyoxigraph.NamedNode] | None) -> set[str]:
    solutions = store.query(select, default_graph=sorted(graphs, key=str) if graphs else None)
    if not isinstance(solutions, pyoxigraph.QuerySolutions):
        return set()
    return {str(row["this"]) for row in solutions if row["this"] is not None}


class _Walker:
    """Walks over today's graph (the data graphs only, as pyshacl sees them)."""

    def __init__(self, store: pyoxigraph.Store, graphs: set[pyoxigraph.NamedNode], reach: Reach) -> None:
        self.store = store
        self.graphs = graphs
        self.inverse = [pyoxigraph.NamedNode(p) for p in sorted(reach.inverse)]

    def _quads(self, s: Term | None = None, p: pyoxigraph.NamedNode | None = None,
               o: Term | None = None) -> Iterator[pyoxigraph.Quad]:
        if isinstance(s, pyoxigraph.Literal):
            return
        for q in self.store.quads_for_pattern(s, p, o, None):
            if q.graph_name in self.graphs:
                yield q

    def backwards(self, start: Iterable[Term], steps: int) -> set[Term]:
        """Every node from which a walk of at most ``steps`` steps reaches one of ``start``."""
        seen = set(start)
        layer = set(seen)
        for _ in range(steps):
            found: set[Term] = set()
            for n in layer:
                found.update(q.subject for q in self._quads(o=n))  # F --p--> n, any p
                for p in self.inverse:
                    found.update(q.object for q in self._quads(s=n, p=p))  # F <--p-- n, read backwards
            layer = found - seen
            seen |= found
        return seen

    def read_by(self, focus: Iterable[Term], steps: int) -> set[pyoxigraph.Triple]:
        """Every statement a walk of at most ``steps + 1`` steps from ``focus`` can read, and every
        statement that mentions a focus node."""
        triples: set[pyoxigraph.Triple] = set()
        focus = set(focus)
        for f in focus:
            triples.update(q.triple for q in self._quads(o=f))
        seen = set(focus)
        layer = set(focus)
        for step in range(steps + 1):
            found: set[Term] = set()
            for n in layer:
                for q in self._quads(s=n):
                    triples.add(q.triple)
                    found.add(q.object)
                for p in self.inverse:
                    for q in self._quads(p=p, o=n):
                        triples.add(q.triple)
                        found.add(q.subject)
            if step == steps:
                break
            layer = found - seen
            seen |= found
        return triples

    def graph_triples(self, iri: str) -> set[pyoxigraph.Triple]:
        return {q.triple for q in self.store.quads_for_pattern(None, None, None, pyoxigraph.NamedNode(iri))}

    def with_predicate(self, predicate: str) -> set[pyoxigraph.Triple]:
        return {q.triple for q in self._quads(p=pyoxigraph.NamedNode(predicate))}
