"""Blank-node labels from content, so the same statements always serialize to the same bytes.

Parsers (rdflib, pyoxigraph) and stores label blank nodes at random. Everything that writes RDF
for others to compare — the release N-Quads whose hash is the ETag seed, the dumps, ``diff`` —
relabels them here first, so a dump made from a store equals one made from the build.
"""

from __future__ import annotations

__all__ = ["canonical_blank_nodes"]

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pyoxigraph import BlankNode, Quad


def canonical_blank_nodes(quads: Sequence[Quad]) -> list[Quad]:
    """Relabel blank nodes by a hash of the statements around them, refined until stable.

    Each round hashes a blank node's statements with its neighbours' labels from the round before
    (colour refinement), so identical-looking nodes in different places (two ``[ sh:datatype
    xsd:gYear ]`` under different shapes) end up apart. Nodes that stay alike are interchangeable:
    whichever gets which label, the set of statements written is the same.
    """
    blanks = sorted(
        {t.value for q in quads for t in (q.subject, q.object) if isinstance(t, BlankNode)}
    )
    if not blanks:
        return list(quads)
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
        labels = {
            b: hashlib.sha256("\n".join(sorted(signature[b])).encode("utf-8")).hexdigest()[:16]
            for b in blanks
        }
        now = len(set(labels.values()))
        if now == distinct and _round > 0:
            break
        distinct = now
    final: dict[str, str] = {}
    seen: dict[str, int] = defaultdict(int)
    for b in sorted(blanks, key=lambda b: labels[b]):
        n = seen[labels[b]]
        seen[labels[b]] += 1
        final[b] = f"b{labels[b]}" + (f"x{n}" if n else "")

    def relabel(term: Any) -> Any:
        return BlankNode(final[term.value]) if isinstance(term, BlankNode) else term

    return [Quad(relabel(q.subject), q.predicate, relabel(q.object), q.graph_name) for q in quads]


