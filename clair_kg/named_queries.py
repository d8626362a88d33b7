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
    "ResultPage",
    "bind_parameters",
    "list_named_queries",
    "load_named_query",
    "parse_parameter",
    "run_select_page",
    "select_variables",
    "serialize_rows",
]

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph
from pyoxigraph import BlankNode, Literal, NamedNode

from .errors import InvalidParameter, NotAcceptable, NotFound, SourceError
from .namespaces import SPARQL_PREFIXES
from .project import Project
from .queryfile import QueryFile, QueryParam, read_query_file
from .sparql.diagnostics import describe_syntax_error
from .store import RESULT_FORMATS, Store, Term

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


# --- paging and serialization ------------------------------------------------------------------


@dataclass(frozen=True)
class ResultPage:
    """One page of a SELECT result: rows ``offset`` … ``offset + len(rows) - 1``."""

    variables: tuple[str, ...]
    rows: list[dict[str, Term]]
    offset: int
    limit: int
    has_next: bool


@lru_cache(maxsize=256)
def select_variables(text: str) -> tuple[str, ...]:
    """The projected variables of a SELECT, in order (parsed by evaluating over an empty store).

    Memoised: the texts are the project's own named queries, asked for on every request.

    :raises SourceError: the text is not a SELECT query that parses.
    """
    try:
        solutions = pyoxigraph.Store().query(text, prefixes=dict(SPARQL_PREFIXES))  # issue 9
    except SyntaxError as exc:
        raise SourceError(f"named query does not parse: {describe_syntax_error(text, str(exc))}",
                          file="<query>") from exc
    if not isinstance(solutions, pyoxigraph.QuerySolutions):
        raise SourceError("not a SELECT query", file="<query>")
    return tuple(v.value for v in solutions.variables)


def run_select_page(
    store: Store, text: str, bindings: Mapping[str, Term], *, offset: int, limit: int
) -> ResultPage:
    """Run a SELECT with bound parameters and keep one page of its rows.

    Paging slices the rows in Python rather than editing the query text, so a query may carry its
    own ``LIMIT`` and no value from a request ever reaches the SPARQL parser.
    """
    variables = select_variables(text)
    rows = store.select(text, bindings=bindings)
    page = rows[offset: offset + limit]
    return ResultPage(variables, page, offset, limit, has_next=len(rows) > offset + limit)


def _json_term(term: Term) -> dict[str, str]:
    if isinstance(term, NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != _XSD + "string":
            out["datatype"] = term.datatype.value
        return out
    return {"type": "triple", "value": str(term)}


def _xml_term(term: Term) -> str:
    if isinstance(term, NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != _XSD + "string":
            return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"
    return f"<literal>{escape(str(term))}</literal>"


def _csv_value(term: Term) -> str:
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    if isinstance(term, (NamedNode, Literal)):
        return term.value
    return str(term)


def serialize_rows(variables: Sequence[str], rows: Sequence[Mapping[str, Term]], media_type: str) -> bytes:
    """Rows as a SPARQL 1.1 result document (JSON, XML, CSV or TSV, by media type).

    :raises NotAcceptable: ``media_type`` is not a SELECT result format.
    """
    if media_type == "application/sparql-results+json":
        doc = {
            "head": {"vars": list(variables)},
            "results": {"bindings": [{v: _json_term(r[v]) for v in variables if v in r} for r in rows]},
        }
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")
    if media_type == "application/sparql-results+xml":
        out = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>']
        out += [f"<variable name={quoteattr(v)}/>" for v in variables]
        out.append("</head><results>")
        for row in rows:
            out.append("<result>")
            out += [f"<binding name={quoteattr(v)}>{_xml_term(row[v])}</binding>" for v in variables if v in row]
            out.append("</result>")
        out.append("</results></sparql>\n")
        return "".join(out).encode("utf-8")
    if media_type == "text/csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(variables)
        for row in rows:
            writer.writerow([_csv_value(row[v]) if v in row else "" for v in variables])
        return buffer.getvalue().encode("utf-8")
    if media_type == "text/tab-separated-values":
        lines = ["\t".join("?" + v for v in variables)]
        lines += ["\t".join(str(row[v]) if v in row else "" for v in variables) for row in rows]
        return ("\n".join(lines) + "\n").encode("utf-8")
    raise NotAcceptable(f"a SELECT result cannot be written as {media_type}", supported=list(RESULT_FORMATS))
