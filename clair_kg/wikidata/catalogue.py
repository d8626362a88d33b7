"""What the graph offers Wikidata: a Mix'n'match catalogue, a property proposal, the link count.

Everything here reads the store and returns values; ``clair-kg wikidata …`` prints them.
"""

from __future__ import annotations

__all__ = [
    "CatalogueEntry",
    "PropertyProposal",
    "catalogue_entries",
    "count_wikidata_links",
    "mixnmatch_tsv",
    "property_proposal",
    "wikidata_links",
]

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pyoxigraph import NamedNode

from ..project import ENTITY_PATH_PATTERN
from ..search import LabelIndex
from ..store import Store

WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
_PERSON = ("https://schema.org/Person", "http://xmlns.com/foaf/0.1/Person")
_ORGANISATION = ("http://www.w3.org/ns/org#Organization", "http://www.w3.org/ns/org#FormalOrganization",
                 "http://www.w3.org/ns/org#OrganizationalUnit")
#: Wikidata classes for the Mix'n'match "type" column: only the two every Wikidata editor knows
#: (human, organization); other kinds are left blank rather than guessed (see IDENTIFIERS.md).
_TYPE_QIDS = ((_PERSON, "Q5"), (_ORGANISATION, "Q43229"))

#: kinds shown as examples in the proposal, most telling first (claims, intervals etc. never)
_EXAMPLE_KINDS = ("org", "office", "programme", "prefecture", "place", "position", "branch", "person")

_LINKS_QUERY = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
SELECT DISTINCT ?entity ?item WHERE { ?entity owl:sameAs ?item . FILTER(isIRI(?entity) && isIRI(?item)) }"""


@dataclass(frozen=True)
class CatalogueEntry:
    id: str  # the external identifier, e.g. office/london
    name: str
    description: str
    type: str  # a Wikidata class QID, or ""
    url: str


def _type_qid(types: Sequence[str]) -> str:
    for classes, qid in _TYPE_QIDS:
        if any(t in classes for t in types):
            return qid
    return ""


def catalogue_entries(index: LabelIndex, *, base_iri: str, kinds: Sequence[str] = ()) -> list[CatalogueEntry]:
    """Every entity (or those of ``kinds``), sorted by id."""
    entries = []
    for entity in sorted(index.entities(), key=lambda e: e.id):
        if kinds and entity.kind not in kinds:
            continue
        if not ENTITY_PATH_PATTERN.match(entity.id):
            continue
        description = (entity.description() or "").replace("\t", " ").replace("\n", " ")
        entries.append(CatalogueEntry(entity.id, entity.name("en"), description, _type_qid(entity.types),
                                      f"{base_iri}id/{entity.id}"))
    return entries


def mixnmatch_tsv(entries: Sequence[CatalogueEntry]) -> str:
    """The Mix'n'match import format: a header line, then id, name, description, type, url."""
    def clean(text: str) -> str:
        return " ".join(text.split())

    lines = ["id\tname\tdescription\ttype\turl"]
    lines += ["\t".join(clean(v) for v in (e.id, e.name, e.description, e.type, e.url)) for e in entries]
    return "\n".join(lines) + "\n"


def wikidata_links(store: Store, *, base_iri: str) -> dict[str, str]:
    """Entity IRI -> Wikidata QID, for every owl:sameAs from one of our entities to a Wikidata item."""
    links: dict[str, str] = {}
    for row in store.select(_LINKS_QUERY):
        entity, item = row.get("entity"), row.get("item")
        if not (isinstance(entity, NamedNode) and isinstance(item, NamedNode)):
            continue
        if entity.value.startswith(f"{base_iri}id/") and item.value.startswith(WIKIDATA_ENTITY + "Q"):
            links[entity.value] = item.value[len(WIKIDATA_ENTITY):]
    return links


def count_wikidata_links(store: Store, *, base_iri: str) -> int:
    """How many owl:sameAs links go from our entities to Wikidata items (the VoID Linkset size)."""
    return len(wikidata_links(store, base_iri=base_iri))


@dataclass(frozen=True)
class PropertyProposal:
    label: str
    description: str
    datatype: str
    formatter_url: str
    formatter_uri_for_rdf: str
    format_regex: str
    examples: tuple[tuple[str, str, str], ...]  # (id, name, existing QID or "")
    entity_count: int
    counts_by_kind: tuple[tuple[str, int], ...]
    linked_count: int

    def to_wikitext(self) -> str:
        """The draft in the ``{{Property proposal}}`` template used on Wikidata's proposal pages."""
        lines = [
            "{{Property proposal",
            "|status = ",
            f"|description = {self.description}",
            f"|datatype = {self.datatype}",
            "|domain = organization, place, programme, position, person (see the counts below)",
            f"|allowed values = <code>{self.format_regex}</code>",
            "|source = https://w3id.org/clair-kg/",
            f"|formatter URL = {self.formatter_url}",
            f"|formatter URI for RDF resource = {self.formatter_uri_for_rdf}",
            f"|number of ids = {self.entity_count}",
            "|expected completeness = eventually complete",
        ]
        for n, (ext_id, name, qid) in enumerate(self.examples[:9], start=1):
            subject = f"{{{{Q|{qid[1:]}}}}}" if qid else f"{name} (no item confirmed yet)"
            lines.append(f"|example {n} = {subject} → {ext_id}")
        lines.append("|planned use = Mix'n'match catalogue from `clair-kg wikidata export-mixnmatch`; "
                     "checks with `clair-kg wikidata check`")
        lines.append("}}")
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, object]:
        return {
            "label": self.label, "description": self.description, "datatype": self.datatype,
            "formatter_url": self.formatter_url, "formatter_uri_for_rdf_resource": self.formatter_uri_for_rdf,
            "format_regex": self.format_regex,
            "examples": [{"id": i, "name": n, "qid": q or None} for i, n, q in self.examples],
            "entity_count": self.entity_count, "counts_by_kind": dict(self.counts_by_kind),
            "linked_count": self.linked_count,
        }

    def to_text(self) -> str:
        out = [
            f"Label: {self.label}",
            f"Description: {self.description}",
            f"Datatype: {self.datatype}",
            f"Formatter URL (P1630): {self.formatter_url}",
            f"Formatter URI for RDF resource (P1921): {self.formatter_uri_for_rdf}",
            f"Format as a regular expression (P1793): {self.format_regex}",
            f"Entities: {self.entity_count} ({', '.join(f'{k} {n}' for k, n in self.counts_by_kind)}); "
            f"{self.linked_count} already linked to Wikidata",
            "Examples:",
        ]
        out += [f"  {i}  {n}" + (f"  ({q})" if q else "") for i, n, q in self.examples]
        out += ["", "Wikitext draft:", self.to_wikitext()]
        return "\n".join(out)


