"""The one app factory: ``create_app(runtime)``.

It returns the whole ASGI application a server runs — :class:`FrontDoor`, which answers ``/sparql``
itself and hands every other request to the FastAPI app of the feature routers — so the tests, the
benchmarks and ``clair-kg serve`` run exactly the same wiring. Everything a request needs is in the
:class:`~clair_kg.runtime.Runtime` it receives, set on the FastAPI app here and nowhere else.

The front door also owns CORS: one policy from ``settings.cors_origins`` on every response, errors
included. With ``*`` any origin may read; otherwise an origin on the list gets itself echoed (with
``Vary: Origin``) and any other origin gets no ``Access-Control-Allow-Origin`` at all.
"""

from __future__ import annotations

__all__ = ["FrontDoor", "create_app"]

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from .. import __version__
from ..errors import ClairKgError
from ..runtime import Runtime
from .context import get_context
from .errors import RETRY_AFTER, install_error_handlers
from .linked_data.entity_document import answer_fast
from .sparql_endpoint import SPARQL_PATHS, TRUNCATED_HEADER, SparqlEndpoint

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_EXPOSED = f"ETag, Link, Content-Type, Content-Length, Content-Language, Vary, {TRUNCATED_HEADER}".encode()
_CORS_NAMES = (b"access-control-allow-origin", b"access-control-expose-headers")


def create_app(runtime: Runtime) -> FrontDoor:
    """Build the ASGI app serving ``runtime`` (its store already loaded with a validated release)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.sparql.executor()  # the query workers are up before the first request
        try:
            yield
        finally:
            await runtime.sparql.close()

    app = FastAPI(
        title="clair-kg",
        version=__version__,
        description="The CLAIR knowledge graph: SPARQL, linked data, named queries, search and reconciliation.",
        redirect_slashes=False,
        docs_url=None,  # served below from the vendored Swagger UI (issue 9: no page needs another host)
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.get("/health", tags=["service"], summary="200 while the graph can be queried; 503 when the store is down")
    def health(request: Request) -> JSONResponse:
        ctx = get_context(request)
        body: dict[str, object] = {"status": "ok", "release": ctx.release.sha256[:12], "quads": ctx.release.quads}
        try:
            ctx.store.ask("ASK { }")  # a remote store may be down; an embedded one answers at once
        except ClairKgError as exc:
            body.update(status="store unavailable", error=exc.message)
            return JSONResponse(body, status_code=503,
                                headers={"Cache-Control": "no-store", "Retry-After": str(RETRY_AFTER)})
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        vendor = "/static/vendor/swagger-ui/"
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="clair-kg API", swagger_js_url=vendor + "swagger-ui-bundle.js",
            swagger_css_url=vendor + "swagger-ui.css", swagger_favicon_url=vendor + "favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    for router in _routers():
        app.include_router(router)
    from .consumers import add_named_queries_to_openapi

    add_named_queries_to_openapi(app, runtime.queries)
    return FrontDoor(app, cors_origins=runtime.settings.cors_origins)


def _routers() -> list[APIRouter]:
    """Feature routers, imported here so each feature stays in its own module."""
    from . import consumers, linked_data, metrics

    return [linked_data.router, consumers.router, metrics.router]


class FrontDoor:
    """The server's ASGI entry: ``/sparql`` straight to its endpoint, the rest to FastAPI; CORS on all.

    /sparql is the hot path; sending it past FastAPI's middleware and router (which only route it to
    the same endpoint) saves about 30 µs a request. ``/id`` and ``/doc`` are the other one: a cached
    document or a 303 is answered before the router (:func:`answer_fast`), the rest goes on to it.
    """

    def __init__(self, app: FastAPI, *, cors_origins: tuple[str, ...]) -> None:
        self.app = app
        self.state = app.state
        self._sparql = SparqlEndpoint()
        self._any_origin = "*" in cors_origins
        self._origins = {o.encode("latin-1") for o in cors_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._with_cors(scope, send)
        path = scope["path"]
        if path in SPARQL_PATHS:
            scope["app"] = self.app
            await self._sparql(scope, receive, send)
        elif path.startswith(("/doc/", "/id/")):
            scope["app"] = self.app
            if not await answer_fast(scope, receive, send):
                await self.app(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _with_cors(self, scope: Scope, send: Send) -> Send:
        allow: bytes | None = b"*" if self._any_origin else None
        if allow is None:
            for name, value in scope["headers"]:
                if name == b"origin" and value in self._origins:
                    allow = value
        vary_origin = not self._any_origin

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(n, v) for n, v in message.get("headers", ()) if n.lower() not in _CORS_NAMES]
                if allow is not None:
                    headers += [(b"access-control-allow-origin", allow), (b"access-control-expose-headers", _EXPOSED)]
                if vary_origin:
                    headers = _add_vary_origin(headers)
                message["headers"] = headers
            await send(message)

        return send_with_cors


def _add_vary_origin(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    for i, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            if b"origin" not in value.lower():
                headers[i] = (name, value + b", Origin")
            return headers
    return [*headers, (b"vary", b"Origin")]
