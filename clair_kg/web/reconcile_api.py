"""``/reconcile``: the W3C Reconciliation Service API 0.2, for OpenRefine and other clients.

``GET /reconcile`` without parameters is the manifest; ``queries=`` (a JSON batch) reconciles and
``extend=`` (a JSON data extension query) fetches property values — by GET, by POST form (what
OpenRefine sends), or by POST of a JSON body (either the batch itself or ``{"queries": …}`` /
``{"extend": …}``). ``callback=`` wraps any JSON answer as JSONP for old clients. Suggest, flyout,
preview and property proposal live under ``/reconcile/…``, as the manifest advertises.
"""

from __future__ import annotations

__all__ = ["router"]

import html
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from ..errors import BadRequest, InvalidParameter, NotFound, PayloadTooLarge, UnsupportedMediaType
from ..reconcile import ReconcileService, parse_batch, parse_extend, parse_json
from .context import get_context
from .params import int_param
from .search_api import get_label_index

router = APIRouter(prefix="/reconcile", tags=["reconciliation"])

_CALLBACK = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$")
_HEADERS = {"Cache-Control": "no-cache"}
#: largest cursor (results to skip) or limit a suggest/propose request may give
MAX_CURSOR = 1_000_000


def _service(request: Request) -> ReconcileService:
    ctx = get_context(request)
    return ReconcileService(ctx.store, get_label_index(request), base_iri=ctx.settings.base_iri,
                            timeout=ctx.settings.search_timeout)


def _json(request: Request, payload: Any, callback: str | None = None) -> Response:
    callback = callback if callback is not None else request.query_params.get("callback")
    if callback:
        if not _CALLBACK.match(callback):
            raise InvalidParameter("callback", "must be a JavaScript identifier")
        body = f"/**/{callback}({json.dumps(payload, ensure_ascii=False)});"
        return Response(body, media_type="application/javascript; charset=utf-8", headers=_HEADERS)
    return JSONResponse(payload, headers=_HEADERS)


def _cursor(raw: str | None) -> int:
    return int_param(raw, "cursor", default=0, low=0, high=MAX_CURSOR)


def _answer(request: Request, params: dict[str, Any]) -> Any:
    """The JSON answer for a request carrying ``queries`` or ``extend`` (or neither: the manifest)."""
    service = _service(request)
    if params.get("queries") is not None:
        raw = params["queries"]
        batch = parse_batch(parse_json(raw, "queries") if isinstance(raw, (str, bytes)) else raw)
        return service.reconcile(batch)
    if params.get("extend") is not None:
        raw = params["extend"]
        return service.extend(parse_extend(parse_json(raw, "extend") if isinstance(raw, (str, bytes)) else raw))
    base = str(request.base_url)
    return service.manifest(base + "reconcile", base)


@router.get("", summary="Manifest, or reconcile (queries=) / extend (extend=) by GET", response_model=None)
def reconcile_get(
    request: Request,
    queries: str | None = Query(None, description="a reconciliation query batch, as JSON"),
    extend: str | None = Query(None, description="a data extension query, as JSON"),
    callback: str | None = Query(None, description="JSONP callback name"),
) -> Response:
    return _json(request, _answer(request, {"queries": queries, "extend": extend}), callback)


@router.post("", summary="Reconcile (queries=) or extend (extend=): form fields or a JSON body",
             response_model=None)
