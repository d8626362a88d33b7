"""Named queries (``queries/*.rq``) and their typed parameters, bound as RDF terms.

A parameter value never enters the query text: it becomes a ``NamedNode`` or ``Literal`` (which
reject malformed input) and is bound as the query variable of the same name.
"""

from __future__ import annotations

__all__ = ["bind_parameters", "list_named_queries", "load_named_query", "parse_parameter"]

import datetime as dt
import re
from collections.abc import Mapping

from pyoxigraph import Literal, NamedNode

from .errors import InvalidParameter, NotFound
from .project import Project
from .queryfile import QueryFile, QueryParam, read_query_file
from .store import Term

_XSD = "http://www.w3.org/2001/XMLSchema#"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_LANG = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")
_IRI_FORBIDDEN = re.compile(r"[\x00-\x20<>\"{}|^`\\]")


def list_named_queries(project: Project) -> list[QueryFile]:
    """Every ``queries/*.rq`` (not the checks), sorted by name."""
    return [read_query_file(p) for p in sorted(project.queries_dir.glob("*.rq"))]


def load_named_query(project: Project, name: str) -> QueryFile:
    """:raises NotFound: no query of that name."""
    path = project.queries_dir / f"{name}.rq"
    if not _NAME.match(name) or not path.is_file():
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
