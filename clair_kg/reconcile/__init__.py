"""W3C Reconciliation Service API 0.2 over the graph (https://reconciliation-api.github.io/specs/0.2/)."""

from .properties import CATALOGUE, PropertyDef, fetch_values, resolve_property
from .requests import ExtendQuery, ReconQuery, parse_batch, parse_extend, parse_json
from .service import DEFAULT_TYPES, ReconcileService

__all__ = [
    "CATALOGUE",
    "DEFAULT_TYPES",
    "ExtendQuery",
    "PropertyDef",
    "ReconQuery",
    "ReconcileService",
    "fetch_values",
    "parse_batch",
    "parse_extend",
    "parse_json",
    "resolve_property",
]
