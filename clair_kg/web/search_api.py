"""``GET /search``: label search in English and Japanese, as JSON or an HTML results page.

The :class:`~clair_kg.search.LabelIndex` is the runtime's, built once before the app.
"""

from __future__ import annotations

__all__ = ["get_label_index", "router"]

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import InvalidParameter
from ..search import LabelIndex
from .context import get_context
from .http import etag_for, not_modified, not_modified_response, standard_headers
from .negotiate import negotiate
from .params import int_param
from .templating import pick_language, render

router = APIRouter(tags=["search"])

MAX_LIMIT = 100


def get_label_index(request: Request) -> LabelIndex:
    return get_context(request).labels.get()


def parse_limit(raw: str | None, *, default: int = 10, name: str = "limit") -> int:
    return int_param(raw, name, default=default, low=1, high=MAX_LIMIT)


@router.get("/search", summary="Search entities by label (English and Japanese)", response_model=None)
def search(
    request: Request,
    q: str = Query("", description="the text to look for (case- and width-insensitive)"),
    type: str | None = Query(None, description="only entities of this kind (office, org, …) or class IRI; "
                                               "comma-separated for several"),
    lang: str | None = Query(None, description="only match labels in this language: en or ja"),
    limit: str | None = Query(None, description=f"most results (1–{MAX_LIMIT}, default 10)"),
    format: str | None = Query(None, description="json or html (overrides Accept)"),
) -> Response:
    ctx = get_context(request)
    media = negotiate(["application/json", "text/html"], accept=request.headers.get("accept"),
                      format_param=format, synonyms={"application/sparql-results+json": "application/json"})
    size = parse_limit(limit)
    if lang is not None and lang not in ("", "en", "ja"):
        raise InvalidParameter("lang", "expected en or ja")
    types = [t.strip() for t in (type or "").split(",") if t.strip()]
    if not q.strip() and media != "text/html":
        raise InvalidParameter("q", "is required: the text to search for")
    etag = etag_for(ctx.etag_seed, "search", q, ",".join(types), lang or "", str(size), media,
                    pick_language(request) if media == "text/html" else "")
    headers = standard_headers(etag, vary="Accept, Accept-Language")
    if not_modified(request, etag):
        return not_modified_response(etag, headers)
    index = get_label_index(request)
    hits = index.search(q, types=types, lang=lang or None, limit=size, timeout=ctx.settings.search_timeout)
    if media == "text/html":
        return render(request, "search.html", {
            "search_query": q, "hits": hits, "type": type or "", "search_lang": lang or "",
            "kinds": index.kinds(), "page_lang": pick_language(request),
        }, headers=headers)
    return JSONResponse({
        "query": q, "type": types, "lang": lang or None, "limit": size,
        "results": [h.to_json() for h in hits],
    }, headers=headers)
