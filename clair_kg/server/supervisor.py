"""``clair-kg serve``'s long-lived process: the store holder and supervisor of the web processes.

``python -m clair_kg.server.supervisor --handover DIR --host H --port P --workers N …`` is what the
CLI replaces itself with (``os.execv``) once it has validated and published the release, so none
of the build side's memory or modules live on. It prepares the store once (:mod:`.holder`), then, single-threaded:

- **forks** ``N`` web processes, each binding its *own* ``SO_REUSEPORT`` socket (the kernel spreads
  new connections over them by a hash of the client's address; with one shared socket whichever
  process wakes first takes them, and under a burst of keep-alive connections one process often
  gets all of them while the other idles), and restarts one that crashes — forked again, not
  reloaded;
- **forks query workers** on request: a web process asks over its own ``SOCK_SEQPACKET`` line
  (:class:`clair_kg.sparql.executor.HolderLink`) and gets the worker's socket and a pidfd back by
  ``SCM_RIGHTS``; the web process kills a worker that overruns, this process reaps it;
- stops everything on SIGTERM/SIGINT: SIGTERM to every web process (uvicorn finishes its requests
  and its app's shutdown closes its query workers), SIGKILL after the grace period, and SIGKILL to
  every query worker left. Each child also dies with this process (``PR_SET_PDEATHSIG``).

A web process retiring after a runaway query ("restart" isolation) sends ``SIGUSR1`` first: its
replacement is forked at once, while it still finishes its other requests, and its exit (code
``RETIRED``) is then not a crash.
"""

from __future__ import annotations

__all__ = ["Supervisor", "main", "supervise"]

import argparse
import contextlib
import os
import selectors
import shutil
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ClairKgError
from ..sparql.executor import WORKER_REPLY, WORKER_REQUEST
from ..sparql.worker import die_with_parent, serve_jobs
from . import preload
from .handover import read_handover
from .proctitle import set_title

if TYPE_CHECKING:
    from .holder import Prepared

# The holder's other modules (the runtime, the web layer, uvicorn) are imported once the store has
# begun loading (supervise()), so their seconds of import overlap the load: see .preload.

#: a child that crashes this many times within _CRASH_WINDOW seconds is not started again
_MAX_CRASHES = 5
_CRASH_WINDOW = 60.0
_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGCHLD)


class _Stop(Exception):
    """SIGTERM or SIGINT while preparing: unwind, remove what was made, exit."""


