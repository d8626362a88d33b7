"""Shared pieces of the linked-data routes: formats, representations, links, the publication cache.

Every negotiated linked-data resource offers :data:`DOC_FORMATS`; :func:`rdf_document_response`
serializes a graph canonically (the same writer the dumps use) and adds ETag, CORS, ``Vary`` and
``Link: rel="alternate"`` headers. :func:`publication` builds the downloads and the dataset
description once per app, from the store the app was given (never from the sources).
"""

from __future__ import annotations

__all__ = [
    "DOC_FORMATS",
    "RDF_FORMATS",
    "Publication",
    "alternates",
    "content_type",
    "local_href",
    "negotiate_doc",
    "not_found_body",
    "publication",
    "query_string",
    "rdf_document_response",
    "split_extension",
]

import json
import re
from collections.abc import Iterable

from pyoxigraph import Triple
from starlette.requests import Request
from starlette.responses import Response

from ...publish.rdfio import serialize_graph
from ...runtime import Publication
from ..context import get_context
from ..http import etag_for, not_modified, not_modified_response, standard_headers
from ..negotiate import MEDIA_EXTENSIONS, negotiate

RDF_FORMATS: tuple[str, ...] = (
    "text/turtle",
    "application/ld+json",
    "application/n-triples",
    "application/rdf+xml",
)
DOC_FORMATS: tuple[str, ...] = ("text/html", *RDF_FORMATS)
FORMAT_NAMES = {
    "text/html": "HTML",
    "text/turtle": "Turtle",
    "application/ld+json": "JSON-LD",
    "application/n-triples": "N-Triples",
    "application/rdf+xml": "RDF/XML",
    "application/trig": "TriG",
    "application/n-quads": "N-Quads",
}
#: Accept values that mean one of the documents' formats
DOC_SYNONYMS = {"application/json": "application/ld+json", "application/xml": "application/rdf+xml"}
_EXTENSIONS = {MEDIA_EXTENSIONS[m]: m for m in DOC_FORMATS}


def split_extension(name: str) -> tuple[str, str | None]:
    """``london.ttl`` -> (``london``, ``ttl``) when the suffix is a document format."""
    stem, dot, ext = name.rpartition(".")
    if dot and ext.lower() in _EXTENSIONS:
        return stem, ext.lower()
    return name, None


def negotiate_doc(request: Request, offered: Iterable[str] = DOC_FORMATS, *, extension: str | None = None) -> str:
    """The format of a document: suffix, then ``?format=``, then ``Accept`` (raises NotAcceptable)."""
    return negotiate(
        list(offered),
        accept=request.headers.get("accept"),
        format_param=request.query_params.get("format"),
        extension=extension,
        synonyms=DOC_SYNONYMS,
    )


def content_type(media: str) -> str:
    if media.startswith("text/") or media in ("application/n-triples", "application/n-quads"):
        return f"{media}; charset=utf-8"
    return media


def alternates(request: Request, path: str, current: str, offered: Iterable[str] = DOC_FORMATS) -> str:
    """``Link`` header value naming every other representation of ``path`` (absolute URLs)."""
    root = str(request.base_url).rstrip("/")
    links = [
        f'<{root}{path}.{MEDIA_EXTENSIONS[m]}>; rel="alternate"; type="{m}"'
        for m in offered
        if m != current
    ]
    return ", ".join(links)


def local_href(iri: str, base: str) -> str:
    """Where a browser on this server finds ``iri``: IRIs under the base become local paths."""
    if iri.startswith(base):
        return "/" + iri[len(base):]
    return iri


def not_found_body(media: str, message: str) -> bytes:
    """A 404 body in the asked RDF format: an empty, valid document with the reason as a comment.

    The message echoes the request path, so line breaks and other unprintable characters in it
    are written as ``\\uXXXX``: a comment must stay one comment (no statements smuggled into the
    document after a newline, no NUL in XML).
    """
    message = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in message)
    if media in ("text/turtle", "application/n-triples"):
        return f"# 404 Not Found: {message}\n".encode()
    if media == "application/rdf+xml":
        safe = re.sub(r"-(?=-)", "- ", message)  # "--" may not occur in an XML comment
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<!-- 404 Not Found: {safe} -->\n"
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n'
        ).encode()
    return json.dumps({"error": message, "status": 404}, ensure_ascii=False).encode("utf-8")


def rdf_document_response(
    request: Request,
    triples: list[Triple],
    media: str,
    *,
    etag: str,
    link: str | None = None,
    context_url: str | None = None,
    vary: str | None = "Accept",
) -> Response:
    headers = standard_headers(etag, vary=vary)
    if link:
        headers["Link"] = link
    if not_modified(request, etag):
        return not_modified_response(etag, headers)
    body = serialize_graph(triples, media, context_ref=context_url)
    return Response(body, media_type=content_type(media), headers=headers)


def etag(request: Request, *parts: str) -> str:
    # the path as the server read it (``request.url`` would build the whole URL, host header and all)
    return etag_for(get_context(request).etag_seed, request.scope["path"], *parts)


def query_string(request: Request) -> str:
    """The request's query string (``request.url.query``, without building the URL)."""
    raw: bytes = request.scope.get("query_string", b"")
    return raw.decode()


def publication(request: Request) -> Publication:
    """The release's files and dataset description, as ``clair-kg build`` published them."""
    return get_context(request).publication
