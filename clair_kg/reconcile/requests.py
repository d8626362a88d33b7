"""Reconciliation requests, checked as the W3C Reconciliation Service API 0.2 schemas say.

:func:`parse_batch` reads a reconciliation query batch (``reconciliation-query-batch.json``) and
:func:`parse_extend` a data extension query (``data-extension-query.json``). Both reject what the
schemas reject — an unknown key in a query (``props`` for ``properties``), a query with neither
``query`` nor a non-empty ``properties`` list, values of the wrong JSON type — with a
:class:`~clair_kg.errors.InvalidParameter` naming the request parameter and the offending query.
Spec: https://reconciliation-api.github.io/specs/0.2/
"""

from __future__ import annotations

__all__ = [
    "MAX_BATCH",
    "MAX_EXTEND_IDS",
    "ExtendProperty",
    "ExtendQuery",
    "PropertyValue",
    "ReconQuery",
    "parse_batch",
    "parse_extend",
    "parse_json",
]

import json
import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidParameter

#: most queries (or ids) one request may carry; OpenRefine sends 10 at a time
#: Most queries in one reconciliation batch. OpenRefine sends 10 at a time; a fuzzy query costs a
#: few milliseconds of CPU, so 100 bounds one request to well under a second.
MAX_BATCH = 100
#: Most ids in one data-extension request (a lookup each, cheap).
MAX_EXTEND_IDS = 1000

_QUERY_KEYS = {"query", "type", "limit", "properties", "type_strict"}


@dataclass(frozen=True)
class PropertyValue:
    """One value to match: a plain string/number/boolean, or an entity given by id (and name)."""

    text: str
    id: str | None = None


@dataclass(frozen=True)
class ReconQuery:
    query: str | None
    types: tuple[str, ...] = ()
    limit: int | None = None
    properties: tuple[tuple[str, tuple[PropertyValue, ...]], ...] = ()
    type_strict: str = "any"


@dataclass(frozen=True)
class ExtendProperty:
    id: str
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExtendQuery:
    ids: tuple[str, ...]
    properties: tuple[ExtendProperty, ...]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def parse_json(raw: str | bytes, param: str) -> Any:
    """Strict JSON (RFC 8259: no ``NaN``/``Infinity``).

    :raises InvalidParameter: ``raw`` is not JSON, or nests too deeply to read.
    """
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidParameter(param, f"not valid JSON: {exc}") from exc
    except RecursionError:
        raise InvalidParameter(param, "not valid JSON: nested too deeply") from None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _value(raw: object, where: str) -> PropertyValue:
    if isinstance(raw, str):
        return PropertyValue(raw)
    if isinstance(raw, bool):
        return PropertyValue("true" if raw else "false")
    if _is_number(raw):
        return PropertyValue(str(raw))
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        name = raw.get("name")
        if name is not None and not isinstance(name, str):
            raise InvalidParameter("queries", f"{where}: 'name' must be a string")
        return PropertyValue(name or raw["id"], id=raw["id"])
    raise InvalidParameter("queries", f"{where}: a value is a string, number, boolean or {{\"id\": …}}")


def _query(key: str, raw: object) -> ReconQuery:
    where = f"query {key!r}"
    if not isinstance(raw, dict):
        raise InvalidParameter("queries", f"{where} must be an object")
    unknown = sorted(set(raw) - _QUERY_KEYS)
    if unknown:
        raise InvalidParameter("queries", f"{where} has unknown key(s) {', '.join(unknown)} "
                                          f"(allowed: {', '.join(sorted(_QUERY_KEYS))})")
    text = raw.get("query")
    if text is not None and not isinstance(text, str):
        raise InvalidParameter("queries", f"{where}: 'query' must be a string")
    kind = raw.get("type")
    if kind is None:
        types: tuple[str, ...] = ()
    elif isinstance(kind, str):
        types = (kind,)
    elif isinstance(kind, list) and all(isinstance(t, str) for t in kind):
        types = tuple(kind)
    else:
        raise InvalidParameter("queries", f"{where}: 'type' must be a string or a list of strings")
    limit = raw.get("limit")
    if limit is not None and not (_is_number(limit) and math.isfinite(limit)):
        raise InvalidParameter("queries", f"{where}: 'limit' must be a finite number")
    strict = raw.get("type_strict", "any")
    if strict not in ("any", "should", "all"):
        raise InvalidParameter("queries", f"{where}: 'type_strict' must be any, should or all")
    props_raw = raw.get("properties")
    properties: list[tuple[str, tuple[PropertyValue, ...]]] = []
    if props_raw is not None:
        if not isinstance(props_raw, list):
            raise InvalidParameter("queries", f"{where}: 'properties' must be a list")
        for item in props_raw:
            if not isinstance(item, dict) or not isinstance(item.get("pid"), str) or "v" not in item:
                raise InvalidParameter("queries", f"{where}: each property is {{\"pid\": string, \"v\": value}}")
            values = item["v"] if isinstance(item["v"], list) else [item["v"]]
            properties.append((item["pid"], tuple(_value(v, where) for v in values)))
    if text is None and not properties:
        raise InvalidParameter("queries", f"{where} needs a 'query' string or a non-empty 'properties' list")
    return ReconQuery(
        query=text, types=types, limit=None if limit is None else max(0, int(limit)),
        properties=tuple(properties), type_strict=strict,
    )


def parse_batch(raw: object) -> dict[str, ReconQuery]:
    """A batch ``{"q0": {...}, ...}`` as queries by key.

    :raises InvalidParameter: (parameter ``queries``) the batch does not follow the schema.
    """
    if not isinstance(raw, dict):
        raise InvalidParameter("queries", "a query batch is a JSON object mapping keys to queries")
    if len(raw) > MAX_BATCH:
        raise InvalidParameter("queries", f"at most {MAX_BATCH} queries per request")
    return {str(key): _query(str(key), value) for key, value in raw.items()}


def parse_extend(raw: object) -> ExtendQuery:
    """A data extension query ``{"ids": [...], "properties": [{"id": ...}, ...]}``.

    :raises InvalidParameter: (parameter ``extend``) the query does not follow the schema.
    """
    if not isinstance(raw, dict):
        raise InvalidParameter("extend", "a data extension query is a JSON object")
    ids, props = raw.get("ids"), raw.get("properties")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise InvalidParameter("extend", "'ids' is required: a list of entity ids")
    if not isinstance(props, list):
        raise InvalidParameter("extend", "'properties' is required: a list of {\"id\": …}")
    if len(ids) > MAX_EXTEND_IDS:
        raise InvalidParameter("extend", f"at most {MAX_EXTEND_IDS} ids per request")
    properties = []
    for item in props:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise InvalidParameter("extend", "each property is {\"id\": string, \"settings\": object}")
        settings = item.get("settings", {})
        if not isinstance(settings, dict):
            raise InvalidParameter("extend", f"property {item['id']!r}: 'settings' must be an object")
        properties.append(ExtendProperty(item["id"], settings))
    return ExtendQuery(tuple(ids), tuple(properties))
