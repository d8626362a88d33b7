"""The reader's language and the page furniture in it.

Every HTML page is English or Japanese. The language is chosen, in order, by ``?lang=`` (a link
or the language switch), the ``lang`` cookie (set whenever ``?lang=`` is given, so the choice
sticks on the following pages), then ``Accept-Language`` (q-values), then English. Internal links
carry ``lang=`` (:func:`with_lang`) so a page opened from a link is in the language of the page it
came from, cookie or not.

The strings of the furniture (navigation, buttons, table headings, footer, messages) come from
one table, ``ui_strings.tsv`` (key, English, Japanese): a string missing in one language is a
test failure, not an English fallback.
"""

from __future__ import annotations

__all__ = [
    "LANG_COOKIE",
    "SUPPORTED_LANGUAGES",
    "UiStrings",
    "chosen_by_query",
    "explicit_language",
    "format_date",
    "format_number",
    "pick_language",
    "ui",
    "with_lang",
]

import csv
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request

SUPPORTED_LANGUAGES = ("en", "ja")
LANG_COOKIE = "lang"
_TABLE = Path(__file__).with_name("ui_strings.tsv")
# Paths whose responses do not depend on the reader's language: a data file keeps its plain URL.
_LANGUAGE_FREE_SUFFIXES = (".ttl", ".jsonld", ".nt", ".rdf", ".trig", ".nq", ".gz", ".csv", ".tsv", ".srj", ".srx",
                           ".css", ".js", ".png", ".svg", ".json", "SHA256SUMS")
# Paths where ``lang`` is a parameter of the resource itself (the label language of /search, a named
# query's own parameter): there ``?lang=`` is not the reader's choice, links do not add it, and the
# page's language comes from the cookie or Accept-Language.
_LANG_IS_A_PARAMETER = ("/search", "/queries/")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


class UiStrings(Mapping[str, str]):
    """The furniture strings of one language; ``t("key", n=3)`` fills ``{n}``."""

    def __init__(self, lang: str, strings: dict[str, str]) -> None:
        self.lang = lang
        self._strings = strings

    def __getitem__(self, key: str) -> str:
        return self._strings[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._strings)

    def __len__(self) -> int:
        return len(self._strings)

    def __getattr__(self, key: str) -> str:
        # templates write t.search_button; a missing key is an error, never a silent blank
        try:
            return self._strings[key]
        except KeyError:
            raise AttributeError(key) from None

    def __call__(self, key: str, **values: object) -> str:
        return self._strings[key].format(**{k: str(v) for k, v in values.items()})


@cache
def _load() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {lang: {} for lang in SUPPORTED_LANGUAGES}
    with _TABLE.open(encoding="utf-8", newline="") as f:
        rows = csv.reader((line for line in f if not line.startswith("#")), delimiter="\t",
                          quoting=csv.QUOTE_NONE)
        header = next(rows)
        if header != ["key", *SUPPORTED_LANGUAGES]:
            raise ValueError(f"{_TABLE.name}: header must be key, en, ja (got {header})")
        for row in rows:
            if not row:
                continue
            key, *texts = row
            for lang, text in zip(SUPPORTED_LANGUAGES, texts, strict=True):
                table[lang][key] = text
    return table


@cache
def ui(lang: str) -> UiStrings:
    """The furniture strings in ``lang`` (English for an unsupported language)."""
    table = _load()
    return UiStrings(lang if lang in table else "en", table.get(lang, table["en"]))


def chosen_by_query(request: Request) -> str | None:
    """The language ``?lang=`` chooses on this path (None where ``lang`` means something else)."""
    if request.url.path.startswith(_LANG_IS_A_PARAMETER):
        return None
    asked = request.query_params.get("lang", "").lower()
    return asked if asked in SUPPORTED_LANGUAGES else None


def explicit_language(request: Request) -> str | None:
    """The language the reader chose (``?lang=``, else the cookie), or None."""
    asked = chosen_by_query(request)
    if asked:
        return asked
    cookie = request.cookies.get(LANG_COOKIE, "").lower()
    return cookie if cookie in SUPPORTED_LANGUAGES else None


def pick_language(request: Request) -> str:
    """``?lang=``, then the ``lang`` cookie, then ``Accept-Language`` (q-values), then English."""
    chosen = explicit_language(request)
    if chosen:
        return chosen
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


def with_lang(href: str, lang: str) -> str:
    """``href`` with ``lang=`` set when it is a page of this site (data files and anchors unchanged)."""
    if not href.startswith("/") or href.startswith("//"):
        return href
    parts = urlsplit(href)
    if (parts.path.endswith(_LANGUAGE_FREE_SUFFIXES) or parts.path.startswith(("/static/", "/api/"))
            or parts.path.startswith(_LANG_IS_A_PARAMETER)):
        return href
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    query.append(("lang", lang))
    return urlunsplit(("", "", parts.path, urlencode(query), parts.fragment))


def format_number(value: str, lang: str) -> str:
    """``79000`` -> ``79,000`` (both languages group thousands with a comma); other text unchanged."""
    try:
        number = int(value)
    except ValueError:
        try:
            return f"{float(value):,}"
        except ValueError:
            return value
    return f"{number:,}"


def format_date(value: str, datatype: str, lang: str) -> str:
    """An ``xsd:gYear`` / ``gYearMonth`` / ``date`` as a reader writes it: 1988, July 1988, 1988年7月."""
    t = ui(lang)
    kind = datatype.rsplit("#", 1)[-1]
    bits = value.split("-")
    try:
        if kind == "gYear" and len(bits) == 1:
            return t("year_format", year=int(bits[0]))
        if kind == "gYearMonth" and len(bits) == 2:
            month = int(bits[1])
            return t("month_format", year=int(bits[0]), month=_MONTHS_EN[month - 1], month_num=month)
        if kind == "date" and len(bits) == 3:
            month = int(bits[1])
            return t("date_format", year=int(bits[0]), month=_MONTHS_EN[month - 1], month_num=month,
                     day=int(bits[2]))
    except (ValueError, IndexError):
        return value
    return value
