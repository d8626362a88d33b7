"""Dereferencing: ``/id/{type}/{slug}`` -> 303 -> ``/doc/{type}/{slug}`` (Cool URIs), named graphs
at ``/graph/{source}``, and the published JSON-LD context at ``/context.jsonld``.

The server answers the base IRI's paths on whatever host it runs on: a request path is mapped to
``{base}{path}`` before the store is asked, so a local server resolves the IRIs the dumps contain.
"""

from __future__ import annotations

__all__ = ["answer_fast", "router"]

import json
from collections import defaultdict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import APIRouter
from pyoxigraph import Literal, NamedNode
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...entity_graph import EntityDocument, describe, document_triples, pick_label, select_fixed
from ...errors import ClairKgError
from ...project import ENTITY_PATH_PATTERN
from ...provenance import SOURCE_PROPERTIES, SourceInfo
from ...publish.rdfio import jsonld_context
from ...store import EmbeddedStore, Store
from ..context import get_context
from ..http import etag_for, not_modified, not_modified_response, standard_headers
from ..i18n import ui
from ..negotiate import MEDIA_EXTENSIONS
from ..templating import pick_language, render
from .claims import quantities_of
from .common import (
    DOC_FORMATS,
    FORMAT_NAMES,
    alternates,
    content_type,
    etag,
    local_href,
    negotiate_doc,
    not_found_body,
    query_string,
    split_extension,
)
from .document_bytes import document_bytes
from .terms import TermLabels, term_labels
from .view import Place, entity_view

router = APIRouter(tags=["linked data"])

_SIMILAR = """
SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), ?prefix)) }
ORDER BY ?s LIMIT 30
"""


@router.head("/id/{kind}/{slug}", include_in_schema=False)
@router.get("/id/{kind}/{slug}", summary="An entity IRI: 303 to its document")
def dereference(kind: str, slug: str, request: Request) -> Response:
    path, ext, iri = _locate(request, kind, slug)
    media = negotiate_doc(request, extension=ext)
    if not _exists(request, path, iri):
        return _not_found(request, media, iri, kind)
    target = f"/doc/{path}" + (f".{ext}" if ext else "")
    if query := query_string(request):
        target += "?" + query
    headers = {"Vary": "Accept", "Cache-Control": "public, max-age=300"}
    return RedirectResponse(target, status_code=303, headers=headers)


@router.head("/doc/{kind}/{slug}", include_in_schema=False)
@router.get("/doc/{kind}/{slug}", summary="The document about an entity")
def entity_document(kind: str, slug: str, request: Request) -> Response:
    path, ext, iri = _locate(request, kind, slug)
    media = negotiate_doc(request, extension=ext)
    if not _exists(request, path, iri):
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
    return RedirectResponse(target, status_code=303, headers={"Vary": "Accept"})


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


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def answer_fast(scope: Scope, receive: Receive, send: Send) -> bool:
    """Answer ``/id/…`` or an RDF ``/doc/…`` before FastAPI's router; False: not answered here.

    The front door calls this first: the router and its dependency machinery cost more than a
    cached document itself. It answers the ``/id`` 303 of an entity that exists, and an RDF document
    of one: from the runtime's document cache or as 304 in the event loop, else read from the
    store — the embedded one in the loop too, a remote one on a thread (as FastAPI runs the routes,
    so a slow remote store blocks no other request).
    Everything else (HTML, a 404, a bad ``Accept``) goes on to the routes above, which answer it.
    """
    if scope["method"] not in ("GET", "HEAD"):
        return False
    parts = scope["path"].split("/")
    if len(parts) != 4 or parts[1] not in ("id", "doc"):
        return False
    request = Request(scope, receive)
    path, ext, iri = _locate(request, parts[2], parts[3])
    ctx = get_context(request)
    # an entity set still to be read (a remote store that was down) is left to the routes
    if not ctx.entities.ready or not _exists(request, path, iri):
        return False
    try:
        if parts[1] == "id":
            response = dereference(parts[2], parts[3], request)
        else:
            media = negotiate_doc(request, extension=ext)
            if media == "text/html":
                return False
            doc_path = f"/doc/{path}"
            found = _rdf_document(request, iri, doc_path, media, explicit=ext is not None, cached_only=True)
            if found is None and isinstance(ctx.store, EmbeddedStore):
                # a miss on the process's own store: one bounded query, CPU only (the thread hop
                # would cost a fifth of it and, with the GIL, let nothing else run meanwhile)
                found = _rdf_document(request, iri, doc_path, media, explicit=ext is not None)
            elif found is None:  # a remote store may be slow: asked on a thread, as FastAPI runs routes
                found = await run_in_threadpool(_rdf_document, request, iri, doc_path, media,
                                                explicit=ext is not None)
            assert found is not None
            response = found
    except ClairKgError:  # a bad Accept or format: the routes raise it again and answer it
        return False
    await response(scope, receive, send)
    return True


def _locate(request: Request, kind: str, slug: str) -> tuple[str, str | None, str]:
    """From ``/id|doc/{kind}/{slug}``: the entity path (``office/london``), the format suffix, the IRI."""
    stem, ext = split_extension(slug)
    path = f"{kind}/{stem}"
    return path, ext, get_context(request).project.entity_iri(path)


