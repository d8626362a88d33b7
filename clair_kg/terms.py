"""Words for every property, class and datatype a page shows, in the reader's language.

Standard vocabularies' terms come from the reviewed table ``clair_kg/term_labels.tsv`` (the
English label as the vocabulary's own file gives it, and a Japanese label); the project's own
terms from the ontology graph in the store (``rdfs:label`` in English and Japanese). A page shows
the words; the prefixed name (``org:unitOf``) is only the ``title`` tooltip, and stays in the RDF.
Built once per runtime (:attr:`clair_kg.runtime.Runtime.terms`).
"""

from __future__ import annotations

__all__ = ["TermLabels", "humanise", "load_table"]

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pyoxigraph import Literal, NamedNode

from .publish.rdfio import compact_iri
from .store import Store

TABLE = Path(__file__).resolve().parent / "term_labels.tsv"
_ONTOLOGY_LABELS = """
SELECT ?x ?l WHERE { GRAPH ?g { ?x <http://www.w3.org/2000/01/rdf-schema#label> ?l } FILTER(isIRI(?x)) }
"""
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@cache
def load_table(path: Path = TABLE) -> dict[str, dict[str, str]]:
    """IRI -> {"en": …, "ja": …} from the reviewed table (comment lines start with ``#``)."""
    out: dict[str, dict[str, str]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        rows = csv.reader((line for line in f if not line.startswith("#")), delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(rows)
        if header != ["iri", "en", "ja"]:
            raise ValueError(f"{path.name}: header must be iri, en, ja (got {header})")
        for row in rows:
            if row:
                iri, en, ja = row
                out[iri] = {"en": en, "ja": ja}
    return out


def humanise(label: str) -> str:
    """A vocabulary's label as words: ``foundingDate`` -> ``founding date``, ``has Unit`` -> ``has unit``."""
    if " " not in label and any(c.isupper() for c in label[1:]):
        words = _CAMEL.sub(" ", label).split(" ")
        return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    # lower every word but acronyms (URI, SPARQL, XSD): "has Unit" -> "has unit", "Membership" -> "membership"
    return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in label.split(" "))


@dataclass(frozen=True)
class TermLabels:
    """Labels of every term the pages can name: the reviewed table plus the ontology's labels."""

    labels: dict[str, dict[str, str]]

    def label(self, iri: str, lang: str) -> str | None:
        """The term's words in ``lang`` (None for a term nobody labelled)."""
        entry = self.labels.get(iri)
        if not entry:
            return None
        if entry.get(lang):
            return humanise(entry[lang]) if lang == "en" else entry[lang]
        return humanise(entry["en"]) if entry.get("en") else None

    def has(self, iri: str, lang: str) -> bool:
        return bool(self.labels.get(iri, {}).get(lang))

    def link(self, iri: str, lang: str, href: str, *, external: bool) -> dict[str, object]:
        """A link to a term: its words as text, the prefixed name as tooltip."""
        words = self.label(iri, lang)
        curie = compact_iri(iri)
        lang_of = None
        if words is not None and not self.has(iri, lang):
            lang_of = "en"
        return {"iri": iri, "href": href, "text": words or curie, "title": curie if curie != iri else iri,
                "external": external, "lang": lang_of, "unlabelled": words is None, "term": True}

    @staticmethod
    def build(store: Store) -> TermLabels:
        labels: dict[str, dict[str, str]] = {iri: dict(v) for iri, v in load_table().items()}
        ontology: dict[str, dict[str, str]] = {}
        for row in store.select(_ONTOLOGY_LABELS):
            x, lit = row.get("x"), row.get("l")
            if isinstance(x, NamedNode) and isinstance(lit, Literal) and lit.language in ("en", "ja"):
                ontology.setdefault(x.value, {}).setdefault(lit.language, lit.value)
        for iri, entry in ontology.items():
            if "#" in iri and iri.split("#", 1)[0].endswith("/ontology"):
                labels[iri] = {**entry, **labels.get(iri, {})}
        return TermLabels(labels)
