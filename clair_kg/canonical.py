"""Blank-node labels from content, so the same statements always serialize to the same bytes.

Parsers (rdflib, pyoxigraph) and stores label blank nodes at random. Everything that writes RDF
for others to compare — the release N-Quads whose hash is the ETag seed, the dumps, ``diff`` —
relabels them here first, so a dump made from a store equals one made from the build.
"""

from __future__ import annotations

__all__ = ["canonical_blank_nodes"]

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from pyoxigraph import BlankNode, Quad


def canonical_blank_nodes(quads: Sequence[Quad]) -> list[Quad]:
    """Relabel blank nodes by a hash of the statements around them, refined until stable.

    Each round hashes a blank node's statements with its neighbours' labels from the round before
    (colour refinement), so identical-looking nodes in different places (two ``[ sh:datatype
    xsd:gYear ]`` under different shapes) end up apart. Nodes still alike after that are twins, such
    as two copies of ``[ ex:c [ ex:d "x" ] ]`` in one graph: which parent gets which child then
    matters, so one twin is singled out (individualised) and the refinement runs again, until every
    node has its own label. Singling out either twin gives the same statements, so the bytes never
    depend on the parser's random labels.
    """
    blanks = sorted(
        {t.value for q in quads for t in (q.subject, q.object) if isinstance(t, BlankNode)}
    )
    if not blanks:
        return list(quads)
    marks: dict[str, int] = {}
    labels = _refined(quads, blanks, marks)
    while len(set(labels.values())) < len(blanks) and len(marks) < _MAX_INDIVIDUALISED:
        counts = Counter(labels.values())
        tied = min(label for label, n in counts.items() if n > 1)
        marks[min(b for b in blanks if labels[b] == tied)] = len(marks)
        labels = _refined(quads, blanks, marks)
    final: dict[str, str] = {}
    seen: dict[str, int] = defaultdict(int)
    for b in sorted(blanks, key=lambda b: labels[b]):
        n = seen[labels[b]]
        seen[labels[b]] += 1
        final[b] = f"b{labels[b]}" + (f"x{n}" if n else "")

    def relabel(term: Any) -> Any:
        return BlankNode(final[term.value]) if isinstance(term, BlankNode) else term

    return [Quad(relabel(q.subject), q.predicate, relabel(q.object), q.graph_name) for q in quads]


#: twins singled out at most (each costs one refinement); past it the rest keep a suffix by order
_MAX_INDIVIDUALISED = 1000


def _refined(quads: Sequence[Quad], blanks: list[str], marks: dict[str, int]) -> dict[str, str]:
    """Colour refinement of ``blanks``; a node in ``marks`` carries its mark into every round."""
    labels = {b: "" for b in blanks}
    distinct = 0
    for _round in range(32):  # refine until no new distinctions appear (information travels one hop a round)
        signature: dict[str, list[str]] = defaultdict(list)

        def show(term: Any, me: str, current: dict[str, str] = labels) -> str:
            if isinstance(term, BlankNode):
                return "_:self" if term.value == me else "_:" + current[term.value]
            return str(term)

        for q in quads:
            for b in {t.value for t in (q.subject, q.object) if isinstance(t, BlankNode)}:
                signature[b].append(
                    " ".join((show(q.subject, b), str(q.predicate), show(q.object, b), str(q.graph_name)))
                )
        for b, mark in marks.items():
            signature[b].append(f"individualised {mark}")
        labels = {
            b: hashlib.sha256("\n".join(sorted(signature[b])).encode("utf-8")).hexdigest()[:16]
            for b in blanks
        }
        now = len(set(labels.values()))
        if now == distinct and _round > 0:
            break
        distinct = now
    return labels
