"""The one app factory: ``create_app(settings, store, release)``.

The store is injected (tests and ``clair-kg serve`` call this same factory); nothing here is
module-level state. Each feature lives in its own router module and is mounted here.
"""

from __future__ import annotations

__all__ = ["create_app"]

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from .. import __version__
from ..release import ReleaseInfo
from ..settings import Settings
from ..store import Store
from .context import AppContext
from .errors import install_error_handlers


def create_app(settings: Settings, store: Store, release: ReleaseInfo) -> FastAPI:
    """Build the ASGI app serving ``store`` (already loaded with a validated ``release``)."""
    app = FastAPI(
        title="clair-kg",
        version=__version__,
        description="The CLAIR knowledge graph: SPARQL, linked data, named queries, search and reconciliation.",
        redirect_slashes=False,
        docs_url=None,  # served below from the vendored Swagger UI (issue 9: no page needs another host)
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.ctx = AppContext(settings=settings, store=store, release=release)
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.get("/health", tags=["service"], summary="Liveness: 200 once the graph is loaded")
    def health(request: Request) -> JSONResponse:
        ctx: AppContext = request.app.state.ctx
        return JSONResponse(
            {"status": "ok", "release": ctx.release.sha256[:12], "quads": ctx.release.quads},
            headers={"Cache-Control": "no-store"},
        )

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
    return app


def _routers() -> list[APIRouter]:
    """Feature routers, imported here so each feature stays in its own module."""
    from . import consumers, linked_data, metrics, sparql_endpoint

    return [sparql_endpoint.router, linked_data.router, consumers.router, metrics.router]
