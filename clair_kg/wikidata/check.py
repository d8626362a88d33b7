"""``clair-kg wikidata check``: compare the graph with a Wikidata-compatible SPARQL endpoint.

One batched query (``VALUES`` blocks of serialized RDF terms, never pasted text) asks for:

- the English and Japanese labels and aliases of every item we link to (``owl:sameAs``), to report
  **label mismatches** — our QID's item shares no name with our entity, the failure mode of an
  invented QID — and **missing items** (no label at all: deleted, merged or mistyped);
- the items whose label or alias equals a name of one of our entities that has no QID yet:
  **candidates** for a maintainer to confirm;
- the items that already point to us (``wdt:P973`` described at URL, ``wdt:P2888`` exact match,
  ``owl:sameAs``/``schema:sameAs``, or a clair-kg ID property given with ``--property``):
  **pointers**, consistent when we link back to the same item.

Etiquette (https://www.mediawiki.org/wiki/Wikidata_Query_Service/User_Manual): a descriptive
User-Agent, one query, and on ``429``/``503`` a wait of ``Retry-After`` seconds before retrying.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_ENDPOINT",
    "USER_AGENT",
    "CheckReport",
    "WikidataUnavailable",
    "build_check_query",
    "check_against_wikidata",
    "run_sparql",
]

import email.utils
import re
import time
import urllib.error
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import Literal, NamedNode

from .. import __version__
from ..errors import InvalidParameter, StoreUnavailable
from ..search import LabelIndex, normalise
from ..store import Store
from .catalogue import WIKIDATA_ENTITY, wikidata_links

DEFAULT_ENDPOINT = "https://query.wikidata.org/sparql"
USER_AGENT = (f"clair-kg/{__version__} (https://w3id.org/clair-kg/; Wikidata link check for the CLAIR "
              "knowledge graph) SPARQLWrapper")
NOT_CONFIRMED = "Wikidata item not yet confirmed"
_PROPERTY = re.compile(r"^P[1-9][0-9]*$")


class WikidataUnavailable(StoreUnavailable):
    """The Wikidata endpoint did not answer, or kept answering 429 past the retries."""


@dataclass(frozen=True)
class LabelMismatch:
    entity: str
    qid: str
    ours: tuple[str, ...]
    theirs: tuple[str, ...]


@dataclass(frozen=True)
class Candidate:
    entity: str
    qid: str
    matched: str
    item_label: str


@dataclass(frozen=True)
class Pointer:
    qid: str
    entity: str
    via: str
    consistent: bool  # we link that entity to that same item


@dataclass(frozen=True)
class CheckReport:
    endpoint: str
    checked_links: int
    checked_unlinked: int
    mismatches: tuple[LabelMismatch, ...] = ()
    missing_items: tuple[str, ...] = ()  # "entity QID"
    candidates: tuple[Candidate, ...] = ()
    pointers: tuple[Pointer, ...] = field(default=())

    @property
    def problems(self) -> int:
        """Findings a maintainer must act on (consistent pointers are good news, not problems)."""
        return (len(self.mismatches) + len(self.missing_items) + len(self.candidates)
                + sum(1 for p in self.pointers if not p.consistent))

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint, "checked_links": self.checked_links,
            "checked_unlinked": self.checked_unlinked, "problems": self.problems,
            "label_mismatches": [vars(m) | {"ours": list(m.ours), "theirs": list(m.theirs)} for m in self.mismatches],
            "missing_items": list(self.missing_items),
            "candidates": [vars(c) for c in self.candidates],
            "pointers": [vars(p) for p in self.pointers],
        }

    def to_text(self) -> str:
        out = [f"Checked {self.checked_links} Wikidata links and {self.checked_unlinked} unlinked entities "
               f"against {self.endpoint}."]
        out.append(f"Label mismatches (our QID's item shares no English/Japanese name with us): {len(self.mismatches)}")
        out += [f"  {m.entity}  {m.qid}: ours {' | '.join(m.ours)}; Wikidata {' | '.join(m.theirs)}"
                for m in self.mismatches]
        out.append(f"Linked items with no English/Japanese label (deleted or merged?): {len(self.missing_items)}")
        out += [f"  {m}" for m in self.missing_items]
        out.append(f"Candidates for entities without a QID (confirm before linking): {len(self.candidates)}")
        out += [f"  {c.entity}  {c.qid} ({c.item_label}) matched {c.matched!r}" for c in self.candidates]
        out.append(f"Wikidata items pointing to us: {len(self.pointers)}")
        out += [f"  {p.qid} -> {p.entity} via {p.via}" + ("" if p.consistent else "  (we do not link back)")
                for p in self.pointers]
        out.append(f"{self.problems} finding(s) to act on." if self.problems else "No problems found.")
        return "\n".join(out) + "\n"


def _entity_labels(index: LabelIndex, iri: str) -> list[Literal]:
    entity = index.get(iri)
    if entity is None:
        return []
    seen: dict[tuple[str, str], Literal] = {}
    for label in entity.labels:
        if label.lang in ("en", "ja"):
            seen.setdefault((label.text, label.lang), Literal(label.text, language=label.lang))
    return list(seen.values())


def build_check_query(
    linked_qids: Sequence[str], unlinked_labels: Sequence[Literal], our_iris: Sequence[str],
    *, id_property: str | None = None,
) -> str:
    """The one batched query; every value enters as a serialized, validated RDF term."""
    items = " ".join(str(NamedNode(WIKIDATA_ENTITY + q)) for q in sorted(set(linked_qids))) or "UNDEF"
    labels = " ".join(sorted({str(lit) for lit in unlinked_labels})) or "UNDEF"
    iris = " ".join(str(NamedNode(i)) for i in sorted(set(our_iris))) or "UNDEF"
    pointer_props = "wdt:P973|wdt:P2888|owl:sameAs|schema:sameAs"
    id_branch = ""
    if id_property:
        if not _PROPERTY.match(id_property):
            raise InvalidParameter("property", f"expected a Wikidata property id such as P1234, got {id_property!r}")
        ext_ids = " ".join(sorted(str(Literal(i.split("/id/", 1)[1])) for i in set(our_iris) if "/id/" in i))
        prop = NamedNode(f"http://www.wikidata.org/prop/direct/{id_property}")
        id_branch = (f"\n  UNION {{ VALUES ?key {{ {ext_ids or 'UNDEF'} }} ?item {prop} ?key . "
                     f'BIND("pointer-id" AS ?part) }}')
    return f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX schema: <http://schema.org/>
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
SELECT ?part ?item ?key ?label WHERE {{
  {{ VALUES ?item {{ {items} }}
    ?item rdfs:label|skos:altLabel ?label . FILTER(LANG(?label) IN ("en", "ja"))
    BIND("linked" AS ?part) }}
  UNION {{ VALUES ?key {{ {labels} }}
    ?item rdfs:label|skos:altLabel ?key .
    OPTIONAL {{ ?item rdfs:label ?label . FILTER(LANG(?label) = "en") }}
    BIND("candidate" AS ?part) }}
  UNION {{ VALUES ?key {{ {iris} }}
    ?item {pointer_props} ?key .
    BIND("pointer" AS ?part) }}{id_branch}
}}"""