class Supervisor:
    """The web processes and query workers forked from one prepared store (module docstring)."""

    def __init__(self, prepared: Prepared, host: str, port: int, workers: int) -> None:
        self.prepared = prepared
        self.host, self.port, self.count = host, port, workers
        self.pid = os.getpid()
        self.selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        for end in (self._wake_r, self._wake_w):
            end.setblocking(False)
        self.selector.register(self._wake_r, selectors.EVENT_READ)
        #: web process pid -> this process's end of its line (for query worker requests)
        self.webs: dict[int, socket.socket] = {}
        #: query worker pid -> the web process it works for
        self.workers: dict[int, int] = {}
        #: sockets a forked child must close (besides the lines above): e.g. the held port
        self.inherited: list[socket.socket] = []
        self.stopping = False
        self.wanted = 0  # replacements asked for by retiring web processes, not yet forked
        self.spare = 0  # replacements running for web processes that are retiring
        self.crashes: list[float] = []
        self.status = 0

    # --- forking ------------------------------------------------------------------------------

    def _fork(self, role: Callable[[], int], keep: socket.socket | None, *extra: socket.socket) -> int:
        """Fork a child that closes this process's sockets (but ``keep``) and ``extra``, then runs ``role``."""
        pid = os.fork()
        if pid != 0:
            return pid
        code = 1  # pragma: no cover - the rest runs in the child
        try:
            for sig in _SIGNALS:
                signal.signal(sig, signal.SIG_DFL)
            signal.set_wakeup_fd(-1)
            self.selector.close()
            for sock in (self._wake_r, self._wake_w, *self.inherited, *self.webs.values(), *extra):
                if sock is not keep:
                    sock.close()
            code = role()
        except BaseException:  # noqa: BLE001 - a child reports and exits; it never returns into the loop
            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)

    def start_web(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        prepared, parent = self.prepared, self.pid
        host, port = self.host, self.port

        from .process import run_web_process

        def web() -> int:
            die_with_parent(parent, signal.SIGTERM)
            set_title(f"clair_kg.server.process web process on {host}:{port} (clair-kg serve {parent})")
            return run_web_process(prepared, host, port, theirs)

        pid = self._fork(web, theirs, ours)
        theirs.close()
        self.webs[pid] = ours
        self.selector.register(ours, selectors.EVENT_READ, pid)

    def start_worker(self, owner: int, line: socket.socket) -> None:
        """Fork a query worker for web process ``owner`` and hand it over on ``line``."""
        store = self.prepared.store
        if store is None or self.stopping:
            line.send(WORKER_REPLY.pack(0))
            return
        ours, theirs = socket.socketpair()
        parent = self.pid

        def worker() -> int:
            die_with_parent(parent, signal.SIGKILL)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the holder decides
            set_title(f"clair_kg.sparql.worker query worker of web process {owner} (clair-kg serve {parent})")
            return serve_jobs(theirs, store.inner, kept_out=store.kept_out)

        pid = self._fork(worker, theirs, ours)
        theirs.close()
        self.workers[pid] = owner
        fds = [ours.fileno()]
        pidfd = -1
        with contextlib.suppress(OSError, AttributeError):
            pidfd = os.pidfd_open(pid)
            fds.append(pidfd)
        try:
            socket.send_fds(line, [WORKER_REPLY.pack(pid)], fds)
        except OSError:  # the web process has gone: so has its need for a worker
            _kill(pid)
        finally:
            ours.close()
            if pidfd >= 0:
                os.close(pidfd)

    # --- the loop -----------------------------------------------------------------------------

    def run(self) -> int:
        """Fork the web processes and look after them until SIGTERM or SIGINT; the exit status."""
        try:
            for _ in range(self.count):
                self.start_web()
            while not self.stopping:
                for key, _ in self.selector.select(timeout=0.5):
                    if key.fileobj is self._wake_r:
                        with contextlib.suppress(OSError):
                            self._wake_r.recv(4096)
                    else:
                        self._serve_line(key.data, key.fileobj)  # type: ignore[arg-type]
                self._reap()
                while self.wanted and not self.stopping:
                    self.wanted -= 1
                    self.spare += 1
                    self.start_web()
        finally:
            self._stop_all()
        return self.status

    def _serve_line(self, owner: int, line: socket.socket) -> None:
        try:
            request = line.recv(64)
        except OSError:
            request = b""
        if request == WORKER_REQUEST:
            self.start_worker(owner, line)
        elif not request:  # the web process closed its end: it is exiting
            self.selector.unregister(line)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            code = os.waitstatus_to_exitcode(status)
            if pid in self.workers:
                del self.workers[pid]
            elif pid in self.webs:
                self._web_exited(pid, code)

    def _web_exited(self, pid: int, code: int) -> None:
        from .process import RETIRED

        line = self.webs.pop(pid)
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(line)
        line.close()
        for worker, owner in list(self.workers.items()):
            if owner == pid:  # its web process died mid-query: nothing else would stop it
                _kill(worker)
        if self.stopping:
            return
        if code == RETIRED:
            if self.spare > 0:
                self.spare -= 1
                return
        else:
            now = time.monotonic()
            self.crashes = [t for t in self.crashes if now - t < _CRASH_WINDOW] + [now]
            if len(self.crashes) > _MAX_CRASHES:
                sys.stderr.write(f"clair-kg: web processes keep exiting (last code {code}); stopping\n")
                self.stopping, self.status = True, 1
                return
            sys.stderr.write(f"clair-kg: web process {pid} exited with {code}; restarting\n")
        self.start_web()

    def _stop_all(self) -> None:
        from .process import GRACE

        self.stopping = True
        for pid, line in self.webs.items():
            _kill(pid, signal.SIGTERM)
            line.close()  # a web process waiting for a worker gets an answer now (none), not at the grace's end
        deadline = time.monotonic() + GRACE + 3
        while self.webs and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.02)
        for pid in [*self.webs, *self.workers]:
            _kill(pid)
        while self.webs or self.workers:
            try:
                pid, _ = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            self.webs.pop(pid, None)
            self.workers.pop(pid, None)
        self.selector.close()
        for sock in (self._wake_r, self._wake_w, *self.webs.values()):
            sock.close()


