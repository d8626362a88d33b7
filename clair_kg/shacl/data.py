"""The data graph read from a pyoxigraph store: the default graph, or the union of named graphs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pyoxigraph

from .terms import Term

RDF_TYPE = pyoxigraph.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_SUBCLASS_OF = pyoxigraph.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")

_Subject = pyoxigraph.NamedNode | pyoxigraph.BlankNode


class DataGraph:
    """Pattern look-ups over the statements SHACL validates.

    A statement two named graphs both hold is one statement here (SHACL sees a graph, not a
    dataset), so every look-up returns distinct terms."""

    def __init__(self, store: pyoxigraph.Store, graphs: Sequence[str] | None = None) -> None:
        self.store = store
        self._names: list[pyoxigraph.NamedNode | pyoxigraph.DefaultGraph] = (
            [pyoxigraph.DefaultGraph()] if graphs is None else [pyoxigraph.NamedNode(g) for g in graphs])
        # one graph: the store answers for it; several: every graph's answer, merged
        self._only = self._names[0] if len(self._names) == 1 else None
        self._allowed = frozenset(self._names)
        self._supers: dict[Term, frozenset[Term]] = {}
        self._filter_all = True
        self._outside_subjects, self._outside_objects = self._outside() if self._only is None else (set(), set())

    #: the most statements outside the data graphs for which :meth:`_outside` keeps their nodes
    OUTSIDE_LIMIT = 100_000

    def _outside(self) -> tuple[set[Term], set[Term]]:
        """The subjects and objects of the store's statements in graphs that are not validated (the
        shapes graph, when a release validates its own store): a look-up about any other node needs
        no filtering by graph. With too many such statements, every look-up is filtered instead."""
        others = [g for g in (pyoxigraph.DefaultGraph(), *self.store.named_graphs()) if g not in self._allowed]
        subjects: set[Term] = set()
        objects: set[Term] = set()
        for graph in others:
            for n, q in enumerate(self.store.quads_for_pattern(None, None, None, graph)):
                if n + len(subjects) > self.OUTSIDE_LIMIT:
                    self._filter_all = True
                    return set(), set()
                subjects.add(q.subject)  # type: ignore[arg-type]
                objects.add(q.object)  # type: ignore[arg-type]
        self._filter_all = False
        return subjects, objects

    def _quads(self, s: _Subject | None, p: pyoxigraph.NamedNode | None,
               o: Term | None) -> Iterable[pyoxigraph.Quad]:
        if self._only is not None:
            return self.store.quads_for_pattern(s, p, o, self._only)
        if not self._filter_all and (s is not None and s not in self._outside_subjects
                                     or o is not None and o not in self._outside_objects):
            return self.store.quads_for_pattern(s, p, o, None)  # no statement of another graph matches
        allowed = self._allowed
        return (q for q in self.store.quads_for_pattern(s, p, o, None) if q.graph_name in allowed)

    def objects(self, s: Term, p: pyoxigraph.NamedNode) -> list[Term]:
        if isinstance(s, pyoxigraph.Literal):
            return []
        found: list[Term] = [q.object for q in self._quads(s, p, None)]  # type: ignore[misc]
        return found if self._only is not None else list(dict.fromkeys(found))

    def subjects(self, p: pyoxigraph.NamedNode, o: Term) -> list[Term]:
        found: list[Term] = [q.subject for q in self._quads(None, p, o)]  # type: ignore[misc]
        return found if self._only is not None else list(dict.fromkeys(found))

    def outgoing(self, s: Term) -> list[tuple[pyoxigraph.NamedNode, Term]]:
        if isinstance(s, pyoxigraph.Literal):
            return []
        found: list[tuple[pyoxigraph.NamedNode, Term]] = [
            (q.predicate, q.object) for q in self._quads(s, None, None)]  # type: ignore[misc]
        return found if self._only is not None else list(dict.fromkeys(found))

    def subjects_of(self, p: pyoxigraph.NamedNode) -> list[Term]:
        return list(dict.fromkeys(q.subject for q in self._quads(None, p, None)))  # type: ignore[misc]

    def objects_of(self, p: pyoxigraph.NamedNode) -> list[Term]:
        return list(dict.fromkeys(q.object for q in self._quads(None, p, None)))  # type: ignore[misc]

    def superclasses(self, cls: Term) -> frozenset[Term]:
        """``cls`` and every class it is an rdfs:subClassOf, transitively (cached: few classes)."""
        found = self._supers.get(cls)
        if found is None:
            seen: set[Term] = {cls}
            todo = [cls]
            while todo:
                for parent in self.objects(todo.pop(), RDFS_SUBCLASS_OF):
                    if parent not in seen:
                        seen.add(parent)
                        todo.append(parent)
            found = self._supers[cls] = frozenset(seen)
        return found

    def instances(self, cls: Term) -> list[Term]:
        """The nodes whose rdf:type is ``cls`` or one of its subclasses (SHACL's SHACL instance)."""
        classes: list[Term] = [cls]
        seen = {cls}
        for c in classes:
            for sub in self.subjects(RDFS_SUBCLASS_OF, c):
                if sub not in seen:
                    seen.add(sub)
                    classes.append(sub)
        return list(dict.fromkeys(n for c in classes for n in self.subjects(RDF_TYPE, c)))

    def is_instance(self, node: Term, cls: Term) -> bool:
        return any(cls in self.superclasses(t) for t in self.objects(node, RDF_TYPE))

    def select(self, query: str) -> list[Term]:
        """The ``?this`` of a SPARQL target's SELECT over this graph."""
        default: list[pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.DefaultGraph] | None = (
            None if isinstance(self._only, pyoxigraph.DefaultGraph) else list(self._names))
        solutions = self.store.query(query, default_graph=default)
        if not isinstance(solutions, pyoxigraph.QuerySolutions):
            return []
        return list(dict.fromkeys(row["this"] for row in solutions if row["this"] is not None))
