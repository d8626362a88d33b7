"""Binding variables to RDF terms by rewriting the query text, the same way for every store.

pyoxigraph's ``substitutions`` only accept variables in the SELECT projection, and a trailing
``VALUES`` clause joins *after* grouping and after ``BIND`` has run, so neither pre-binds a
parameter such as ``?entity`` in ``GROUP BY`` queries or ``BIND(COALESCE(?organisation, …))``.
Instead an inline ``VALUES`` block goes first in the query's WHERE group: every later pattern,
``BIND``, ``FILTER`` and aggregate sees the variable already bound.

The terms are written in their N-Triples form (``str()`` of a pyoxigraph term: escaped and
validated when the term was made), so user input never enters the query as raw characters.
"""

from __future__ import annotations

__all__ = ["bind_in_text"]

import re
from collections.abc import Mapping

from pyoxigraph import BlankNode, Variable

from ..errors import BadRequest
from .analysis import mask_opaque
from .base import Term

_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)
_WHERE = re.compile(r"\s*WHERE\b", re.IGNORECASE)


def _values_block(bindings: Mapping[str, Term]) -> str:
    names: list[str] = []
    terms: list[str] = []
    for name, term in bindings.items():
        try:
            Variable(name)
        except ValueError as exc:
            raise BadRequest(f"not a SPARQL variable name: {name!r}") from exc
        if isinstance(term, BlankNode):
            raise BadRequest(f"?{name} cannot be bound to a blank node")
        names.append("?" + name)
        terms.append(str(term))
    return "VALUES (" + " ".join(names) + ") { (" + " ".join(terms) + ") }"


def _group_end(mask: str, start: int) -> int:
    """Offset just past the ``{…}`` group opening at ``start`` (or len(mask) if unbalanced)."""
    depth = 0
    for i in range(start, len(mask)):
        if mask[i] == "{":
            depth += 1
        elif mask[i] == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(mask)


def _where_brace(mask: str) -> int | None:
    """Offset of the ``{`` that opens the query's WHERE group, or None if it has none we can use."""
    form = _FORM.search(mask)
    if form is None:
        return None
    i = form.end()
    if form.group(1).upper() == "CONSTRUCT":
        if _WHERE.match(mask, i):  # short form: the pattern is the template, VALUES cannot go inside
            return None
        brace = mask.find("{", i)
        if brace < 0:
            return None
        i = _group_end(mask, brace)  # skip the template
    depth = 0  # parentheses: a `{` inside `(EXISTS { … } AS ?x)` is not the WHERE group
    for j in range(i, len(mask)):
        c = mask[j]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "{" and depth <= 0:
            return j
    return None


def bind_in_text(query: str, bindings: Mapping[str, Term] | None) -> str:
    """``query`` with ``bindings`` pre-bound; unchanged when there are none.

    :raises BadRequest: a name that is not a variable name, or a blank node as value.
    """
    if not bindings:
        return query
    block = _values_block(bindings)
    brace = _where_brace(mask_opaque(query))
    if brace is None:
        # CONSTRUCT WHERE { … } or DESCRIBE without a pattern: no grouping, no BIND in the way,
        # so a trailing VALUES clause means the same thing.
        return query + "\n" + block
    return query[: brace + 1] + " " + block + " " + query[brace + 1 :]
