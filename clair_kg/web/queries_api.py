"""Named queries as a REST API: ``GET /queries`` lists them, ``GET /queries/{name}`` runs one.

Parameters come from the query string and are bound as RDF terms (``named_queries.bind_parameters``);
``limit``/``offset`` page the rows, with ``Link: <…>; rel="next"`` while more remain. Every SPARQL
result format is offered (``Accept`` or ``?format=``), plus an HTML table for browsers. Each named
query also gets its own path in the OpenAPI document (:func:`add_named_queries_to_openapi`).
"""

from __future__ import annotations

__all__ = ["add_named_queries_to_openapi", "router"]

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Path, Query
from pyoxigraph import Literal, NamedNode
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import InvalidParameter
from ..formats import content_type
from ..named_queries import (
    RESERVED_PARAMETERS,
    NamedQueries,
    bind_parameters,
    run_select_page,
    select_page_body,
)
from ..queryfile import QueryFile
from ..store import GRAPH_FORMATS, RESULT_FORMATS, QueryForm, Term, query_form
from .context import get_context
from .http import etag_for, not_modified, not_modified_response, standard_headers
from .i18n import explicit_language
from .linked_data.result_cells import DatasetLabels, iri_cell
from .negotiate import negotiate
from .params import int_param
from .templating import pick_language, render

router = APIRouter(tags=["named queries"])

DEFAULT_PAGE_SIZE = 100
_JSON_SYNONYMS = {"application/sparql-results+json": "application/json"}
_PARAM_SCHEMAS: dict[str, dict[str, Any]] = {
    "iri": {"type": "string", "format": "iri",
            "description": "an absolute IRI, or the dataset's short form such as office/london"},
    "string": {"type": "string"},
    "lang": {"type": "string", "pattern": "^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$", "example": "en"},
    "integer": {"type": "integer"},
    "date": {"type": "string", "format": "date"},
}


def _describe(query: QueryFile, base_url: str) -> dict[str, Any]:
    return {
        "name": query.name,
        "summary": query.summary,
        "url": f"{base_url}queries/{query.name}",
        "params": [{"name": p.name, "type": p.type, "required": p.required} for p in query.params],
        "example": query.example,
        "example_url": f"{base_url}queries/{query.name}" + (f"?{query.example}" if query.example else ""),
    }


def _cell(term: Term | None, names: DatasetLabels, lang: str, link_lang: str | None) -> dict[str, Any]:
    if term is None:
        return {"text": ""}
    if isinstance(term, NamedNode):
        # Our own IRIs resolve on this server, whatever host it runs on, and show their label.
        return iri_cell(term.value, names, lang, link_lang)
    if isinstance(term, Literal):
        return {"text": term.value, "lang": term.language or ""}
    return {"text": str(term)}


