"""The properties reconciliation can match on and data extension can fetch.

Each :class:`PropertyDef` is a fixed SPARQL pattern from ``?s`` (the entity) to ``?v`` (a value);
:func:`fetch_values` runs one for many entities at once, passing the entities as a ``VALUES`` block
of serialized ``NamedNode`` terms (validated when they were made, never raw request text). A full
predicate IRI also works as a property id (``?s <iri> ?v``), bound the same way.

The label index holds every catalogue property's values too (:func:`indexed_queries`, read by
``LabelIndex.build``), so that scoring candidates and data extension ask the index, not the store;
the store answers what the index does not hold (a property given by IRI).
"""

from __future__ import annotations

__all__ = ["CATALOGUE", "PropertyDef", "fetch_values", "find_subjects", "indexed_queries", "resolve_property",
           "values_query"]

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode

from ..errors import InvalidParameter
from ..store import Store, Term

_PREFIXES = """PREFIX clair: <https://w3id.org/clair-kg/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX schema: <https://schema.org/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"


@dataclass(frozen=True)
class PropertyDef:
    id: str
    name: str
    description: str
    pattern: str  # a group graph pattern over ?s and ?v (and ?p for a predicate given by IRI)
    entity_valued: bool = False  # values are entities of this dataset
    qid: bool = False  # values are Wikidata items, shown as their QID
    kinds: tuple[str, ...] = ()  # the kinds of entity it is proposed for (empty: any)


CATALOGUE: tuple[PropertyDef, ...] = (
    PropertyDef("city", "city", "The city an office is in.",
                "?s schema:location ?v . ?v a schema:City .", entity_valued=True, kinds=("office", "site")),
    PropertyDef("country", "country", "The country an office or place is in.",
                "{ ?s schema:location ?c . ?c schema:containedInPlace ?v . ?v a schema:Country . }"
                " UNION { ?s schema:location ?v . ?v a schema:Country . }"
                " UNION { ?s schema:containedInPlace ?v . ?v a schema:Country . }",
                entity_valued=True, kinds=("office", "place", "prefecture")),
    PropertyDef("prefecture", "prefecture", "The prefecture a branch office serves.",
                "?s schema:location ?v . ?v a clair:Prefecture .", entity_valued=True, kinds=("branch",)),
    PropertyDef("location", "location", "Where the entity is (schema:location).",
                "?s schema:location ?v .", entity_valued=True, kinds=("office", "branch")),
    PropertyDef("wikidata", "Wikidata item", "The verified Wikidata item (owl:sameAs), as its QID.",
                f'?s owl:sameAs ?v . FILTER(STRSTARTS(STR(?v), "{WIKIDATA_ENTITY}Q"))', qid=True),
    PropertyDef("label_en", "name (English)", "The preferred name in English.",
                '?s skos:prefLabel ?v . FILTER(LANG(?v) = "en")'),
    PropertyDef("label_ja", "name (Japanese)", "The preferred name in Japanese.",
                '?s skos:prefLabel ?v . FILTER(LANG(?v) = "ja")'),
    PropertyDef("altLabel", "other names", "Alternative names and abbreviations (skos:altLabel).",
                "?s skos:altLabel ?v ."),
    PropertyDef("localName", "local name", "The name an office uses in its own country.",
                "?s clair:localName ?v .", kinds=("office",)),
    PropertyDef("isoCode", "ISO 3166 code", "ISO 3166-1 or 3166-2 code of a country or prefecture.",
                "?s clair:isoCode ?v .", kinds=("place", "prefecture")),
    PropertyDef("localGovernmentCode", "local government code", "Japanese local government code (6 digits).",
                "?s clair:localGovernmentCode ?v .", kinds=("prefecture", "place")),
    PropertyDef("website", "website", "The official website.", "?s schema:url ?v .",
                kinds=("org", "office", "programme")),
    PropertyDef("parent", "part of", "The organisation an office or unit belongs to.",
                "?s org:unitOf|org:subOrganizationOf ?v .", entity_valued=True, kinds=("office", "branch", "org")),
    PropertyDef("memberOf", "member of", "Organisations and networks it is a current member of.",
                "?s org:memberOf ?v .", entity_valued=True, kinds=("org",)),
    PropertyDef("foundingDate", "founded", "When it was founded or started, as each source gives it.",
                "?s schema:foundingDate|schema:startDate ?v .", kinds=("org", "office", "programme")),
    PropertyDef("description", "description", "A short description.",
                "?s schema:description|skos:definition ?v ."),
)
_BY_ID = {p.id: p for p in CATALOGUE}


def resolve_property(pid: str, *, param: str) -> PropertyDef:
    """A catalogue property by id, or any predicate given by absolute IRI.

    An id that is neither is a property no entity has (the spec's valid example queries use such
    ids, so they are not an error): it matches nothing and extends to no values.

    :raises InvalidParameter: an ``http(s)`` IRI that is not valid.
    """
    known = _BY_ID.get(pid)
    if known is not None:
        return known
    if pid.startswith(("http://", "https://")):
        try:
            NamedNode(pid)
        except ValueError as exc:
            raise InvalidParameter(param, f"property {pid!r} is not a valid IRI") from exc
        return PropertyDef(pid, pid.rsplit("#", 1)[-1].rsplit("/", 1)[-1], f"The values of <{pid}>.",
                           "?s ?p ?v .")
    return PropertyDef(pid, pid, "Not a property of this dataset: it has no values.", "")


def values_query(prop: PropertyDef) -> str:
    """The SELECT of ``?s ?v`` for every subject's values of ``prop``: what the label index stores, and
    under which it looks them up (a changed pattern is a different query: the store answers then)."""
    return f"{_PREFIXES}SELECT DISTINCT ?s ?v WHERE {{\n  {prop.pattern}\n  FILTER(isIRI(?s))\n}}"


def indexed_queries() -> dict[str, str]:
    """Property id -> :func:`values_query` for every property of the catalogue (all have a pattern)."""
    return {prop.id: values_query(prop) for prop in CATALOGUE if prop.pattern}


def fetch_values(store: Store, prop: PropertyDef, subjects: Sequence[str]) -> dict[str, list[Term]]:
    """The values of ``prop`` for each of ``subjects`` (entity IRIs), in a stable order."""
    if not subjects or not prop.pattern:
        return {}
    nodes = " ".join(str(NamedNode(s)) for s in dict.fromkeys(subjects))
    predicate = ""
    if prop.pattern == "?s ?p ?v .":
        predicate = f"VALUES ?p {{ {NamedNode(prop.id)} }}\n"
    query = f"{_PREFIXES}SELECT DISTINCT ?s ?v WHERE {{\n  VALUES ?s {{ {nodes} }}\n  {predicate}{prop.pattern}\n}}"
    out: dict[str, list[Term]] = defaultdict(list)
    for row in store.select(query):
        s, v = row.get("s"), row.get("v")
        if isinstance(s, NamedNode) and v is not None:
            out[s.value].append(v)
    for values in out.values():
        values.sort(key=str)
    return dict(out)


def find_subjects(store: Store, prop: PropertyDef, values: Sequence[str], texts: Sequence[str], *,
                  limit: int) -> list[str]:
    """Subjects (at most ``limit``) whose ``prop`` value is one of the IRIs ``values`` or a literal
    equal to one of ``texts`` ignoring case: the reverse lookup of a query that gives no name.

    The IRIs are a ``VALUES`` block (an index lookup each); the texts are compared with ``LCASE``
    over the values of that one property, passed as serialized ``Literal`` terms.
    """
    if not prop.pattern or not (values or texts):
        return []
    predicate = f"VALUES ?p {{ {NamedNode(prop.id)} }}\n" if prop.pattern == "?s ?p ?v ." else ""
    found: dict[str, None] = {}
    queries = []
    if values:
        nodes = " ".join(str(NamedNode(v)) for v in dict.fromkeys(values) if _is_iri(v))
        if nodes:
            queries.append(f"VALUES ?v {{ {nodes} }}\n  {predicate}{prop.pattern}")
    if texts:
        wanted = " ".join(str(Literal(t.lower())) for t in dict.fromkeys(texts))
        queries.append(f"{predicate}{prop.pattern}\n  FILTER(isLITERAL(?v))\n"
                       f"  BIND(LCASE(STR(?v)) AS ?text) VALUES ?text {{ {wanted} }}")
    for body in queries:
        query = f"{_PREFIXES}SELECT DISTINCT ?s WHERE {{\n  {body}\n}} LIMIT {int(limit)}"
        for row in store.select(query):
            s = row.get("s")
            if isinstance(s, NamedNode):
                found.setdefault(s.value)
    return list(found)[:limit]


def _is_iri(text: str) -> bool:
    try:
        NamedNode(text)
    except ValueError:
        return False
    return True
