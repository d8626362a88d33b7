"""What an entity page shows, computed from an :class:`~clair_kg.entity_graph.EntityDocument`.

Pure functions (no HTTP). The page reads as a description, not a triple dump:

- the entity's name once, as the heading (its labels and alternative names in other languages
  beside it, never as rows); its kinds and description above the statements;
- every property and class in words of the reader's language (:mod:`.terms`), the prefixed name
  only as a tooltip; dates and numbers as a reader writes them; quantities as sentences with
  their bound ("at least 79,000 participants");
- beside every value, the source it comes from and the date that source was read;
- where sources give different values, one line saying whether that is a refinement, figures of
  different dates, or a contradiction (:func:`.claims.classify`), and each claim with its source;
- incoming links grouped by relation and kind, with counts, folded when long;
- the place an office or branch is in, in the reader's language, from the linked entity.
"""

from __future__ import annotations

__all__ = ["EntityView", "Place", "entity_view", "external_name", "plural"]

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode

from ...entity_graph import EntityDocument, Statement, label_language, pick_label
from ...namespaces import PREFIXES, RDF_TYPE
from ...provenance import SourceInfo
from ...store import Term
from ..i18n import format_date, format_number, ui
from .claims import RUNNING_TOTALS, Quantity, classify
from .common import local_href
from .terms import TermLabels

SKOS = PREFIXES["skos"]
LABELS = (SKOS + "prefLabel", "http://www.w3.org/2000/01/rdf-schema#label")
ALT_LABELS = (SKOS + "altLabel", "https://w3id.org/clair-kg/ontology#localName")
DESCRIPTIONS = (
    "https://schema.org/description",
    SKOS + "definition",
    "http://www.w3.org/2000/01/rdf-schema#comment",
    "http://purl.org/dc/terms/description",
)
IDENTITY = (
    "http://www.w3.org/2002/07/owl#sameAs",
    SKOS + "exactMatch",
    SKOS + "closeMatch",
    "https://schema.org/sameAs",
)
LOCATION = ("https://schema.org/location", "https://schema.org/containedInPlace")
XSD = PREFIXES["xsd"]
_DATE_TYPES = (XSD + "gYear", XSD + "gYearMonth", XSD + "date")
_NUMBER_TYPES = (XSD + "integer", XSD + "decimal", XSD + "double", XSD + "nonNegativeInteger")
# Rows first in this order, then by the property's words.
_ORDER_FIRST = (*LOCATION, "http://www.w3.org/ns/org#unitOf", "https://schema.org/foundingDate",
                "https://schema.org/startDate", "https://schema.org/url")
# Rows shown elsewhere on the page (heading, kinds line, lead, "Elsewhere").
_NOT_ROWS = (RDF_TYPE, *LABELS, *ALT_LABELS, *DESCRIPTIONS, *IDENTITY)
_EXTERNAL_NAMES = (
    ("http://www.wikidata.org/entity/", "Wikidata"),
    ("https://www.wikidata.org/wiki/", "Wikidata"),
    ("https://sws.geonames.org/", "GeoNames"),
    ("http://sws.geonames.org/", "GeoNames"),
    ("https://en.wikipedia.org/wiki/", "Wikipedia"),
)
#: incoming groups longer than this are folded (a <details> the reader opens)
FOLD_AFTER = 8


def external_name(iri: str) -> str:
    for prefix, name in _EXTERNAL_NAMES:
        if iri.startswith(prefix):
            return f"{name} {iri[len(prefix):].strip('/')}"
    return iri


def plural(word: str, n: int, lang: str) -> str:
    """English plural of a class's words for a count ("branch office" -> "branch offices")."""
    if lang != "en" or n == 1 or not word:
        return word
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


@dataclass(frozen=True)
class Place:
    """A linked place as the page names it: label (reader's language), code, Wikidata item, parent."""

    iri: str
    labels: dict[str, str]
    code: str | None = None
    wikidata: str | None = None
    parent: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EntityView:
    iri: str
    title: str
    title_lang: str | None
    other_names: list[dict[str, Any]]
    description: str | None
    description_lang: str | None
    description_sources: list[dict[str, Any]]
    types: list[dict[str, Any]]
    places: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    incoming: list[dict[str, Any]]
    incoming_summary: str
    external: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    schema_org: dict[str, Any] = field(default_factory=dict)


