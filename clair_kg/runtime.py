"""Everything a request needs, built once before the first request: the :class:`Runtime`.

:func:`build_runtime` takes the settings, the loaded store and the published release files and
builds the rest — the label index for search and reconciliation, the named queries, the SPARQL
service (its query workers start with the app), the dataset description — into one frozen value.
The app factory (:func:`clair_kg.web.create_app`) receives it; routes read it from
``request.app.state.runtime``; nothing is attached to the app afterwards and nothing is module-level
state. ``clair-kg serve`` and the tests build it the same way.

A remote store may be down when a web process starts; the parts that read the store at start (the
label index, the per-graph counts) are then built on first use instead (:class:`Once`), so the
process starts, ``/health`` answers, and they recover when the store does.

The reads of the whole store made at start (the graph sizes, the term labels, the entity set:
seconds at 10^6 statements) are a function of the release, so ``clair-kg serve`` keeps them with it
(:class:`StartupReads`, a file the store holder names by the release's hash): a warm start reads one
small file instead of the store.
"""

from __future__ import annotations

__all__ = ["STARTUP_CODE", "DocumentCache", "Once", "Publication", "Runtime", "StartupReads", "build_runtime"]

import hashlib
import json
import logging
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pyoxigraph import Literal, NamedNode

from .entity_graph import VocabularyLabels, entity_iris
from .errors import StoreUnavailable
from .named_queries import NamedQueries
from .project import Project
from .provenance import SourceInfo, source_infos
from .publish import Distribution
from .publish.void import schema_org_dataset
from .published import ReleaseInfo
from .search import LabelIndex
from .settings import Settings
from .sparql.executor import GraphSource
from .sparql.service import SparqlService
from .store import Store
from .terms import TermLabels

log = logging.getLogger("clair_kg")

T = TypeVar("T")

GRAPH_COUNTS_QUERY = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"


class Once(Generic[T]):
    """A value built by ``build`` the first time it is asked for (thread-safe), then kept.

    :func:`build_runtime` asks for each at once, so with a healthy store every one is ready before
    the first request; a build that fails (a remote store down) is tried again on the next ``get``.
    """

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, value: T) -> Once[T]:
        """A value that is already built (kept from an earlier start)."""
        once: Once[T] = cls(lambda: value)
        once._value = value
        return once

    def get(self) -> T:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._build()
        return self._value

    @property
    def ready(self) -> bool:
        return self._value is not None


class DocumentCache:
    """Rendered entity documents of this release, least recently used first out (thread-safe).

    A release never changes while it is served, so a document rendered once stays right for the
    life of the runtime: the key is (IRI, media type), and the release is the runtime's own.
    Bounded twice: at most ``entries`` documents and ``max_bytes`` of them; 0 entries turns it off.
    """

    def __init__(self, entries: int, *, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.entries = entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, iri: str, media: str) -> bytes | None:
        key = (iri, media)
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, iri: str, media: str, body: bytes) -> None:
        if self.entries <= 0 or len(body) > self.max_bytes // 8:  # one huge document may not empty it
            return
        key = (iri, media)
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes -= len(old) if old is not None else 0
            self._items[key] = body
            self._bytes += len(body)
            while len(self._items) > self.entries or self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class Publication:
    """The release's files (as ``clair-kg build`` writes them) and its schema.org description."""

    distribution: Distribution
    schema_org: dict[str, Any]

    @classmethod
    def of(cls, distribution: Distribution) -> Publication:
        entries = [f.entry() for f in distribution.files if f.name != "SHA256SUMS"]
        return cls(distribution, schema_org_dataset(distribution.metadata, entries))


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    store: Store
    release: ReleaseInfo
    publication: Publication
    queries: NamedQueries
    sparql: SparqlService
    labels: Once[LabelIndex]
    #: named graph IRI -> its statements, for the Service Description
    graph_sizes: Once[dict[str, int]]
    #: words for every property and class the pages show, in English and Japanese
    terms: Once[TermLabels]
    #: every entity IRI the graph mentions: /id and /doc know what exists without a query
    entities: Once[frozenset[str]]
    #: named graph IRI -> what its own description says (the sources the pages cite)
    sources: Once[dict[str, SourceInfo]]
    #: rendered RDF documents (Turtle, JSON-LD, …) of this release, by IRI and media type
    documents: DocumentCache
    #: the labels of the properties and classes entity documents repeat, read once (embedded store)
    vocabulary: VocabularyLabels | None
    #: what ETags are made from: the release and the named queries it serves
    etag_seed: str = field(init=False)

    def __post_init__(self) -> None:
        seed = hashlib.sha256(f"{self.release.sha256}\x1f{self.queries.digest}".encode()).hexdigest()[:16]
        object.__setattr__(self, "etag_seed", seed)

    @property
    def project(self) -> Project:
        return self.settings.project


