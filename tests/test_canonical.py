"""Blank-node labels from content: the same statements give the same bytes, whatever the parser's labels."""

from __future__ import annotations

import pyoxigraph
from pyoxigraph import RdfFormat

from clair_kg.canonical import canonical_blank_nodes

# Twins: two copies of one structure under one subject in one graph, so colour refinement alone
# cannot tell them apart, and pairing a parent with the other copy's child would change the statements.
TWINS = b"""@prefix ex: <http://example.org/> .
ex:a ex:b [ ex:c [ ex:d "x" ] ] , [ ex:c [ ex:d "x" ] ] .
ex:a ex:e [ ex:f [ ex:g [ ex:h "y" ] ] ] , [ ex:f [ ex:g [ ex:h "y" ] ] ] , [ ex:f [ ex:g [ ex:h "y" ] ] ] .
[ ex:loop _:l ] . _:l ex:loop [ ex:i "z" ] .
"""


def _canonical_bytes() -> bytes:
    quads = list(pyoxigraph.parse(TWINS, format=RdfFormat.TURTLE, rename_blank_nodes=True))
    lines = (pyoxigraph.serialize(canonical_blank_nodes(quads), format=RdfFormat.N_QUADS) or b"").splitlines()
    return b"\n".join(sorted(lines))


def test_twins_get_the_same_labels_whatever_the_parser_called_them() -> None:
    first = _canonical_bytes()
    assert all(_canonical_bytes() == first for _ in range(30))
    # every node got its own label, and the graph is the same graph
    parsed = list(pyoxigraph.parse(first, format=RdfFormat.N_QUADS))
    blanks = {t.value for q in parsed for t in (q.subject, q.object) if isinstance(t, pyoxigraph.BlankNode)}
    assert len(blanks) == 2 * 2 + 3 * 3 + 3 and len(parsed) == 6 + 12 + 3


def test_no_blank_nodes_no_change() -> None:
    quads = list(pyoxigraph.parse(b"<http://e/a> <http://e/b> <http://e/c> .", format=RdfFormat.N_TRIPLES))
    assert canonical_blank_nodes(quads) == quads
