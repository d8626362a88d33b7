"""What an entity page shows, computed from an :class:`~clair_kg.describe.EntityDocument`.

Pure functions (no HTTP): statements grouped by property, each value with its link and its
sources; values from different sources laid out side by side, and literal values that disagree
between sources flagged; identity links (Wikidata, GeoNames) pulled out as external links; a
schema.org JSON-LD object for search engines.
"""

from __future__ import annotations

__all__ = ["EntityView", "entity_view", "node_link", "source_name"]

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode

from ...describe import EntityDocument, Statement, label_language, pick_label
from ...publish.rdfio import compact_iri
from ...store import Term
from .common import local_href

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABELS = ("http://www.w3.org/2004/02/skos/core#prefLabel", "http://www.w3.org/2000/01/rdf-schema#label")
DESCRIPTIONS = (
    "https://schema.org/description",
    "http://www.w3.org/2004/02/skos/core#definition",
    "http://www.w3.org/2000/01/rdf-schema#comment",
    "http://purl.org/dc/terms/description",
)
IDENTITY = (
    "http://www.w3.org/2002/07/owl#sameAs",
    "http://www.w3.org/2004/02/skos/core#exactMatch",
    "http://www.w3.org/2004/02/skos/core#closeMatch",
    "https://schema.org/sameAs",
)
_ORDER_FIRST = (RDF_TYPE, *LABELS, "http://www.w3.org/2004/02/skos/core#altLabel", *DESCRIPTIONS)
_EXTERNAL_NAMES = (
    ("http://www.wikidata.org/entity/", "Wikidata"),
    ("https://www.wikidata.org/wiki/", "Wikidata"),
    ("https://sws.geonames.org/", "GeoNames"),
    ("http://sws.geonames.org/", "GeoNames"),
    ("https://en.wikipedia.org/wiki/", "Wikipedia"),
)


def source_name(graph_iri: str) -> str:
    return graph_iri.rstrip("/").rsplit("/", 1)[-1]


def external_name(iri: str) -> str:
    for prefix, name in _EXTERNAL_NAMES:
        if iri.startswith(prefix):
            return f"{name} {iri[len(prefix):].strip('/')}"
    return iri


def node_link(iri: str, base: str, labels: dict[str, dict[str, str]], lang: str) -> dict[str, Any]:
    """How to show a link to ``iri``: text, href, whether it leaves the site."""
    label = pick_label(labels.get(iri, {}), lang)
    internal = iri.startswith(base)
    text = label or (iri[len(base):] if internal and "/id/" in iri else compact_iri(iri))
    if not label and not internal:
        text = external_name(iri) if external_name(iri) != iri else compact_iri(iri)
    lang_of = _label_lang(labels.get(iri, {}), lang) if label else None
    return {"iri": iri, "href": local_href(iri, base), "text": text, "external": not internal, "lang": lang_of}


def _label_lang(labels: dict[str, str], lang: str) -> str | None:
    """The ``lang`` attribute for the label :func:`pick_label` shows (None when untagged)."""
    return label_language(labels, lang) or None


@dataclass(frozen=True)
class EntityView:
    iri: str
    title: str
    title_lang: str | None
    description: str | None
    description_lang: str | None
    types: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    incoming: list[dict[str, Any]]
    external: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    schema_org: dict[str, Any] = field(default_factory=dict)


def _value(term: Term, doc: EntityDocument, base: str, lang: str, blanks: dict[str, list[Statement]],
           depth: int = 0) -> dict[str, Any]:
    if isinstance(term, NamedNode):
        return {"kind": "link", **node_link(term.value, base, doc.labels, lang)}
    if isinstance(term, BlankNode):
        inner = [
            {"property": node_link(s.predicate.value, base, doc.labels, lang),
             "value": _value(s.object, doc, base, lang, blanks, depth + 1) if depth < 2 else
             {"kind": "literal", "text": str(s.object)}}
            for s in blanks.get(term.value, [])
        ]
        return {"kind": "blank", "items": inner}
    assert isinstance(term, Literal)
    datatype = term.datatype.value
    shown_type = None if term.language or datatype.endswith("#string") else compact_iri(datatype)
    return {"kind": "literal", "text": term.value, "lang": term.language or None, "datatype": shown_type}


def _text(link: dict[str, Any]) -> str:
    return str(link["text"])


