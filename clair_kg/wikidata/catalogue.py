"""What the graph offers Wikidata: the Mix'n'match catalogue and the links it already has.

Only the things the dataset is *about* are catalogued: CLAIR, its headquarters, offices and branches,
its programmes and their positions, its partner organisations and networks. Claims, memberships,
time instants and intervals, concept schemes, and the places the graph only refers to (cities,
prefectures, countries) have no identifier of ours that Wikidata should hold.

The TSV follows Mix'n'match's importer (magnusmanske/mixnmatch_rs, ``MetaEntry::process_cell``):
the column labels it understands are ``id`` and ``name`` (mandatory), ``desc``, ``url``, ``q``,
``type`` (a ``Q…`` class item), ``born``, ``died``, ``P<n>``, and per language ``A<lang>`` (an
alias) and ``D<lang>`` (a description); any other label stops the import. See docs/wikidata.md.

Everything here reads the store and returns values; ``clair-kg wikidata …`` prints them.
"""

from __future__ import annotations

__all__ = [
    "CATALOGUE_KINDS",
    "MIXNMATCH_COLUMNS",
    "CatalogueEntry",
    "catalogue_entries",
    "count_wikidata_links",
    "mixnmatch_tsv",
    "wikidata_links",
]

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from pyoxigraph import NamedNode

from ..namespaces import PREFIXES
from ..project import ENTITY_PATH_PATTERN
from ..search import Entity, LabelIndex
from ..store import Store

WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
_ORG = PREFIXES["org"]

#: the kinds of entity (first path segment of the id) the dataset is about, in the order the
#: property proposal lists them
CATALOGUE_KINDS = ("org", "office", "branch", "site", "programme", "position")

#: Wikidata class items for the ``type`` column, checked against public Wikidata queries that quote
#: them (docs/wikidata.md): organization (Q43229, also named in docs/WIKIDATA.md), building (Q41176),
#: position (Q4164871). A programme has no class item verified offline, so its type stays empty
#: rather than guessed.
ORGANIZATION, BUILDING, POSITION = "Q43229", "Q41176", "Q4164871"
_ORGANISATION_CLASSES = frozenset({
    f"{_ORG}Organization", f"{_ORG}FormalOrganization", f"{_ORG}OrganizationalUnit",
    "https://w3id.org/clair-kg/ontology#Ministry", "https://w3id.org/clair-kg/ontology#Network",
    "https://w3id.org/clair-kg/ontology#OverseasOffice", "https://w3id.org/clair-kg/ontology#BranchOffice",
})
_SITE_CLASSES = frozenset({f"{_ORG}Site"})

#: the importer's column labels, in the order they are written
MIXNMATCH_COLUMNS = ("id", "name", "desc", "type", "q", "url", "Aen", "Aja", "Dja")

_LINKS_QUERY = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
SELECT DISTINCT ?entity ?item WHERE { ?entity owl:sameAs ?item . FILTER(isIRI(?entity) && isIRI(?item)) }"""


@dataclass(frozen=True)
class CatalogueEntry:
    id: str  # the external identifier, e.g. office/london
    name: str  # English name
    description: str  # English description
    type: str  # a Wikidata class QID, or "" when no class item is verified
    q: str  # the entity's verified Wikidata item, or ""
    url: str
    alias_en: str  # an English alternative name (e.g. the abbreviation), or ""
    name_ja: str  # the Japanese name, or ""
    description_ja: str  # a Japanese description, or ""

    @property
    def kind(self) -> str:
        return self.id.split("/", 1)[0]

    def cells(self) -> tuple[str, ...]:
        """The row's values in :data:`MIXNMATCH_COLUMNS` order."""
        return (self.id, self.name, self.description, self.type, self.q, self.url,
                self.alias_en, self.name_ja, self.description_ja)


def type_qid(entity: Entity) -> str:
    """The Wikidata class item for an entity's ``type`` column ("" when none is verified)."""
    if entity.kind == "position":
        return POSITION
    if any(t in _SITE_CLASSES for t in entity.types):
        return BUILDING
    if any(t in _ORGANISATION_CLASSES for t in entity.types):
        return ORGANIZATION
    return ""


def _label(entity: Entity, lang: str, kind: str) -> str:
    texts = sorted(label.text for label in entity.labels if label.lang == lang and label.kind == kind)
    return texts[0] if texts else ""


def _name_ja(entity: Entity) -> str:
    return _label(entity, "ja", "pref") or _label(entity, "ja", "label")


def _alias_en(entity: Entity) -> str:
    """The shortest English alternative name: for most entities their abbreviation (CLAIR, MIC)."""
    names = sorted({label.text for label in entity.labels if label.lang == "en" and label.kind == "alt"},
                   key=lambda text: (len(text), text))
    return names[0] if names else ""


def _description_ja(index: LabelIndex, entity: Entity) -> str:
    """The entity's own Japanese description, else the Japanese name of its project class."""
    own = [text for text, lang in entity.descriptions if lang == "ja"]
    if own:
        return own[0]
    for class_iri in entity.types:
        if class_iri.startswith("https://w3id.org/clair-kg/ontology#"):
            label = index.class_labels.get(class_iri, {}).get("ja")
            if label:
                return label
    return ""


def _in_catalogue(entity: Entity, kinds: Sequence[str]) -> bool:
    if entity.kind not in CATALOGUE_KINDS or (kinds and entity.kind not in kinds):
        return False
    return bool(ENTITY_PATH_PATTERN.match(entity.id)) and bool(entity.types)


def catalogue_entries(index: LabelIndex, store: Store, *, base_iri: str,
                      kinds: Sequence[str] = ()) -> list[CatalogueEntry]:
    """The entities the dataset is about (or those of ``kinds``), sorted by id."""
    links = wikidata_links(store, base_iri=base_iri)
    entries = []
    for entity in sorted(index.entities(), key=lambda e: e.id):
        if not _in_catalogue(entity, kinds):
            continue
        entries.append(CatalogueEntry(
            id=entity.id, name=entity.name("en"), description=entity.description("en") or "",
            type=type_qid(entity), q=links.get(entity.iri, ""), url=f"{base_iri}id/{entity.id}",
            alias_en=_alias_en(entity), name_ja=_name_ja(entity), description_ja=_description_ja(index, entity),
        ))
    return entries


def mixnmatch_tsv(entries: Sequence[CatalogueEntry]) -> str:
    """The Mix'n'match import file: a header of :data:`MIXNMATCH_COLUMNS`, one row per entity.

    Cells are single-line (whitespace runs become one space); a cell holding a double quote is
    quoted the CSV way, which the importer's CSV reader (the Rust ``csv`` crate) undoes.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(MIXNMATCH_COLUMNS)
    for entry in entries:
        writer.writerow([" ".join(value.split()) for value in entry.cells()])
    return out.getvalue()


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