def _exists(request: Request, path: str, iri: str) -> bool:
    return bool(ENTITY_PATH_PATTERN.match(path)) and iri in get_context(request).entities.get()


def _rdf_document(request: Request, iri: str, path: str, media: str, *, explicit: bool,
                  cached_only: bool = False) -> Response | None:
    """The RDF document about ``iri`` in ``media``; None when ``cached_only`` and it is not cached.

    Read with :func:`document_triples` (pattern reads on the embedded store, one CONSTRUCT on a
    remote one), written by :func:`document_bytes` and kept in the runtime's document cache.
    """
    ctx = get_context(request)
    tag = etag(request, media, "", query_string(request))
    # RDF does not depend on the reader's language; a suffix fixes the format outright.
    headers = {**standard_headers(tag, vary=None if explicit else "Accept"), "Link": alternates(request, path, media)}
    if not_modified(request, tag):  # answered before the store is asked
        return not_modified_response(tag, headers)
    body = ctx.documents.get(iri, media)
    if body is None:
        if cached_only:
            return None
        triples = document_triples(ctx.store, iri, vocabulary=ctx.vocabulary)
        body = document_bytes(triples, media, context_ref=_context_url(request))
        ctx.documents.put(iri, media, body)
    return Response(body, media_type=content_type(media), headers=headers)


def _document(request: Request, iri: str, path: str, media: str, *, explicit: bool) -> Response:
    ctx = get_context(request)
    if media != "text/html":
        response = _rdf_document(request, iri, path, media, explicit=explicit)
        assert response is not None
        return response
    lang = pick_language(request)
    tag = etag(request, media, lang, query_string(request))
    link = alternates(request, path, media)
    vary = "Accept-Language, Cookie" if explicit else "Accept, Accept-Language, Cookie"
    headers = {**standard_headers(tag, vary=vary), "Link": link, "Content-Language": lang}
    if not_modified(request, tag):
        return not_modified_response(tag, headers)
    doc = describe(ctx.store, iri)
    base = ctx.settings.base_iri
    terms = term_labels(request)
    infos = ctx.sources.get()
    view = entity_view(
        doc, base=base, lang=lang, terms=terms, sources=infos, quantities=quantities_of(ctx.store, iri),
        places=_places(ctx.store, iri), subject_types=_subject_types(ctx.store, iri),
        # a source's page shows its own description in the "about this source" card, not as rows
        shown_elsewhere=SOURCE_PROPERTIES if iri in infos else (),
    )
    formats = [
        {"href": f"{path}.{MEDIA_EXTENSIONS[m]}", "name": FORMAT_NAMES[m], "type": m}
        for m in DOC_FORMATS if m != "text/html"
    ]
    context = {
        "view": view,
        "formats": formats,
        "path": path,
        "schema_json": json.dumps(view.schema_org, ensure_ascii=False, indent=1).replace("</", "<\\/"),
        "source": _source_view(infos[iri], lang) if iri in infos else None,
        "graph": _graph_listing(ctx.store, iri, doc, base, lang, terms, infos) if path.startswith("/graph/") else None,
    }
    return render(request, "entity.html", context, headers=headers)


def _not_found(request: Request, media: str, iri: str, kind: str | None) -> Response:
    message = f"no resource <{iri}> in this dataset"
    headers = {"Cache-Control": "no-store", "Vary": "Accept"}
    if media != "text/html":
        if media == "application/ld+json":
            return Response(not_found_body(media, message), status_code=404, media_type="application/json",
                            headers=headers)
        return Response(not_found_body(media, message), status_code=404, media_type=content_type(media),
                        headers=headers)
    ctx = get_context(request)
    similar = []
    if kind and kind.isalpha():
        prefix = ctx.project.entity_iri(f"{kind.lower()}/")
        rows = ctx.store.select(_SIMILAR, bindings={"prefix": Literal(prefix)})
        similar = [s.value for s in (r.get("s") for r in rows) if isinstance(s, NamedNode)]
    slug = iri.rstrip("/").rsplit("/", 1)[-1]
    context = {
        "message": message,
        "iri": iri,
        "search_query": slug.replace("-", " "),
        "similar": [{"href": local_href(s, ctx.settings.base_iri), "text": s[len(ctx.settings.base_iri):]}
                    for s in similar],
    }
    return render(request, "not_found.html", context, status_code=404, headers=headers)


_PLACES = """
SELECT ?place ?p ?v ?pl WHERE {
  ?e ?link ?place . FILTER(isIRI(?place))
  VALUES ?link { <https://schema.org/location> <https://schema.org/containedInPlace> }
  { ?place ?p ?v .
    VALUES ?p { <http://www.w3.org/2004/02/skos/core#prefLabel> <https://w3id.org/clair-kg/ontology#isoCode>
                <http://www.w3.org/2002/07/owl#sameAs> } }
  UNION
  { ?place <https://schema.org/containedInPlace> ?parent . ?parent <http://www.w3.org/2004/02/skos/core#prefLabel> ?pl
    BIND(<https://schema.org/containedInPlace> AS ?p) }
}
"""
_SUBJECT_TYPES = """
SELECT DISTINCT ?s ?type WHERE { { ?s ?p ?e } UNION { ?e ?p ?s } FILTER(isIRI(?s)) ?s a ?type }
"""
_GRAPH_STATEMENTS = """
SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } FILTER(isIRI(?s) && ?s != ?g) } ORDER BY ?s ?p ?o LIMIT 5000
"""


