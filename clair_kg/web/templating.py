"""Jinja2 templates shared by every HTML page (``templates/base.html`` is the layout)."""

from __future__ import annotations

__all__ = ["TEMPLATES", "pick_language", "render"]

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html", "xml", "svg"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

SUPPORTED_LANGUAGES = ("en", "ja")


def pick_language(request: Request) -> str:
    """``?lang=`` first, then ``Accept-Language`` (q-values), then English."""
    asked = request.query_params.get("lang", "").lower()
    if asked in SUPPORTED_LANGUAGES:
        return asked
    best, best_q = "en", -1.0
    for part in request.headers.get("accept-language", "").split(","):
        bits = part.strip().split(";")
        tag = bits[0].strip().lower().split("-")[0]
        q = 1.0
        for b in bits[1:]:
            k, _, v = b.partition("=")
            if k.strip() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        # q=0 means "not this language" (RFC 9110 §12.4.2): it must never be chosen.
        if tag in SUPPORTED_LANGUAGES and q > 0 and q > best_q:
            best, best_q = tag, q
    return best


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` with the common context (language, request) into a response."""
    lang = context.get("lang") or pick_language(request)
    page = TEMPLATES.get_template(template).render(request=request, lang=lang, **context)
    return HTMLResponse(page, status_code=status_code, headers=headers)
