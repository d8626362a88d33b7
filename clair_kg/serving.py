"""Turn settings and a validated release into a loaded store and an app, and run the web processes.

``clair-kg serve`` prepares the release once (parse + validate in the parent), writes its N-Quads
to a file, and every server process loads that file: workers never parse Turtle or run SHACL.

With several web processes the parent is a small supervisor (:func:`supervise`) rather than
uvicorn's: each child (``python -m clair_kg.serving``) binds its *own* ``SO_REUSEPORT`` listening
socket, so the kernel spreads new connections over the processes by a hash of the client's address.
With one shared socket (uvicorn's way) whichever process wakes first takes them, and under a burst
of keep-alive connections one process often gets all of them while the other idles.

With ``query_isolation = "restart"`` a web process evaluates queries on its own threads, and a query
past the time limit retires the whole process (:class:`_Retirer`): it answers 503, closes its
listening socket (new connections go to the other processes), asks the supervisor for a replacement
(``SIGUSR1``), lets its other requests finish for :data:`_RETIRE_GRACE` seconds and exits with
:data:`_RETIRED`. ``clair-kg serve`` then always runs the supervisor, even for one web process.
"""

from __future__ import annotations

__all__ = [
    "app_from_environment", "listen_socket", "open_store", "read_handover_settings", "reserve_port", "supervise",
    "uvicorn_config", "write_handover",
]

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import MutableMapping
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from .release import ReleaseInfo, release_info
from .settings import Settings
from .store import EmbeddedStore, RemoteStore, Store

if TYPE_CHECKING:
    import uvicorn

_HANDOVER_ENV = "CLAIR_KG_HANDOVER"
#: a child that crashes this many times within _CRASH_WINDOW seconds is not started again
_MAX_CRASHES = 5
_CRASH_WINDOW = 60.0
#: seconds a web process gets to finish its requests and stop its query workers on shutdown
_GRACE = 5
#: seconds a web process retiring after a runaway query gives its other requests, and its exit code
_RETIRE_GRACE = 1.0
_RETIRED = 75


class _Retirer:
    """Retires this web process after a runaway query (the only way to stop pyoxigraph's evaluation).

    Called on the event loop by the query runner when a query overruns; see the module docstring.
    A timer thread ends the process even if the graceful part hangs, well within limit + 2 s.
    """

    def __init__(self, parent: int) -> None:
        self.parent = parent
        self.server: uvicorn.Server | None = None
        self.app: FastAPI | None = None
        self.started = False

    def __call__(self) -> None:
        if self.started:
            return
        self.started = True
        sys.stderr.write(f"clair-kg: web process {os.getpid()} ran a query past the time limit; replacing it\n")
        try:
            os.kill(self.parent, signal.SIGUSR1)  # the supervisor starts the replacement now
        except OSError:
            pass
        timer = threading.Timer(_RETIRE_GRACE + 0.6, os._exit, (_RETIRED,))
        timer.daemon = True
        timer.start()
        server = self.server
        if server is not None:
            server.config.timeout_graceful_shutdown = _RETIRE_GRACE  # type: ignore[assignment]
            for listener in getattr(server, "servers", []):
                listener.close()  # stop accepting at once: SO_REUSEPORT sends new connections elsewhere
            server.should_exit = True
        import asyncio

        asyncio.get_running_loop().call_later(_RETIRE_GRACE - 0.3, self._abort)

    def _abort(self) -> None:
        service = getattr(self.app.state, "sparql_service", None) if self.app is not None else None
        if service is not None:
            service.abort_pending()


#: set in a supervised web process (``python -m clair_kg.serving``) before uvicorn builds the app
_RETIRER: _Retirer | None = None


def open_store(settings: Settings, nquads: bytes) -> Store:
    """The store the settings ask for, loaded with ``nquads``."""
    if settings.remote_query_url:
        remote = RemoteStore(
            settings.remote_query_url, data_url=settings.remote_data_url, timeout=settings.query_timeout + 1
        )
        if settings.remote_data_url:
            remote.load_nquads(nquads)
        return remote
    if settings.store_path is not None:
        path = Path(settings.store_path)
        _ensure_disk_store(path, nquads)
        return EmbeddedStore.open_read_only(path)
    store = EmbeddedStore()
    store.load_nquads(nquads)
    return store


