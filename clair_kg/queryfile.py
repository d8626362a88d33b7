"""SPARQL files with a grlc-style header.

Every ``queries/*.rq`` (a named query) and ``queries/checks/*.rq`` (a check) starts with comment
lines such as::

    #+ summary: Overseas offices with their city, country and local name
    #+ params: entity:iri, lang:lang?
    #+ example: entity=org/clair

``params`` lists ``name:type`` pairs (types: iri, string, lang, integer, date; a trailing ``?``
makes a parameter optional). A parameter ``x`` is the query variable ``?x``; its value is bound,
never pasted into the text.
"""

from __future__ import annotations

__all__ = ["PARAM_TYPES", "QueryFile", "QueryParam", "read_query_file"]

from dataclasses import dataclass
from pathlib import Path

from .errors import SourceError

PARAM_TYPES = ("iri", "string", "lang", "integer", "date")


@dataclass(frozen=True)
class QueryParam:
    name: str
    type: str
    required: bool = True


@dataclass(frozen=True)
class QueryFile:
    name: str
    path: Path
    text: str
    summary: str
    params: tuple[QueryParam, ...]
    example: str | None


def _parse_params(spec: str, path: Path) -> tuple[QueryParam, ...]:
    params: list[QueryParam] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        name, _, kind = item.partition(":")
        kind = kind.strip() or "string"
        required = not kind.endswith("?")
        kind = kind.rstrip("?")
        if kind not in PARAM_TYPES or not name.strip().isidentifier():
            raise SourceError(
                f"bad parameter {item!r} in '#+ params:' (use name:type with type one of "
                f"{', '.join(PARAM_TYPES)}, '?' for optional)",
                file=str(path),
            )
        params.append(QueryParam(name.strip(), kind, required))
    return tuple(params)


def read_query_file(path: Path) -> QueryFile:
    """Read a ``.rq`` file and its header.

    :raises SourceError: the file cannot be read or its header is malformed.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read query: {exc}", file=str(path)) from exc
    header: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#+"):
            key, _, value = stripped[2:].partition(":")
            header[key.strip().lower()] = value.strip()
        elif stripped and not stripped.startswith("#"):
            break
    return QueryFile(
        name=path.stem,
        path=path,
        text=text,
        summary=header.get("summary", ""),
        params=_parse_params(header.get("params", ""), path),
        example=header.get("example") or None,
    )