class _Builder:
    """Shared state of one page's rendering: labels, sources, language."""

    def __init__(self, doc: EntityDocument, base: str, lang: str, terms: TermLabels,
                 sources: dict[str, SourceInfo], quantities: dict[str, Quantity]) -> None:
        self.doc = doc
        self.base = base
        self.lang = lang
        self.terms = terms
        self.sources = sources
        self.quantities = quantities
        self.t = ui(lang)

    # -- links --------------------------------------------------------------------------------
    def node(self, iri: str) -> dict[str, Any]:
        """A link to a resource: its label in the reader's language (else English, with ``lang``)."""
        labels = self.doc.labels.get(iri, {})
        internal = iri.startswith(self.base)
        if self.terms.labels.get(iri):  # a vocabulary or ontology term
            return self.terms.link(iri, self.lang, local_href(iri, self.base), external=not internal)
        label = pick_label(labels, self.lang)
        if label:
            used = label_language(labels, self.lang)
            return {"iri": iri, "href": local_href(iri, self.base), "text": label, "external": not internal,
                    "lang": used if used and used != self.lang else None, "title": None}
        if internal:
            text = iri[len(self.base):]
        else:
            named = external_name(iri)
            text = named if named != iri else iri
        return {"iri": iri, "href": local_href(iri, self.base), "text": text, "external": not internal,
                "lang": None, "title": None}

    def term(self, iri: str) -> dict[str, Any]:
        internal = iri.startswith(self.base)
        return self.terms.link(iri, self.lang, local_href(iri, self.base), external=not internal)

    def source(self, graph: str) -> dict[str, Any]:
        info = self.sources.get(graph)
        name = graph.rstrip("/").rsplit("/", 1)[-1]
        if info is None:
            return {"name": name, "label": name, "label_lang": "en", "href": local_href(graph, self.base),
                    "date": None, "address": None, "text": name}
        label, label_lang = info.label(self.lang)
        text = self.t("source_with_date", source=label, date=info.retrieved) if info.retrieved else label
        return {"name": name, "label": label, "label_lang": label_lang, "href": local_href(graph, self.base),
                "date": info.retrieved, "address": info.address, "text": text}

    def source_list(self, graphs: Iterable[str]) -> list[dict[str, Any]]:
        return [self.source(g) for g in graphs]

    # -- values -------------------------------------------------------------------------------
    def literal(self, term: Literal) -> dict[str, Any]:
        datatype = term.datatype.value
        if term.language:
            return {"kind": "literal", "text": term.value,
                    "lang": term.language if term.language != self.lang else None}
        if datatype in _DATE_TYPES:
            return {"kind": "literal", "text": format_date(term.value, datatype, self.lang), "lang": None,
                    "raw": term.value}
        if datatype in _NUMBER_TYPES:
            return {"kind": "literal", "text": format_number(term.value, self.lang), "lang": None}
        if datatype == XSD + "boolean":
            return {"kind": "literal", "text": self.t.yes if term.value in ("true", "1") else self.t.no, "lang": None}
        if datatype == XSD + "anyURI":
            return {"kind": "link", "iri": term.value, "href": term.value, "text": term.value, "external": True,
                    "lang": None, "title": None}
        # an untagged string (a code, an abbreviation): written as it is, in no particular language
        return {"kind": "literal", "text": term.value, "lang": None, "code": True}

    def quantity(self, q: Quantity) -> dict[str, Any]:
        """``more than 79,000`` + unit, as one phrase in the reader's language."""
        def n(x: float) -> str:
            return format_number(str(int(x)) if x == int(x) else str(x), self.lang)

        if q.value is not None:
            amount = n(q.value)
        elif q.min_value is not None and q.max_value is not None:
            amount = self.t("between", min=n(q.min_value), max=n(q.max_value))
        elif q.min_value is not None:
            # the ontology's convention (clair:participantCount): schema:minValue N is "more than N"
            amount = self.t("more_than", n=n(q.min_value))
        elif q.max_value is not None:
            amount = self.t("at_most", n=n(q.max_value))
        else:
            amount = "?"
        notes = [{"text": text, "lang": lang if lang != self.lang else None}
                 for lang, text in q.notes if lang in (self.lang, "en", "")][:1]
        return {"kind": "quantity", "amount": amount, "unit": q.unit,
                "unit_lang": None if (q.unit_lang or "en") == self.lang else (q.unit_lang or "en"),
                "href": local_href(q.iri, self.base), "notes": notes}

    def value(self, term: Term, blanks: dict[str, list[Statement]], depth: int = 0) -> dict[str, Any]:
        if isinstance(term, NamedNode):
            if term.value in self.quantities:
                return self.quantity(self.quantities[term.value])
            return {"kind": "link", **self.node(term.value)}
        if isinstance(term, BlankNode):
            inner = [
                {"property": self.term(s.predicate.value),
                 "value": self.value(s.object, blanks, depth + 1) if depth < 2 else
                 {"kind": "literal", "text": str(s.object), "lang": None}}
                for s in blanks.get(term.value, [])
            ]
            return {"kind": "blank", "items": inner}
        assert isinstance(term, Literal)
        return self.literal(term)

    def comparable(self, term: Term) -> Quantity | str:
        if isinstance(term, NamedNode) and term.value in self.quantities:
            return self.quantities[term.value]
        return term.value if isinstance(term, Literal | NamedNode) else str(term)

    def claim_text(self, v: dict[str, Any]) -> str:
        if v["kind"] == "quantity":
            return f"{v['amount']} {v['unit'] or ''}".strip()
        return str(v.get("text", ""))


