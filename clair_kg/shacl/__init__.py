"""A SHACL Core engine over the pyoxigraph store the release already holds.

pyshacl validates through rdflib, in pure Python: at 10^6 statements, half an hour. This engine
reads the shapes with rdflib (a small graph) and the data with pyoxigraph's indexes, and gives the
results pyshacl gives — each result's focus node, path, value, source shape, source constraint
component, severity and messages. ``tests/test_shacl_core.py`` holds it to the W3C SHACL core test
suite and to pyshacl; ``tests/test_shacl_project.py`` to pyshacl on the project's own shapes.

A shapes graph that uses anything else (SPARQL constraints, rules, custom components, …) raises
:class:`Unsupported` from :func:`validate`, before any data is read: the caller runs pyshacl."""

from __future__ import annotations

__all__ = ["Result", "ShapesGraph", "Term", "Unsupported", "check_supported", "validate"]

from collections.abc import Mapping, Sequence

import pyoxigraph
from rdflib import Graph

from .data import DataGraph
from .engine import Engine, Result
from .paths import Unsupported
from .shapes import ShapesGraph, read_shapes
from .terms import Term


def check_supported(shapes: Graph) -> ShapesGraph:
    """The shapes of ``shapes``, read.

    :raises Unsupported: it uses a feature this engine does not evaluate (the message says which)."""
    return read_shapes(shapes)


def validate(store: pyoxigraph.Store, shapes: Graph | ShapesGraph, graphs: Sequence[str] | None = None, *,
             selected: Mapping[str, Sequence[Term]] | None = None) -> list[Result]:
    """Validate the data of ``store`` — its default graph, or the union of the named ``graphs`` —
    against ``shapes``. ``selected``: what each SPARQL target's SELECT (its text) selects on that
    data, if the caller ran it already (a target not in it is run here).

    :raises Unsupported: the shapes use a feature this engine does not evaluate."""
    read = shapes if isinstance(shapes, ShapesGraph) else read_shapes(shapes)
    return Engine(read, DataGraph(store, graphs), selected).run()
