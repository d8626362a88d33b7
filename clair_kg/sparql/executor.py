"""Run /sparql queries so that an overrunning one can be stopped.

pyoxigraph cannot cancel a running query, so :class:`WorkerPool` evaluates queries in a few
separate processes (``settings.query_workers``). Under ``clair-kg serve`` with the in-memory store
they are forked by the store holder (:class:`HolderLink`), so they share its one loaded copy of the
graph; otherwise each loads the N-Quads hand-over itself or opens the on-disk store read-only
(:class:`GraphSource`). pyoxigraph writes to the store's pages as it reads them, so a forked worker
slowly copies the pages its queries touch; after a slow query, one that has copied more than
:data:`RECYCLE_SHARE` of what it maps is replaced by a fresh fork (its copy is dropped).
The web process sends a job over a
Unix socket and awaits the reply with a deadline; a worker that misses it is killed (SIGKILL: its
CPU work ends at once) and a fresh one is started in the background. The client gets
:class:`~clair_kg.errors.QueryTimeout` (503) at the deadline, not when the query would have ended.

With ``query_isolation = "restart"`` inside a supervised server process, :class:`ThreadRunner`
evaluates queries on a few threads of the web process itself (pyoxigraph releases the GIL while it
evaluates), with no inter-process hop per query. It cannot stop a runaway query either, so on an
overrun it answers 503 and calls ``on_overrun``: the web process then stops accepting connections,
lets its other requests finish for a short grace, and exits; its supervisor has already started a
replacement (:mod:`clair_kg.server.process`). The process's exit is what ends the query's CPU work.

For a remote store, :class:`StoreRunner` runs the query on the store in a thread; the remote
server does the work and the HTTP client's timeout bounds it.

Both executors have the same one method, ``run(job) -> Reply``, plus ``close()``.
"""

from __future__ import annotations

__all__ = ["Executor", "GraphSource", "HolderLink", "StoreRunner", "ThreadRunner", "WorkerPool", "graph_source_for"]

import asyncio
import contextlib
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import pyoxigraph

from ..errors import ClairKgError, QueryTimeout, StoreUnavailable
from ..store import EmbeddedStore, Store
from ..store.base import QueryForm
from ..store.results import shape_solutions, shape_triples
from .evaluate import evaluate
from .wire import HEADER, Job, Reply, decode_reply, encode_job, frame

_START_TIMEOUT = 120.0  # seconds a new worker may take to load the graph
#: a forked worker that has copied more than this share of the memory it maps (and more than
#: RECYCLE_MIN_KB) is replaced by a fresh fork: with 2 web processes x 2 workers, at most about one
#: more copy of the store in all. A full scan of the default graph copies about a third of the pages.
RECYCLE_SHARE = 0.25
RECYCLE_MIN_KB = 64 * 1024
#: ...checked after a query that took at least this long (quick ones copy little; reading smaps costs ms)
_RECYCLE_CHECK_S = 0.05


class Executor(Protocol):
    #: queries stopped at the time limit, and evaluators that died mid-query (for /metrics)
    stopped: int
    died: int

    async def run(self, job: Job, form: QueryForm | None) -> Reply: ...

    async def close(self) -> None: ...


#: what a web process sends the store holder to ask for one more query worker
WORKER_REQUEST = b"worker"
#: the holder's reply: the new worker's pid (0: it could not fork), with its socket and pidfd as SCM_RIGHTS
WORKER_REPLY = struct.Struct("=q")


class HolderLink:
    """A web process's line to the store holder, which forks its query workers from the loaded store.

    The holder makes one before it builds the runtime (so before any web process exists) and
    gives each web process it forks the process's own end of a ``SOCK_SEQPACKET`` pair
    (:meth:`attach`). :meth:`spawn` asks for a worker and receives the worker's socket and a pidfd
    (``SCM_RIGHTS``): the worker is the holder's child — the holder reaps it — and this process
    kills it through the pidfd, which can never signal a recycled pid.
    """

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self._lock = threading.Lock()  # one request in flight per web process: replies come in order

    def attach(self, sock: socket.socket) -> None:
        self.sock = sock

    def spawn(self) -> tuple[socket.socket, int, int | None]:
        """A new worker: (its socket, its pid, a pidfd or None). Blocking: run it in a thread.

        :raises StoreUnavailable: no holder is attached, it has gone, or it could not fork.
        """
        if self.sock is None:
            raise StoreUnavailable("this web process has no store holder to start query workers")
        with self._lock:
            try:
                self.sock.sendall(WORKER_REQUEST)
                message, fds, _, _ = socket.recv_fds(self.sock, WORKER_REPLY.size, 2)
            except OSError as exc:
                raise StoreUnavailable(f"the store holder did not start a query worker: {exc}") from exc
        (pid,) = WORKER_REPLY.unpack(message) if len(message) == WORKER_REPLY.size else (0,)
        if pid <= 0 or not fds:
            for fd in fds:
                os.close(fd)
            raise StoreUnavailable("the store holder could not start a query worker")
        return socket.socket(fileno=fds[0]), pid, (fds[1] if len(fds) > 1 else None)