def property_proposal(store: Store, index: LabelIndex, *, base_iri: str, examples: int = 5) -> PropertyProposal:
    """A draft external-identifier property for the dataset, with examples and counts from the graph."""
    entries = catalogue_entries(index, base_iri=base_iri)
    links = wikidata_links(store, base_iri=base_iri)
    by_kind = Counter(e.id.split("/", 1)[0] for e in entries)
    # Examples: linked entities first (a reviewer can check them on Wikidata), one per kind.
    chosen: list[tuple[str, str, str]] = []
    seen_kinds: set[str] = set()
    def priority(entry: CatalogueEntry) -> tuple[int, bool, str]:
        kind = entry.id.split("/", 1)[0]
        rank = _EXAMPLE_KINDS.index(kind) if kind in _EXAMPLE_KINDS else len(_EXAMPLE_KINDS)
        return rank, f"{base_iri}id/{entry.id}" not in links, entry.id

    ordered = sorted(entries, key=priority)
    for entry in ordered:
        kind = entry.id.split("/", 1)[0]
        if kind in seen_kinds:
            continue
        seen_kinds.add(kind)
        chosen.append((entry.id, entry.name, links.get(f"{base_iri}id/{entry.id}", "")))
        if len(chosen) >= examples:
            break
    regex = ENTITY_PATH_PATTERN.pattern.removeprefix("^").removesuffix("$")
    return PropertyProposal(
        label="CLAIR knowledge graph ID",
        description="identifier of an entity in the CLAIR knowledge graph (Council of Local Authorities for "
                    "International Relations: its offices, programmes, partners and networks)",
        datatype="external-id",
        formatter_url=f"{base_iri}id/$1",
        formatter_uri_for_rdf=f"{base_iri}id/$1",
        format_regex=regex,
        examples=tuple(chosen),
        entity_count=len(entries),
        counts_by_kind=tuple(sorted(by_kind.items())),
        linked_count=len(links),
    )
