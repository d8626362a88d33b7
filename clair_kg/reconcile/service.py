"""The reconciliation service over one graph: manifest, reconcile, suggest, preview, extend.

Every method returns plain JSON-ready values shaped as the W3C Reconciliation Service API 0.2
schemas require; ``web/reconcile_api.py`` turns them into HTTP responses. Entity ids are the
dataset's external identifiers (``office/london``, the part of the IRI after ``id/``); types are
class IRIs; properties are the ids in :data:`~clair_kg.reconcile.properties.CATALOGUE` or any
predicate IRI.
"""

from __future__ import annotations

__all__ = ["DEFAULT_TYPES", "ReconcileService"]

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyoxigraph import Literal, NamedNode

from .. import __version__
from ..search import Entity, LabelIndex, SearchHit, normalise
from ..store import Store, Term
from .properties import CATALOGUE, WIKIDATA_ENTITY, PropertyDef, fetch_values, resolve_property
from .requests import ExtendQuery, PropertyValue, ReconQuery

_CLAIR = "https://w3id.org/clair-kg/ontology#"
_ORG = "http://www.w3.org/ns/org#"
_SCHEMA = "https://schema.org/"
_SKOS = "http://www.w3.org/2004/02/skos/core#"
_XSD = "http://www.w3.org/2001/XMLSchema#"

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

    def __init__(self, store: Store, index: LabelIndex, *, base_iri: str) -> None:
        self.store = store
        self.index = index
        self.base_iri = base_iri

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
        return {key: {"result": self._reconcile_one(query)} for key, query in batch.items()}

    def _type_ok(self, entity: Entity, types: Sequence[str], strict: str) -> bool:
        if not types or strict == "should":
            return True
        checks = [self.index.matches_type(entity, t) for t in types]
        return all(checks) if strict == "all" else any(checks)

    def _reconcile_one(self, query: ReconQuery) -> list[dict[str, Any]]:
        limit = min(MAX_LIMIT, query.limit or DEFAULT_LIMIT)
        if query.query and query.query.strip():
            hits: list[SearchHit] = self.index.search(query.query, limit=len(self.index))
            pool = [(h.entity, h.label, h.score, h.match == "exact") for h in hits]
        else:
            pool = [(e, e.name(), 0.0, False) for e in self.index.entities()]
        pool = [p for p in pool if self._type_ok(p[0], query.types, query.type_strict)]
        if query.query and query.query.strip():
            # Name candidates beyond the first few never outrank them; without a name, every
            # entity of the type is a candidate and the properties decide.
            pool = pool[: max(limit * 5, 50)]
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
            values = fetch_values(self.store, prop, iris)
            for iri in iris:
                have = self._comparable(prop, values.get(iri, []))
                hits = sum(1 for v in wanted if self._value_matches(v, have))
                per_entity[iri].append((pid, round(hits / len(wanted), 4) if wanted else 0.0))
        return {iri: tuple(scores) for iri, scores in per_entity.items()}

    def _comparable(self, prop: PropertyDef, values: Sequence[Term]) -> tuple[set[str], set[str]]:
        """(ids, normalised texts) a property value can be matched against."""
        ids: set[str] = set()
        texts: set[str] = set()
        for value in values:
            if isinstance(value, NamedNode):
                ids.add(value.value)
                texts.add(normalise(value.value))
                if value.value.startswith(WIKIDATA_ENTITY):
                    qid = value.value[len(WIKIDATA_ENTITY):]
                    ids.add(qid)
                    texts.add(normalise(qid))
                entity = self.index.get(value.value)
                if entity is not None:
                    ids.add(entity.id)
                    texts.update(label.norm for label in entity.labels)
            elif isinstance(value, Literal):
                texts.add(normalise(value.value))
        return ids, texts

    @staticmethod
    def _value_matches(wanted: PropertyValue, have: tuple[set[str], set[str]]) -> bool:
        ids, texts = have
        if wanted.id is not None and (wanted.id in ids or wanted.id.split("/id/")[-1] in ids):
            return True
        return normalise(wanted.text) in texts

    # --- suggest, preview -----------------------------------------------------------------------

    def suggest_entities(self, prefix: str, *, cursor: int = 0, limit: int = DEFAULT_LIMIT,
                         types: Sequence[str] = ()) -> dict[str, Any]:
        hits = self.index.search(prefix, types=types, limit=cursor + limit)[cursor:]
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
        used = sorted({t for e in self.index.entities() for t in e.types})
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
            kinds = {e.kind for e in self.index.entities() if self.index.matches_type(e, type_id)}
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
        iris = [e.iri for e in entities.values() if e is not None]
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
            values = fetch_values(self.store, prop, iris)
            for entity_id, entity in entities.items():
                cells = [] if entity is None else [self._cell(prop, v, str(lang)) for v in values.get(entity.iri, [])]
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
