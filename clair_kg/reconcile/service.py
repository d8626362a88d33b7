"""The reconciliation service over one graph: manifest, reconcile, suggest, preview, extend.

Every method returns plain JSON-ready values shaped as the W3C Reconciliation Service API 0.2
schemas require; ``web/reconcile_api.py`` turns them into HTTP responses. Entity ids are the
dataset's external identifiers (``office/london``, the part of the IRI after ``id/``); types are
class IRIs; properties are the ids in :data:`~clair_kg.reconcile.properties.CATALOGUE` or any
predicate IRI.
"""

from __future__ import annotations

__all__ = ["DEFAULT_TYPES", "ReconcileService"]

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyoxigraph import Literal, NamedNode

from .. import __version__
from ..errors import QueryTimeout
from ..namespaces import PREFIXES
from ..search import Entity, IndexedValue, LabelIndex, SearchHit, normalise
from ..store import Store, Term
from .properties import (
    CATALOGUE,
    WIKIDATA_ENTITY,
    PropertyDef,
    fetch_values,
    find_subjects,
    resolve_property,
    values_query,
)
from .requests import ExtendQuery, PropertyValue, ReconQuery

_CLAIR = PREFIXES["clair"]
_ORG = PREFIXES["org"]
_SCHEMA = PREFIXES["schema"]
_SKOS = PREFIXES["skos"]
_XSD = PREFIXES["xsd"]

#: types offered to OpenRefine users first: the kinds of thing people reconcile against
DEFAULT_TYPES = (
    _CLAIR + "OverseasOffice", _CLAIR + "BranchOffice", _CLAIR + "Prefecture", _CLAIR + "Ministry",
    _CLAIR + "Network", _CLAIR + "Programme", _ORG + "Organization", _SCHEMA + "City",
    _SCHEMA + "Country", _SCHEMA + "Person", _SKOS + "Concept",
)
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
#: a unique hit must be this far (in score points of 100) ahead of the next candidate to be a match
MATCH_MARGIN = 10.0
#: most entities a query without a name considers: those whose property values match, found by a
#: reverse lookup (never every entity of the graph)
PROPERTY_CANDIDATES = 1000
_QID = re.compile(r"^Q[1-9][0-9]*$")


@dataclass(frozen=True)
class _Candidate:
    entity: Entity
    name: str
    name_score: float
    exact: bool
    property_scores: tuple[tuple[str, float], ...]

    @property
    def properties_matched(self) -> bool:
        return all(score >= 1.0 for _, score in self.property_scores)

    @property
    def score(self) -> float:
        if not self.property_scores:
            return round(100 * self.name_score, 2)
        props = sum(s for _, s in self.property_scores) / len(self.property_scores)
        if self.name_score == 0 and not self.exact:
            return round(100 * props, 2)
        return round(100 * (0.6 * self.name_score + 0.4 * props), 2)