def _literal_family(term: Term) -> str | None:
    if isinstance(term, Literal):
        return term.language or "typed"
    return None


def entity_view(doc: EntityDocument, *, base: str, lang: str, sources: dict[str, str]) -> EntityView:
    """Everything the entity template needs, in the reader's language ``lang``."""
    own = doc.own
    blanks: dict[str, list[Statement]] = defaultdict(list)
    for s in doc.blank_statements:
        assert isinstance(s.subject, BlankNode)
        blanks[s.subject.value].append(s)

    def source_links(graphs: Iterable[str]) -> list[dict[str, str]]:
        return [{"name": source_name(g), "label": sources.get(g, source_name(g)), "href": local_href(g, base)}
                for g in graphs]

    by_predicate: dict[str, list[Statement]] = defaultdict(list)
    for s in own:
        by_predicate[s.predicate.value].append(s)

    def order(p: str) -> tuple[int, str]:
        if p in _ORDER_FIRST:
            return (_ORDER_FIRST.index(p), "")
        link = node_link(p, base, doc.labels, lang)
        return (len(_ORDER_FIRST), str(link["text"]).lower())

    rows = []
    for p in sorted(by_predicate, key=order):
        statements = by_predicate[p]
        values = []
        for s in statements:
            values.append({
                **_value(s.object, doc, base, lang, blanks),
                "sources": source_links(s.graphs),
            })
        # Sources disagree when they give different literals of one kind (same language, or typed
        # values such as dates), or different resources for the same property. Labels in two
        # languages from two sources are not a disagreement and stay a plain list.
        source_sets = {s.graphs for s in statements}
        families: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        for s in statements:
            fam = _literal_family(s.object)
            if fam is not None:
                families[fam].add(s.graphs)
        conflict = any(len(g) > 1 for g in families.values())
        only_resources = all(not isinstance(s.object, Literal) for s in statements)
        side_by_side = len(source_sets) > 1 and (conflict or only_resources)
        columns = []
        if side_by_side:
            grouped: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            for s, v in zip(statements, values, strict=True):
                grouped[s.graphs].append(v)
            for graphs, vals in sorted(grouped.items()):
                columns.append({
                    "sources": source_links(graphs),
                    "values": vals,
                })
        rows.append({
            "property": node_link(p, base, doc.labels, lang),
            "values": values,
            "columns": columns,
            "conflict": conflict,
        })

    incoming_groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in doc.incoming:
        assert isinstance(s.subject, NamedNode)
        incoming_groups[s.predicate.value].append(node_link(s.subject.value, base, doc.labels, lang))
    incoming: list[dict[str, Any]] = []
    for p, subjects in sorted(incoming_groups.items()):
        subjects.sort(key=_text)
        incoming.append({"property": node_link(p, base, doc.labels, lang), "subjects": subjects})

    external = []
    seen: set[str] = set()
    for s in own:
        if s.predicate.value in IDENTITY and isinstance(s.object, NamedNode) and s.object.value not in seen:
            seen.add(s.object.value)
            external.append({"href": s.object.value, "text": external_name(s.object.value),
                             "relation": compact_iri(s.predicate.value)})

    labels = doc.labels.get(doc.iri, {})
    title = pick_label(labels, lang) or doc.iri[len(base):]
    title_lang = _label_lang(labels, lang)
    descriptions: dict[str, str] = {}
    for p in DESCRIPTIONS:
        for s in by_predicate.get(p, []):
            if isinstance(s.object, Literal):
                descriptions.setdefault(s.object.language or "", s.object.value)
    description = pick_label(descriptions, lang)
    description_lang = _label_lang(descriptions, lang)
    types = [node_link(s.object.value, base, doc.labels, lang) for s in by_predicate.get(RDF_TYPE, [])
             if isinstance(s.object, NamedNode)]
    used_graphs = sorted({g for st in [*own, *doc.incoming] for g in st.graphs})
    used_sources = source_links(used_graphs)
    view = EntityView(
        iri=doc.iri, title=title, title_lang=title_lang, description=description,
        description_lang=description_lang, types=types, rows=rows, incoming=incoming,
        external=external, sources=used_sources,
    )
    return EntityView(**{**view.__dict__, "schema_org": _schema_org(doc, view, by_predicate)})


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
