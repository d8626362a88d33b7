"""SHACL property paths: read from the shapes graph once, then walked from each focus node."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph
from rdflib import RDF, SH, Graph, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from .data import DataGraph
from .terms import Term


class Unsupported(Exception):
    """The shapes use something this engine does not evaluate: pyshacl must run instead."""


@dataclass(frozen=True)
class Predicate:
    iri: pyoxigraph.NamedNode


@dataclass(frozen=True)
class Inverse:
    path: Path


@dataclass(frozen=True)
class Sequence:
    steps: tuple[Path, ...]


@dataclass(frozen=True)
class Alternative:
    options: tuple[Path, ...]


@dataclass(frozen=True)
class Repeat:
    path: Path
    least: int  # 0 or 1
    most: int | None  # 1, or None: unbounded


Path = Predicate | Inverse | Sequence | Alternative | Repeat

_REPEAT: dict[Node, tuple[int, int | None]] = {
    SH.zeroOrMorePath: (0, None), SH.oneOrMorePath: (1, None), SH.zeroOrOnePath: (0, 1)}


def read_path(g: Graph, node: Node, depth: int = 0) -> Path:
    if depth > 32:
        raise Unsupported("a path nested deeper than 32")
    if isinstance(node, URIRef):
        return Predicate(pyoxigraph.NamedNode(str(node)))
    if (node, RDF.first, None) in g:
        steps = tuple(read_path(g, step, depth + 1) for step in Collection(g, node))
        if len(steps) < 2:
            raise Unsupported("a sequence path of fewer than two steps")
        return Sequence(steps)
    kinds = [(p, o) for p, o in g.predicate_objects(node) if p != RDF.type]
    if len(kinds) != 1:
        raise Unsupported(f"a path node with {len(kinds)} path properties")
    p, o = kinds[0]
    if p == SH.inversePath:
        return Inverse(read_path(g, o, depth + 1))
    if p == SH.alternativePath:
        options = tuple(read_path(g, m, depth + 1) for m in Collection(g, o))
        if len(options) < 2:
            raise Unsupported("an alternative path of fewer than two options")
        return Alternative(options)
    if p in _REPEAT:
        least, most = _REPEAT[p]
        return Repeat(read_path(g, o, depth + 1), least, most)
    raise Unsupported(f"a path made with {p}")


def values(data: DataGraph, path: Path, node: Term) -> list[Term]:
    """The distinct nodes ``path`` reaches from ``node``."""
    if isinstance(path, Predicate):
        return data.objects(node, path.iri)
    return list(dict.fromkeys(_walk(data, path, [node])))


def _walk(data: DataGraph, path: Path, nodes: list[Term]) -> list[Term]:
    if isinstance(path, Predicate):
        return [o for n in nodes for o in data.objects(n, path.iri)]
    if isinstance(path, Inverse):
        if isinstance(path.path, Predicate):
            iri = path.path.iri
            return [s for n in nodes for s in data.subjects(iri, n)]
        return _inverse(data, path.path, nodes)
    if isinstance(path, Sequence):
        for step in path.steps:
            nodes = list(dict.fromkeys(_walk(data, step, nodes)))
        return nodes
    if isinstance(path, Alternative):
        return [v for option in path.options for v in _walk(data, option, nodes)]
    reached: dict[Term, None] = dict.fromkeys(nodes) if path.least == 0 else {}
    layer = nodes
    steps = 0
    while layer and (path.most is None or steps < path.most):
        layer = [n for n in dict.fromkeys(_walk(data, path.path, layer)) if n not in reached]
        reached.update(dict.fromkeys(layer))
        steps += 1
    return list(reached)


def _inverse(data: DataGraph, path: Path, nodes: list[Term]) -> list[Term]:
    """The nodes from which ``path`` reaches one of ``nodes``."""
    if isinstance(path, Predicate):
        return [s for n in nodes for s in data.subjects(path.iri, n)]
    if isinstance(path, Inverse):
        return _walk(data, path.path, nodes)
    if isinstance(path, Sequence):
        for step in reversed(path.steps):
            nodes = list(dict.fromkeys(_inverse(data, step, nodes)))
        return nodes
    if isinstance(path, Alternative):
        return [v for option in path.options for v in _inverse(data, option, nodes)]
    return _walk(data, Repeat(Inverse(path.path), path.least, path.most), nodes)