class ReconcileService:
    """Reconciliation against ``store``, with names from ``index`` (both built for one release)."""

    def __init__(self, store: Store, index: LabelIndex, *, base_iri: str, timeout: float | None = None) -> None:
        self.store = store
        self.index = index
        self.base_iri = base_iri
        self._entity_prefix = f"{base_iri}id/"
        #: seconds one request (a whole batch) may take; None: no limit. The deadline is kept on the
        #: instance: make one service per request, as ``web/reconcile_api.py`` does.
        self.timeout = timeout
        self._deadline: float | None = None

    # --- manifest -------------------------------------------------------------------------------

    def manifest(self, service_url: str, site_url: str) -> dict[str, Any]:
        """The service manifest; ``service_url`` is this endpoint, ``site_url`` the site root (``/``-ended)."""
        return {
            "versions": ["0.2"],
            "name": "CLAIR knowledge graph",
            "identifierSpace": f"{self.base_iri}id/",
            "schemaSpace": f"{self.base_iri}ontology#",
            "documentation": f"{site_url}api/docs",
            "serviceVersion": __version__,
            "view": {"url": f"{site_url}doc/{{{{id}}}}"},
            "defaultTypes": [self._type(t) for t in DEFAULT_TYPES],
            "preview": {"url": f"{service_url}/preview?id={{{{id}}}}", "width": 400, "height": 160},
            "suggest": {
                "entity": {"service_url": service_url, "service_path": "/suggest/entity",
                           "flyout_service_path": "/flyout/entity?id=${id}"},
                "type": {"service_url": service_url, "service_path": "/suggest/type"},
                "property": {"service_url": service_url, "service_path": "/suggest/property"},
            },
            "extend": {
                "propose_properties": {"service_url": service_url, "service_path": "/properties"},
                "property_settings": [
                    {"name": "limit", "label": "Limit", "type": "number", "default": 0,
                     "help_text": "Most values to return per entity (0 for all)"},
                    {"name": "lang", "label": "Language", "type": "select", "default": "en",
                     "help_text": "Language of the names of entity values",
                     "choices": [{"value": "en", "name": "English"}, {"value": "ja", "name": "日本語"}]},
                ],
            },
        }

    def _type(self, class_iri: str) -> dict[str, str]:
        return {"id": class_iri, "name": self.index.class_label(class_iri)}

    # --- reconciliation -------------------------------------------------------------------------

    def reconcile(self, batch: dict[str, ReconQuery]) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """Candidates for each query of ``batch``.

        :raises QueryTimeout: the batch took longer than the service's ``timeout``.
        """
        self._start()
        with self.index.turn(self.timeout):  # the whole batch in one turn (see LabelIndex.lane)
            return {key: {"result": self._reconcile_one(query)} for key, query in batch.items()}

    def _start(self) -> None:
        self._deadline = None if self.timeout is None else time.monotonic() + self.timeout

    def _remaining(self) -> float | None:
        """Seconds left of this request's budget (for the next search), or None without a limit.

        :raises QueryTimeout: none is left.
        """
        if self._deadline is None:
            return None
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise QueryTimeout(f"reconciliation ran past its time limit of {self.timeout:g} s and was stopped: "
                               "send fewer queries per batch, or longer, more specific names")
        return left

    def _search(self, text: str, *, types: Sequence[str] = (), limit: int) -> list[SearchHit]:
        try:
            return self.index.search(text, types=types, limit=limit, timeout=self._remaining())
        except QueryTimeout:
            self._remaining()  # the whole request's budget is spent: say so
            raise

    def _type_ok(self, entity: Entity, types: Sequence[str], strict: str) -> bool:
        if not types or strict == "should":
            return True
        checks = [self.index.matches_type(entity, t) for t in types]
        return all(checks) if strict == "all" else any(checks)

    def _reconcile_one(self, query: ReconQuery) -> list[dict[str, Any]]:
        limit = min(MAX_LIMIT, query.limit or DEFAULT_LIMIT)
        # Name candidates beyond the first few never outrank them: the index returns only those.
        # Without properties (or a "should" type to reorder by) the name alone ranks, so the first
        # ``limit`` names are the answer.
        size = max(limit * 5, 50) if query.properties or (query.types and query.type_strict == "should") else limit
        if query.query and query.query.strip():
            # The index filters by type itself ("any" of the types); "all" filters its answer again,
            # from a larger pool; "should" only reorders, so it searches every type.
            index_types = () if query.type_strict == "should" else query.types
            wanted = size * 4 if query.type_strict == "all" and len(query.types) > 1 else size
            hits: list[SearchHit] = self._search(query.query, types=index_types, limit=wanted)
            pool = [(h.entity, h.label, h.score, h.match == "exact") for h in hits]
        else:
            # Without a name, the entities whose property values match are the candidates and the
            # properties decide.
            pool = [(e, e.name(), 0.0, False) for e in self._property_candidates(query.properties)]
        pool = [p for p in pool if self._type_ok(p[0], query.types, query.type_strict)]
        if query.query and query.query.strip():
            pool = pool[:size]
        self._remaining()
        scores = self._property_scores(query.properties, [p[0] for p in pool])
        candidates = [
            _Candidate(entity, name, score, exact, scores.get(entity.iri, ()))
            for entity, name, score, exact in pool
        ]
        if not query.query or not query.query.strip():
            candidates = [c for c in candidates if any(s > 0 for _, s in c.property_scores)]
        if query.types and query.type_strict == "should":
            candidates.sort(key=lambda c: not any(self.index.matches_type(c.entity, t) for t in query.types))
        candidates.sort(key=lambda c: -c.score)
        candidates = candidates[:limit]
        return [self._candidate_json(c, i == 0 and self._is_match(candidates)) for i, c in enumerate(candidates)]

    def _property_candidates(self, properties: Sequence[tuple[str, Sequence[PropertyValue]]]) -> list[Entity]:
        """Entities with a value of one of ``properties`` that may match, in index (id) order."""
        iris: dict[str, None] = {}
        for pid, wanted in properties:
            self._remaining()
            prop = resolve_property(pid, param="queries")
            values: set[str] = set()
            texts: set[str] = set()
            for value in wanted:
                if value.id is not None:
                    values.add(self._value_iri(value.id))
                texts.add(value.text)
                if value.text.startswith(("http://", "https://")) or _QID.match(value.text):
                    values.add(self._value_iri(value.text))  # a text that is an IRI or a QID
                # a text names an entity value by one of its labels (a city called "Sydney")
                values.update(e.iri for e in self.index.with_label(value.text))
            for iri in find_subjects(self.store, prop, sorted(values), sorted(texts), limit=PROPERTY_CANDIDATES):
                iris.setdefault(iri)
        entities = [e for e in (self.index.get(iri) for iri in iris) if e is not None]
        entities.sort(key=lambda e: e.id)
        return entities

    def _value_iri(self, value_id: str) -> str:
        """An IRI for a value given by id: an entity id, a QID, or an IRI as it is."""
        if value_id.startswith(("http://", "https://")):
            return value_id
        if _QID.match(value_id):
            return WIKIDATA_ENTITY + value_id
        return f"{self.base_iri}id/{value_id}"

    @staticmethod
    def _is_match(candidates: Sequence[_Candidate]) -> bool:
        """Only a confident, unique hit is a match: exact name (or, without a name, every property),
        every given property agreeing, and clearly ahead of the next candidate."""
        if not candidates:
            return False
        top = candidates[0]
        confident = (top.exact or (top.name_score == 0 and bool(top.property_scores))) and top.properties_matched
        unique = len(candidates) == 1 or candidates[1].score < top.score - MATCH_MARGIN
        return confident and unique

    def _candidate_json(self, c: _Candidate, match: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"id": c.entity.id, "name": c.name, "score": c.score, "match": match}
        description = c.entity.description()
        if description:
            out["description"] = description
        out["type"] = [self._type(t) for t in c.entity.types]
        out["features"] = [{"id": "name", "value": round(c.name_score, 4)}] + [
            {"id": f"property:{pid}", "value": score} for pid, score in c.property_scores
        ]
        return out

    def _property_scores(
        self, properties: Sequence[tuple[str, Sequence[PropertyValue]]], entities: Sequence[Entity]
    ) -> dict[str, tuple[tuple[str, float], ...]]:
        if not properties or not entities:
            return {}
        iris = [e.iri for e in entities]
        per_entity: dict[str, list[tuple[str, float]]] = {iri: [] for iri in iris}
        for pid, wanted in properties:
            prop = resolve_property(pid, param="queries")
            values = self._values(prop, entities)
            # each wanted value's text normalised once, not once per candidate
            wanted_texts = [(value, normalise(value.text)) for value in wanted]
            for iri in iris:
                have = values.get(iri, [])
                ids = self._ids(have)
                texts: set[str] | None = None  # made only when an id does not already decide
                hits = 0
                for value, text in wanted_texts:
                    if value.id is not None and (value.id in ids or value.id.split("/id/")[-1] in ids):
                        hits += 1
                        continue
                    if texts is None:
                        texts = self._texts(have)
                    hits += text in texts
                per_entity[iri].append((pid, round(hits / len(wanted), 4) if wanted else 0.0))
        return {iri: tuple(scores) for iri, scores in per_entity.items()}

    def _values(self, prop: PropertyDef, entities: Sequence[Entity]) -> dict[str, list[IndexedValue]]:
        """The values of ``prop`` of each of ``entities`` (by IRI), from the index when it holds the
        property (one SQL statement), else from the store."""
        if not prop.pattern or not entities:
            return {}
        indexed = self.index.property_values(prop.id, values_query(prop), [e.id for e in entities])
        if indexed is not None:
            return {e.iri: indexed[e.id] for e in entities if e.id in indexed}
        out: dict[str, list[IndexedValue]] = {}
        for iri, terms in fetch_values(self.store, prop, [e.iri for e in entities]).items():
            values = []
            for term in terms:
                found = self.index.get(term.value) if isinstance(term, NamedNode) else None
                labels = () if found is None else tuple(dict.fromkeys(label.norm for label in found.labels))
                values.append(IndexedValue(term, labels))
            out[iri] = values
        return out

    def _ids(self, values: Sequence[IndexedValue]) -> set[str]:
        """The ids a property value given by id can match: IRIs, QIDs, and this dataset's entity ids."""
        ids: set[str] = set()
        for value in (v.term for v in values):
            if isinstance(value, NamedNode):
                ids.add(value.value)
                if value.value.startswith(WIKIDATA_ENTITY):
                    ids.add(value.value[len(WIKIDATA_ENTITY):])
                elif value.value.startswith(self._entity_prefix):
                    ids.add(value.value[len(self._entity_prefix):])
        return ids

    @staticmethod
    def _texts(values: Sequence[IndexedValue]) -> set[str]:
        """The normalised texts a property value can match: literals, IRIs, QIDs, entities' labels."""
        texts: set[str] = set()
        for indexed in values:
            value = indexed.term
            if isinstance(value, NamedNode):
                texts.add(normalise(value.value))
                if value.value.startswith(WIKIDATA_ENTITY):
                    texts.add(normalise(value.value[len(WIKIDATA_ENTITY):]))
                texts.update(indexed.labels)
            elif isinstance(value, Literal):
                texts.add(normalise(value.value))
        return texts

    # --- suggest, preview -----------------------------------------------------------------------

    def suggest_entities(self, prefix: str, *, cursor: int = 0, limit: int = DEFAULT_LIMIT,
                         types: Sequence[str] = ()) -> dict[str, Any]:
        self._start()
        with self.index.turn(self.timeout):
            hits = self._search(prefix, types=types, limit=cursor + limit)[cursor:]
        result = []
        for hit in hits:
            item: dict[str, Any] = {"id": hit.entity.id, "name": hit.label,
                                    "notable": [self._type(t) for t in hit.entity.types]}
            description = hit.entity.description()
            if description:
                item["description"] = description
            result.append(item)
        return {"result": result}

    def suggest_types(self, prefix: str, *, cursor: int = 0, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
        wanted = normalise(prefix)
        used = self.index.types_used()
        scored = []
        for iri in used:
            names = [normalise(n) for n in (self.index.class_label(iri), self.index.class_label(iri, "ja"),
                                            iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1])]
            if any(n.startswith(wanted) for n in names):
                scored.append((0, iri))
            elif any(wanted in n for n in names):
                scored.append((1, iri))
        scored.sort()
        return {"result": [self._type(iri) for _, iri in scored[cursor: cursor + limit]]}

    def suggest_properties(self, prefix: str, *, cursor: int = 0, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
        wanted = normalise(prefix)
        found = [p for p in CATALOGUE if normalise(p.id).startswith(wanted) or normalise(p.name).startswith(wanted)]
        found += [p for p in CATALOGUE if p not in found and (wanted in normalise(p.name) or wanted in normalise(p.id))]
        return {"result": [{"id": p.id, "name": p.name, "description": p.description}
                           for p in found[cursor: cursor + limit]]}

    def entity(self, entity_id: str) -> Entity | None:
        return self.index.get(entity_id)

    # --- data extension -------------------------------------------------------------------------

    def propose_properties(self, type_id: str | None, *, limit: int | None = None) -> dict[str, Any]:
        kinds: set[str] = set()
        if type_id:
            kinds = self.index.kinds_of_type(type_id)
        props = [p for p in CATALOGUE if not p.kinds or not type_id or kinds & set(p.kinds)]
        if limit:
            props = props[:limit]
        out: dict[str, Any] = {"properties": [{"id": p.id, "name": p.name, "description": p.description}
                                              for p in props]}
        if type_id:
            out["type"] = type_id
        if limit:
            out["limit"] = limit
        return out

    def extend(self, query: ExtendQuery) -> dict[str, Any]:
        props = [(p, resolve_property(p.id, param="extend")) for p in query.properties]
        entities = {i: self.index.get(i) for i in query.ids}
        found = list({e.iri: e for e in entities.values() if e is not None}.values())
        meta = []
        for _, prop in props:
            item: dict[str, Any] = {"id": prop.id, "name": prop.name}
            if prop.entity_valued:
                item["type"] = {"id": f"{self.base_iri}id/", "name": "CLAIR knowledge graph entity"}
            meta.append(item)
        rows: dict[str, dict[str, list[dict[str, Any]]]] = {i: {} for i in query.ids}
        for requested, prop in props:
            limit = _int_setting(requested.settings.get("limit"))
            lang = requested.settings.get("lang") if requested.settings.get("lang") in ("en", "ja") else "en"
            values = self._values(prop, found)
            for entity_id, entity in entities.items():
                cells = [] if entity is None else [self._cell(prop, v.term, str(lang))
                                                   for v in values.get(entity.iri, [])]
                rows[entity_id][prop.id] = cells[:limit] if limit else cells
        return {"meta": meta, "rows": rows}

    def _cell(self, prop: PropertyDef, value: Term, lang: str) -> dict[str, Any]:
        if isinstance(value, NamedNode):
            if prop.qid and value.value.startswith(WIKIDATA_ENTITY):
                return {"str": value.value[len(WIKIDATA_ENTITY):]}
            entity = self.index.get(value.value) if value.value.startswith(self.base_iri) else None
            if entity is not None:
                return {"id": entity.id, "name": entity.name(lang)}
            return {"str": value.value}
        if isinstance(value, Literal):
            datatype = value.datatype.value
            if datatype in (_XSD + "integer", _XSD + "int", _XSD + "long", _XSD + "nonNegativeInteger"):
                return {"int": int(value.value)}
            if datatype in (_XSD + "decimal", _XSD + "double", _XSD + "float"):
                return {"float": float(value.value)}
            if datatype == _XSD + "date":
                return {"date": f"{value.value[:10]}T00:00:00Z"}
            return {"str": value.value}
        return {"str": str(value)}


def _int_setting(raw: object) -> int:
    try:
        return max(0, int(str(raw))) if raw is not None else 0
    except ValueError:
        return 0
