"""The query side of /sparql: guardrails, a result cache and the executor, behind one ``answer()``.

A query passes, in order: the update check (403, read-only), the SERVICE check (403 unless
allowlisted), the in-memory LRU cache of results keyed by (release, query, dataset, media type),
and only then the executor with its time limit and row cap. Repeated queries never reach a worker.
"""

from __future__ import annotations

__all__ = ["ResponseMemo", "ResultCache", "SparqlService"]

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from ..errors import ForbiddenOperation
from ..settings import QueryIsolation, Settings
from ..store import EmbeddedStore, Store
from ..store.analysis import QueryFacts, analyse, check_services
from ..store.base import DatasetSpec
from ..store.diagnostics import check_depth
from ..store.evaluation import READ_ONLY
from .executor import Executor, GraphSource, StoreRunner, ThreadRunner, WorkerPool, graph_source_for
from .wire import Job, Reply

#: results larger than this are not cached (the cache holds at most cache_size of them)
MAX_CACHED_BODY = 1_000_000

CacheKey = tuple[str, DatasetSpec, str]


class ResultCache:
    """A small LRU of successful replies."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[CacheKey, Reply] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: CacheKey) -> Reply | None:
        reply = self._entries.get(key)
        if reply is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return reply

    def put(self, key: CacheKey, reply: Reply) -> None:
        if self.size <= 0 or reply.status != 200 or len(reply.body) > MAX_CACHED_BODY:
            return
        self._entries[key] = reply
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class ResponseMemo:
    """GET requests already answered: (query string, Accept, Origin) -> (ETag, headers, body).

    Lets a repeated GET skip parsing, negotiation and hashing; bounded like the result cache.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[bytes, str | None, str | None], tuple[str, dict[str, str], bytes]] = (
            OrderedDict()
        )

    def get(self, key: tuple[bytes, str | None, str | None]) -> tuple[str, dict[str, str], bytes] | None:
        return self._entries.get(key)

    def put(self, key: tuple[bytes, str | None, str | None], value: tuple[str, dict[str, str], bytes]) -> None:
        if self.size <= 0 or len(value[2]) > MAX_CACHED_BODY:
            return
        self._entries[key] = value
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)


class SparqlService:
    """Answers /sparql queries for one app (one per web process)."""

    def __init__(self, settings: Settings, store: Store, *, nquads: Path | GraphSource | None = None,
                 on_overrun: Callable[[], None] | None = None) -> None:
        """``on_overrun``: how this web process retires itself after a runaway query. Only a
        supervised server process has one; without it queries always run in worker processes."""
        self.settings = settings
        self.store = store
        self.nquads = nquads
        self.on_overrun = on_overrun
        self.cache = ResultCache(settings.cache_size)
        self.responses = ResponseMemo(settings.cache_size)
        self._executor: Executor | None = None
        self._lock = asyncio.Lock()

    def counters(self) -> dict[str, int]:
        """Counters for /metrics: result-cache use and queries the time limit stopped."""
        pool = self._executor
        return {
            "cache_hits": self.cache.hits,
            "cache_misses": self.cache.misses,
            "cache_entries": len(self.cache),
            "queries_stopped": pool.stopped if pool else 0,
            "workers_died": pool.died if pool else 0,
        }

    def inspect(self, query: str) -> QueryFacts:
        """The query's facts, after the read-only and SERVICE guardrails.

        :raises ForbiddenOperation: an update, or SERVICE outside the allowlist.
        """
        check_depth(query, self.settings.max_query_depth)  # before any worker sees it: deep nesting kills one
        facts = analyse(query)
        if facts.is_update:
            raise ForbiddenOperation(READ_ONLY)
        check_services(facts, self.settings.service_allowlist)
        return facts

    async def executor(self) -> Executor:
        if self._executor is None:
            async with self._lock:
                if self._executor is None:
                    self._executor = await self._make_executor()
        return self._executor

    async def _make_executor(self) -> Executor:
        s = self.settings
        in_process = s.query_isolation is QueryIsolation.RESTART and self.on_overrun is not None
        if in_process and self.on_overrun is not None and isinstance(self.store, EmbeddedStore):
            return ThreadRunner(self.store.inner, size=s.query_workers, timeout=s.query_timeout,
                                on_overrun=self.on_overrun, kept_out=self.store.kept_out)
        source = await asyncio.to_thread(
            graph_source_for, self.store, store_path=s.store_path, nquads=self.nquads
        )
        if source is None:
            return StoreRunner(self.store, timeout=s.query_timeout)
        pool = WorkerPool(source, size=s.query_workers, timeout=s.query_timeout)
        try:
            await pool.start()
        except BaseException:
            await pool.close()
            raise
        return pool

    async def answer(self, query: str, facts: QueryFacts, dataset: DatasetSpec, media_type: str) -> Reply:
        """The reply to ``query`` in ``media_type``: from the cache, or from the executor.

        :raises ClairKgError: the query failed (the error the evaluator raised, whichever process ran it).
        """
        key: CacheKey = (query, dataset, media_type)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        job = Job(
            query=query,
            media_type=media_type,
            dataset=dataset,
            max_rows=self.settings.max_rows,
            # The SPARQL Protocol lets the service choose the base; the dataset's base makes
            # <id/org/clair> name the entity, and is the same on every host (cache-safe).
            base_iri=self.settings.base_iri,
        )
        reply = await (await self.executor()).run(job, facts.form)
        reply.raise_error()
        self.cache.put(key, reply)
        return reply

    def abort_pending(self) -> None:
        """Fail the queries still running in this process with 503 (it is about to exit)."""
        if isinstance(self._executor, ThreadRunner):
            self._executor.abort()

    async def close(self) -> None:
        if self._executor is not None:
            await self._executor.close()
            self._executor = None
