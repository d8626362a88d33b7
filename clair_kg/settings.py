"""Server settings: every guardrail is a documented setting with a default.

Each field's ``help`` is the documentation; ``docs/settings.md`` lists them all and a test checks it
does. Settings come from CLI flags (``clair-kg serve --query-timeout 5``) or environment variables
(``CLAIR_KG_QUERY_TIMEOUT=5``); flags win.
"""

from __future__ import annotations

__all__ = ["QueryIsolation", "Settings", "settings_from_env", "setting_docs"]

import os
from dataclasses import asdict, dataclass, field, fields, replace
from enum import Enum
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .project import DEFAULT_BASE_IRI, Project, default_project_root

#: how deep a query may nest (brackets, chained operators) before it is refused with 400: a quarter of
#: the shallowest depth measured to overflow pyoxigraph's stack on an 8 MiB thread (about 2,000 nested
#: braces; see clair_kg.store.diagnostics)
MAX_QUERY_DEPTH = 500


class QueryIsolation(Enum):
    """How a query past the time limit is stopped (see ``Settings.query_isolation``)."""

    PROCESS = "process"
    RESTART = "restart"


@dataclass(frozen=True)
class Settings:
    project_root: Path = field(
        default_factory=default_project_root,
        metadata={"help": "Project folder with ontology/, data/ and queries/ (default: the package's own)."},
    )
    base_iri: str = field(
        default=DEFAULT_BASE_IRI,
        metadata={"help": "Base IRI of the dataset: its things, graphs and dataset IRIs are {base}id/…, {base}graph/…, "
                          "{base}dataset (the curated files' https://w3id.org/clair-kg/ ones are moved under it); "
                          "the server answers its /id/ paths on any host."},
    )
    query_timeout: float = field(
        default=10.0,
        metadata={"help": "Seconds a SPARQL query may run; past it the query is stopped and the client gets 503."},
    )
    search_timeout: float = field(
        default=2.0,
        metadata={"help": "Seconds one /search request or one /reconcile batch (or suggest request) may take; "
                          "past it the search is stopped and the client gets 503."},
    )
    max_rows: int = field(
        default=10_000,
        metadata={"help": "Most rows (or triples) a query result may hold; larger results are cut to this many."},
    )
    max_body_bytes: int = field(
        default=1_000_000,
        metadata={"help": "Largest request body accepted, in bytes; larger bodies get 413."},
    )
    max_query_length: int = field(
        default=100_000,
        metadata={"help": "Longest query string or URL accepted, in characters; longer ones get 414."},
    )
    max_query_depth: int = field(
        default=MAX_QUERY_DEPTH,
        metadata={"help": "Deepest nesting a SPARQL query may have (brackets inside brackets; each UNION, OPTIONAL, "
                          "FILTER or operator chained in one group counts one level); deeper queries get 400 "
                          "before anything evaluates them."},
    )
    query_workers: int = field(
        default=2,
        metadata={"help": "Threads (query_isolation 'restart') or worker processes ('process') per web process "
                          "that evaluate SPARQL queries."},
    )
    query_isolation: QueryIsolation = field(
        default=QueryIsolation.PROCESS,
        metadata={"help": (
            "How `clair-kg serve` stops a query past the time limit: 'restart' evaluates queries on "
            "query_workers threads inside each web process and, on an overrun, answers 503 and replaces "
            "that web process (no inter-process hop per query); 'process' evaluates them in query_workers "
            "worker processes per web process and kills the one that overruns."
        )},
    )
    service_allowlist: tuple[str, ...] = field(
        default=(),
        metadata={"help": "Endpoints a SERVICE clause may call (comma-separated); empty means SERVICE is refused."},
    )
    cache_size: int = field(
        default=1024,
        metadata={"help": "Query results kept in memory per process (keyed by query, dataset and format), and as "
                          "many entity documents (by entity and format, at most 64 MB); 0 turns both caches off."},
    )
    yasgui_url: str = field(
        default="/static/vendor/yasgui/",
        metadata={"help": "Where the query page loads the optional Yasgui editor from (default: the copy served "
                          "with the package); empty turns it off."},
    )
    store_path: Path | None = field(
        default=None,
        metadata={"help": "Folder of an on-disk pyoxigraph store; default: the graph is held in memory."},
    )
    remote_query_url: str | None = field(
        default=None,
        metadata={"help": "Use a remote SPARQL 1.1 endpoint as the store instead of the embedded one."},
    )
    remote_data_url: str | None = field(
        default=None,
        metadata={"help": "Graph Store Protocol URL of the remote store, used to load the graph into it."},
    )
    cors_origins: tuple[str, ...] = field(
        default=("*",),
        metadata={"help": "Origins whose pages may read responses (CORS, comma-separated); '*' allows any. An origin "
                          "on the list gets itself echoed with Vary: Origin, any other gets no "
                          "Access-Control-Allow-Origin; every route and error follows it."},
    )

    def __post_init__(self) -> None:
        if not isinstance(self.query_isolation, QueryIsolation):
            object.__setattr__(self, "query_isolation", _choice(QueryIsolation, "query_isolation",
                                                                 self.query_isolation))
        if not self.base_iri.endswith(("/", "#")) or "://" not in self.base_iri:
            raise ConfigError(f"base_iri must be an absolute IRI ending in '/', not {self.base_iri!r}")
        for name in ("query_timeout", "max_rows", "max_body_bytes", "max_query_length", "query_workers"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be greater than 0, not {getattr(self, name)!r}")
        if self.cache_size < 0:
            raise ConfigError(f"cache_size must be 0 (off) or more, not {self.cache_size!r}")
        for origin in self.cors_origins:
            if origin != "*" and "://" not in origin:
                raise ConfigError(f"cors_origins: {origin!r} is not an origin such as https://example.org or *")

    @property
    def project(self) -> Project:
        """The project these settings serve: its folders and the dataset's base IRI."""
        return Project(self.project_root, self.base_iri)

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values (paths as strings, enums as their values), for the server hand-over."""
        out: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, Enum):
                value = value.value
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Settings:
        """The inverse of :meth:`to_json`."""
        kinds = {f.name: str(f.type) for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, value in data.items():
            if value is not None and "Path" in kinds.get(name, ""):
                value = Path(value)
            elif isinstance(value, list):
                value = tuple(value)
            values[name] = value
        return cls(**values)


def _choice(kind: type[QueryIsolation], name: str, raw: object) -> QueryIsolation:
    try:
        return kind(raw)
    except ValueError:
        choices = ", ".join(k.value for k in kind)
        raise ConfigError(f"{name} must be one of {choices}, not {raw!r}") from None

def setting_docs() -> dict[str, str]:
    """Setting name -> help text, for the docs and ``--help``."""
    return {f.name: str(f.metadata.get("help", "")) for f in fields(Settings)}

def _coerce(kind: Any, raw: str) -> Any:
    text = str(kind)
    if "QueryIsolation" in text:
        return _choice(QueryIsolation, "query_isolation", raw)
    if "tuple" in text:
        return tuple(p.strip() for p in raw.split(",") if p.strip())
    if "Path" in text:
        return Path(raw)
    if text == "float":
        return float(raw)
    if text == "int":
        return int(raw)
    return raw

def settings_from_env(environ: dict[str, str] | None = None) -> Settings:
    """Settings with ``CLAIR_KG_<NAME>`` environment variables applied."""
    env = os.environ if environ is None else environ
    changes: dict[str, Any] = {}
    for f in fields(Settings):
        name = f"CLAIR_KG_{f.name.upper()}"
        raw = env.get(name)
        if raw is not None:
            try:
                changes[f.name] = _coerce(f.type, raw)
            except (ValueError, ConfigError) as exc:
                raise ConfigError(f"environment variable {name}={raw!r}: {exc}") from exc
    return Settings(**changes)