def _ensure_disk_store(path: Path, nquads: bytes) -> None:
    """Make the on-disk store at ``path`` hold exactly this release, loading it if it does not.

    A marker beside the folder names the release the store holds, so a store left by an older
    release is rebuilt rather than served under the new release's ETags. Several server processes
    start at once: a file lock lets the first load and the others wait, then open it read-only.
    """
    sha = hashlib.sha256(nquads).hexdigest()
    marker = path.with_name(path.name + ".release")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text().strip() == sha and path.is_dir():
            return
        if path.exists():
            shutil.rmtree(path)
        writer = EmbeddedStore.open(path)
        writer.load_nquads(nquads)
        writer.inner.flush()
        del writer  # closes the store, so it can be opened read-only
        marker.write_text(sha + "\n")


def write_handover(settings: Settings, nquads: bytes, graphs: tuple[str, ...]) -> Path:
    """Write what the server processes need (settings, N-Quads) and point the environment at it."""
    folder = Path(tempfile.mkdtemp(prefix="clair-kg-serve-"))
    (folder / "graph.nq").write_bytes(nquads)
    encoded = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(settings).items()}
    (folder / "settings.json").write_text(json.dumps({"settings": encoded, "graphs": list(graphs)}))
    os.environ[_HANDOVER_ENV] = str(folder)
    return folder


def _settings_from_json(data: dict[str, Any]) -> Settings:
    kinds = {f.name: str(f.type) for f in fields(Settings)}
    values: dict[str, Any] = {}
    for name, value in data.items():
        kind = kinds.get(name, "")
        if value is not None and "Path" in kind:
            value = Path(value)
        elif isinstance(value, list):
            value = tuple(value)
        values[name] = value
    return Settings(**values)


