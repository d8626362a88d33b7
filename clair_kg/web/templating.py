"""Jinja2 templates shared by every HTML page (``templates/base.html`` is the layout).

:func:`render` gives every page what its furniture needs in the reader's language: ``lang``,
the strings ``t``, the filter ``L`` that keeps the language on internal links, the ``hreflang``
alternates, and the headers ``Content-Language`` and ``Vary: Cookie``; a ``?lang=`` choice is
stored in the ``lang`` cookie so it sticks.
"""

from __future__ import annotations

__all__ = ["TEMPLATES", "language_alternates", "pick_language", "render"]

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .i18n import (
    LANG_COOKIE,
    SUPPORTED_LANGUAGES,
    chosen_by_query,
    explicit_language,
    format_number,
    pick_language,
    ui,
    with_lang,
)

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html", "xml", "svg"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
TEMPLATES.filters["number"] = lambda v: format_number(str(v), "en")
_CURIE = re.compile(r"\b(?:rdf|rdfs|owl|skos|org|schema|dcterms|prov|time|dcat|void|xsd|clair|foaf|sh):[A-Za-z][\w-]*")


def _curies_as_code(text: object) -> Markup:
    """Prefixed names inside prose (an ontology definition) become ``<code>``: identifiers, not words."""
    return Markup(_CURIE.sub(lambda m: f"<code>{m.group(0)}</code>", str(escape(str(text)))))  # noqa: S704


TEMPLATES.filters["curies_as_code"] = _curies_as_code

#: a year: the cookie only remembers a choice the reader made with a ?lang= link
_COOKIE_MAX_AGE = 365 * 24 * 3600


def language_alternates(request: Request) -> dict[str, str]:
    """This page in each language: its path and query with ``lang=`` set (relative URLs)."""
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if path.startswith(("/search", "/queries/")):
        # ``lang`` is the resource's own parameter there: the switch goes through /language/{code},
        # which stores the choice in the cookie and comes back to this page
        return {code: f"/language/{code}?" + urlencode({"next": path}) for code in SUPPORTED_LANGUAGES}
    return {code: with_lang(path, code) for code in SUPPORTED_LANGUAGES}


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` with the common context (language, strings, request) into a response."""
    lang = context.get("lang") or pick_language(request)
    common: dict[str, Any] = {
        "t": ui(lang),
        "other_lang": "ja" if lang == "en" else "en",
        "alternates": language_alternates(request),
    }
    # Links carry the language only when the reader chose it (a ?lang= link or the cookie): a
    # reader whose browser picked it gets the same language on the next page anyway.
    chosen = explicit_language(request)
    page = TEMPLATES.get_template(template).render(
        request=request, lang=lang, link_lang=chosen,
        L=(lambda href: with_lang(str(href), chosen)) if chosen else (lambda href: str(href)),
        **{**common, **context},
    )
    out = dict(headers or {})
    out.setdefault("Content-Language", lang)
    vary = out.get("Vary")
    if vary and "cookie" not in vary.lower():
        out["Vary"] = vary + ", Cookie"
    response = HTMLResponse(page, status_code=status_code, headers=out)
    asked = chosen_by_query(request)
    if asked and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(LANG_COOKIE, asked, max_age=_COOKIE_MAX_AGE, path="/", samesite="lax")
    return response
