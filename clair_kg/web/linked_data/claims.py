"""Claims as a reader reads them: quantities with their bound, and why two sources differ.

A quantity is a ``schema:QuantitativeValue`` with ``schema:value`` (exact), ``schema:minValue``
(a lower bound: "more than N", as the ontology documents it for participant counts) and/or
``schema:maxValue`` (an upper bound), and ``schema:unitText``. When sources give
different values for one property, :func:`classify` says which kind of difference it is:

- **refinement**: the same value at different precision (1988 / July 1988), or one figure that
  lies inside the other's range (more than 47 / 67);
- **different dates**: figures that cannot both hold at one time but come from sources read on
  different dates, or two lower bounds of one count (a count stated at different times);
- **contradiction**: anything else.
"""

from __future__ import annotations

__all__ = ["Quantity", "classify", "quantities_of"]

from collections import defaultdict
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode

from ...entity_graph import select_fixed
from ...namespaces import PREFIXES
from ...store import Store

SCHEMA = PREFIXES["schema"]
_QUANTITIES = """
SELECT ?q ?p ?v WHERE {
  ?e ?x ?q . ?q a <https://schema.org/QuantitativeValue> .
  ?q ?p ?v .
  VALUES ?p { <https://schema.org/value> <https://schema.org/minValue> <https://schema.org/maxValue>
              <https://schema.org/unitText> <http://www.w3.org/2004/02/skos/core#note> }
}
"""


@dataclass(frozen=True)
class Quantity:
    iri: str
    value: float | None = None
    min_value: float | None = None
    max_value: float | None = None
    unit: str | None = None
    unit_lang: str | None = None
    notes: tuple[tuple[str, str], ...] = ()  # (language, text)

    @property
    def low(self) -> float:
        if self.value is not None:
            return self.value
        return self.min_value if self.min_value is not None else float("-inf")

    @property
    def high(self) -> float:
        if self.value is not None:
            return self.value
        return self.max_value if self.max_value is not None else float("inf")

    @property
    def is_lower_bound(self) -> bool:
        return self.value is None and self.min_value is not None and self.max_value is None


def _number(lit: Literal) -> float | None:
    try:
        return float(lit.value)
    except ValueError:
        return None


def quantities_of(store: Store, iri: str) -> dict[str, Quantity]:
    """The quantitative values ``iri`` points to, by their IRI."""
    fields: dict[str, dict[str, list[Literal]]] = defaultdict(lambda: defaultdict(list))
    for row in select_fixed(store, _QUANTITIES, bindings={"e": NamedNode(iri)}):
        q, p, v = row.get("q"), row.get("p"), row.get("v")
        if isinstance(q, NamedNode) and isinstance(p, NamedNode) and isinstance(v, Literal):
            fields[q.value][p.value.rsplit("/", 1)[-1].rsplit("#", 1)[-1]].append(v)
    out = {}
    for q_iri, f in fields.items():
        def first(name: str, f: dict[str, list[Literal]] = f) -> float | None:
            return next((n for n in (_number(v) for v in f.get(name, [])) if n is not None), None)

        unit = next(iter(sorted(f.get("unitText", []), key=lambda v: (v.language != "en", v.value))), None)
        out[q_iri] = Quantity(
            iri=q_iri, value=first("value"), min_value=first("minValue"), max_value=first("maxValue"),
            unit=unit.value if unit is not None else None,
            unit_lang=(unit.language or None) if unit is not None else None,
            notes=tuple(sorted((v.language or "", v.value) for v in f.get("note", []))),
        )
    return out


def _date_refines(a: str, b: str) -> bool:
    """``1988`` and ``1988-07``: one date is the other at a finer precision."""
    short, long = sorted((a, b), key=len)
    return short != long and long.startswith(short + "-")


#: counts that only grow (participants since 1987, their countries): two sources' figures are
#: statements of different moments, never a contradiction (as ``queries/conflicting-claims.rq`` says)
RUNNING_TOTALS = frozenset({
    "https://w3id.org/clair-kg/ontology#participantCount",
    "https://w3id.org/clair-kg/ontology#participantCountryCount",
})


def classify(values: list[Quantity | str], dates: list[str | None], *, running_total: bool = False) -> str | None:
    """How claims from different sources differ: None (they agree), ``refinement``,
    ``different-dates`` or ``contradiction``. ``values`` are quantities or literal lexical forms,
    one per source; ``dates`` the date each source was read (None when not recorded);
    ``running_total`` for a count that only grows (:data:`RUNNING_TOTALS`)."""
    if len(values) < 2:
        return None
    quantities = [v for v in values if isinstance(v, Quantity)]
    if len(quantities) == len(values):
        low = max(q.low for q in quantities)
        high = min(q.high for q in quantities)
        points = {(q.value, q.min_value, q.max_value) for q in quantities}
        if len(points) == 1:
            return None
        if running_total:
            return "different-dates"
        if low <= high:  # one range holds every claim: they are consistent, some more precise
            if all(q.is_lower_bound for q in quantities):
                return "different-dates"  # lower bounds of a count that grows
            return "refinement"
        known = [d for d in dates if d]
        if len(set(known)) > 1:
            return "different-dates"
        return "contradiction"
    texts = [v for v in values if isinstance(v, str)]
    if len(texts) == len(values):
        distinct = sorted(set(texts))
        if len(distinct) == 1:
            return None
        if len(distinct) == 2 and _date_refines(*distinct):
            return "refinement"
        return "contradiction"
    return "contradiction"