#: the code that decides what :class:`StartupReads` hold: part of the key they are kept under
STARTUP_CODE = tuple(Path(__file__).resolve().parent / name
                     for name in ("runtime.py", "entity_graph.py", "terms.py", "term_labels.tsv"))


@dataclass(frozen=True)
class StartupReads:
    """What :func:`build_runtime` reads of the whole store at start, as plain values, kept in a file.

    The file is named by the caller after everything the values depend on (the release's hash, the
    base IRI, :data:`STARTUP_CODE`), so one that exists holds this release's values; one that cannot be
    read is read from the store again and rewritten.
    """

    graph_sizes: dict[str, int]
    terms: dict[str, dict[str, str]]
    entities: frozenset[str]

    @classmethod
    def read(cls, path: Path) -> StartupReads | None:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls({str(g): int(n) for g, n in raw["graph_sizes"].items()},
                       {str(t): {str(k): str(v) for k, v in w.items()} for t, w in raw["terms"].items()},
                       frozenset(str(e) for e in raw["entities"]))
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None

    def write(self, path: Path) -> None:
        """Keep the values at ``path`` (best effort: a read-only folder just isn't used)."""
        body = json.dumps({"graph_sizes": self.graph_sizes, "terms": self.terms, "entities": sorted(self.entities)},
                          ensure_ascii=False)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(body)
            os.chmod(tmp, 0o644)  # as the other cached files (mkstemp makes it private)
            os.replace(tmp, path)  # whole or not at all: several web processes may write it at once
        except OSError:
            return


def build_runtime(
    settings: Settings,
    store: Store,
    distribution: Distribution,
    *,
    release: ReleaseInfo | None = None,
    worker_graph: Path | GraphSource | None = None,
    label_index: Path | None = None,
    startup: Path | None = None,
    on_overrun: Callable[[], None] | None = None,
) -> Runtime:
    """The runtime serving ``store`` (loaded with the release ``distribution`` was published from).

    ``release`` defaults to the distribution's own identity; ``clair-kg serve --load`` passes one that
    names the extra graphs too. ``worker_graph`` is the N-Quads file query workers load, or a store
    holder's source of forked workers (without it they get a dump of ``store``); ``label_index`` an
    index file built with the release
    (:func:`clair_kg.search.LabelIndex.build` with ``path=``), opened rather than built again;
    ``startup`` the file :class:`StartupReads` are kept in for this release (read if it is there,
    else written once they are read from the store); ``on_overrun`` is how a supervised web process
    retires itself after a runaway query (``query_isolation = restart``).
    """
    meta = distribution.metadata
    if release is None:
        release = ReleaseInfo(meta.version, meta.sha256, meta.quads, tuple(s.iri for s in meta.sources))
    kept = StartupReads.read(startup) if startup is not None else None
    runtime = Runtime(
        settings=settings,
        store=store,
        release=release,
        publication=Publication.of(distribution),
        queries=NamedQueries.load(settings.project),
        sparql=SparqlService(settings, store, nquads=worker_graph, on_overrun=on_overrun),
        labels=Once(lambda: LabelIndex.open(label_index) if label_index is not None
                    else LabelIndex.build(store, settings.base_iri)),
        graph_sizes=Once.of(kept.graph_sizes) if kept else Once(lambda: _graph_sizes(store)),
        terms=Once.of(TermLabels(kept.terms)) if kept else Once(lambda: TermLabels.build(store)),
        entities=Once.of(kept.entities) if kept else Once(lambda: entity_iris(store, settings.base_iri)),
        sources=Once(lambda: source_infos(store)),
        documents=DocumentCache(settings.cache_size),
        vocabulary=VocabularyLabels.of_store(store),
    )
    parts: tuple[Once[Any], ...] = (runtime.labels, runtime.graph_sizes, runtime.terms, runtime.entities,
                                    runtime.sources)
    for part in parts:
        try:
            part.get()
        except StoreUnavailable as exc:
            log.warning("clair-kg: built on first use instead (the store is unavailable): %s", exc.message)
    if startup is not None and kept is None and all(p.ready for p in parts):
        StartupReads(runtime.graph_sizes.get(), runtime.terms.get().labels, runtime.entities.get()).write(startup)
    return runtime


def _graph_sizes(store: Store) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for row in store.select(GRAPH_COUNTS_QUERY):
        graph, count = row.get("g"), row.get("n")
        if isinstance(graph, NamedNode) and isinstance(count, Literal):
            sizes[graph.value] = int(count.value)
    return sizes
