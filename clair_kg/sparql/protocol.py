"""Read a SPARQL 1.1 Protocol query request (https://www.w3.org/TR/sparql11-protocol/#query-operation).

Pure functions over the method, the raw query string, the ``Content-Type`` and the body; the web
layer does the HTTP. Everything a client can get wrong is a :mod:`clair_kg.errors` 4xx: a duplicate
``query``, a POST without a media type we read, a charset other than UTF-8, bytes that are not
UTF-8, and any update request (the endpoint is read-only).

>>> parse_query_request("GET", b"query=ASK%20%7B%7D&default-graph-uri=urn%3Ag", None, b"").dataset
DatasetSpec(default_graphs=('urn:g',), named_graphs=())
"""

from __future__ import annotations

__all__ = ["QueryRequest", "parse_query_request", "split_media_type"]

import binascii
import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from ..errors import BadRequest, ForbiddenOperation, UnsupportedMediaType
from ..store.base import DatasetSpec
from ..store.evaluation import READ_ONLY

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"


@dataclass(frozen=True)
class QueryRequest:
    """A query operation: the query text (None for a bare GET), its dataset and ``format=``."""

    query: str | None
    dataset: DatasetSpec
    #: every ``format`` value, in order (SPARQLWrapper sends several; the first usable one wins)
    formats: tuple[str, ...] = ()


def split_media_type(header: str | None) -> tuple[str, dict[str, str]]:
    """``"application/sparql-query; charset=UTF-8"`` -> ("application/sparql-query", {"charset": "utf-8"})."""
    if not header:
        return "", {}
    media, *params = header.split(";")
    parsed: dict[str, str] = {}
    for param in params:
        key, _, value = param.partition("=")
        parsed[key.strip().lower()] = value.strip().strip('"').lower()
    return media.strip().lower(), parsed


def _utf8(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{what} is not valid UTF-8 (byte {exc.start})") from exc


#: what only the slow path reads exactly as unquote_to_bytes does: a ``%`` not followed by two hex
#: digits (kept as is), and line breaks (quoted-printable reads those its own way)
_NOT_PLAIN = re.compile(rb"%(?![0-9A-Fa-f]{2})|[\r\n]")


def _unquote_plus(raw: bytes) -> bytes:
    """``unquote_to_bytes(raw.replace(b"+", b" "))``, at C speed for well-formed input.

    ``unquote_to_bytes`` is a Python loop over the ``%`` escapes (a SPARQL query has dozens, ~15 µs
    a query); quoted-printable decoding is the same ``=XX`` hex decoding in C, so the ``=`` of the
    text are escaped first, ``%`` becomes ``=`` and ``+`` a space (``=20``). Input the two would
    read differently (a stray ``%``, a line break) takes the slow path.
    """
    if _NOT_PLAIN.search(raw) is not None:
        return unquote_to_bytes(raw.replace(b"+", b" "))
    return binascii.a2b_qp(raw.replace(b"=", b"=3D").replace(b"%", b"=").replace(b"+", b"=20"))


def _params(raw: bytes, where: str) -> list[tuple[str, str]]:
    """``a=1&b=%E5%A4%96`` as decoded pairs; every name and value must be UTF-8 once unescaped."""
    pairs: list[tuple[str, str]] = []
    for part in raw.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        key = _utf8(_unquote_plus(name), f"a {where} parameter name")
        pairs.append((key, _utf8(_unquote_plus(value), f"the {where} parameter {key!r}")))
    return pairs


def parse_query_request(method: str, query_string: bytes, content_type: str | None, body: bytes) -> QueryRequest:
    """The query operation ``method`` + URL + body ask for.

    :raises BadRequest: malformed parameters, a duplicate ``query``, text that is not UTF-8.
    :raises ForbiddenOperation: an update request, in any of its forms.
    :raises UnsupportedMediaType: a POST body that is not a form or ``application/sparql-query``
        (or has a charset other than UTF-8).
    """
    params = _params(query_string, "URL")
    direct_query: str | None = None
    if method == "POST":
        media, options = split_media_type(content_type)
        charset = options.get("charset", "utf-8")
        if media == UPDATE:
            raise ForbiddenOperation(READ_ONLY)
        if media not in (FORM, DIRECT):
            given = f"Content-Type {media!r}" if media else "no Content-Type"
            raise UnsupportedMediaType(
                f"a SPARQL query POST needs Content-Type {FORM} or {DIRECT}; got {given}"
            )
        if charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(f"only UTF-8 is accepted, not charset={charset}")
        if media == FORM:
            params += _params(body, "form")
        else:
            direct_query = _utf8(body, "the query")
    names = [name for name, _ in params]
    if "update" in names or "using-graph-uri" in names or "using-named-graph-uri" in names:
        raise ForbiddenOperation(READ_ONLY)
    queries = [value for name, value in params if name == "query"]
    if direct_query is not None:
        if queries:
            raise BadRequest("the query is in the body; a 'query' URL parameter as well is ambiguous")
        queries = [direct_query]
    if len(queries) > 1:
        raise BadRequest(f"exactly one 'query' parameter is allowed, got {len(queries)}")
    formats = tuple(v.strip() for name, value in params if name == "format" for v in value.split(",") if v.strip())
    query = queries[0] if queries else None
    if query is not None and not query.strip():
        raise BadRequest("the 'query' parameter is empty")
    if query is None and method == "POST":
        raise BadRequest("a POST to the SPARQL endpoint needs a query")
    dataset = DatasetSpec(
        default_graphs=tuple(v for n, v in params if n == "default-graph-uri"),
        named_graphs=tuple(v for n, v in params if n == "named-graph-uri"),
    )
    return QueryRequest(query=query, dataset=dataset, formats=formats)
