"""Label search over the graph's entities, in English and Japanese.

:class:`LabelIndex` is built once from a store (three SELECTs: labels, types, descriptions) and
answers :meth:`LabelIndex.search` in memory. Matching is case- and width-insensitive: labels and
queries are normalised with NFKC (full-width ``ＣＬＡＩＲ`` and half-width ``ｸﾚｱ`` become ``CLAIR``
and ``クレア``) and case-folded. Ranking, best first::

    exact label     1.0
    label prefix    0.9
    word prefix     0.8   (a word of the label starts with the query)
    substring       0.7
    fuzzy           up to 0.6 (difflib ratio against the label or one of its words, >= 0.75)

A preferred label scores a little above an alternative one, and among equal scores the shorter
label wins, so an exact name beats a longer name that merely contains it.
"""

from __future__ import annotations

__all__ = ["Entity", "LabelIndex", "SearchHit", "normalise"]

import difflib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode

from .store import Store

RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SCHEMA = "https://schema.org/"
CLAIR = "https://w3id.org/clair-kg/ontology#"

#: label predicate -> (kind, rank bonus); preferred names rank above alternative ones
_LABEL_PREDICATES = {
    SKOS + "prefLabel": ("pref", 0.02),
    RDFS + "label": ("label", 0.015),
    SKOS + "altLabel": ("alt", 0.0),
    CLAIR + "localName": ("alt", 0.0),
}

_LABELS_QUERY = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX clair: <https://w3id.org/clair-kg/ontology#>
SELECT DISTINCT ?s ?p ?label WHERE {
  VALUES ?p { rdfs:label skos:prefLabel skos:altLabel clair:localName }
  ?s ?p ?label .
  FILTER(isIRI(?s) && isLITERAL(?label))
}"""
_TYPES_QUERY = "SELECT DISTINCT ?s ?type WHERE { ?s a ?type . FILTER(isIRI(?s) && isIRI(?type)) }"
_DESCRIPTIONS_QUERY = """
PREFIX schema: <https://schema.org/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?s ?description WHERE {
  { ?s schema:description ?description } UNION { ?s skos:definition ?description }
  FILTER(isIRI(?s) && isLITERAL(?description))
}"""
_CLASS_LABELS_QUERY = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?class ?label WHERE { ?x a ?class . ?class rdfs:label ?label . FILTER(isLITERAL(?label)) }"""

_FUZZY_CUTOFF = 0.75  # difflib ratio below which a label is not a match at all
_FUZZY_MIN_LENGTH = 4  # shorter queries match only exactly, by prefix or as a substring
_SPACES = re.compile(r"\s+")
_WORD_SPLIT = re.compile(r"[\s\-/,.()・（）「」『』]+")


def normalise(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed: the form both labels and queries are compared in."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


@dataclass(frozen=True)
class Label:
    text: str
    lang: str
    kind: str  # pref | label | alt
    bonus: float
    norm: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class Entity:
    """One thing in the graph under ``{base}id/``, with what search and reconciliation show."""

    iri: str
    id: str  # the part after {base}id/, e.g. office/london
    kind: str  # the first path segment, e.g. office
    labels: tuple[Label, ...]
    types: tuple[str, ...]
    descriptions: tuple[tuple[str, str], ...]  # (text, lang)

    def name(self, lang: str = "en") -> str:
        """The preferred label in ``lang``, else in English, else any label, else the id."""
        for wanted in (lang, "en", None):
            for kind in ("pref", "label", "alt"):
                for label in self.labels:
                    if label.kind == kind and (wanted is None or label.lang == wanted):
                        return label.text
        return self.id

    def description(self, lang: str = "en") -> str | None:
        for wanted in (lang, "en", None):
            for text, text_lang in self.descriptions:
                if wanted is None or text_lang == wanted:
                    return text
        return None


@dataclass(frozen=True)
class SearchHit:
    entity: Entity
    label: str  # the entity's name in the language of the label that matched
    matched: str  # the label that matched
    lang: str
    match: str  # exact | prefix | word | substring | fuzzy
    score: float

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.entity.iri,
            "label": self.label,
            "type": self.entity.kind,
            "score": self.score,
            "path": self.entity.id,
            "types": list(self.entity.types),
            "matched": self.matched,
            "lang": self.lang,
            "match": self.match,
        }


def _words(norm: str) -> tuple[str, ...]:
    return tuple(w for w in _WORD_SPLIT.split(norm) if w)


def _score(query: str, label: Label) -> tuple[str, float] | None:
    if label.norm == query:
        return "exact", 1.0
    if label.norm.startswith(query):
        return "prefix", 0.9
    if any(w.startswith(query) for w in label.words):
        return "word", 0.8
    if query in label.norm:
        return "substring", 0.7
    if len(query) < _FUZZY_MIN_LENGTH:
        return None
    candidates = (label.norm, *label.words) if len(label.words) > 1 else (label.norm,)
    best = 0.0
    for candidate in candidates:
        # The cheap upper bounds first (as difflib.get_close_matches does): a query far longer or
        # shorter than every label, e.g. 10,000 characters, then costs no full comparison.
        matcher = difflib.SequenceMatcher(None, query, candidate, autojunk=False)
        if matcher.real_quick_ratio() >= _FUZZY_CUTOFF and matcher.quick_ratio() >= _FUZZY_CUTOFF:
            best = max(best, matcher.ratio())
    if best >= _FUZZY_CUTOFF:
        return "fuzzy", round(0.6 * best, 4)
    return None