async def reconcile_post(request: Request) -> Response:
    ctx = get_context(request)
    cap = ctx.settings.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise PayloadTooLarge(f"request body over {cap} bytes")
    body = await request.body()
    if len(body) > cap:
        raise PayloadTooLarge(f"request body over {cap} bytes")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    params: dict[str, Any]
    if content_type == "application/json":
        doc = parse_json(body, "queries")
        if isinstance(doc, dict) and set(doc) <= {"queries", "extend"} and doc:
            params = dict(doc)
        else:
            params = {"queries": doc}
    elif content_type == "application/x-www-form-urlencoded":
        try:
            params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError as exc:
            raise BadRequest("the form is not UTF-8") from exc
    elif content_type == "multipart/form-data":
        form = await request.form()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
    else:
        raise UnsupportedMediaType(
            "send queries= or extend= as a form (application/x-www-form-urlencoded or multipart/form-data) "
            "or a JSON body (application/json)")
    if params.get("queries") is None and params.get("extend") is None:
        raise InvalidParameter("queries", "is required (or extend=)")
    answer = await run_in_threadpool(_answer, request, params)
    return _json(request, answer, params.get("callback") if isinstance(params.get("callback"), str) else None)


@router.get("/suggest/entity", summary="Suggest entities by name prefix", response_model=None)
def suggest_entity(
    request: Request,
    prefix: str = Query("", description="what the user has typed so far"),
    cursor: str | None = Query(None, description="results to skip"),
    type: str | None = Query(None, description="only entities of this type (class IRI or kind)"),
) -> Response:
    types = [type] if type else []
    return _json(request, _service(request).suggest_entities(prefix, cursor=_cursor(cursor), types=types))


@router.get("/suggest/type", summary="Suggest types by name prefix", response_model=None)
def suggest_type(request: Request, prefix: str = Query(""), cursor: str | None = Query(None)) -> Response:
    return _json(request, _service(request).suggest_types(prefix, cursor=_cursor(cursor)))


@router.get("/suggest/property", summary="Suggest properties by name prefix", response_model=None)
def suggest_property(request: Request, prefix: str = Query(""), cursor: str | None = Query(None)) -> Response:
    return _json(request, _service(request).suggest_properties(prefix, cursor=_cursor(cursor)))


@router.get("/properties", summary="Propose properties for data extension", response_model=None)
def propose_properties(
    request: Request,
    type: str | None = Query(None, description="the type (class IRI or kind) to propose properties for"),
    limit: str | None = Query(None, description="most properties to return"),
) -> Response:
    size = int_param(limit, "limit", default=0, low=0, high=MAX_CURSOR) or None
    return _json(request, _service(request).propose_properties(type, limit=size))


def _snippet(request: Request, entity_id: str) -> tuple[str, str]:
    service = _service(request)
    entity = service.entity(entity_id)
    if entity is None:
        raise NotFound(f"no entity {entity_id!r}")
    name_en, name_ja = entity.name("en"), entity.name("ja")
    description = entity.description() or ""
    parts = [f'<p style="font-size:0.8em;color:#222;margin:0">{html.escape(description)}</p>' if description else ""]
    title = html.escape(name_en) + (f' <span lang="ja">{html.escape(name_ja)}</span>' if name_ja != name_en else "")
    return entity.id, (
        f'<div class="clair-kg-preview"><h3 style="margin:0 0 .3em">'
        f'<a href="{html.escape(str(request.base_url))}doc/{html.escape(entity.id)}" target="_blank">{title}</a></h3>'
        f'<p style="font-size:0.75em;color:#555;margin:0 0 .3em">{html.escape(entity.kind)} · '
        f"<code>{html.escape(entity.id)}</code></p>{''.join(parts)}</div>"
    )


@router.get("/preview", summary="An HTML preview of one entity", response_class=HTMLResponse)
def preview(request: Request, id: str = Query(..., description="the entity id, e.g. office/london")) -> Response:
    _, snippet = _snippet(request, id)
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(id)}</title></head>'
            f"<body>{snippet}</body></html>")
    return HTMLResponse(page, headers=_HEADERS)


@router.get("/flyout/entity", summary="A small HTML card for a suggested entity", response_model=None)
def flyout(request: Request, id: str = Query(..., description="the entity id")) -> Response:
    entity_id, snippet = _snippet(request, id)
    return _json(request, {"id": entity_id, "html": snippet})