def _int_param(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    return int_param(request.query_params.get(name), name, default=default, low=low, high=high)


@router.get("/queries", summary="List the named queries (HTML or JSON)", response_model=None)
def list_queries(request: Request, format: str | None = Query(None, description="json or html")) -> Response:
    ctx = get_context(request)
    media = negotiate(["application/json", "text/html"], accept=request.headers.get("accept"),
                      format_param=format, synonyms=_JSON_SYNONYMS)
    etag = etag_for(ctx.etag_seed, "queries", media, pick_language(request) if media == "text/html" else "")
    headers = standard_headers(etag)
    if not_modified(request, etag):
        return not_modified_response(etag, headers)
    base_url = str(request.base_url)
    queries = [_describe(q, base_url) for q in ctx.queries]
    if media == "text/html":
        return render(request, "queries.html", {"queries": queries}, headers=headers)
    return JSONResponse({"queries": queries}, headers=headers)


@router.get(
    "/queries/{name}",
    summary="Run a named query with its parameters (see the per-query paths for each one's parameters)",
    response_model=None,
    responses={
        200: {"content": {m: {} for m in [*RESULT_FORMATS, *GRAPH_FORMATS, "text/html"]},
              "description": "the result, in the negotiated format"},
        400: {"description": "a parameter is missing or not of its type"},
        404: {"description": "no named query of that name"},
        406: {"description": "no offered format is acceptable"},
    },
)
def run_query(
    request: Request,
    name: str = Path(..., description="the query's name: the file name queries/NAME.rq without .rq"),
    format: str | None = Query(None, description="json, xml, csv, tsv, html (ttl, nt, jsonld for graphs)"),
    limit: str | None = Query(None, description=f"rows per page (integer, default {DEFAULT_PAGE_SIZE})"),
    offset: str | None = Query(None, description="rows to skip (integer, default 0)"),
) -> Response:
    ctx = get_context(request)
    query = ctx.queries.get(name)
    page_size = _int_param(request, "limit", DEFAULT_PAGE_SIZE, low=1, high=ctx.settings.max_rows)
    start = _int_param(request, "offset", 0, low=0, high=10**9)
    raw = {k: v for k, v in request.query_params.items() if k not in RESERVED_PARAMETERS}
    for key in raw:
        if len(request.query_params.getlist(key)) > 1:
            raise InvalidParameter(key, "given more than once")
    bindings = bind_parameters(query, raw, base_iri=ctx.settings.base_iri)
    form = query_form(query.text) or QueryForm.SELECT
    offered = [*GRAPH_FORMATS] if form.returns_graph else [*RESULT_FORMATS]
    offered.append("text/html")
    media = negotiate(offered, accept=request.headers.get("accept"), format_param=request.query_params.get("format"),
                      synonyms=None if form.returns_graph else _JSON_SYNONYMS)
    canonical = sorted(request.query_params.multi_items())
    etag = etag_for(ctx.etag_seed, "query", name, media, json.dumps(canonical),
                    pick_language(request) if media == "text/html" else "")
    headers = standard_headers(etag)
    if not_modified(request, etag):
        return not_modified_response(etag, headers)
    if form is not QueryForm.SELECT:
        if media == "text/html":
            media = offered[0]
        result = ctx.store.execute(query.text, media_type=media, bindings=bindings)
        return Response(result.body, media_type=media, headers=headers)
    if media == "text/html":
        page = run_select_page(ctx.store, query.text, bindings, offset=start, limit=page_size)
        has_next, body = page.has_next, b""
    else:
        shaped = select_page_body(ctx.store, query.text, bindings, media, offset=start, limit=page_size)
        has_next, body = shaped.truncated, shaped.body
    links = []
    if has_next:
        links.append((str(request.url.include_query_params(offset=start + page_size, limit=page_size)), "next"))
    if start > 0:
        links.append((str(request.url.include_query_params(offset=max(0, start - page_size), limit=page_size)),
                      "prev"))
    if links:
        headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for url, rel in links)
    if media == "text/html":
        lang = pick_language(request)
        chosen = explicit_language(request)
        names = DatasetLabels.load(ctx.store, ctx.settings.base_iri)
        context = {
            "query": _describe(query, str(request.base_url)), "text": query.text, "page": page,
            "cells": [[_cell(row.get(v), names, lang, chosen) for v in page.variables] for row in page.rows],
            "values": raw, "links": dict((rel, url) for url, rel in links),
            "formats": {"JSON": "json", "XML": "xml", "CSV": "csv", "TSV": "tsv"},
        }
        return render(request, "queries_result.html", context, headers=headers)
    return Response(body, headers={**headers, "Content-Type": content_type(media)})


def _operation(query: QueryFile) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": p.name, "in": "query", "required": p.required, "schema": _PARAM_SCHEMAS[p.type],
         "description": f"{p.type} parameter, bound as ?{p.name}"}
        for p in query.params
    ]
    parameters += [
        {"name": "format", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "result format: json, xml, csv, tsv or html (overrides Accept)"},
        {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "default": DEFAULT_PAGE_SIZE}, "description": "rows per page"},
        {"name": "offset", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 0, "default": 0}, "description": "rows to skip"},
    ]
    form = query_form(query.text) or QueryForm.SELECT
    media = [*GRAPH_FORMATS] if form.returns_graph else [*RESULT_FORMATS]
    return {
        "tags": ["named queries"],
        "summary": query.summary or query.name,
        "description": f"Named query `queries/{query.name}.rq`."
        + (f" Example: `?{query.example}`." if query.example else ""),
        "operationId": f"named_query_{query.name.replace('-', '_')}",
        "parameters": parameters,
        "responses": {
            "200": {"description": "the result; `Link: rel=next` while more rows remain",
                    "content": {m: {} for m in [*media, "text/html"]}},
            "400": {"description": "a parameter is missing or not of its type (the message names it)"},
            "406": {"description": "no offered format is acceptable"},
        },
    }


def add_named_queries_to_openapi(app: FastAPI, queries: NamedQueries) -> None:
    """Give every named query its own documented path in ``app``'s OpenAPI document."""
    original: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        schema = original()
        paths = schema.setdefault("paths", {})
        for query in queries:
            paths.setdefault(f"/queries/{query.name}", {"get": _operation(query)})
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