class SparqlFirst:
    """The app, with /sparql dispatched straight to its endpoint.

    /sparql is the hot path; sending it past FastAPI's middleware and router (which only route it to
    the same endpoint) saves about 30 µs a request. Everything else goes to the app unchanged.
    """

    def __init__(self, app: FastAPI) -> None:
        from .web.sparql_endpoint import SPARQL_PATHS, endpoint

        self.app = app
        self.state = app.state
        self._paths = SPARQL_PATHS
        self._endpoint = endpoint

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] in self._paths:
            scope["app"] = self.app
            await self._endpoint(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def app_from_environment() -> SparqlFirst:
    """Factory for server worker processes (``uvicorn --factory``): load the handover and build the app."""
    from .web import create_app

    folder = Path(os.environ[_HANDOVER_ENV])
    meta = json.loads((folder / "settings.json").read_text())
    settings = _settings_from_json(meta["settings"])
    nquads = (folder / "graph.nq").read_bytes()
    info: ReleaseInfo = release_info(nquads, tuple(meta["graphs"]))
    app = create_app(settings, open_store(settings, nquads), info)
    # The /sparql query workers load the same hand-over file instead of a dump of the store.
    app.state.sparql_nquads = folder / "graph.nq"
    if _RETIRER is not None:
        _RETIRER.app = app
        app.state.sparql_on_overrun = _RETIRER
    return SparqlFirst(app)


def read_handover_settings() -> Settings:
    folder = Path(os.environ[_HANDOVER_ENV])
    return _settings_from_json(json.loads((folder / "settings.json").read_text())["settings"])


def uvicorn_config(settings: Settings) -> uvicorn.Config:
    """The uvicorn configuration of a web process.

    ``loop="auto"`` picks uvloop, and the HTTP protocol is httptools' (both dependencies of ours):
    their C code costs a fraction of asyncio's and h11's pure Python per request. Without httptools
    it falls back to h11.
    """
    import uvicorn

    return uvicorn.Config(
        "clair_kg.serving:app_from_environment",
        factory=True,
        http=_http_protocol(),
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=_GRACE,
        # room for the longest query string we accept, so it gets our 414 rather than h11's 400
        h11_max_incomplete_event_size=max(65_536, settings.max_query_length + 16_384),
    )


def _http_protocol() -> Any:
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return "h11"

    class LongUrlHttpTools(HttpToolsProtocol):
        """httptools' protocol, accepting URLs as long as our own ``max_query_length`` allows.

        ``httptools.parse_url`` refuses URLs over 64 KiB with a bare 400, but a GET query may be
        longer, and one over our limit must get our 414. So a long URL is split here and only its
        path is parsed; the query string goes into the scope before the request task first runs.
        """

        def on_headers_complete(self) -> None:
            url: bytes = self.url
            if len(url) <= 65_535 or b"?" not in url:
                super().on_headers_complete()
                return
            path, _, query = url.partition(b"?")
            self.url = path
            super().on_headers_complete()
            self.scope["query_string"] = query

    return LongUrlHttpTools


def listen_socket(host: str, port: int, *, reuse_port: bool = False, listen: bool = True) -> socket.socket:
    """A TCP socket bound to ``host:port``, with ``TCP_NODELAY`` set for the connections it accepts.

    It is made as ``IPPROTO_TCP`` rather than protocol 0: asyncio only turns Nagle's algorithm off on
    accepted connections of a socket whose protocol says TCP, and without that every keep-alive
    request waits ~40 ms for a delayed ACK.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        if listen:
            sock.listen(2048)
    except BaseException:
        sock.close()
        raise
    return sock


def reserve_port(host: str, port: int) -> socket.socket:
    """Hold ``host:port`` for the web processes, failing now if something else listens there.

    The port is first bound without ``SO_REUSEPORT`` (so another server on it, even another
    clair-kg, is an error rather than a silent share), then held by a bound socket that never
    listens: the kernel only hands connections to listening sockets, so it takes none of them.
    """
    probe = listen_socket(host, port, listen=False)
    port = probe.getsockname()[1]
    probe.close()
    return listen_socket(host, port, reuse_port=True, listen=False)


def supervise(host: str, port: int, workers: int) -> int:
    """Run ``workers`` web processes on ``host:port`` until SIGTERM or SIGINT; restart any that crash.

    A web process retiring after a runaway query sends ``SIGUSR1`` first: its replacement starts at
    once, while it still finishes its other requests, and its exit (code ``_RETIRED``) is then not a
    crash. On SIGTERM/SIGINT every child gets SIGTERM (uvicorn then finishes its requests and its
    app's shutdown stops the query workers) and, after the grace period, SIGKILL; each child also
    gets SIGTERM from the kernel if this process dies first, so no web process outlives it.
    """
    stopping = False
    wanted = 0  # replacements asked for by retiring children, not yet started

    def _stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    def _replace(signum: int, frame: object) -> None:
        nonlocal wanted
        wanted += 1

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    previous[signal.SIGUSR1] = signal.signal(signal.SIGUSR1, _replace)
    cmd = [sys.executable, "-m", "clair_kg.serving", "--host", host, "--port", str(port), "--parent", str(os.getpid())]
    children: list[subprocess.Popen[bytes]] = []
    crashes: list[float] = []
    spare = 0  # replacements running for children that are retiring
    status = 0
    try:
        children = [subprocess.Popen(cmd, stdin=subprocess.DEVNULL) for _ in range(workers)]
        while not stopping:
            while wanted and not stopping:
                wanted -= 1
                spare += 1
                children.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL))
            time.sleep(0.05)
            for child in list(children):
                if stopping or child.poll() is None:
                    continue
                children.remove(child)
                if child.returncode == _RETIRED:
                    if spare > 0:
                        spare -= 1
                        continue
                else:
                    now = time.monotonic()
                    crashes = [t for t in crashes if now - t < _CRASH_WINDOW] + [now]
                    if len(crashes) > _MAX_CRASHES:
                        sys.stderr.write(
                            f"clair-kg: web processes keep exiting (last code {child.returncode}); stopping\n"
                        )
                        stopping, status = True, 1
                        break
                    sys.stderr.write(f"clair-kg: web process {child.pid} exited with {child.returncode}; restarting\n")
                children.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL))
    finally:
        _stop_children(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status


def _stop_children(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + _GRACE + 3
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _child_main(argv: list[str] | None = None) -> int:
    """One web process: its own ``SO_REUSEPORT`` socket and a uvicorn server on it."""
    import uvicorn

    from .sparql.worker import die_with_parent

    parser = argparse.ArgumentParser(prog="clair_kg.serving")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True)
    args = parser.parse_args(argv)
    die_with_parent(args.parent, signal.SIGTERM)
    sock = listen_socket(args.host, args.port, reuse_port=True)
    settings = read_handover_settings()
    server = uvicorn.Server(uvicorn_config(settings))
    retirer: _Retirer | None = None
    if settings.query_isolation == "restart":
        # uvicorn imports this module by name (this file runs as __main__): set it there
        from clair_kg import serving

        retirer = serving._RETIRER = _Retirer(args.parent)
        retirer.server = server
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    if retirer is not None and retirer.started:
        sys.stderr.flush()
        os._exit(_RETIRED)  # a query thread may still be running: do not wait for it
    return 0 if server.started else 2


if __name__ == "__main__":
    raise SystemExit(_child_main())
