"""Stores: one typed interface (:class:`Store`), an embedded and a remote implementation."""

from .base import (
    GRAPH_FORMATS,
    RESULT_FORMATS,
    DatasetSpec,
    QueryForm,
    SerializedResult,
    Store,
    Term,
    looks_like_update,
    query_form,
)
from .embedded import EmbeddedStore
from .remote import RemoteStore

__all__ = [
    "GRAPH_FORMATS",
    "RESULT_FORMATS",
    "DatasetSpec",
    "EmbeddedStore",
    "QueryForm",
    "RemoteStore",
    "SerializedResult",
    "Store",
    "Term",
    "looks_like_update",
    "query_form",
]
