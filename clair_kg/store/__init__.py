"""Stores: one typed interface (:class:`Store`), an embedded and a remote implementation.

:mod:`.analysis` is the one reader of query text, :mod:`.evaluation` the one evaluator (dataset
rules), :mod:`.opening` opens the store the settings ask for.
"""

from ..formats import GRAPH_FORMATS, RESULT_FORMATS
from .analysis import looks_like_update, query_form
from .base import DatasetSpec, QueryForm, Rows, SerializedResult, Store, Term
from .embedded import EmbeddedStore
from .remote import RemoteStore

__all__ = [
    "GRAPH_FORMATS",
    "RESULT_FORMATS",
    "DatasetSpec",
    "EmbeddedStore",
    "QueryForm",
    "RemoteStore",
    "Rows",
    "SerializedResult",
    "Store",
    "Term",
    "looks_like_update",
    "query_form",
]
