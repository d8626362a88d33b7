"""Consumer services: named queries, search, reconciliation.

One router gathers the feature routers (``queries_api``, ``search_api``, ``reconcile_api``). Its
lifespan runs once per app at startup: it builds the label index that search and reconciliation
share (kept on ``app.state``, never in a module global) and adds each named query to the app's
OpenAPI document.
"""

from __future__ import annotations

__all__ = ["router"]

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import APIRouter, FastAPI

from ..errors import StoreUnavailable
from . import queries_api, reconcile_api, search_api
from .context import AppContext

log = logging.getLogger("clair_kg.web")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    ctx: AppContext = app.state.ctx
    queries_api.add_named_queries_to_openapi(app, ctx.project)
    try:
        await anyio.to_thread.run_sync(search_api.build_label_index, app, ctx)
    except StoreUnavailable as exc:
        # A remote store that is down at start-up must not keep the server from starting: /health
        # and the pages that need no store still answer, and the first search builds the index.
        log.warning("label index not built at start-up: %s", exc.message)
    yield


router = APIRouter(lifespan=_lifespan)
router.include_router(queries_api.router)
router.include_router(search_api.router)
router.include_router(reconcile_api.router)
