"""Small HTTP helpers every route uses: ETags tied to the release, 304s and caching headers.

CORS is not set here: the front door (:mod:`clair_kg.web.app`) applies the one policy of
``settings.cors_origins`` to every response, errors included.
"""

from __future__ import annotations

__all__ = ["etag_for", "not_modified", "not_modified_response", "standard_headers"]

import hashlib

from starlette.requests import Request
from starlette.responses import Response


def etag_for(release_seed: str, *parts: str) -> str:
    """A strong ETag for a representation: the release plus whatever selected it."""
    digest = hashlib.sha256("\x1f".join((release_seed, *parts)).encode("utf-8")).hexdigest()[:24]
    return f'"{digest}"'


def not_modified(request: Request, etag: str) -> bool:
    """True when the client's ``If-None-Match`` already names ``etag`` (or ``*``)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag in tags or "*" in tags


def standard_headers(etag: str, *, vary: str | None = "Accept", max_age: int = 300) -> dict[str, str]:
    headers = {"ETag": etag}
    headers["Cache-Control"] = f"public, max-age={max_age}"
    if vary:
        headers["Vary"] = vary
    return headers


def not_modified_response(etag: str, headers: dict[str, str]) -> Response:
    return Response(status_code=304, headers={**headers, "ETag": etag})


