"""One web process of ``clair-kg serve``, forked by the store holder (:mod:`.supervisor`).

With the in-memory store it serves the app the holder built before forking (the same factory the
tests use), over the holder's loaded store, shared copy-on-write; otherwise it opens its store (on
disk or remote) and builds the runtime itself. It runs uvicorn on its own ``SO_REUSEPORT`` socket.
With ``query_isolation = "restart"`` a web process
evaluates queries on its own threads, and a query past the time limit retires the whole process
(:class:`Retirer`): it answers 503, closes its listening socket (new connections go to the other
processes), asks the supervisor for a replacement (``SIGUSR1``), lets its other requests finish for
:data:`RETIRE_GRACE` seconds and exits with :data:`RETIRED`.
"""

from __future__ import annotations

__all__ = ["RETIRED", "Retirer", "build_server", "run_web_process", "serve_socket", "uvicorn_config"]

import asyncio
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..runtime import Runtime, build_runtime
from ..settings import Settings
from ..store.opening import open_store
from ..web import create_app
from .handover import Handover
from .sockets import listen_socket

if TYPE_CHECKING:
    import uvicorn

    from .holder import Prepared

#: seconds a web process gets to finish its requests and stop its query workers on shutdown
GRACE = 5
#: seconds a web process retiring after a runaway query gives its other requests, and its exit code
RETIRE_GRACE = 1.0
RETIRED = 75


class Retirer:
    """Retires this web process after a runaway query (the only way to stop pyoxigraph's evaluation).

    Called on the event loop by the query runner when a query overruns; see the module docstring.
    A timer thread ends the process even if the graceful part hangs, well within limit + 2 s.
    """

    def __init__(self, parent: int) -> None:
        self.parent = parent
        self.server: uvicorn.Server | None = None
        self.runtime: Runtime | None = None
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
        timer = threading.Timer(RETIRE_GRACE + 0.6, os._exit, (RETIRED,))
        timer.daemon = True
        timer.start()
        server = self.server
        if server is not None:
            server.config.timeout_graceful_shutdown = RETIRE_GRACE  # type: ignore[assignment]
            for listener in getattr(server, "servers", []):
                listener.close()  # stop accepting at once: SO_REUSEPORT sends new connections elsewhere
            server.should_exit = True
        asyncio.get_running_loop().call_later(RETIRE_GRACE - 0.3, self._abort)

    def _abort(self) -> None:
        if self.runtime is not None:
            self.runtime.sparql.abort_pending()


def uvicorn_config(app: Any, settings: Settings) -> uvicorn.Config:
    """The uvicorn configuration of a web process.

    ``loop="auto"`` picks uvloop, and the HTTP protocol is httptools' (both dependencies of ours):
    their C code costs a fraction of asyncio's and h11's pure Python per request. Without httptools
    it falls back to h11.
    """
    import uvicorn

    return uvicorn.Config(
        app,
        http=_http_protocol(),
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=GRACE,
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


def build_server(handover: Handover, *, retirer: Retirer | None = None, labels: Path | None = None,
                 startup: Path | None = None) -> uvicorn.Server:
    """The uvicorn server of one web process, its store opened and its app built from ``handover``.

    ``labels`` is the search index file (default: the hand-over's own); ``startup`` where the
    runtime's start-up reads of this release are kept (None: read from the store).
    """
    import uvicorn

    settings = handover.settings
    store = open_store(settings, handover.graph.read_bytes(), identity=handover.release.sha256)
    runtime = build_runtime(settings, store, handover.distribution, release=handover.release,
                            worker_graph=handover.graph, label_index=labels or handover.labels, startup=startup,
                            on_overrun=retirer)
    server = uvicorn.Server(uvicorn_config(create_app(runtime), settings))
    if retirer is not None:
        retirer.server, retirer.runtime = server, runtime
    return server


def serve_socket(server: uvicorn.Server, sock: socket.socket) -> bool:
    """Run ``server`` on ``sock`` until it is told to stop; True if it had started."""
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return bool(server.started)


def run_web_process(prepared: Prepared, host: str, port: int, line: socket.socket) -> int:
    """The body of a forked web process: its own socket, a uvicorn server, its exit code.

    ``line`` is its end of the line to the store holder (query workers are asked for on it).
    """
    import uvicorn

    sock = listen_socket(host, port, reuse_port=True)
    retirer = prepared.retirer
    if prepared.app is not None and prepared.runtime is not None:
        if prepared.link is not None:
            prepared.link.attach(line)
        server = uvicorn.Server(uvicorn_config(prepared.app, prepared.runtime.settings))
        if retirer is not None:
            retirer.server, retirer.runtime = server, prepared.runtime
    else:
        line.close()
        server = build_server(prepared.handover, retirer=retirer, labels=prepared.labels, startup=prepared.startup)
    started = serve_socket(server, sock)
    if retirer is not None and retirer.started:
        sys.stderr.flush()
        os._exit(RETIRED)  # a query thread may still be running: do not wait for it
    return 0 if started else 2
