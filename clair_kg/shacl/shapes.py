"""The shapes graph read once into plain values: each shape's targets, path and constraints.

Only SHACL Core (plus the SPARQL target the project uses) is read. Anything else in the ``sh:``
vocabulary, or a parameter this engine would have to guess the meaning of, raises
:class:`~clair_kg.shacl.paths.Unsupported`, and the caller runs pyshacl instead: an engine that
skipped a constraint it does not know would validate less and say nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rdflib import RDF, RDFS, SH, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from .paths import Path, Unsupported, read_path
from .terms import Term, to_oxigraph

#: parameter -> (constraint kind, its component); a kind with several parameters names its first
_COMPONENTS: dict[URIRef, str] = {SH[name]: name for name in (
    "class", "datatype", "nodeKind", "minCount", "maxCount", "minExclusive", "minInclusive", "maxExclusive",
    "maxInclusive", "minLength", "maxLength", "pattern", "languageIn", "uniqueLang", "equals", "disjoint",
    "lessThan", "lessThanOrEquals", "not", "and", "or", "xone", "node", "qualifiedValueShape", "closed",
    "hasValue", "in",
)}
#: parameters read together with another one
_COMPANIONS = frozenset(SH[n] for n in (
    "flags", "qualifiedMinCount", "qualifiedMaxCount", "qualifiedValueShapesDisjoint", "ignoredProperties"))
_TARGETS = frozenset(SH[n] for n in ("targetClass", "targetNode", "targetObjectsOf", "targetSubjectsOf", "target"))
#: what says nothing about validation (or is read apart: sh:property, the result's own terms)
_INERT = frozenset(SH[n] for n in (
    "path", "message", "severity", "deactivated", "name", "description", "order", "group", "defaultValue",
    "property", "select",
    # prefix declarations: they matter only to SPARQL, and a sh:sparql or sh:prefixes is refused
    "declare", "prefix", "namespace",
    # the path vocabulary (read by paths.read_path)
    "inversePath", "alternativePath", "zeroOrMorePath", "oneOrMorePath", "zeroOrOnePath",
    # a validation report's terms (the W3C tests keep the expected report next to the shapes)
    "conforms", "result", "focusNode", "resultPath", "value", "sourceShape", "sourceConstraintComponent",
    "resultSeverity", "resultMessage", "sourceConstraint", "detail",
))
_KNOWN_CLASSES = frozenset(SH[n] for n in (
    "NodeShape", "PropertyShape", "Shape", "SPARQLTarget", "ValidationReport", "ValidationResult"))

_COMPONENT = {
    "class": "ClassConstraintComponent", "datatype": "DatatypeConstraintComponent",
    "nodeKind": "NodeKindConstraintComponent", "minCount": "MinCountConstraintComponent",
    "maxCount": "MaxCountConstraintComponent", "minExclusive": "MinExclusiveConstraintComponent",
    "minInclusive": "MinInclusiveConstraintComponent", "maxExclusive": "MaxExclusiveConstraintComponent",
    "maxInclusive": "MaxInclusiveConstraintComponent", "minLength": "MinLengthConstraintComponent",
    "maxLength": "MaxLengthConstraintComponent", "pattern": "PatternConstraintComponent",
    "languageIn": "LanguageInConstraintComponent", "uniqueLang": "UniqueLangConstraintComponent",
    "equals": "EqualsConstraintComponent", "disjoint": "DisjointConstraintComponent",
    "lessThan": "LessThanConstraintComponent", "lessThanOrEquals": "LessThanOrEqualsConstraintComponent",
    "not": "NotConstraintComponent", "and": "AndConstraintComponent", "or": "OrConstraintComponent",
    "xone": "XoneConstraintComponent", "node": "NodeConstraintComponent",
    "qualifiedMinCount": "QualifiedMinCountConstraintComponent",
    "qualifiedMaxCount": "QualifiedMaxCountConstraintComponent", "closed": "ClosedConstraintComponent",
    "hasValue": "HasValueConstraintComponent", "in": "InConstraintComponent",
}


def component(kind: str) -> URIRef:
    return SH[_COMPONENT[kind]]


@dataclass(frozen=True)
class Constraint:
    kind: str  # the parameter's local name: "minCount", "qualifiedMinCount", ...
    value: Any  # what the evaluator needs, already converted (a term, a number, shapes, a regex)


@dataclass(frozen=True)
class Targets:
    nodes: tuple[Term, ...] = ()
    classes: tuple[Term, ...] = ()
    subjects_of: tuple[Term, ...] = ()
    objects_of: tuple[Term, ...] = ()
    selects: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.nodes or self.classes or self.subjects_of or self.objects_of or self.selects)


@dataclass(frozen=True)
class Shape:
    node: Node  # the shape in the shapes graph (a result's sh:sourceShape)
    path_node: Node | None  # its sh:path as written (a result's sh:resultPath)
    path: Path | None
    severity: URIRef
    messages: tuple[Literal, ...]
    deactivated: bool
    targets: Targets
    constraints: tuple[Constraint, ...]
    properties: tuple[Node, ...]  # its sh:property shapes


@dataclass(frozen=True)
class ShapesGraph:
    shapes: dict[Node, Shape] = field(default_factory=dict)

    def targeted(self) -> list[Shape]:
        return [s for s in self.shapes.values() if s.targets and not s.deactivated]


def read_shapes(g: Graph) -> ShapesGraph:
    """Every shape of ``g``, found as pyshacl finds them.

    :raises Unsupported: ``g`` uses a feature this engine does not evaluate."""
    for s, p, o in g:
        if p == RDF.type and isinstance(o, URIRef) and str(o).startswith(str(SH)) and o not in _KNOWN_CLASSES:
            raise Unsupported(f"{s} is a {o}")
        if str(p).startswith(str(SH)) and p not in _COMPONENTS and p not in _COMPANIONS and p not in _TARGETS \
                and p not in _INERT:
            raise Unsupported(f"{p} is not evaluated by this engine")
    found: dict[Node, Shape] = {}
    for node in sorted(_shape_nodes(g), key=str):
        found[node] = _read_shape(g, node)
    for shape in list(found.values()):  # every shape a constraint names must be known
        for c in shape.constraints:
            for ref in _references(c):
                if ref not in found:
                    found[ref] = _read_shape(g, ref)
    _refuse_cycles(found)
    return ShapesGraph(found)


def _refuse_cycles(shapes: dict[Node, Shape]) -> None:
    """A shape that refers to itself, through any chain of shapes, has no meaning SHACL Core defines
    (pyshacl stops at a recursion limit): it is left to pyshacl, never looped on here."""
    done: set[Node] = set()

    def visit(node: Node, path: list[Node]) -> None:
        if node in path:
            raise Unsupported(f"the shape {node} refers to itself")
        if node in done:
            return
        shape = shapes[node]
        for ref in [*shape.properties, *(r for c in shape.constraints for r in _references(c))]:
            visit(ref, [*path, node])
        done.add(node)

    for node in list(shapes):
        visit(node, [])


def _references(c: Constraint) -> list[Node]:
    if c.kind in ("node", "not"):
        return [c.value]
    if c.kind in ("and", "or", "xone"):
        return list(c.value)
    if c.kind in ("qualifiedMinCount", "qualifiedMaxCount"):
        return [c.value[1], *c.value[3]]
    return []


def _shape_nodes(g: Graph) -> set[Node]:
    nodes: set[Node] = set(g.subjects(RDF.type, SH.NodeShape)) | set(g.subjects(RDF.type, SH.PropertyShape))
    for p in (*_TARGETS, SH.property, SH.node):
        nodes |= set(g.subjects(p, None))
    for p in (SH.property, SH.node, SH["not"], SH.qualifiedValueShape):
        nodes |= set(g.objects(None, p))
    for p in (SH["and"], SH["or"], SH.xone):
        for lst in g.objects(None, p):
            nodes |= set(_list(g, lst))
    return nodes


def _list(g: Graph, node: Node) -> list[Node]:
    if node != RDF.nil and (node, RDF.first, None) not in g:
        raise Unsupported(f"{node} is not an RDF list")
    return list(Collection(g, node))


def _one(g: Graph, s: Node, p: URIRef) -> Node | None:
    values = list(g.objects(s, p))
    if len(values) > 1:
        raise Unsupported(f"{s} has {len(values)} values of {p}")
    return values[0] if values else None


def _integer(value: Node) -> int:
    if not isinstance(value, Literal) or not isinstance(value.value, int) or isinstance(value.value, bool):
        raise Unsupported(f"{value!r} is not an integer")
    return int(value.value)


def _boolean(value: Node) -> bool:
    if not isinstance(value, Literal) or not isinstance(value.value, bool):
        raise Unsupported(f"{value!r} is not a boolean")
    return bool(value.value)


def _targets(g: Graph, node: Node) -> Targets:
    classes = [to_oxigraph(c) for c in g.objects(node, SH.targetClass)]
    implicit = {RDFS.Class, *g.subjects(RDFS.subClassOf, RDFS.Class)}
    if any(t in implicit for t in g.objects(node, RDF.type)):
        classes.append(to_oxigraph(node))
    selects: list[str] = []
    for target in g.objects(node, SH.target):
        select = _one(g, target, SH.select)
        if (target, RDF.type, SH.SPARQLTarget) not in g or not isinstance(select, Literal) \
                or set(g.predicates(target, None)) != {RDF.type, SH.select}:
            raise Unsupported(f"{node}'s sh:target is not a plain SPARQL target")
        selects.append(str(select))
    return Targets(
        nodes=tuple(to_oxigraph(n) for n in g.objects(node, SH.targetNode)),
        classes=tuple(dict.fromkeys(classes)),
        subjects_of=tuple(to_oxigraph(p) for p in g.objects(node, SH.targetSubjectsOf)),
        objects_of=tuple(to_oxigraph(p) for p in g.objects(node, SH.targetObjectsOf)),
        selects=tuple(selects),
    )


def _read_shape(g: Graph, node: Node) -> Shape:
    path_node = _one(g, node, SH.path)
    severity = _one(g, node, SH.severity) or SH.Violation
    if not isinstance(severity, URIRef):
        raise Unsupported(f"{node}'s severity is {severity!r}")
    deactivated = _one(g, node, SH.deactivated)
    constraints: list[Constraint] = []
    for p in sorted(set(g.predicates(node, None)), key=str):
        kind = _COMPONENTS.get(p) if isinstance(p, URIRef) else None
        if kind is None:
            continue
        for value in sorted(g.objects(node, p), key=str):
            constraints.extend(_constraints(g, node, kind, value))
    return Shape(
        node=node,
        path_node=path_node,
        path=read_path(g, path_node) if path_node is not None else None,
        severity=severity,
        messages=tuple(m for m in g.objects(node, SH.message) if isinstance(m, Literal)),
        deactivated=_boolean(deactivated) if deactivated is not None else False,
        targets=_targets(g, node),
        constraints=tuple(constraints),
        properties=tuple(sorted(g.objects(node, SH.property), key=str)),
    )


_FLAGS = {"i": "IGNORECASE", "m": "MULTILINE", "s": "DOTALL", "x": "VERBOSE"}


def _constraints(g: Graph, node: Node, kind: str, value: Node) -> list[Constraint]:
    if kind == "hasValue" or kind == "class" and isinstance(value, URIRef | BNode):
        return [Constraint(kind, to_oxigraph(value))]
    if kind in ("equals", "disjoint", "lessThan", "lessThanOrEquals"):
        if not isinstance(value, URIRef):  # a predicate, not a path: as pyshacl reads it
            raise Unsupported(f"sh:{kind} {value!r}")
        return [Constraint(kind, to_oxigraph(value))]
    if kind == "datatype":
        if not isinstance(value, URIRef):
            raise Unsupported(f"sh:datatype {value!r}")
        return [Constraint(kind, value)]
    if kind == "nodeKind":
        kinds = {SH[n] for n in ("IRI", "BlankNode", "Literal", "BlankNodeOrIRI", "BlankNodeOrLiteral",
                                 "IRIOrLiteral")}
        if value not in kinds:
            raise Unsupported(f"sh:nodeKind {value!r}")
        return [Constraint(kind, str(value).rsplit("#", 1)[1])]
    if kind in ("minCount", "maxCount", "minLength", "maxLength"):
        return [Constraint(kind, _integer(value))]
    if kind in ("minExclusive", "minInclusive", "maxExclusive", "maxInclusive"):
        if not isinstance(value, Literal):
            raise Unsupported(f"sh:{kind} {value!r}")
        return [Constraint(kind, value)]
    if kind == "pattern":
        flags_node = _one(g, node, SH.flags)
        flags = 0
        for letter in str(flags_node or ""):
            if letter not in _FLAGS:
                raise Unsupported(f"regex flag {letter!r}")
            flags |= getattr(re, _FLAGS[letter])
        if not isinstance(value, Literal):
            raise Unsupported(f"sh:pattern {value!r}")
        try:
            return [Constraint(kind, re.compile(str(value), flags))]
        except re.error as exc:
            raise Unsupported(f"sh:pattern {value!r}: {exc}") from exc
    if kind == "languageIn":
        tags = _list(g, value)
        if not all(isinstance(t, Literal) and t.language is None for t in tags):
            raise Unsupported("sh:languageIn takes strings")
        return [Constraint(kind, frozenset(str(t).lower() for t in tags))]
    if kind in ("uniqueLang", "closed"):
        if not _boolean(value):
            return []
        if kind == "closed":
            allowed: set[Node] = {p for ps in g.objects(node, SH.property) for p in g.objects(ps, SH.path)
                       if isinstance(p, URIRef)}
            for ignored in g.objects(node, SH.ignoredProperties):
                allowed |= set(_list(g, ignored))
            return [Constraint(kind, frozenset(to_oxigraph(p) for p in allowed))]
        return [Constraint(kind, True)]
    if kind in ("not", "node"):
        return [Constraint(kind, value)]
    if kind in ("and", "or", "xone"):
        members = _list(g, value)
        if not members:
            raise Unsupported(f"an empty sh:{kind}")
        return [Constraint(kind, tuple(members))]
    if kind == "in":
        return [Constraint(kind, frozenset(to_oxigraph(m) for m in _list(g, value)))]
    if kind == "qualifiedValueShape":
        least, most = _one(g, node, SH.qualifiedMinCount), _one(g, node, SH.qualifiedMaxCount)
        disjoint_node = _one(g, node, SH.qualifiedValueShapesDisjoint)
        siblings: list[Node] = []
        if disjoint_node is not None and _boolean(disjoint_node):
            for parent in g.subjects(SH.property, node):
                for sibling in g.objects(parent, SH.property):
                    siblings += [q for q in g.objects(sibling, SH.qualifiedValueShape) if q != value]
        found = []
        if least is not None:
            found.append(Constraint("qualifiedMinCount", (_integer(least), value, False, tuple(siblings))))
        if most is not None:
            found.append(Constraint("qualifiedMaxCount", (_integer(most), value, True, tuple(siblings))))
        return found
    raise Unsupported(f"sh:{kind}")  # pragma: no cover - every kind of _COMPONENTS is read above
