"""Dereferencing: ``/id/{type}/{slug}`` -> 303 -> ``/doc/{type}/{slug}`` (Cool URIs), named graphs
at ``/graph/{source}``, and the published JSON-LD context at ``/context.jsonld``.

The server answers the base IRI's paths on whatever host it runs on: a request path is mapped to
``{base}{path}`` before the store is asked, so a local server resolves the IRIs the dumps contain.
"""

from __future__ import annotations

__all__ = ["router"]

import json

from fastapi import APIRouter
from pyoxigraph import Literal, NamedNode
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...describe import describe, exists
from ...project import ENTITY_PATH_PATTERN
from ...publish.rdfio import jsonld_context
from ..context import get_context
from ..http import CORS_HEADERS, etag_for, not_modified, not_modified_response, standard_headers
from ..negotiate import MEDIA_EXTENSIONS
from ..templating import pick_language, render
from .common import (
    DOC_FORMATS,
    FORMAT_NAMES,
    UI,
    alternates,
    content_type,
    etag,
    local_href,
    negotiate_doc,
    not_found_body,
    publication,
    rdf_document_response,
    split_extension,
)
from .view import entity_view

router = APIRouter(tags=["linked data"])

_SIMILAR = """
SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), ?prefix)) }
ORDER BY ?s LIMIT 30
"""


@router.head("/id/{kind}/{slug}", include_in_schema=False)
@router.get("/id/{kind}/{slug}", summary="An entity IRI: 303 to its document")
def dereference(kind: str, slug: str, request: Request) -> Response:
    stem, ext = split_extension(slug)
    path = f"{kind}/{stem}"
    ctx = get_context(request)
    media = negotiate_doc(request, extension=ext)
    iri = ctx.project.entity_iri(path)
    if not ENTITY_PATH_PATTERN.match(path) or not exists(ctx.store, iri):
        return _not_found(request, media, iri, kind)
    target = f"/doc/{path}" + (f".{ext}" if ext else "")
    if request.url.query:
        target += "?" + request.url.query
    headers = {**CORS_HEADERS, "Vary": "Accept", "Cache-Control": "public, max-age=300"}
    return RedirectResponse(target, status_code=303, headers=headers)


@router.head("/doc/{kind}/{slug}", include_in_schema=False)
@router.get("/doc/{kind}/{slug}", summary="The document about an entity")
def entity_document(kind: str, slug: str, request: Request) -> Response:
    stem, ext = split_extension(slug)
    path = f"{kind}/{stem}"
    ctx = get_context(request)
    iri = ctx.project.entity_iri(path)
    media = negotiate_doc(request, extension=ext)
    if not ENTITY_PATH_PATTERN.match(path) or not exists(ctx.store, iri):
        return _not_found(request, media, iri, kind)
    return _document(request, iri, f"/doc/{path}", media, explicit=ext is not None)


@router.head("/graph/{name}", include_in_schema=False)
@router.get("/graph/{name}", summary="A named graph (one source) and its provenance")
def graph_document(name: str, request: Request) -> Response:
    stem, ext = split_extension(name)
    ctx = get_context(request)
    iri = ctx.project.graph_iri(stem)
    media = negotiate_doc(request, extension=ext)
    if iri not in ctx.store.graphs():
        return _not_found(request, media, iri, None)
    return _document(request, iri, f"/graph/{stem}", media, explicit=ext is not None)


@router.get("/dataset", summary="The dataset IRI: 303 to its description (the landing page)")
def dataset(request: Request) -> Response:
    target = "/" + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(target, status_code=303, headers={**CORS_HEADERS, "Vary": "Accept"})


@router.get("/context.jsonld", summary="The JSON-LD @context of every JSON-LD document and dump")
def context_document(request: Request) -> Response:
    tag = etag_for("context", json.dumps(jsonld_context(), sort_keys=True))
    headers = standard_headers(tag, vary=None, max_age=86400)
    if not_modified(request, tag):
        return not_modified_response(tag, headers)
    body = json.dumps(jsonld_context(), indent=1, ensure_ascii=False) + "\n"
    return Response(body, media_type="application/ld+json", headers=headers)


def _context_url(request: Request) -> str:
    return get_context(request).settings.base_iri + "context.jsonld"


def _document(request: Request, iri: str, path: str, media: str, *, explicit: bool) -> Response:
    ctx = get_context(request)
    lang = pick_language(request)
    tag = etag(request, media, lang if media == "text/html" else "", request.url.query)
    link = alternates(request, path, media)
    if media != "text/html":
        # RDF does not depend on the reader's language; a suffix fixes the format outright.
        rdf_vary = None if explicit else "Accept"
        if not_modified(request, tag):  # answered before the store is asked
            return not_modified_response(tag, {**standard_headers(tag, vary=rdf_vary), "Link": link})
        doc = describe(ctx.store, iri)
        return rdf_document_response(
            request, doc.triples(), media, etag=tag, link=link, context_url=_context_url(request), vary=rdf_vary,
        )
    vary = "Accept-Language" if explicit else "Accept, Accept-Language"
    headers = {**standard_headers(tag, vary=vary), "Link": link, "Content-Language": lang}
    if not_modified(request, tag):
        return not_modified_response(tag, headers)
    doc = describe(ctx.store, iri)
    pub = publication(request)
    sources = {s.iri: (s.labels.get(lang) or s.labels.get("en") or s.name) for s in pub.distribution.metadata.sources}
    view = entity_view(doc, base=ctx.settings.base_iri, lang=lang, sources=sources)
    formats = [
        {"href": f"{path}.{MEDIA_EXTENSIONS[m]}", "name": FORMAT_NAMES[m], "type": m}
        for m in DOC_FORMATS if m != "text/html"
    ]
    context = {
        "view": view,

        "t": UI[lang],
        "formats": formats,
        "path": path,
        "other_lang": "ja" if lang == "en" else "en",
        "schema_json": json.dumps(view.schema_org, ensure_ascii=False, indent=1).replace("</", "<\\/"),
        "local_href": lambda i: local_href(i, ctx.settings.base_iri),
    }
    return render(request, "entity.html", context, headers=headers)


def _not_found(request: Request, media: str, iri: str, kind: str | None) -> Response:
    message = f"no resource <{iri}> in this dataset"
    headers = {**CORS_HEADERS, "Cache-Control": "no-store", "Vary": "Accept"}
    if media != "text/html":
        if media == "application/ld+json":
            return Response(not_found_body(media, message), status_code=404, media_type="application/json",
                            headers=headers)
        return Response(not_found_body(media, message), status_code=404, media_type=content_type(media),
                        headers=headers)
    ctx = get_context(request)
    lang = pick_language(request)
    similar = []
    if kind and kind.isalpha():
        prefix = ctx.project.entity_iri(f"{kind.lower()}/")
        rows = ctx.store.select(_SIMILAR, bindings={"prefix": Literal(prefix)})
        similar = [s.value for s in (r.get("s") for r in rows) if isinstance(s, NamedNode)]
    slug = iri.rstrip("/").rsplit("/", 1)[-1]
    context = {
        "message": message,
        "iri": iri,
        "t": UI[lang],
        "search_query": slug.replace("-", " "),
        "similar": [{"href": local_href(s, ctx.settings.base_iri), "text": s[len(ctx.settings.base_iri):]}
                    for s in similar],
    }
    return render(request, "not_found.html", context, status_code=404, headers=headers)