@dataclass(frozen=True)
class GraphSource:
    """Where a worker gets the graph: the store holder, an N-Quads file, or an on-disk store opened read-only."""

    nquads: Path | None = None
    store_path: Path | None = None
    #: a temporary file the pool removes when it closes
    owned: bool = False
    #: the store holder that forks workers sharing its loaded store (then nquads/store_path are unused)
    holder: HolderLink | None = None

    def worker_args(self) -> list[str]:
        if self.store_path is not None:
            return ["--store-path", str(self.store_path)]
        return ["--nquads", str(self.nquads)] if self.nquads is not None else []


def graph_source_for(store: Store, *, store_path: Path | None,
                     nquads: Path | GraphSource | None) -> GraphSource | None:
    """How workers can load the graph ``store`` serves; None when only ``store`` itself can answer.

    ``nquads`` may already be a source (a store holder's, from ``clair-kg serve``): it is used as is.
    """
    if not isinstance(store, EmbeddedStore):
        return None
    if isinstance(nquads, GraphSource):
        return nquads
    if store_path is not None:
        return GraphSource(store_path=store_path)
    if nquads is not None:
        return GraphSource(nquads=nquads)
    handle, name = tempfile.mkstemp(prefix="clair-kg-graph-", suffix=".nq")
    os.close(handle)
    store.inner.dump(name, format=pyoxigraph.RdfFormat.N_QUADS)
    return GraphSource(nquads=Path(name), owned=True)


class _Channel(asyncio.Protocol):
    """The web process's end of a worker's socket: one framed call at a time.

    A bare protocol rather than asyncio streams: a job is one ``transport.write`` of a prebuilt frame
    and a reply is taken whole from the receive buffer, with no reader/writer layers, drain or
    ``readexactly`` calls per message (they were a sizeable share of the web process's time).
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[bytes] | None = None
        self._lost: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, so no isinstance check here
        self.transport = cast(asyncio.Transport, transport)
        self._loop = asyncio.get_running_loop()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._deliver()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = exc or ConnectionResetError("the query worker closed its socket")
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(self._lost)

    def _deliver(self) -> None:
        waiter, buffer = self._waiter, self._buffer
        if waiter is None or waiter.done() or len(buffer) < HEADER.size:
            return
        (size,) = HEADER.unpack_from(buffer)
        end = HEADER.size + size
        if len(buffer) < end:
            return
        payload = bytes(buffer[HEADER.size:end])
        del buffer[:end]
        self._waiter = None
        waiter.set_result(payload)

    async def call(self, payload: bytes | None, deadline: float | None = None) -> bytes:
        """Send ``payload`` (if any) as one frame and return the next frame received.

        :raises TimeoutError: no frame came by ``deadline`` (a ``loop.time()``). One timer handle
            does it: ``asyncio.timeout`` costs several times as much per call (a context object, the
            current task, reschedule and uncancel bookkeeping), on every query.
        """
        if self._lost is not None:
            raise self._lost
        assert self.transport is not None and self._loop is not None
        waiter: asyncio.Future[bytes] = self._loop.create_future()
        self._waiter = waiter
        if payload is not None:
            self.transport.write(frame(payload))
        self._deliver()
        if deadline is None:
            return await waiter
        timer = self._loop.call_at(deadline, _expire, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()


def _expire(waiter: asyncio.Future[bytes]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class _Forked:
    """A worker the store holder forked: not our child, so it is killed by pidfd and reaped by the holder."""

    def __init__(self, pid: int, pidfd: int | None) -> None:
        self.pid = pid
        self.pidfd = pidfd

    def poll(self) -> int | None:
        """None while the worker runs, else -1 (its exit code is its parent's to read)."""
        if self.pidfd is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return -1
            return None
        readable, _, _ = select.select([self.pidfd], [], [], 0)
        return -1 if readable else None

    def kill(self) -> None:
        if self.pidfd is not None:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        else:
            os.kill(self.pid, signal.SIGKILL)

    def copied(self) -> tuple[int, int]:
        """(kB the worker has copied — written to — since the fork, kB it maps): ``Private_Dirty``, ``Rss``.

        Evaluating over pyoxigraph's in-memory store writes to the pages it reads (measured: a scan of
        every named graph copied 559 of the 680 MB a 10^6-statement store takes), so a worker drifts
        from sharing the holder's pages to owning them.
        """
        fields: dict[str, int] = {}
        for line in Path(f"/proc/{self.pid}/smaps_rollup").read_text().splitlines()[1:]:
            key, _, value = line.partition(":")
            fields[key] = int(value.split()[0])
        return fields.get("Private_Dirty", 0), fields.get("Rss", 0)

    def wait(self, timeout: float) -> None:
        """Wait until the worker has exited (its CPU work has stopped), at most ``timeout`` seconds."""
        if self.pidfd is not None:
            select.select([self.pidfd], [], [], timeout)
            os.close(self.pidfd)
            self.pidfd = None


class _Worker:
    def __init__(self, proc: subprocess.Popen[bytes] | _Forked, channel: _Channel) -> None:
        self.proc = proc
        self.channel = channel

    async def call(self, payload: bytes, deadline: float | None = None) -> bytes:
        return await self.channel.call(payload, deadline)

    def kill(self) -> None:
        if self.channel.transport is not None:
            self.channel.transport.close()
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)