class LabelIndex:
    """Every labelled entity under ``{base}id/``; built once per app, read-only afterwards."""

    def __init__(self, entities: Iterable[Entity], class_labels: dict[str, dict[str, str]] | None = None) -> None:
        self._entities = {e.id: e for e in entities}
        self.class_labels = class_labels or {}

    @classmethod
    def build(cls, store: Store, base_iri: str) -> LabelIndex:
        """Read labels, types and descriptions of every entity from ``store``."""
        prefix = f"{base_iri}id/"
        labels: dict[str, list[Label]] = defaultdict(list)
        for row in store.select(_LABELS_QUERY):
            s, p, lit = row.get("s"), row.get("p"), row.get("label")
            if not (isinstance(s, NamedNode) and isinstance(p, NamedNode) and isinstance(lit, Literal)):
                continue
            if not s.value.startswith(prefix):
                continue
            kind, bonus = _LABEL_PREDICATES[p.value]
            norm = normalise(lit.value)
            label = Label(lit.value, (lit.language or "").lower(), kind, bonus, norm, _words(norm))
            if label not in labels[s.value]:
                labels[s.value].append(label)
        types: dict[str, list[str]] = defaultdict(list)
        for row in store.select(_TYPES_QUERY):
            s, t = row.get("s"), row.get("type")
            if isinstance(s, NamedNode) and isinstance(t, NamedNode) and s.value.startswith(prefix):
                types[s.value].append(t.value)
        descriptions: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for row in store.select(_DESCRIPTIONS_QUERY):
            s, d = row.get("s"), row.get("description")
            if isinstance(s, NamedNode) and isinstance(d, Literal) and s.value.startswith(prefix):
                descriptions[s.value].append((d.value, (d.language or "").lower()))
        class_labels: dict[str, dict[str, str]] = defaultdict(dict)
        for row in store.select(_CLASS_LABELS_QUERY):
            c, lit = row.get("class"), row.get("label")
            if isinstance(c, NamedNode) and isinstance(lit, Literal):
                class_labels[c.value].setdefault((lit.language or "").lower(), lit.value)
        entities = []
        for iri in sorted(set(labels) | set(types)):
            path = iri[len(prefix):]
            entities.append(Entity(
                iri=iri, id=path, kind=path.split("/", 1)[0],
                labels=tuple(labels.get(iri, ())), types=tuple(sorted(set(types.get(iri, ())))),
                descriptions=tuple(sorted(descriptions.get(iri, ()), key=lambda d: d[1] != "en")),
            ))
        return cls(entities, dict(class_labels))

    def __len__(self) -> int:
        return len(self._entities)

    def entities(self) -> list[Entity]:
        return list(self._entities.values())

    def get(self, entity_id: str) -> Entity | None:
        """An entity by id (``office/london``) or full IRI."""
        entity = self._entities.get(entity_id)
        if entity is None and "/id/" in entity_id:
            entity = self._entities.get(entity_id.split("/id/", 1)[1])
        return entity

    def class_label(self, class_iri: str, lang: str = "en") -> str:
        labels = self.class_labels.get(class_iri, {})
        return labels.get(lang) or labels.get("en") or class_iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]

    def kinds(self) -> list[str]:
        return sorted({e.kind for e in self._entities.values()})

    @staticmethod
    def matches_type(entity: Entity, wanted: str) -> bool:
        """``wanted`` is a kind (``office``), a class IRI, or a class's local name (``OverseasOffice``)."""
        if wanted == entity.kind or wanted in entity.types:
            return True
        return any(t.rsplit("#", 1)[-1].rsplit("/", 1)[-1] == wanted.split(":")[-1] for t in entity.types)

    def search(
        self, query: str, *, types: Iterable[str] = (), lang: str | None = None, limit: int = 10
    ) -> list[SearchHit]:
        """The best ``limit`` entities for ``query``, best first (see the module docstring)."""
        wanted_query = normalise(query)
        if not wanted_query:
            return []
        wanted_types = [t for t in types if t]
        hits: list[tuple[float, int, str, SearchHit]] = []
        for entity in self._entities.values():
            if wanted_types and not any(self.matches_type(entity, t) for t in wanted_types):
                continue
            best: tuple[float, int, SearchHit] | None = None
            for label in entity.labels:
                if lang and label.lang != lang:
                    continue
                scored = _score(wanted_query, label)
                if scored is None:
                    continue
                match, base = scored
                score = round(min(1.0, base + label.bonus) if match != "exact" else base, 4)
                if match == "exact":
                    score = round(0.98 + label.bonus, 4)
                key = (score, -len(label.norm))
                if best is None or key > best[:2]:
                    hit = SearchHit(entity, entity.name(label.lang or "en"), label.text, label.lang, match, score)
                    best = (score, -len(label.norm), hit)
            if best is not None:
                hits.append((best[0], best[1], entity.id, best[2]))
        hits.sort(key=lambda h: (-h[0], -h[1], h[2]))
        return [h[3] for h in hits[: max(0, limit)]]
