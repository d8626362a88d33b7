"""Files a user adds to what is served (``clair-kg serve --load``), read as a Graph Store Protocol
server would read them.

``FILE`` goes into the default graph and its relative IRIs resolve against the file's own URL;
``FILE=IRI`` goes into the named graph ``IRI`` and resolves against it (SPARQL 1.1 Graph Store
Protocol §5.5: the graph IRI is the base). Blank nodes belong to their file: ``_:a`` in two files
is two blank nodes, as it is in two documents.
"""

from __future__ import annotations

__all__ = ["ExtraGraphs", "extra_graphs"]

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
from pyoxigraph import BlankNode, DefaultGraph, NamedNode, Quad, RdfFormat

from ..errors import ConfigError, SourceError


@dataclass(frozen=True)
class ExtraGraphs:
    nquads: bytes
    #: the named graphs the files fill
    graphs: tuple[str, ...]
    #: statements read from the files
    statements: int


def extra_graphs(specs: Sequence[str]) -> ExtraGraphs:
    """Read every ``FILE`` / ``FILE=IRI`` of ``specs`` into N-Quads.

    :raises ConfigError: a graph IRI that is not an absolute IRI.
    :raises SourceError: a file that cannot be read or parsed (the message names it and the line).
    """
    out = bytearray()
    graphs: list[str] = []
    count = 0
    for index, spec in enumerate(specs):
        file, sep, graph = spec.partition("=")
        path = Path(file)
        target: NamedNode | DefaultGraph = DefaultGraph()
        base = path.resolve().as_uri()
        if sep:
            try:
                target = NamedNode(graph)
            except ValueError as exc:
                raise ConfigError(f"--load {spec!r}: {graph!r} is not an absolute IRI ({exc})") from exc
            base = graph
            graphs.append(graph)
        fmt = RdfFormat.from_extension(path.suffix.lstrip(".")) or RdfFormat.TURTLE
        try:
            quads = [
                Quad(_scoped(q.subject, index), q.predicate, _scoped(q.object, index), target)  # type: ignore[arg-type]
                for q in pyoxigraph.parse(path=str(path), format=fmt, base_iri=base)
            ]
        except OSError as exc:
            raise SourceError(f"cannot read: {exc.strerror or exc}", file=file) from exc
        except SyntaxError as exc:
            raise SourceError(f"not valid {fmt.name}: {exc}", file=file) from exc
        count += len(quads)
        out += pyoxigraph.serialize(quads, format=RdfFormat.N_QUADS) or b""
    return ExtraGraphs(bytes(out), tuple(graphs), count)


def _scoped(term: object, index: int) -> object:
    """A blank node made the file's own (a prefix per file); any other term as it is."""
    return BlankNode(f"f{index}x{term.value}") if isinstance(term, BlankNode) else term