class WorkerPool:
    """``size`` worker processes; a query that runs past ``timeout`` seconds kills its worker."""

    def __init__(self, source: GraphSource, *, size: int, timeout: float) -> None:
        self.source = source
        self.size = max(1, size)
        self.timeout = timeout
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._workers: set[_Worker] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        #: queries stopped at the time limit, and workers that died mid-query (for /metrics)
        self.stopped = 0
        self.died = 0
        #: forked workers replaced because they had copied too much of the shared store
        self.recycled = 0

    async def start(self) -> None:
        """Start every worker and wait until each has loaded the graph."""
        await asyncio.gather(*(self._spawn() for _ in range(self.size)))

    def pids(self) -> list[int]:
        return sorted(w.proc.pid for w in self._workers)

    async def _spawn(self) -> None:
        proc: subprocess.Popen[bytes] | _Forked
        holder = self.source.holder
        if holder is not None:  # forked by the store holder: the graph is already loaded, and shared
            parent_sock, pid, pidfd = await asyncio.to_thread(holder.spawn)
            proc = _Forked(pid, pidfd)
        else:
            parent_sock, child_sock = socket.socketpair()
            try:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "clair_kg.sparql.worker", "--fd", str(child_sock.fileno()),
                     "--parent", str(os.getpid()), *self.source.worker_args()],
                    pass_fds=(child_sock.fileno(),),
                    stdin=subprocess.DEVNULL,
                )
            finally:
                child_sock.close()
        _, channel = await asyncio.get_running_loop().create_unix_connection(_Channel, sock=parent_sock)
        worker = _Worker(proc, channel)
        self._workers.add(worker)
        try:
            await asyncio.wait_for(channel.call(None), _START_TIMEOUT)  # the worker's "ready"
        except (OSError, TimeoutError) as exc:
            self._discard(worker)
            raise StoreUnavailable(f"a query worker failed to start (exit code {proc.poll()})") from exc
        if self._closed:
            self._discard(worker)
            return
        self._idle.put_nowait(worker)

    def _discard(self, worker: _Worker) -> None:
        self._workers.discard(worker)
        worker.kill()

    def _replace(self, worker: _Worker) -> None:
        self._discard(worker)
        if self._closed:
            return
        self._background(self._respawn())

    async def _respawn(self) -> None:
        with contextlib.suppress(ClairKgError):
            await self._spawn()

    async def run(self, job: Job, form: QueryForm | None = None) -> Reply:
        """Evaluate ``job`` in a worker within the time limit.

        :raises QueryTimeout: no worker was free, or the query ran past the limit (it was stopped).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        if not self._idle.empty():  # the common case: no wait, so no timeout to set up
            worker = self._idle.get_nowait()
        else:
            # asyncio.timeout rather than wait_for: it bounds the await in place, without a task per call.
            try:
                async with asyncio.timeout(self.timeout):
                    worker = await self._idle.get()
            except TimeoutError:
                raise QueryTimeout(
                    f"every query worker stayed busy for the {self.timeout:g} s query time limit; try again later"
                ) from None
        started = loop.time()
        try:
            payload = await worker.call(encode_job(job), max(loop.time() + 0.05, deadline))
        except TimeoutError:
            self.stopped += 1
            self._replace(worker)
            raise QueryTimeout(
                f"the query ran longer than the {self.timeout:g} s time limit and was stopped"
            ) from None
        except (OSError, asyncio.IncompleteReadError) as exc:
            self.died += 1
            self._replace(worker)
            raise StoreUnavailable("the query worker died while running the query") from exc
        except BaseException:  # cancelled mid-call: the worker's state is unknown
            self._replace(worker)
            raise
        if isinstance(worker.proc, _Forked) and loop.time() - started >= _RECYCLE_CHECK_S:
            self._background(self._recycle_or_keep(worker))  # the reply need not wait for the check
        else:
            self._idle.put_nowait(worker)
        return decode_reply(payload)

    def _background(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _recycle_or_keep(self, worker: _Worker) -> None:
        """Back to the idle queue, or, if it now owns most of its pages, replaced by a fresh fork."""
        assert isinstance(worker.proc, _Forked)
        try:
            private, mapped = await asyncio.to_thread(worker.proc.copied)
        except (OSError, ValueError):
            private, mapped = RECYCLE_MIN_KB + 1, 0  # gone, or unreadable: start another
        if private > RECYCLE_MIN_KB and private > RECYCLE_SHARE * mapped:
            self.recycled += 1
            self._replace(worker)
        elif not self._closed:
            self._idle.put_nowait(worker)

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        for worker in list(self._workers):
            self._discard(worker)
        if self.source.owned and self.source.nquads is not None:
            with contextlib.suppress(OSError):
                self.source.nquads.unlink()


def _evaluate(store: pyoxigraph.Store, kept_out: pyoxigraph.NamedNode | None, job: Job) -> Reply:
    try:
        return evaluate(store, job, kept_out=kept_out)
    except Exception as exc:  # noqa: BLE001 - the same answer a worker process gives
        return Reply.from_error(ClairKgError(f"the query failed: {type(exc).__name__}: {exc}"))


class ThreadRunner:
    """``size`` threads of this process evaluate queries on ``store``; an overrun calls ``on_overrun``.

    ``on_overrun`` must make the process go away soon (that is what stops the query); until then
    :meth:`abort` fails the queries still waiting here with a clean 503 instead of a dropped connection.
    """

    def __init__(self, store: pyoxigraph.Store, *, size: int, timeout: float,
                 on_overrun: Callable[[], None], kept_out: pyoxigraph.NamedNode | None = None) -> None:
        self.store = store
        self.kept_out = kept_out  # the graph read beside the default graph (EmbeddedStore.kept_out)
        self.timeout = timeout
        self.on_overrun = on_overrun
        self._pool = ThreadPoolExecutor(max(1, size), thread_name_prefix="clair-kg-query")
        self._pending: set[asyncio.Future[Reply]] = set()
        self._aborted = False
        self.stopped = 0
        self.died = 0  # threads do not die; an overrun ends the whole process instead

    async def run(self, job: Job, form: QueryForm | None = None) -> Reply:
        if self._aborted:
            raise StoreUnavailable("this server process is restarting; try again")
        future = asyncio.get_running_loop().run_in_executor(self._pool, _evaluate, self.store, self.kept_out, job)
        self._pending.add(future)
        try:
            async with asyncio.timeout(self.timeout):
                return await future
        except TimeoutError:
            self.stopped += 1
            self.on_overrun()
            raise QueryTimeout(
                f"the query ran longer than the {self.timeout:g} s time limit and was stopped"
            ) from None
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self._aborted and future.cancelled() and (task is None or task.cancelling() == 0):
                raise StoreUnavailable("this server process is restarting; try again") from None
            raise
        finally:
            self._pending.discard(future)

    def abort(self) -> None:
        """Fail every query still waiting for a thread or a result (503): the process is about to exit."""
        self._aborted = True
        for future in list(self._pending):
            future.cancel()

    async def close(self) -> None:
        self.abort()
        self._pool.shutdown(wait=False, cancel_futures=True)


class StoreRunner:
    """Runs queries on a store in threads (a remote store: the remote server does the work)."""

    def __init__(self, store: Store, *, timeout: float) -> None:
        self.store = store
        self.timeout = timeout
        self.stopped = 0
        self.died = 0

    async def run(self, job: Job, form: QueryForm | None = None) -> Reply:
        pivot = "text/tab-separated-values"
        if form is QueryForm.ASK:
            pivot = job.media_type
        elif form is not None and form.returns_graph:
            pivot = "application/n-triples"
        try:
            result = await asyncio.wait_for(
                asyncio.to_thread(self.store.execute, job.query, media_type=pivot, dataset=job.dataset),
                self.timeout,
            )
        except TimeoutError:
            self.stopped += 1
            raise QueryTimeout(f"the query ran longer than the {self.timeout:g} s time limit") from None
        except ClairKgError as exc:
            return Reply.from_error(exc)
        if form is QueryForm.ASK:
            return Reply(200, "ASK", body=result.body)
        try:
            if form is not None and form.returns_graph:
                shaped = shape_triples(result.body, job.media_type, job.max_rows)
                return Reply(200, "CONSTRUCT", shaped.truncated, body=shaped.body)
            shaped = shape_solutions(result.body, job.media_type, job.max_rows)
        except ClairKgError as exc:
            return Reply.from_error(exc)
        except (SyntaxError, ValueError) as exc:  # the store's answer is not what it was asked for
            return Reply.from_error(StoreUnavailable(f"the store answered something that is not a result: {exc}"))
        return Reply(200, "SELECT", shaped.truncated, body=shaped.body)

    async def close(self) -> None:
        return None
