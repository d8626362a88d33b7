"""Evaluate a shapes graph over a data graph held by pyoxigraph: SHACL Core, as pyshacl does it.

For every shape with targets, each focus node is validated; a constraint on a nested shape
(``sh:node``, ``sh:or``, ``sh:qualifiedValueShape`` …) asks whether a value node *conforms* to it,
which is computed once per (shape, node) and remembered: the project's shapes ask the same question
of the same node many times (a label's language, a city's country)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyoxigraph
from pyshacl.rdfutil.compare import compare_literal
from rdflib import RDF, RDFS, Literal, URIRef
from rdflib.term import Node

from .data import RDF_TYPE, DataGraph
from .paths import values
from .shapes import Shape, ShapesGraph, component
from .terms import XSD_STRING, Term, to_rdflib

_RDFS_RESOURCE = pyoxigraph.NamedNode(str(RDFS.Resource))


@dataclass(frozen=True)
class Result:
    """One validation result, with the terms a SHACL validation report gives it."""

    focus: Term
    path: Node | None  # the shape's sh:path as the shapes graph writes it (or a predicate, for sh:closed)
    value: Term | None
    shape: Node  # sh:sourceShape
    component: URIRef  # sh:sourceConstraintComponent
    severity: URIRef
    messages: tuple[Literal, ...]


#: (value or None, component) for each violation a constraint finds; sh:closed also gives the path
_Violation = tuple[Term | None, str, Node | None]


class Engine:
    def __init__(self, shapes: ShapesGraph, data: DataGraph,
                 selected: Mapping[str, Sequence[Term]] | None = None) -> None:
        self.shapes = shapes.shapes
        self.data = data
        self.selected = selected or {}  # what SPARQL targets select, when the caller ran them already
        self._conforms: dict[tuple[Node, Term], bool] = {}
        # each shape's constraints as (the method that checks it, its parameter), looked up once
        self._plans: dict[Node, list[tuple[Any, Any]]] = {}

    def _plan(self, shape: Shape) -> list[tuple[Any, Any]]:
        plan = self._plans.get(shape.node)
        if plan is None:
            plan = self._plans[shape.node] = [(getattr(self, "_" + c.kind), c.value) for c in shape.constraints]
        return plan

    def run(self) -> list[Result]:
        results: list[Result] = []
        for shape in sorted(self.shapes.values(), key=lambda s: str(s.node)):
            if shape.deactivated or not shape.targets:
                continue
            for focus in self.focus_nodes(shape):
                results.extend(self.validate(shape, focus))
        return results

    def focus_nodes(self, shape: Shape) -> list[Term]:
        t = shape.targets
        found: list[Term] = list(t.nodes)
        for cls in t.classes:
            found += self.data.instances(cls)
        for p in t.subjects_of:
            found += self.data.subjects_of(p)  # type: ignore[arg-type]
        for p in t.objects_of:
            found += self.data.objects_of(p)  # type: ignore[arg-type]
        for select in t.selects:
            known = self.selected.get(select)
            found += self.data.select(select) if known is None else known
        return list(dict.fromkeys(found))

    def conforms(self, shape_node: Node, node: Term) -> bool:
        key = (shape_node, node)
        known = self._conforms.get(key)
        if known is None:
            known = self._conforms[key] = not any(True for _ in self.validate(self.shapes[shape_node], node))
        return known

    def validate(self, shape: Shape, focus: Term) -> Iterator[Result]:
        """The results of validating ``focus`` against ``shape`` (its property shapes' included)."""
        if shape.deactivated:
            return
        nodes = [focus] if shape.path is None else values(self.data, shape.path, focus)
        for check, parameter in self._plan(shape):
            for value, kind, path in check(parameter, focus, nodes):
                yield Result(focus, path if path is not None else shape.path_node, value, shape.node,
                             component(kind), shape.severity, shape.messages)
        for prop in shape.properties:
            for node in nodes:
                yield from self.validate(self.shapes[prop], node)

    # -- the constraint components: each yields (value, kind, path) per violation ---------------

    @staticmethod
    def _each(nodes: list[Term], kind: str, ok: Any) -> Iterator[_Violation]:
        return ((v, kind, None) for v in nodes if not ok(v))

    def _class(self, cls: Term, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:
        return self._each(nodes, "class", lambda v: not isinstance(v, pyoxigraph.Literal)
                          and self.data.is_instance(v, cls))

    def _datatype(self, datatype: URIRef, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:
        return self._each(nodes, "datatype", lambda v: _has_datatype(v, datatype))

    def _nodeKind(self, kind: str, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:  # noqa: N802
        return self._each(nodes, "nodeKind", lambda v: _NODE_KIND[type(v)] in kind)

    def _minCount(self, n: int, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:  # noqa: N802
        if len(nodes) < n:
            yield None, "minCount", None

    def _maxCount(self, n: int, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:  # noqa: N802
        if len(nodes) > n:
            yield None, "maxCount", None

    def _range(self, kind: str, bound: Literal, nodes: list[Term], passes: Any) -> Iterator[_Violation]:
        bound_is_string = isinstance(bound.value, str)

        def ok(v: Term) -> bool:
            if not isinstance(v, pyoxigraph.Literal):
                return False
            lit = to_rdflib(v)
            assert isinstance(lit, Literal)
            if isinstance(lit.value, str) != bound_is_string:
                return False
            try:
                return bool(passes(compare_literal(lit, bound)))  # type: ignore[no-untyped-call]
            except (TypeError, NotImplementedError):
                return False
        return self._each(nodes, kind, ok)

    def _minExclusive(self, b: Literal, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:  # noqa: N802
        return self._range("minExclusive", b, nodes, lambda c: c > 0)

    def _minInclusive(self, b: Literal, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:  # noqa: N802
        return self._range("minInclusive", b, nodes, lambda c: c >= 0)

    def _maxExclusive(self, b: Literal, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:  # noqa: N802
        return self._range("maxExclusive", b, nodes, lambda c: c < 0)

    def _maxInclusive(self, b: Literal, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:  # noqa: N802
        return self._range("maxInclusive", b, nodes, lambda c: c <= 0)

    def _minLength(self, n: int, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:  # noqa: N802
        return self._each(nodes, "minLength", lambda v: not isinstance(v, pyoxigraph.BlankNode)
                          and len(v.value) >= n)

    def _maxLength(self, n: int, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:  # noqa: N802
        return self._each(nodes, "maxLength", lambda v: not isinstance(v, pyoxigraph.BlankNode)
                          and len(v.value) <= n)

    def _pattern(self, regex: Any, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:
        return self._each(nodes, "pattern", lambda v: not isinstance(v, pyoxigraph.BlankNode)
                          and regex.search(v.value) is not None)

    def _languageIn(self, tags: frozenset[str], focus: Term, nodes: list[Term]) -> Iterator[_Violation]:  # noqa: N802
        def ok(v: Term) -> bool:
            lang = v.language if isinstance(v, pyoxigraph.Literal) else None
            if not lang:
                return False
            return "*" in tags or lang.lower() in tags or lang.split("-")[0].lower() in tags
        return self._each(nodes, "languageIn", ok)

    def _uniqueLang(self, _on: bool, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:  # noqa: N802
        seen: set[str] = set()
        duplicates: dict[str, None] = {}
        for v in nodes:
            lang = v.language.lower() if isinstance(v, pyoxigraph.Literal) and v.language else None
            if lang is not None:
                if lang in seen:
                    duplicates[lang] = None
                seen.add(lang)
        return ((None, "uniqueLang", None) for _ in duplicates)

    def _equals(self, p: pyoxigraph.NamedNode, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:
        others = self.data.objects(focus, p)
        mine = set(nodes)
        theirs = set(others)
        yield from ((v, "equals", None) for v in nodes if v not in theirs)
        yield from ((v, "equals", None) for v in others if v not in mine)

    def _disjoint(self, p: pyoxigraph.NamedNode, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:
        theirs = set(self.data.objects(focus, p))
        return ((v, "disjoint", None) for v in nodes if v in theirs)

    def _lessThan(self, p: pyoxigraph.NamedNode, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:  # noqa: N802
        return self._less(p, focus, nodes, "lessThan", strict=True)

    def _lessThanOrEquals(self, p: pyoxigraph.NamedNode, focus: Term,  # noqa: N802
                          nodes: list[Term]) -> Iterator[_Violation]:
        return self._less(p, focus, nodes, "lessThanOrEquals", strict=False)

    def _less(self, p: pyoxigraph.NamedNode, focus: Term, nodes: list[Term], kind: str,
              *, strict: bool) -> Iterator[_Violation]:
        others = self.data.objects(focus, p)
        for v in nodes:  # one result per pair that is not in order, as pyshacl reports it
            yield from ((v, kind, None) for o in others if not _less(v, o, strict=strict))

    def _not(self, shape: Node, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:
        return self._each(nodes, "not", lambda v: not self.conforms(shape, v))

    def _node(self, shape: Node, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:
        return self._each(nodes, "node", lambda v: self.conforms(shape, v))

    def _and(self, shapes: tuple[Node, ...], focus: Term, nodes: list[Term]) -> Iterator[_Violation]:
        return self._each(nodes, "and", lambda v: all(self.conforms(s, v) for s in shapes))

    def _or(self, shapes: tuple[Node, ...], focus: Term, nodes: list[Term]) -> Iterator[_Violation]:
        return self._each(nodes, "or", lambda v: any(self.conforms(s, v) for s in shapes))

    def _xone(self, shapes: tuple[Node, ...], focus: Term, nodes: list[Term]) -> Iterator[_Violation]:
        return self._each(nodes, "xone", lambda v: sum(self.conforms(s, v) for s in shapes) == 1)

    def _qualified(self, kind: str, spec: tuple[int, Node, bool, tuple[Node, ...]],
                   nodes: list[Term]) -> Iterator[_Violation]:
        bound, shape, is_max, siblings = spec
        count = sum(1 for v in nodes if self.conforms(shape, v) and not any(self.conforms(s, v) for s in siblings))
        if count > bound if is_max else count < bound:
            yield None, kind, None

    def _qualifiedMinCount(self, spec: Any, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:  # noqa: N802
        return self._qualified("qualifiedMinCount", spec, nodes)

    def _qualifiedMaxCount(self, spec: Any, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:  # noqa: N802
        return self._qualified("qualifiedMaxCount", spec, nodes)

    def _closed(self, allowed: frozenset[Term], focus: Term, nodes: list[Term]) -> Iterator[_Violation]:
        for v in nodes:
            for p, o in self.data.outgoing(v):
                if p not in allowed and not (p == RDF_TYPE and o == _RDFS_RESOURCE):
                    yield o, "closed", URIRef(p.value)

    def _hasValue(self, term: Term, focus: Term, nodes: list[Term]) -> Iterator[_Violation]:  # noqa: N802
        if term not in nodes:
            yield None, "hasValue", None

    def _in(self, members: frozenset[Term], focus: Term, nodes: list[Term]) -> Iterator[_Violation]:
        return self._each(nodes, "in", lambda v: v in members)


_RDFS_LITERAL, _RDFS_DATATYPE, _RDF_LANG_STRING = RDFS.Literal, RDFS.Datatype, RDF.langString
_XSD_STRING = URIRef(XSD_STRING)
_NODE_KIND = {pyoxigraph.NamedNode: "IRI", pyoxigraph.BlankNode: "BlankNode", pyoxigraph.Literal: "Literal"}


def _has_datatype(v: Term, datatype: URIRef) -> bool:
    """pyshacl's reading of sh:datatype: the literal's datatype, and a well-formed lexical form."""
    if not isinstance(v, pyoxigraph.Literal):
        return False
    if datatype == _RDFS_LITERAL:
        return True
    if v.language:
        return datatype == _RDF_LANG_STRING
    if v.datatype.value == XSD_STRING:
        return datatype == _XSD_STRING
    if datatype == _RDFS_DATATYPE:
        return True
    if v.datatype.value != str(datatype):
        return False
    lit = to_rdflib(v)
    assert isinstance(lit, Literal)
    if getattr(lit, "ill_typed", None) is True:
        return False
    return _python_type_matches(lit, datatype)


def _python_type_matches(lit: Literal, datatype: URIRef) -> bool:
    import datetime
    from decimal import Decimal

    from rdflib import XSD

    expected: dict[URIRef, type | tuple[type, ...]] = {
        XSD.integer: int, XSD.float: float, XSD.decimal: Decimal, XSD.boolean: bool,
        XSD.date: datetime.date, XSD.time: datetime.time, XSD.dateTime: datetime.datetime,
    }
    wanted = expected.get(datatype)
    return True if wanted is None else isinstance(lit.value, wanted)


def _as_string(node: Node) -> str | None:
    """An IRI or a string literal as the text pyshacl compares; None for any other value."""
    if isinstance(node, URIRef):
        return str(node)
    if isinstance(node, Literal) and isinstance(node.value, str):
        return node.value
    return None


def _less(a: Term, b: Term, *, strict: bool) -> bool:
    """pyshacl's sh:lessThan(OrEquals): strings (IRIs, plain literals) compare with strings only."""
    left, right = to_rdflib(a), to_rdflib(b)
    ls, rs = _as_string(left), _as_string(right)
    if (ls is None) != (rs is None):
        return False
    if ls is not None and rs is not None:
        return ls < rs if strict else ls <= rs
    if not isinstance(left, Literal) or not isinstance(right, Literal):
        return False
    try:
        order = int(compare_literal(left, right))  # type: ignore[no-untyped-call]
    except (TypeError, NotImplementedError):
        return False
    return order < 0 if strict else order <= 0