def _family(term: Term) -> str | None:
    """Values of one family can disagree: literals of one language, typed literals, quantities."""
    if isinstance(term, Literal):
        return term.language or "typed"
    return None


def entity_view(doc: EntityDocument, *, base: str, lang: str, terms: TermLabels, sources: dict[str, SourceInfo],
                quantities: dict[str, Quantity] | None = None, places: dict[str, Place] | None = None,
                subject_types: dict[str, list[str]] | None = None, shown_elsewhere: tuple[str, ...] = ()) -> EntityView:
    """Everything the entity template needs, in the reader's language ``lang``."""
    b = _Builder(doc, base, lang, terms, sources, quantities or {})
    t = b.t
    own = doc.own
    blanks: dict[str, list[Statement]] = defaultdict(list)
    for s in doc.blank_statements:
        assert isinstance(s.subject, BlankNode)
        blanks[s.subject.value].append(s)
    by_predicate: dict[str, list[Statement]] = defaultdict(list)
    for s in own:
        by_predicate[s.predicate.value].append(s)

    def order(p: str) -> tuple[int, str]:
        if p in _ORDER_FIRST:
            return (_ORDER_FIRST.index(p), "")
        return (len(_ORDER_FIRST), str(b.term(p)["text"]).lower())

    # a place shown in the heading (with its name, code and Wikidata item) is not repeated as a row
    in_heading = {p for p in LOCATION if places and all(
        isinstance(s.object, NamedNode) and s.object.value in places for s in by_predicate.get(p, []))}
    rows = []
    hidden = {*_NOT_ROWS, *in_heading, *shown_elsewhere}
    for p in sorted((p for p in by_predicate if p not in hidden), key=order):
        statements = by_predicate[p]
        values = [{**b.value(s.object, blanks), "sources": b.source_list(s.graphs)} for s in statements]
        # Claims from different sources of one family (one language, typed values, quantities)
        # are compared; labels in two languages are not a disagreement.
        families: dict[str, list[int]] = defaultdict(list)
        for i, s in enumerate(statements):
            fam = "quantity" if isinstance(s.object, NamedNode) and s.object.value in b.quantities else \
                _family(s.object)
            if fam is not None:
                families[fam].append(i)
        differ = None
        columns: list[dict[str, Any]] = []
        for members in families.values():
            graph_sets = {statements[i].graphs for i in members}
            if len(members) < 2 or len(graph_sets) < 2:
                continue
            compared = [b.comparable(statements[i].object) for i in members]
            dates = [min((b.sources[g].retrieved or "" for g in statements[i].graphs if g in b.sources),
                         default="") or None for i in members]
            kind = classify(compared, dates, running_total=p in RUNNING_TOTALS)
            if kind is None:
                continue
            claims = t.claim_sep.join(
                t("claim_item", value=b.claim_text(values[i]),
                  source=", ".join(str(src["text"]) for src in values[i]["sources"]))
                for i in members
            )
            differ = {"kind": kind, "text": t(f"differ_{kind.replace('-', '_')}", claims=claims)}
            grouped: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            for i in members:
                grouped[statements[i].graphs].append(values[i])
            columns = [{"sources": b.source_list(g), "values": vals} for g, vals in sorted(grouped.items())]
        # one source line for the row when every value has the same sources (54 units, one article)
        shared = values[0]["sources"] if len({tuple(st.graphs) for st in statements}) == 1 else None
        folds = _fold([(st, v) for st, v in zip(statements, values, strict=True)], subject_types or {}, terms, lang) \
            if len(values) > FOLD_AFTER else []
        rows.append({"property": b.term(p), "values": values, "columns": columns, "differ": differ,
                     "conflict": differ is not None and differ["kind"] == "contradiction",
                     "shared_sources": shared, "folds": folds})

    # -- incoming links: grouped by relation and by the linking things' kind, with counts -------
    types = subject_types or {}
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for s in doc.incoming:
        assert isinstance(s.subject, NamedNode)
        kind = _main_type(types.get(s.subject.value, []), terms)
        groups[(s.predicate.value, kind)].append(b.node(s.subject.value))
    incoming: list[dict[str, Any]] = []
    for (p, kind), subjects in groups.items():
        unique = list({x["iri"]: x for x in subjects}.values())
        unique.sort(key=lambda x: str(x["text"]).lower())
        kind_words = (terms.label(kind, lang) or "") if kind else ""
        what = plural(kind_words, len(unique), lang) if kind_words else ""
        incoming.append({
            "property": b.term(p), "kind": b.term(kind) if kind else None, "subjects": unique,
            "count": len(unique), "what": what, "open": len(unique) <= FOLD_AFTER,
            "summary": t("count_of", n=len(unique), what=what).strip() if what else str(len(unique)),
        })
    incoming.sort(key=lambda g: (-g["count"], str(g["property"]["text"])))
    # the summary counts distinct linking things per kind ("47 domestic branch offices, 7 overseas offices")
    by_kind: dict[str, set[str]] = defaultdict(set)
    for (_, kind), subjects in groups.items():
        if kind and terms.label(kind, lang):
            by_kind[kind].update(x["iri"] for x in subjects)
    incoming_summary = "" if len(incoming) < 2 else (", " if lang == "en" else "、").join(
        t("count_of", n=len(members), what=plural(terms.label(kind, lang) or "", len(members), lang))
        for kind, members in sorted(by_kind.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    )

    # -- identity links ---------------------------------------------------------------------------
    external = []
    seen: set[str] = set()
    for s in own:
        if s.predicate.value in IDENTITY and isinstance(s.object, NamedNode) and s.object.value not in seen:
            seen.add(s.object.value)
            external.append({"href": s.object.value, "text": external_name(s.object.value),
                             "relation": b.term(s.predicate.value), "sources": b.source_list(s.graphs)})

    # -- heading: the name once, other names beside it ------------------------------------------
    labels = doc.labels.get(doc.iri, {})
    title = pick_label(labels, lang) or doc.iri[len(base):]
    title_key = label_language(labels, lang)
    other_names: list[dict[str, Any]] = []
    shown = {title}
    for p in (*LABELS, *ALT_LABELS):
        for s in by_predicate.get(p, []):
            if isinstance(s.object, Literal) and s.object.value not in shown:
                shown.add(s.object.value)
                other_names.append({"text": s.object.value,
                                    "lang": s.object.language if s.object.language != lang else None})
    descriptions: dict[str, str] = {}
    description_graphs: dict[str, tuple[str, ...]] = {}
    for p in DESCRIPTIONS:
        for s in by_predicate.get(p, []):
            if isinstance(s.object, Literal):
                key = s.object.language or ""
                if key not in descriptions:
                    descriptions[key] = s.object.value
                    description_graphs[key] = s.graphs
    description = pick_label(descriptions, lang)
    description_key = label_language(descriptions, lang)
    type_links = [b.term(s.object.value) for s in by_predicate.get(RDF_TYPE, []) if isinstance(s.object, NamedNode)]
    type_links.sort(key=lambda x: (not str(x["iri"]).startswith(base), str(x["text"])))

    place_views = []
    for p in LOCATION:
        for s in by_predicate.get(p, []):
            if isinstance(s.object, NamedNode) and places and s.object.value in places:
                place_views.append(_place_view(places[s.object.value], b, p, s.graphs))

    used_graphs = sorted({g for st in [*own, *doc.incoming] for g in st.graphs})
    view = EntityView(
        iri=doc.iri, title=title, title_lang=title_key if title_key and title_key != lang else None,
        other_names=other_names, description=description,
        description_lang=description_key if description_key and description_key != lang else None,
        description_sources=b.source_list(description_graphs.get(description_key or "", ())),
        types=type_links, places=place_views, rows=rows, incoming=incoming, incoming_summary=incoming_summary,
        external=external, sources=b.source_list(used_graphs),
    )
    return EntityView(**{**view.__dict__, "schema_org": _schema_org(doc, view, by_predicate)})


def _fold(pairs: list[tuple[Statement, dict[str, Any]]], types: dict[str, list[str]], terms: TermLabels,
          lang: str) -> list[dict[str, Any]]:
    """A long list of values as groups by kind with counts ("47 domestic branch offices")."""
    t = ui(lang)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for st, v in pairs:
        kind = _main_type(types.get(st.object.value, []), terms) if isinstance(st.object, NamedNode) else ""
        groups[kind].append(v)
    out = []
    for kind, vals in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        words = terms.label(kind, lang) if kind else None
        out.append({"summary": t("count_of", n=len(vals), what=plural(words, len(vals), lang)) if words
                    else str(len(vals)), "values": vals, "open": len(vals) <= FOLD_AFTER})
    return out


def _main_type(types: list[str], terms: TermLabels) -> str:
    """The kind to group a linking thing under: a project class first, else a labelled class."""
    project = sorted(t for t in types if "/clair-kg/ontology#" in t)
    if project:
        return project[0]
    labelled = sorted(t for t in types if terms.labels.get(t))
    return labelled[0] if labelled else ""


def _place_view(place: Place, b: _Builder, predicate: str, graphs: tuple[str, ...]) -> dict[str, Any]:
    label = pick_label(place.labels, b.lang) or place.iri.rsplit("/", 1)[-1]
    used = label_language(place.labels, b.lang)
    parent = pick_label(place.parent, b.lang)
    parent_used = label_language(place.parent, b.lang)
    return {
        "property": b.term(predicate), "href": local_href(place.iri, b.base), "text": label,
        "lang": used if used and used != b.lang else None, "code": place.code,
        "wikidata": place.wikidata, "wikidata_text": external_name(place.wikidata) if place.wikidata else None,
        "parent": parent, "parent_lang": parent_used if parent_used and parent_used != b.lang else None,
        "sources": b.source_list(graphs),
    }


def _schema_org(doc: EntityDocument, view: EntityView, by_predicate: dict[str, list[Statement]]) -> dict[str, Any]:
    types = [t["iri"] for t in view.types]
    schema_types = sorted(t.removeprefix("https://schema.org/") for t in types if t.startswith("https://schema.org/"))
    if not schema_types:
        if any(t.startswith("http://www.w3.org/ns/org#") for t in types):
            schema_types = ["Organization"]
        else:
            schema_types = ["Thing"]
    names: dict[str, str] = dict(doc.labels.get(doc.iri, {}))
    data: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": schema_types[0] if len(schema_types) == 1 else schema_types,
        "@id": doc.iri,
        "url": doc.iri,
        "name": [{"@value": v, "@language": k} if k else v for k, v in sorted(names.items())] or view.title,
    }
    if view.description:
        data["description"] = view.description
    same = [e["href"] for e in view.external]
    if same:
        data["sameAs"] = same
    unit_of = [s.object.value for s in by_predicate.get("http://www.w3.org/ns/org#unitOf", [])
               if isinstance(s.object, NamedNode)]
    if unit_of:
        data["parentOrganization"] = [{"@id": u} for u in unit_of]
    return data
