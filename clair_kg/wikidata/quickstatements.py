"""Statements Wikidata can take: QuickStatements (V1) for the entities with a verified QID.

For each catalogued entity that has a verified Wikidata item (``owl:sameAs``, data/reference/), it
writes our identifier (the property id is a parameter: the property does not exist yet), and each
statement that maps to a property docs/WIKIDATA.md rates **strong**, with its references from the
source graphs: the page's address (S854), the date it was read (S813) and, where recorded, its title
(S1476). A statement supported by two pages is written twice, once per page: QuickStatements adds
the second reference to the same claim.

Left out, and listed in :attr:`QuickStatementsExport.left_out` with the reason:

- a statement whose only source is the Wikipedia article (Wikidata treats "imported from Wikipedia"
  as no source; ``include_wikipedia=True`` writes them anyway, cited to the article);
- a statement whose only source is one of the curators' own graphs (no page to cite);
- a value Wikidata cannot state faithfully: an open-ended "more than" figure, an entity of ours
  without a verified item, a string QuickStatements cannot quote.

"Unknown" (``clair:unknown``) is written as ``somevalue``; dates keep their precision (``1988`` is a
year, ``1988-07`` a month). Syntax: Help:QuickStatements; the reference parser is
magnusmanske/quickstatements_rs (``QuickStatementsParser``), see docs/wikidata.md.
"""

from __future__ import annotations

__all__ = ["STRONG_PROPERTIES", "LeftOut", "QuickStatementsExport", "Reference", "Statement", "quickstatements"]

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from pyoxigraph import Literal, NamedNode

from ..errors import InvalidParameter
from ..namespaces import PREFIXES
from ..search import LabelIndex
from ..store import Store
from .catalogue import catalogue_entries, wikidata_links

_SCHEMA = PREFIXES["schema"]
_ORG = PREFIXES["org"]
_XSD = PREFIXES["xsd"]
UNKNOWN = PREFIXES["clair"] + "unknown"

#: our predicate -> the Wikidata property docs/WIKIDATA.md rates strong
STRONG_PROPERTIES = {
    f"{_SCHEMA}foundingDate": "P571",  # inception
    f"{_SCHEMA}startDate": "P571",  # inception (of a programme)
    f"{_SCHEMA}url": "P856",  # official website
    f"{_ORG}memberOf": "P463",  # member of
    f"{_ORG}hasPrimarySite": "P159",  # headquarters location
    f"{_SCHEMA}location": "P131",  # located in the administrative territorial entity
}
_PRECISION = {f"{_XSD}gYear": 9, f"{_XSD}gYearMonth": 10, f"{_XSD}date": 11}
_PROPERTY_ID = re.compile(r"^P[1-9][0-9]*$")

_STATEMENTS_QUERY = """
PREFIX clair: <https://w3id.org/clair-kg/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX schema: <https://schema.org/>
SELECT ?entity ?property ?value ?graph ?page ?retrieved ?title ?min WHERE {
  GRAPH ?graph { ?entity ?property ?value }
  OPTIONAL { GRAPH ?graph { ?graph prov:wasDerivedFrom ?page } }
  OPTIONAL { GRAPH ?graph { ?graph clair:retrieved ?retrieved } }
  OPTIONAL { GRAPH ?graph { ?graph dcterms:title ?title } }
  OPTIONAL { ?value schema:minValue ?min }
}"""


@dataclass(frozen=True, order=True)
class Reference:
    page: str
    retrieved: str  # YYYY-MM-DD
    title: str = ""
    title_lang: str = ""

    def fields(self) -> list[str]:
        out = ["S854", _string(self.page), "S813", f"+{self.retrieved}T00:00:00Z/11"]
        if self.title and self.title_lang:
            out += ["S1476", f'{self.title_lang}:{_string(self.title)}']
        return out


@dataclass(frozen=True)
class Statement:
    qid: str
    property: str  # P…
    value: str  # in QuickStatements syntax
    references: tuple[Reference, ...]
    entity: str  # our id, for the report

    def lines(self) -> list[str]:
        """One line per reference (never a line without one)."""
        return ["\t".join([self.qid, self.property, self.value, *ref.fields()]) for ref in self.references]


@dataclass(frozen=True)
class LeftOut:
    entity: str
    qid: str
    property: str  # our predicate IRI
    value: str
    reason: str


@dataclass(frozen=True)
class QuickStatementsExport:
    statements: tuple[Statement, ...]
    left_out: tuple[LeftOut, ...]

    def to_text(self) -> str:
        lines = [line for statement in self.statements for line in statement.lines()]
        return "".join(line + "\n" for line in lines)

    def report(self) -> str:
        out = [f"{sum(len(s.references) for s in self.statements)} QuickStatements lines for "
               f"{len({s.qid for s in self.statements})} items; {len(self.left_out)} statements left out:"]
        out += [f"  {x.qid} {x.entity} <{x.property}> {x.value}: {x.reason}" for x in self.left_out]
        return "\n".join(out) + "\n"