def _retry_after(headers: Any, default: float) -> float:
    raw = headers.get("Retry-After") if headers is not None else None
    if not raw:
        return default
    raw = str(raw).strip()
    if raw.isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


def run_sparql(
    endpoint: str, query: str, *, retries: int = 3, max_wait: float = 120.0, timeout: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, Any]]:
    """Run a SELECT on ``endpoint`` with SPARQLWrapper; the JSON result bindings.

    :raises WikidataUnavailable: the endpoint is unreachable, errs, or still says 429 after ``retries``.
    """
    from SPARQLWrapper import JSON, POST, SPARQLWrapper
    from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

    client = SPARQLWrapper(endpoint, agent=USER_AGENT)
    client.setMethod(POST)
    client.setReturnFormat(JSON)
    client.setTimeout(int(timeout))
    client.setQuery(query)
    for attempt in range(retries + 1):
        try:
            result = client.queryAndConvert()
        except urllib.error.HTTPError as exc:
            if exc.code in (429, 503) and attempt < retries:
                wait = _retry_after(exc.headers, default=2.0 ** attempt)
                if wait > max_wait:
                    raise WikidataUnavailable(f"{endpoint} asks to wait {wait:.0f}s; try again later") from exc
                sleep(wait)
                continue
            raise WikidataUnavailable(f"{endpoint} answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError, SPARQLWrapperException) as exc:
            raise WikidataUnavailable(f"{endpoint} did not answer: {exc}") from exc
        if not isinstance(result, dict):
            raise WikidataUnavailable(f"{endpoint} did not return SPARQL JSON results")
        bindings: list[dict[str, Any]] = result.get("results", {}).get("bindings", [])
        return bindings
    raise WikidataUnavailable(f"{endpoint} kept answering 429")  # pragma: no cover - loop always returns


def check_against_wikidata(
    store: Store, index: LabelIndex, *, base_iri: str, endpoint: str = DEFAULT_ENDPOINT,
    id_property: str | None = None, run: Callable[[str, str], list[dict[str, Any]]] | None = None,
) -> CheckReport:
    """Compare our links and names with the endpoint; see the module docstring for the findings."""
    links = wikidata_links(store, base_iri=base_iri)  # entity IRI -> QID
    noted = _noted(store)
    unlinked = [e.iri for e in index.entities() if e.iri not in links and e.iri in noted]
    unlinked_labels: dict[str, list[str]] = defaultdict(list)  # (n3 literal) -> entity IRIs
    literals = []
    for iri in unlinked:
        for lit in _entity_labels(index, iri):
            unlinked_labels[str(lit)].append(iri)
            literals.append(lit)
    ours = [e.iri for e in index.entities()]
    query = build_check_query(list(links.values()), literals, ours, id_property=id_property)
    rows = (run or (lambda ep, q: run_sparql(ep, q)))(endpoint, query)

    theirs: dict[str, list[str]] = defaultdict(list)
    candidates: dict[tuple[str, str], Candidate] = {}
    pointers: dict[tuple[str, str], Pointer] = {}
    qid_to_entities: dict[str, set[str]] = defaultdict(set)
    for entity, qid in links.items():
        qid_to_entities[qid].add(entity)
    for row in rows:
        part = row.get("part", {}).get("value")
        item = row.get("item", {}).get("value", "")
        qid = item[len(WIKIDATA_ENTITY):] if item.startswith(WIKIDATA_ENTITY) else item
        if part == "linked" and "label" in row:
            theirs[qid].append(row["label"]["value"])
        elif part == "candidate" and "key" in row:
            key = row["key"]
            lit = Literal(key["value"], language=key.get("xml:lang")) if key.get("xml:lang") else Literal(key["value"])
            for entity in unlinked_labels.get(str(lit), []):
                label = row.get("label", {}).get("value", key["value"])
                candidates.setdefault((entity, qid), Candidate(entity, qid, key["value"], label))
        elif part in ("pointer", "pointer-id") and "key" in row:
            target = row["key"]["value"]
            entity = target if part == "pointer" else f"{base_iri}id/{target}"
            via = "identifier property" if part == "pointer-id" else "described-at URL / exact match / sameAs"
            pointers.setdefault((qid, entity), Pointer(qid, entity, via, links.get(entity) == qid))

    mismatches, missing = [], []
    for entity, qid in sorted(links.items()):
        names = theirs.get(qid, [])
        mine = [lit.value for lit in _entity_labels(index, entity)]
        if not names:
            missing.append(f"{entity} {qid}")
        elif not {normalise(n) for n in names} & {normalise(m) for m in mine}:
            mismatches.append(LabelMismatch(entity, qid, tuple(sorted(mine)), tuple(sorted(set(names)))))
    return CheckReport(
        endpoint=endpoint, checked_links=len(links), checked_unlinked=len(unlinked),
        mismatches=tuple(mismatches), missing_items=tuple(missing),
        candidates=tuple(sorted(candidates.values(), key=lambda c: (c.entity, c.qid))),
        pointers=tuple(sorted(pointers.values(), key=lambda p: (p.entity, p.qid))),
    )


_NOTED = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?e WHERE { ?e skos:note ?note . FILTER(STR(?note) = "Wikidata item not yet confirmed") }"""


def _noted(store: Store) -> set[str]:
    """Entities that carry the "not yet confirmed" note: the ones worth finding a candidate for."""
    return {e.value for row in store.select(_NOTED) if isinstance(e := row.get("e"), NamedNode)}
