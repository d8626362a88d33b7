"""A Wikidata external-identifier property proposal for the dataset, ready to file.

Wikidata:Property proposal pages take one section per proposal: a heading with the property's name,
the ``{{Property proposal}}`` template, then the motivation, signed. The template's examples must
each name an existing item and our identifier for it, so only catalogued entities with a verified
QID are examples; the count and the allowed values are those of the Mix'n'match catalogue
(:mod:`.catalogue`), so the proposal describes exactly what is exported.
"""

from __future__ import annotations

__all__ = ["PropertyProposal", "property_proposal"]

from collections import Counter
from dataclasses import dataclass

from ..search import LabelIndex
from ..store import Store
from .catalogue import BUILDING, CATALOGUE_KINDS, ORGANIZATION, POSITION, catalogue_entries

#: what each catalogued kind is, for the domain line
_KIND_NAMES = {
    "org": "CLAIR and its partner organisations and networks",
    "office": "CLAIR's overseas offices",
    "branch": "CLAIR's domestic branch offices",
    "site": "CLAIR's headquarters building",
    "programme": "programmes",
    "position": "the JET Programme's positions",
}

MOTIVATION = (
    "The CLAIR knowledge graph (https://w3id.org/clair-kg/) publishes the Council of Local Authorities "
    "for International Relations (CLAIR, 自治体国際化協会), the Japanese local-government foundation that "
    "runs the JET Programme: its headquarters, {branch} domestic branch offices, {office} overseas offices, "
    "its programmes and their positions, and the organisations and networks it works with. Every statement "
    "is published with the page it comes from and the date that page was read, in English and Japanese, as "
    "linked data with a SPARQL endpoint. Identifiers are stable paths of the form kind/slug and dereference "
    "to the entity's page (HTML, Turtle, JSON-LD). A property lets Wikidata items link to these records and "
    "lets editors reuse the sourced statements; a Mix'n'match catalogue of the {count} identifiers is ready "
    "(`clair-kg wikidata export-mixnmatch`), and `clair-kg wikidata check` reports items that point to us "
    "and items we link to."
)


@dataclass(frozen=True)
class PropertyProposal:
    label: str
    description: str
    datatype: str
    formatter_url: str
    formatter_uri_for_rdf: str
    format_regex: str
    domain: str
    examples: tuple[tuple[str, str, str], ...]  # (our id, name, existing QID) - every one has a QID
    entity_count: int
    counts_by_kind: tuple[tuple[str, int], ...]
    linked_count: int
    motivation: str

    def to_wikitext(self) -> str:
        """The section to paste into Wikidata:Property proposal/Organization."""
        lines = [
            f"=== {self.label} ===",
            "{{Property proposal",
            "|status = ",
            f"|description = {self.description}",
            f"|datatype = {self.datatype}",
            f"|domain = {self.domain}",
            f"|allowed values = <code>{self.format_regex}</code>",
            "|source = https://w3id.org/clair-kg/",
        ]
        for n, (ext_id, _, qid) in enumerate(self.examples, start=1):
            lines.append(f"|example {n} = {{{{Q|{qid[1:]}}}}} → {ext_id}")
        lines += [
            f"|formatter URL = {self.formatter_url}",
            f"|formatter URI for RDF resource = {self.formatter_uri_for_rdf}",
            f"|number of ids = {self.entity_count}",
            "|expected completeness = eventually complete",
            "|planned use = import the Mix'n'match catalogue (`clair-kg wikidata export-mixnmatch`); add the "
            "identifier to items with a verified match (`clair-kg wikidata quickstatements`); keep both sides "
            "in step with `clair-kg wikidata check`",
            "}}",
            "",
            f"'''Motivation.''' {self.motivation} ~~~~",
        ]
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, object]:
        return {
            "label": self.label, "description": self.description, "datatype": self.datatype,
            "formatter_url": self.formatter_url, "formatter_uri_for_rdf_resource": self.formatter_uri_for_rdf,
            "format_regex": self.format_regex, "domain": self.domain,
            "examples": [{"id": i, "name": n, "qid": q} for i, n, q in self.examples],
            "entity_count": self.entity_count, "counts_by_kind": dict(self.counts_by_kind),
            "linked_count": self.linked_count, "motivation": self.motivation,
        }

    def to_text(self) -> str:
        out = [
            f"Label: {self.label}",
            f"Description: {self.description}",
            f"Datatype: {self.datatype}",
            f"Domain: {self.domain}",
            f"Formatter URL (P1630): {self.formatter_url}",
            f"Formatter URI for RDF resource (P1921): {self.formatter_uri_for_rdf}",
            f"Format as a regular expression (P1793): {self.format_regex}",
            f"Identifiers: {self.entity_count} ({', '.join(f'{k} {n}' for k, n in self.counts_by_kind)}); "
            f"{self.linked_count} with a verified Wikidata item",
            "Examples:",
        ]
        out += [f"  {q}  {i}  ({n})" for i, n, q in self.examples]
        out += ["", "Wikitext:", self.to_wikitext()]
        return "\n".join(out)


def property_proposal(store: Store, index: LabelIndex, *, base_iri: str, examples: int = 5) -> PropertyProposal:
    """The proposal for the catalogued identifiers, with examples that have verified items."""
    entries = catalogue_entries(index, store, base_iri=base_iri)
    by_kind = Counter(e.kind for e in entries)
    kinds = [k for k in CATALOGUE_KINDS if by_kind[k]]
    linked = [e for e in entries if e.q]
    chosen = tuple((e.id, e.name, e.q) for e in linked[:max(examples, 0)])
    typed_kinds = {qid: [_KIND_NAMES[k] for k in kinds if any(e.kind == k and e.type == qid for e in entries)]
                   for qid in (ORGANIZATION, BUILDING, POSITION)}
    domain = "; ".join(f"{{{{Q|{qid[1:]}}}}} ({', '.join(names)})" for qid, names in typed_kinds.items() if names)
    untyped = sorted(e.name for e in entries if not e.type)
    if untyped:
        domain += f"; also {', '.join(untyped)}, for which no class item is confirmed yet"
    return PropertyProposal(
        label="CLAIR knowledge graph ID",
        description="identifier of an organisation, office, branch, building, programme or position in the "
                    "CLAIR knowledge graph (Council of Local Authorities for International Relations)",
        datatype="external-id",
        formatter_url=f"{base_iri}id/$1",
        formatter_uri_for_rdf=f"{base_iri}id/$1",
        format_regex=f"({'|'.join(kinds)})/[a-z0-9]+(-[a-z0-9]+)*",
        domain=domain,
        examples=chosen,
        entity_count=len(entries),
        counts_by_kind=tuple((k, by_kind[k]) for k in kinds),
        linked_count=len(linked),
        motivation=MOTIVATION.format(branch=by_kind["branch"], office=by_kind["office"], count=len(entries)),
    )
