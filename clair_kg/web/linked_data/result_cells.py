"""SPARQL results for people: IRIs of this dataset link to this server's pages and show their label.

Used by the HTML results of ``/sparql`` and of ``/queries/{name}``. An IRI under the dataset's
base becomes a path on whatever host serves the page (``/id/office/london``, relative to the
request), with its label in the reader's language beside it; any other IRI links out unchanged.
"""

from __future__ import annotations

__all__ = ["DatasetLabels", "iri_cell"]

from dataclasses import dataclass
from typing import Any

from pyoxigraph import Literal, NamedNode

from ...entity_graph import label_language, pick_label
from ...store import Store
from ..i18n import with_lang
from .common import local_href

_LABELS = """
SELECT ?x ?l WHERE {
  ?x <http://www.w3.org/2004/02/skos/core#prefLabel>|<http://www.w3.org/2000/01/rdf-schema#label> ?l
  FILTER(isIRI(?x) && STRSTARTS(STR(?x), ?base))
}
"""


@dataclass(frozen=True)
class DatasetLabels:
    """Labels of the dataset's own IRIs (one query; the dataset is small)."""

    base: str
    labels: dict[str, dict[str, str]]

    @staticmethod
    def load(store: Store, base: str) -> DatasetLabels:
        labels: dict[str, dict[str, str]] = {}
        for row in store.select(_LABELS, bindings={"base": Literal(base)}):
            x, lit = row.get("x"), row.get("l")
            if isinstance(x, NamedNode) and isinstance(lit, Literal):
                labels.setdefault(x.value, {}).setdefault(lit.language or "", lit.value)
        return DatasetLabels(base, labels)


def iri_cell(iri: str, names: DatasetLabels, lang: str, link_lang: str | None = None) -> dict[str, Any]:
    """How a results table shows ``iri``: a local link with its label, or the IRI linking out."""
    if not iri.startswith(names.base):
        return {"text": iri, "kind": "iri", "href": iri, "external": True}
    labels = names.labels.get(iri, {})
    label = pick_label(labels, lang)
    used = label_language(labels, lang)
    href = local_href(iri, names.base)
    return {"text": iri, "kind": "iri", "href": with_lang(href, link_lang) if link_lang else href, "external": False,
            "label": label, "label_lang": used if used and used != lang else None}
