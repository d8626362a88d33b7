"""``/downloads/``: the release's dumps, dataset description and checksums, with a listing page.

The files are the release's, published once before serving (:func:`clair_kg.release.publish_release`,
the same code as ``clair-kg build``). A server started by ``clair-kg serve`` sends them from the
hand-over folder on disk, so no web process holds the dumps in memory, and byte ranges work (a large
download can resume). Each has its media type, exact ``Content-Length`` and an ETag from its SHA-256;
``.gz`` files are served as ``application/gzip`` (the bytes as built).
"""

from __future__ import annotations

__all__ = ["router"]

import json

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from ...errors import NotFound
from ..http import not_modified, not_modified_response, standard_headers
from ..templating import pick_language, render
from .common import FORMAT_NAMES, content_type, etag, negotiate_doc, publication

router = APIRouter(tags=["downloads"])


@router.get("/downloads", include_in_schema=False)
def downloads_redirect() -> Response:
    return RedirectResponse("/downloads/", status_code=308, headers={})


@router.head("/downloads/", include_in_schema=False)
@router.get("/downloads/", summary="List of the release's files")
def downloads_index(request: Request) -> Response:
    media = negotiate_doc(request, ["text/html", "application/json"])
    pub = publication(request)
    dist = pub.distribution
    tag = etag(request, media, pick_language(request))
    files = [
        {
            "name": f.name,
            "href": f"/downloads/{f.name}",
            "media_type": "application/gzip" if f.compressed else f.media_type,
            "format": FORMAT_NAMES.get(f.media_type, f.media_type) + (" (gzip)" if f.compressed else ""),
            "size": f.size,
            "sha256": f.sha256,
        }
        for f in dist.files
    ]
    if media == "application/json":
        headers = standard_headers(tag)
        if not_modified(request, tag):
            return not_modified_response(tag, headers)
        body = {"version": dist.metadata.version, "issued": dist.metadata.issued, "files": files}
        return Response(json.dumps(body, indent=1), media_type="application/json", headers=headers)
    headers = {**standard_headers(tag, vary="Accept, Accept-Language, Cookie"),
               "Content-Language": pick_language(request)}
    if not_modified(request, tag):
        return not_modified_response(tag, headers)
    return render(request, "downloads.html", {"files": files, "meta": dist.metadata},
                  headers=headers)


@router.head("/downloads/{name}", include_in_schema=False)
@router.get("/downloads/{name}", summary="One file of the release")
def download(name: str, request: Request) -> Response:
    dist = publication(request).distribution
    f = dist.get(name)
    if f is None:
        raise NotFound(f"no file {name!r} in /downloads/ (see /downloads/ for the list)")
    tag = f'"{f.sha256[:32]}"'
    headers = standard_headers(tag, vary=None, max_age=3600)
    headers["Content-Disposition"] = f'inline; filename="{f.name}"' if not f.compressed else \
        f'attachment; filename="{f.name}"'
    if not_modified(request, tag):
        return not_modified_response(tag, headers)
    media = "application/gzip" if f.compressed else content_type(f.media_type)
    if f.path is not None:
        return FileResponse(f.path, media_type=media, headers=headers)
    return Response(f.data, media_type=media, headers=headers)
