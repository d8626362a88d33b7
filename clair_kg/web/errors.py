"""The one place where errors become HTTP responses.

A :class:`~clair_kg.errors.ClairKgError` becomes its status with a JSON body
(``{"error": …, "status": …}``), or a small HTML page when the client prefers HTML. Anything else
is a bug: it is logged with its traceback and the client gets a plain 500 without one.
"""

from __future__ import annotations

__all__ = ["RETRY_AFTER", "error_response", "install_error_handlers"]

import html
import json
import logging
from collections.abc import Mapping

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..errors import ClairKgError
from .i18n import explicit_language, pick_language, ui, with_lang

log = logging.getLogger("clair_kg.web")

#: seconds a client is asked to wait before retrying a 503
RETRY_AFTER = 5


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept.split(",")[0]


def error_response(
    request: Request, status: int, message: str, extra: dict[str, object] | None = None,
    *, headers: Mapping[str, str] | None = None,
) -> Response:
    headers = {**(headers or {}), "Cache-Control": "no-store"}
    if status == 503:  # the store or the query workers are busy or down: say when to come back
        headers.setdefault("Retry-After", str(RETRY_AFTER))
    if _wants_html(request):
        # the page's furniture in the reader's language; the message itself is English (lang="en")
        lang = pick_language(request)
        chosen = explicit_language(request)
        t = ui(lang)
        title = f"{status} — {html.escape(message.split(':')[0])}"
        heading = f"{status} — {t.not_found if status == 404 else t.error_title}"
        page = (
            f"<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<link rel=\"stylesheet\" href=\"/static/site.css\">"
            f"<title>{title}</title></head><body><main><h1>{html.escape(heading)}</h1>"
            f"<p lang=\"en\">{html.escape(message)}</p>"
            f"<form action=\"/search\" method=\"get\"><label>{html.escape(t.search_label)} "
            f"<input name=\"q\" type=\"search\"></label> <button>{html.escape(t.search_button)}</button></form>"
            f"<p><a href=\"{with_lang('/', chosen) if chosen else '/'}\">{html.escape(t.home)}</a> · "
            f"<a href=\"{with_lang('/sparql', chosen) if chosen else '/sparql'}\">SPARQL</a></p></main></body></html>"
        )
        headers = {**headers, "Content-Language": lang, "Vary": "Accept, Accept-Language, Cookie"}
        return Response(page, status_code=status, media_type="text/html; charset=utf-8", headers=headers)
    body: dict[str, object] = {"error": message, "status": status}
    body.update(extra or {})
    return Response(
        json.dumps(body, ensure_ascii=False), status_code=status,
        media_type="application/json", headers=headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    async def on_clair_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ClairKgError)
        if exc.status >= 500 and exc.status not in (502, 503):
            log.error("internal error on %s", request.url.path, exc_info=exc)
        payload = exc.to_json()
        extra = {k: v for k, v in payload.items() if k not in ("error", "status")}
        return error_response(request, exc.status, exc.message, extra)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        message = str(exc.detail)
        # Starlette's own 404/405 (no route, wrong method) say only "Not Found"; say what to do.
        if exc.status_code == 404 and message == "Not Found":
            message = f"nothing at {request.url.path!r}: see / for the dataset and /api/docs for the API"
        elif exc.status_code == 405 and message == "Method Not Allowed":
            allowed = {k.lower(): v for k, v in (exc.headers or {}).items()}.get("allow", "")
            message = f"method {request.method} not allowed here" + (f"; use {allowed}" if allowed else "")
        return error_response(request, exc.status_code, message, headers=dict(exc.headers or {}))

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors()
        )
        return error_response(request, 400, f"invalid request: {problems}")

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.error("unexpected error on %s", request.url.path, exc_info=exc)
        return error_response(request, 500, "internal server error (logged on the server)")

    app.add_exception_handler(ClairKgError, on_clair_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)
