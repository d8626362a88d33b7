"""The SPARQL 1.1 Protocol endpoint at /sparql and /sparql/ (query operation, read-only).

``/sparql`` is a plain ASGI app mounted on the router, not a FastAPI path operation: it is the hot
path of the server, and request parsing, negotiation and caching here cost a few microseconds
where FastAPI's dependency and validation layers would cost far more. Errors still go through
:func:`clair_kg.web.errors.error_response`, so bodies are the same as everywhere else.

What it does with a request, in order: method (GET, HEAD, POST, OPTIONS preflight; else 405),
size caps (414 for the URL, 413 for the body, from ``Content-Length`` and while streaming),
protocol parsing (:mod:`clair_kg.sparql.protocol`), then either the Service Description / query
page (no query) or: guardrails, negotiation, ETag/304, and :meth:`SparqlService.answer`.
"""

from __future__ import annotations

__all__ = ["SPARQL_PATHS", "SparqlEndpoint"]

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request

from ..errors import BadRequest, ClairKgError, NotAcceptable, PayloadTooLarge, URITooLong
from ..formats import GRAPH_FORMATS, GRAPH_SYNONYMS, RESULT_FORMATS, content_type
from ..runtime import Runtime
from ..sparql.protocol import QueryRequest, parse_query_request
from ..sparql.service import SparqlService
from ..sparql.service_description import serialize_description, service_description
from ..store.base import QueryForm
from .errors import error_response
from .http import etag_for, not_modified
from .i18n import explicit_language
from .negotiate import negotiate
from .sparql_page import page_context
from .templating import pick_language, render

log = logging.getLogger("clair_kg.web")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

HTML = "text/html"
SELECT_TYPES = [*RESULT_FORMATS, HTML]
ASK_TYPES = ["application/sparql-results+json", "application/sparql-results+xml", HTML]
GRAPH_TYPES = [*GRAPH_FORMATS, HTML]
ANY_TYPES = [*RESULT_FORMATS, *GRAPH_FORMATS, HTML]
DESCRIPTION_TYPES = ["text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples", HTML]
_DESCRIPTION_WRITERS = {m: GRAPH_FORMATS[m] for m in DESCRIPTION_TYPES if m != HTML}
# ``format=`` values some clients send (SPARQLWrapper sends its own names) -> our aliases.
FORMAT_WORDS = {"rdf+xml": "rdf", "n3": "ttl", "rdf/xml": "rdf", "application/json": "json", "js": "json"}

ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"
TRUNCATED_HEADER = "X-Results-Truncated"


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


