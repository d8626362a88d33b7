"""Named queries (``queries/*.rq``) and their typed parameters, bound as RDF terms.

A parameter value never enters the query text: it becomes a ``NamedNode`` or ``Literal`` (which
reject malformed input) and is bound as the query variable of the same name.

Both stores bind the same way (:func:`~clair_kg.store.bindings.bind_in_text`): an inline
``VALUES`` block first in the WHERE group, so ``BIND``, ``FILTER``, ``GROUP BY`` and
``COALESCE(?param, default)`` all see the value. An optional parameter left out stays unbound, so
use it as an ordinary pattern variable where absent should mean "all of them".
"""

from __future__ import annotations

__all__ = [
    "RESERVED_PARAMETERS",
    "NamedQueries",
    "ResultPage",
    "bind_parameters",
    "list_named_queries",
    "load_named_query",
    "parse_parameter",
    "run_select_page",
    "select_page_body",
]

import datetime as dt
import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode

from .errors import InvalidParameter, NotAcceptable, NotFound
from .formats import RESULT_FORMATS
from .project import Project
from .queryfile import QueryFile, QueryParam, read_query_file
from .store import Store, Term
from .store.results import Shaped, page_of_solutions

_XSD = "http://www.w3.org/2001/XMLSchema#"
#: a query's name; bounded, so a long name is "no such query" and never a file-system error
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
_LANG = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")
_IRI_FORBIDDEN = re.compile(r"[\x00-\x20<>\"{}|^`\\]")

#: query-string names the REST API uses itself; a named query may not declare them as parameters
RESERVED_PARAMETERS = ("format", "limit", "offset")


def list_named_queries(project: Project) -> list[QueryFile]:
    """Every ``queries/*.rq`` (not the checks), sorted by name."""
    return [read_query_file(p) for p in sorted(project.queries_dir.glob("*.rq"))]


def load_named_query(project: Project, name: str) -> QueryFile:
    """:raises NotFound: no query of that name."""
    path = project.queries_dir / f"{name}.rq"
    if not _NAME.fullmatch(name) or not path.is_file():
        raise NotFound(f"no named query {name!r}; GET /queries lists them")
    return read_query_file(path)


def parse_parameter(param: QueryParam, raw: str, *, base_iri: str) -> Term:
    """Turn one raw value into the RDF term of the parameter's type.

    An ``iri`` may be absolute or the dataset's own short form (``office/london`` stands for
    ``{base}id/office/london``).

    :raises InvalidParameter: the value is not of the parameter's type.
    """
    if param.type == "iri":
        value = raw.strip()
        if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", value):
            value = f"{base_iri}id/{value.lstrip('/')}"
        if _IRI_FORBIDDEN.search(value):
            raise InvalidParameter(param.name, "not a valid IRI (spaces, quotes and <>{}|^`\\ are not allowed)")
        try:
            return NamedNode(value)
        except ValueError as exc:
            raise InvalidParameter(param.name, f"not a valid IRI: {exc}") from exc
    if param.type == "integer":
        if not re.fullmatch(r"[+-]?[0-9]{1,18}", raw.strip()):
            raise InvalidParameter(param.name, f"expected an integer, got {raw[:40]!r}")
        return Literal(str(int(raw)), datatype=NamedNode(_XSD + "integer"))
    if param.type == "date":
        try:
            day = dt.date.fromisoformat(raw.strip())
        except ValueError as exc:
            raise InvalidParameter(param.name, f"expected a date as YYYY-MM-DD, got {raw[:40]!r}") from exc
        return Literal(day.isoformat(), datatype=NamedNode(_XSD + "date"))
    if param.type == "lang":
        if not _LANG.match(raw.strip()):
            raise InvalidParameter(param.name, f"expected a language tag such as en or ja, got {raw[:40]!r}")
        return Literal(raw.strip().lower())
    return Literal(raw)


def bind_parameters(query: QueryFile, raw: Mapping[str, str], *, base_iri: str) -> dict[str, Term]:
    """Bind every given parameter; a required one that is missing is an error.

    :raises InvalidParameter: a value of the wrong type, a missing required parameter, or a
        parameter the query does not declare.
    """
    declared = {p.name: p for p in query.params}
    for name in raw:
        if name not in declared:
            known = ", ".join(declared) or "none"
            raise InvalidParameter(name, f"this query takes no such parameter (it takes: {known})")
    bound: dict[str, Term] = {}
    for param in query.params:
        if param.name in raw and raw[param.name] != "":
            bound[param.name] = parse_parameter(param, raw[param.name], base_iri=base_iri)
        elif param.required:
            raise InvalidParameter(param.name, "is required")
    return bound


# --- the catalogue the server loads at start, and paging ------------------------------------------


@dataclass(frozen=True)
class NamedQueries:
    """Every named query of a project, read once; ``digest`` changes when any query text does."""

    queries: tuple[QueryFile, ...]
    digest: str

    @classmethod
    def load(cls, project: Project) -> NamedQueries:
        queries = tuple(list_named_queries(project))
        digest = hashlib.sha256("\x1f".join(f"{q.name}\x1e{q.text}" for q in queries).encode()).hexdigest()
        return cls(queries, digest[:16])

    def get(self, name: str) -> QueryFile:
        """:raises NotFound: no query of that name."""
        for query in self.queries:
            if query.name == name:
                return query
        raise NotFound(f"no named query {name[:100]!r}; GET /queries lists them")

    def __iter__(self) -> Iterator[QueryFile]:
        return iter(self.queries)


@dataclass(frozen=True)
class ResultPage:
    """One page of a SELECT result: rows ``offset`` … ``offset + len(rows) - 1``."""

    variables: tuple[str, ...]
    rows: list[dict[str, Term]]
    offset: int
    limit: int
    has_next: bool


def run_select_page(
    store: Store, text: str, bindings: Mapping[str, Term], *, offset: int, limit: int
) -> ResultPage:
    """Run a SELECT with bound parameters and keep one page of its rows (for the HTML view).

    Paging slices the rows rather than editing the query text, so a query may carry its own
    ``LIMIT`` and no value from a request ever reaches the SPARQL parser.
    """
    rows = store.select(text, bindings=bindings)
    page = rows[offset: offset + limit]
    return ResultPage(rows.variables, page, offset, limit, has_next=len(rows) > offset + limit)


def select_page_body(
    store: Store, text: str, bindings: Mapping[str, Term], media_type: str, *, offset: int, limit: int
) -> Shaped:
    """One page of a SELECT's results, written by pyoxigraph as ``media_type``; ``truncated`` when
    more rows follow.

    :raises NotAcceptable: ``media_type`` is not a SELECT result format.
    """
    if media_type not in RESULT_FORMATS:
        raise NotAcceptable(f"a SELECT result cannot be written as {media_type}", supported=list(RESULT_FORMATS))
    tsv = store.execute(text, media_type="text/tab-separated-values", bindings=bindings).body
    return page_of_solutions(tsv, media_type, offset=offset, limit=limit)