def _kill(pid: int, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, sig)


def supervise(handover: Path, host: str, port: int, workers: int, *, labels_cache: Path | None = None,
              startup_cache: Path | None = None, held: socket.socket | None = None) -> int:
    """Prepare the store once, then run ``workers`` web processes on ``host:port`` until SIGTERM/SIGINT.

    ``held`` is the socket holding the port (:func:`.sockets.reserve_port`); children close it.
    """
    def _raise(signum: int, frame: object) -> None:
        raise _Stop

    previous = {sig: signal.signal(sig, _raise) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        started = time.perf_counter()
        try:
            told = read_handover(handover)
            loading = preload.start(told)  # first: the imports below run while it loads
            from .holder import prepare

            prepared = prepare(told, labels_cache=labels_cache, startup_cache=startup_cache, preload=loading)
        except _Stop:
            return 0
        load_s, index_s, cached = prepared.timings
        sys.stderr.write(
            f"clair-kg: ready to fork in {time.perf_counter() - started:.1f} s (store loaded once in {load_s:.1f} s; "
            f"search index {'opened from the cache' if cached else 'built'} in {index_s:.1f} s)\n"
        )
        supervisor = Supervisor(prepared, host, port, workers)
        if held is not None:
            supervisor.inherited.append(held)

        def _stop(signum: int, frame: object) -> None:
            supervisor.stopping = True

        def _replace(signum: int, frame: object) -> None:
            supervisor.wanted += 1

        signal.set_wakeup_fd(supervisor._wake_w.fileno(), warn_on_full_buffer=False)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _stop)
        previous[signal.SIGUSR1] = signal.signal(signal.SIGUSR1, _replace)
        previous[signal.SIGCHLD] = signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        return supervisor.run()
    finally:
        signal.set_wakeup_fd(-1)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    """What ``clair-kg serve`` execs: supervise, then remove the hand-over folder if asked."""
    parser = argparse.ArgumentParser(prog="clair_kg.server.supervisor")
    parser.add_argument("--handover", type=Path, required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--held-fd", type=int, help="an inherited socket holding the port")
    parser.add_argument("--labels-cache", type=Path, help="folder of search indexes kept by release")
    parser.add_argument("--startup-cache", type=Path, help="folder of the runtime's start-up reads kept by release")
    parser.add_argument("--remove-handover", action="store_true", help="remove the hand-over folder on exit")
    args = parser.parse_args(argv)
    held = socket.socket(fileno=args.held_fd) if args.held_fd is not None else None
    try:
        return supervise(args.handover, args.host, args.port, args.workers,
                         labels_cache=args.labels_cache, startup_cache=args.startup_cache, held=held)
    except KeyboardInterrupt:
        return 0
    except ClairKgError as exc:  # as the CLI reports it: this process took the CLI's place
        sys.stderr.write(f"clair-kg: {exc.message}\n")
        return 2  # the CLI's EXIT_ERROR
    finally:
        if held is not None:
            held.close()
        if args.remove_handover:
            shutil.rmtree(args.handover, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