async def _send(send: Send, status: int, body: bytes, headers: dict[str, str], *, head: bool = False) -> None:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    raw.append((b"content-length", str(len(body)).encode("ascii")))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def _read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    declared = headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise BadRequest("Content-Length is not a number")
        if int(declared) > limit:
            raise PayloadTooLarge(f"the request body is {int(declared)} bytes; the limit is {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadRequest("the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the request body is over the limit of {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class SparqlEndpoint:
    """The raw ASGI app answering /sparql."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx: Runtime = scope["app"].state.runtime
        headers = _headers(scope)
        service = ctx.sparql
        if scope["method"] in ("GET", "HEAD"):
            # Fast path: the same GET as before (query string, Accept, Origin) gets the same answer.
            hit = service.responses.get((scope.get("query_string", b""), headers.get("accept"), headers.get("origin")))
            if hit is not None:
                etag, out, body = hit
                tags = headers.get("if-none-match")
                if tags and (etag in {t.strip().removeprefix("W/") for t in tags.split(",")} or tags.strip() == "*"):
                    await _send(send, 304, b"", {k: v for k, v in out.items() if k != "Content-Type"})
                else:
                    await _send(send, 200, body, out, head=scope["method"] == "HEAD")
                return
        # CORS headers are the front door's (clair_kg.web.app): one policy for every route.
        try:
            await self._dispatch(scope, receive, send, ctx, headers)
        except ClairKgError as exc:
            payload = exc.to_json()
            extra = {k: v for k, v in payload.items() if k not in ("error", "status")}
            response = error_response(Request(scope, receive), exc.status, exc.message, extra)
            if exc.status == 405:
                response.headers["Allow"] = ALLOWED_METHODS
            await response(scope, receive, send)
        except Exception:  # a bug: log it, answer 500 without a stack trace
            log.exception("unexpected error on %s", scope.get("path"))
            response = error_response(Request(scope, receive), 500, "internal server error (logged on the server)")
            await response(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send, ctx: Runtime,
                        headers: dict[str, str]) -> None:
        method = scope["method"]
        settings = ctx.settings
        if method == "OPTIONS":
            await _send(send, 204, b"", {
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": headers.get(
                    "access-control-request-headers", "Accept, Content-Type, If-None-Match"),
                "Access-Control-Max-Age": "86400",
                "Allow": ALLOWED_METHODS,
            })
            return
        if method not in ("GET", "HEAD", "POST"):
            raise _MethodNotAllowed(f"{method} is not allowed on the SPARQL endpoint; use GET or POST")
        query_string: bytes = scope.get("query_string", b"")
        if len(query_string) > settings.max_query_length:
            raise URITooLong(
                f"the query string is {len(query_string)} characters; the limit is {settings.max_query_length}"
                " (send long queries with POST)"
            )
        body = b""
        if method == "POST":
            body = await _read_body(receive, headers, settings.max_body_bytes)
        request = parse_query_request(method, query_string, headers.get("content-type"), body)
        if request.query is None:
            await self._describe(scope, receive, send, ctx, headers, request)
            return
        await self._query(scope, receive, send, ctx, headers, request)

    async def _query(self, scope: Scope, receive: Receive, send: Send, ctx: Runtime,
                     headers: dict[str, str], request: QueryRequest) -> None:
        service = ctx.sparql
        query = request.query
        assert query is not None
        facts = service.inspect(query)
        offered, synonyms = ANY_TYPES, None
        if facts.form is QueryForm.SELECT:
            offered = SELECT_TYPES
        elif facts.form is QueryForm.ASK:
            offered = ASK_TYPES
        elif facts.form is not None:
            offered, synonyms = GRAPH_TYPES, GRAPH_SYNONYMS
        media = _negotiate(offered, headers.get("accept"), request.formats, synonyms)
        if media == HTML:
            await self._page(scope, receive, send, ctx, request, facts.form, service)
            return
        dataset = request.dataset
        etag = etag_for(ctx.etag_seed, query, "\x1e".join(dataset.default_graphs),
                        "\x1e".join(dataset.named_graphs), media)
        out = {
            "ETag": etag,
            "Cache-Control": "public, max-age=300",
            "Vary": "Accept, Origin",
        }
        if not_modified(Request(scope), etag):
            await _send(send, 304, b"", out)
            return
        reply = await service.answer(query, facts, dataset, media)
        out["Content-Type"] = content_type(media)
        if reply.truncated:
            out[TRUNCATED_HEADER] = f"results cut to max_rows={ctx.settings.max_rows}"
        if scope["method"] in ("GET", "HEAD"):
            service.responses.put((scope.get("query_string", b""), headers.get("accept"), headers.get("origin")),
                                  (etag, out, reply.body))
        await _send(send, 200, reply.body, out, head=scope["method"] == "HEAD")

    async def _describe(self, scope: Scope, receive: Receive, send: Send, ctx: Runtime,
                        headers: dict[str, str], request: QueryRequest) -> None:
        media = _negotiate(DESCRIPTION_TYPES, headers.get("accept"), request.formats, GRAPH_SYNONYMS)
        if media == HTML:
            await self._page(scope, receive, send, ctx, request, None, ctx.sparql)
            return
        endpoint = _endpoint_url(scope, headers)
        sizes = await asyncio.to_thread(ctx.graph_sizes.get)
        triples = service_description(endpoint, graph_sizes=sizes, title="CLAIR knowledge graph SPARQL endpoint",
                                      federation=bool(ctx.settings.service_allowlist))
        body = serialize_description(triples, _DESCRIPTION_WRITERS[media])
        etag = etag_for(ctx.etag_seed, "service-description", endpoint, media)
        out = {"ETag": etag, "Cache-Control": "public, max-age=300", "Vary": "Accept, Origin"}
        if not_modified(Request(scope), etag):
            await _send(send, 304, b"", out)
            return
        out["Content-Type"] = content_type(media)
        await _send(send, 200, body, out, head=scope["method"] == "HEAD")

    async def _page(self, scope: Scope, receive: Receive, send: Send, ctx: Runtime,
                    request: QueryRequest, form: QueryForm | None, service: SparqlService) -> None:
        page_request = Request(scope, receive)
        context = await page_context(ctx.settings, request, form, service, pick_language(page_request),
                                     explicit_language(page_request))
        response = render(page_request, "sparql.html", context,
                          status_code=int(context.get("status", 200)),
                          headers={"Cache-Control": "no-cache", "Vary": "Accept, Origin"})
        await response(scope, receive, send)


def _negotiate(offered: list[str], accept: str | None, formats: tuple[str, ...],
               synonyms: dict[str, str] | None) -> str:
    """``format=`` values first (the first one we can write wins), else ``Accept``."""
    first_error: NotAcceptable | None = None
    for value in formats:
        try:
            word = FORMAT_WORDS.get(value.lower(), value)
            return negotiate(offered, format_param=word, synonyms=synonyms)
        except NotAcceptable as exc:
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    return negotiate(offered, accept=accept, synonyms=synonyms)


class _MethodNotAllowed(ClairKgError):
    status = 405


def _endpoint_url(scope: Scope, headers: dict[str, str]) -> str:
    scheme = scope.get("scheme", "http")
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("localhost", None)
        host = server[0] if server[1] in (None, 80, 443) else f"{server[0]}:{server[1]}"
    return f"{scheme}://{host}{scope.get('root_path', '')}{scope['path']}"


#: both are answered, neither redirects (the W3C tests use /sparql/)
SPARQL_PATHS = ("/sparql", "/sparql/")
