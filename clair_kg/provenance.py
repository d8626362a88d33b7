"""What a page says about a source: each named graph is one cited document.

Read once per runtime (:attr:`clair_kg.runtime.Runtime.sources`): the pages look it up, they do
not ask the store again.

Read through exactly the properties of the source contract (``rdfs:label``, ``dcterms:title``,
``dcterms:language``, ``dcterms:publisher``, ``prov:wasDerivedFrom``, ``dcterms:source``,
``clair:retrieved``, ``clair:revision``, ``dcterms:license``, ``dcterms:creator``). A graph
missing any of them is shown without it.
"""

from __future__ import annotations

__all__ = ["SourceInfo", "source_infos"]

from collections import defaultdict
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode

from .entity_graph import label_language, pick_label
from .namespaces import PREFIXES
from .store import Store

RDFS_LABEL = PREFIXES["rdfs"] + "label"
DCT = PREFIXES["dcterms"]
PROV_DERIVED = PREFIXES["prov"] + "wasDerivedFrom"
CLAIR = PREFIXES["clair"]
SOURCE_PROPERTIES = (
    RDFS_LABEL, DCT + "title", DCT + "language", DCT + "publisher", DCT + "creator", PROV_DERIVED, DCT + "source",
    CLAIR + "retrieved", CLAIR + "revision", DCT + "license",
)
# ?g is bound per graph: unbound, { ?g ?p ?v } inside GRAPH ?g would read every statement
_DESCRIPTION = """
SELECT ?p ?v WHERE { GRAPH ?g { ?g ?p ?v } }
"""


@dataclass(frozen=True)
class SourceInfo:
    iri: str
    name: str  # the graph's short name (its last path segment)
    labels: dict[str, str] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    language: str | None = None
    publisher: dict[str, str] = field(default_factory=dict)
    creator: dict[str, str] = field(default_factory=dict)
    addresses: tuple[str, ...] = ()
    retrieved: str | None = None
    revision: dict[str, str] = field(default_factory=dict)
    licence: str | None = None

    def label(self, lang: str) -> tuple[str, str | None]:
        """Display name in ``lang`` and the language it is in (None when it is in ``lang``)."""
        text = pick_label(self.labels, lang)
        if text is None:
            return self.name, "en"
        used = label_language(self.labels, lang)
        return text, (used if used != lang else None)

    @property
    def address(self) -> str | None:
        """The one page the source is: ``dcterms:source`` (else the single ``prov:wasDerivedFrom``)."""
        return self.addresses[0] if self.addresses else None


def source_infos(store: Store) -> dict[str, SourceInfo]:
    """Graph IRI -> what its own description says (every graph of the store that describes itself)."""
    props: dict[str, dict[str, list[Literal | NamedNode]]] = defaultdict(lambda: defaultdict(list))
    for g in store.graphs():
        for row in store.select(_DESCRIPTION, bindings={"g": NamedNode(g)}):
            p, v = row.get("p"), row.get("v")
            if isinstance(p, NamedNode) and isinstance(v, Literal | NamedNode):
                props[g][p.value].append(v)
    out: dict[str, SourceInfo] = {}
    for graph, found in props.items():
        def texts(prop: str, p: dict[str, list[Literal | NamedNode]] = found) -> dict[str, str]:
            result: dict[str, str] = {}
            for v in sorted(p.get(prop, []), key=str):
                result.setdefault(v.language or "" if isinstance(v, Literal) else "", v.value)
            return result

        def iris(prop: str, p: dict[str, list[Literal | NamedNode]] = found) -> list[str]:
            return sorted(v.value for v in p.get(prop, []) if isinstance(v, NamedNode))

        sources = iris(DCT + "source")
        derived = iris(PROV_DERIVED)
        addresses = tuple(dict.fromkeys([*sources, *derived]))
        retrieved = next((v.value for v in found.get(CLAIR + "retrieved", []) if isinstance(v, Literal)), None)
        language = next((v.value for v in found.get(DCT + "language", []) if isinstance(v, Literal)), None)
        licence = next(iter(iris(DCT + "license")), None)
        out[graph] = SourceInfo(
            iri=graph, name=graph.rstrip("/").rsplit("/", 1)[-1], labels=texts(RDFS_LABEL), titles=texts(DCT + "title"),
            language=language, publisher=texts(DCT + "publisher"), creator=texts(DCT + "creator"),
            addresses=addresses, retrieved=retrieved, revision=texts(CLAIR + "revision"), licence=licence,
        )
    return out
