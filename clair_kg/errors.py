"""The one exception tree of clair-kg.

Every error the package raises on purpose derives from :class:`ClairKgError`, and carries the HTTP
status the web layer maps it to (``web/errors.py`` does that mapping in one place) and a message
written for the person who has to fix the input::

    ClairKgError                     500 (only for bugs that escaped a narrower class)
    ├── ConfigError                  a setting, flag or environment variable is wrong (not an HTTP error)
    ├── SourceError                  a source file cannot be read or parsed (file, line)
    ├── ValidationFailed             the data violates a shape or a check query (report)
    ├── BadRequest                   400: a request parameter is missing or malformed
    │   ├── QuerySyntaxError         400: SPARQL that does not parse (parser message, line/column)
    │   └── InvalidParameter         400: a named-query parameter that is not a valid IRI/int/date
    ├── ForbiddenOperation           403: SPARQL Update, SERVICE outside the allowlist, LOAD
    ├── NotFound                     404: unknown entity, graph, query or file
    ├── NotAcceptable                406: no supported format matches the request
    ├── PayloadTooLarge              413: request body over the configured cap
    ├── URITooLong                   414: query string over the configured cap
    ├── UnsupportedMediaType         415: POST body of a media type we do not read
    ├── QueryTimeout                 503: the query ran past the time limit and was stopped
    └── StoreUnavailable             503: the store did not answer, or answered garbage (with Retry-After)

Errors cross the boundary to a query worker process by class name (:func:`error_named`), so the web
process raises the very class the worker raised, message included.
"""

from __future__ import annotations

__all__ = [
    "BadRequest",
    "ClairKgError",
    "ConfigError",
    "ForbiddenOperation",
    "InvalidParameter",
    "NotAcceptable",
    "NotFound",
    "PayloadTooLarge",
    "QuerySyntaxError",
    "QueryTimeout",
    "SourceError",
    "StoreUnavailable",
    "URITooLong",
    "UnsupportedMediaType",
    "ValidationFailed",
    "error_named",
]

from typing import Any


class ClairKgError(Exception):
    """Base of every error clair-kg raises on purpose."""

    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_json(self) -> dict[str, Any]:
        return {"error": self.message, "status": self.status}


class ConfigError(ClairKgError):
    """A setting has a value the program cannot use; raised before anything is served."""


class SourceError(ClairKgError):
    """A source file (Turtle, SPARQL) could not be read or parsed."""

    def __init__(self, message: str, *, file: str, line: int | None = None) -> None:
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")
        self.file = file
        self.line = line


class ValidationFailed(ClairKgError):
    """The data does not conform to the shapes or a check query returned rows."""

    def __init__(self, message: str, *, report: Any) -> None:
        super().__init__(message)
        self.report = report


class BadRequest(ClairKgError):
    status = 400


class QuerySyntaxError(BadRequest):
    """The SPARQL text does not parse; the message is the parser's, with line and column."""


class InvalidParameter(BadRequest):
    """A request parameter has a value of the wrong kind."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"parameter {name!r}: {problem}")
        self.name = name


class ForbiddenOperation(ClairKgError):
    status = 403


class NotFound(ClairKgError):
    status = 404


class NotAcceptable(ClairKgError):
    status = 406

    def __init__(self, message: str, *, supported: list[str]) -> None:
        super().__init__(f"{message}; supported: {', '.join(supported)}" if supported else message)
        self.supported = supported

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "supported": self.supported}


class PayloadTooLarge(ClairKgError):
    status = 413


class URITooLong(ClairKgError):
    status = 414


class UnsupportedMediaType(ClairKgError):
    status = 415


class QueryTimeout(ClairKgError):
    status = 503


class StoreUnavailable(ClairKgError):
    status = 503


#: the errors a query evaluation may raise, by name: what crosses the worker boundary
_WIRE_ERRORS: dict[str, type[ClairKgError]] = {
    cls.__name__: cls
    for cls in (BadRequest, QuerySyntaxError, ForbiddenOperation, NotAcceptable, QueryTimeout, StoreUnavailable)
}


def error_named(name: str, message: str) -> ClairKgError:
    """The error called ``name`` (a class of this module) with ``message``; a plain error otherwise."""
    cls = _WIRE_ERRORS.get(name)
    if cls is NotAcceptable:
        return NotAcceptable(message, supported=[])
    return (cls or ClairKgError)(message)