def _places(store: Store, iri: str) -> dict[str, Place]:
    """The places ``iri`` is in, with their names, ISO code, Wikidata item and the place they are in."""
    fields: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for row in select_fixed(store, _PLACES, bindings={"e": NamedNode(iri)}):
        place, p, v, pl = row.get("place"), row.get("p"), row.get("v"), row.get("pl")
        if not isinstance(place, NamedNode) or not isinstance(p, NamedNode):
            continue
        if isinstance(pl, Literal):
            fields[place.value]["parent"].setdefault(pl.language or "", pl.value)
        elif isinstance(v, Literal):
            fields[place.value][p.value].setdefault(v.language or "", v.value)
        elif isinstance(v, NamedNode) and v.value.startswith("http://www.wikidata.org/entity/"):
            fields[place.value]["wikidata"].setdefault("", v.value)
    out = {}
    for place_iri, f in fields.items():
        out[place_iri] = Place(
            iri=place_iri, labels=dict(f.get("http://www.w3.org/2004/02/skos/core#prefLabel", {})),
            code=f.get("https://w3id.org/clair-kg/ontology#isoCode", {}).get(""),
            wikidata=f.get("wikidata", {}).get(""), parent=dict(f.get("parent", {})),
        )
    return out


def _subject_types(store: Store, iri: str) -> dict[str, list[str]]:
    """The classes of everything linked to or from ``iri`` (to group long lists by kind)."""
    out: dict[str, list[str]] = defaultdict(list)
    for row in select_fixed(store, _SUBJECT_TYPES, bindings={"e": NamedNode(iri)}):
        s, ty = row.get("s"), row.get("type")
        if isinstance(s, NamedNode) and isinstance(ty, NamedNode):
            out[s.value].append(ty.value)
    return out


def _source_view(info: SourceInfo, lang: str) -> dict[str, Any]:
    """The source's own description, for its page: what it is and when it was read."""
    t = ui(lang)
    title = pick_label(info.titles, lang)
    title_lang = next((k for k, v in info.titles.items() if v == title), None)
    publisher = pick_label(info.publisher, lang) or pick_label(info.creator, lang)
    revision = pick_label(info.revision, lang)
    return {
        "title": title, "title_lang": title_lang if title_lang != lang else None,
        "address": info.address, "addresses": list(info.addresses), "language": info.language,
        "language_name": t.get(f"lang_name_{info.language}", info.language) if info.language else None,
        "publisher": publisher, "retrieved": info.retrieved,
        "revision": revision, "licence": info.licence,
    }


def _graph_listing(store: Store, graph: str, doc: EntityDocument, base: str, lang: str, terms: TermLabels,
                   infos: dict[str, SourceInfo]) -> dict[str, Any]:
    """Every statement of a source graph, grouped by the thing it is about (folded per thing)."""
    rows = store.select(_GRAPH_STATEMENTS, bindings={"g": NamedNode(graph)})
    by_subject: dict[str, list[tuple[NamedNode, Any]]] = defaultdict(list)
    for r in rows:
        s, p, o = r.get("s"), r.get("p"), r.get("o")
        if isinstance(s, NamedNode) and isinstance(p, NamedNode) and o is not None:
            by_subject[s.value].append((p, o))
    objects = [o.value for pairs in by_subject.values() for _, o in pairs if isinstance(o, NamedNode)]
    labels = _labels_of(store, [*by_subject, *objects])
    lookup = EntityDocument(iri=graph, statements=(), incoming=(), labels=labels)
    from .view import _Builder  # the same value rendering as the entity pages

    b = _Builder(lookup, base, lang, terms, infos, {})
    subjects = []
    for subject, pairs in by_subject.items():
        link = b.node(subject)
        subjects.append({
            "link": link, "count": len(pairs),
            "statements": [{"property": b.term(p.value), "value": b.value(o, {})} for p, o in pairs],
        })
    subjects.sort(key=lambda x: str(x["link"]["text"]).lower())  # type: ignore[index]
    return {"subjects": subjects, "count": sum(x["count"] for x in subjects), "truncated": len(rows) >= 5000}


_LABELS_IN = """
SELECT ?x ?l WHERE { ?x <http://www.w3.org/2004/02/skos/core#prefLabel> ?l }
"""


def _labels_of(store: Store, iris: list[str]) -> dict[str, dict[str, str]]:
    wanted = set(iris)
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for row in store.select(_LABELS_IN):
        x, lit = row.get("x"), row.get("l")
        if isinstance(x, NamedNode) and isinstance(lit, Literal) and x.value in wanted:
            out[x.value].setdefault(lit.language or "", lit.value)
    return dict(out)