def _string(text: str) -> str:
    return f'"{text}"'


def _quotable(text: str) -> bool:
    """QuickStatements V1 has no escape for a double quote, and tabs and line breaks end a field."""
    return not any(c in text for c in '"\t\n\r')


def _is_wikipedia(page: str) -> bool:
    host = urlsplit(page).hostname or ""
    return host == "wikipedia.org" or host.endswith(".wikipedia.org")


def _time(literal: Literal) -> str | None:
    precision = _PRECISION.get(literal.datatype.value)
    if precision is None:
        return None
    parts = literal.value.split("-")
    if precision == 9 and re.fullmatch(r"[0-9]{4}", literal.value):
        return f"+{parts[0]}-00-00T00:00:00Z/9"
    if precision == 10 and re.fullmatch(r"[0-9]{4}-[0-9]{2}", literal.value):
        return f"+{parts[0]}-{parts[1]}-00T00:00:00Z/10"
    if precision == 11 and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", literal.value):
        return f"+{literal.value}T00:00:00Z/11"
    return None


def quickstatements(store: Store, index: LabelIndex, *, base_iri: str, id_property: str, retrieved: date,
                    include_wikipedia: bool = False) -> QuickStatementsExport:
    """QuickStatements for every catalogued entity with a verified QID.

    ``id_property`` is the (future) property for our identifier; ``retrieved`` is the date cited for
    our own record page on the identifier statement.

    :raises InvalidParameter: ``id_property`` is not a property id (P…).
    """
    if not _PROPERTY_ID.match(id_property):
        raise InvalidParameter("property", f"expected a Wikidata property id such as P1234, got {id_property!r}")
    links = wikidata_links(store, base_iri=base_iri)
    entries = {f"{base_iri}id/{e.id}": e for e in catalogue_entries(index, store, base_iri=base_iri) if e.q}
    statements: list[Statement] = []
    left_out: list[LeftOut] = []
    for _, entry in sorted(entries.items()):
        record = Reference(page=entry.url, retrieved=retrieved.isoformat())
        statements.append(Statement(entry.q, id_property, _string(entry.id), (record,), entry.id))

    # (entity, predicate, value) -> its references from cited pages, and those from the article
    refs: dict[tuple[str, str, str], set[Reference]] = defaultdict(set)
    article: dict[tuple[str, str, str], set[Reference]] = defaultdict(set)
    values: dict[tuple[str, str, str], tuple[NamedNode | Literal, bool]] = {}
    for row in store.select(_STATEMENTS_QUERY):
        entity, prop, value = row.get("entity"), row.get("property"), row.get("value")
        if not (isinstance(entity, NamedNode) and entity.value in entries and isinstance(prop, NamedNode)):
            continue
        if prop.value not in STRONG_PROPERTIES or not isinstance(value, NamedNode | Literal):
            continue
        key = (entity.value, prop.value, str(value))
        values[key] = (value, row.get("min") is not None)
        page, when, title = row.get("page"), row.get("retrieved"), row.get("title")
        if not (isinstance(page, NamedNode) and isinstance(when, Literal)):
            refs.setdefault(key, set())  # a curators' graph: nothing to cite
            continue
        ref = Reference(page.value, when.value, *(
            (title.value, title.language or "") if isinstance(title, Literal) else ("", "")))
        (article if _is_wikipedia(page.value) else refs)[key].add(ref)
        refs.setdefault(key, set())

    for key in sorted(values):
        iri, predicate, shown = key
        entry = entries[iri]
        value, open_ended = values[key]
        cited = sorted(refs[key] | (article[key] if include_wikipedia else set()))
        rendered = _render(value, open_ended, links)
        reason = ""
        if not cited:
            reason = ("its only source is the Wikipedia article, which Wikidata does not take as a source"
                      if article[key] else "its only source is a curators' graph, with no page to cite")
        elif rendered.startswith("!"):
            reason = rendered[1:]
        if reason:
            left_out.append(LeftOut(entry.id, entry.q, predicate, shown, reason))
        else:
            statements.append(Statement(entry.q, STRONG_PROPERTIES[predicate], rendered, tuple(cited), entry.id))
    return QuickStatementsExport(tuple(statements), tuple(left_out))


def _render(value: NamedNode | Literal, open_ended: bool, links: dict[str, str]) -> str:
    """The value in QuickStatements syntax, or ``!reason`` when it cannot be stated faithfully."""
    if open_ended:
        return "!an open-ended 'more than' figure, which a Wikidata value cannot state"
    if isinstance(value, NamedNode):
        if value.value == UNKNOWN:
            return "somevalue"
        if value.value in links:
            return links[value.value]
        if value.value.startswith(("http://", "https://")) and "/clair-kg/id/" not in value.value:
            return _string(value.value) if _quotable(value.value) else "!an address QuickStatements cannot quote"
        return "!the value has no verified Wikidata item"
    time = _time(value)
    if time is not None:
        return time
    return "!a literal with no Wikidata value type here"
