"""Consumer services: named queries, search, reconciliation.

One router gathers the feature routers (``queries_api``, ``search_api``, ``reconcile_api``); the
label index they share and the named queries are the runtime's, built before the app.
"""

from __future__ import annotations

__all__ = ["add_named_queries_to_openapi", "router"]

from fastapi import APIRouter

from . import queries_api, reconcile_api, search_api
from .queries_api import add_named_queries_to_openapi

router = APIRouter()
router.include_router(queries_api.router)
router.include_router(search_api.router)
router.include_router(reconcile_api.router)
