"""The store holder's first step: load the in-memory store on a thread while the rest of the holder is
imported.

The holder is a fresh interpreter (:mod:`.supervisor`); importing the web layer (FastAPI, the app,
uvicorn) costs it about as many seconds of CPU as a tenth of a 10^6-statement load, and pyoxigraph
parses and loads without holding the GIL. So :func:`start` begins loading (on a second core) before
those imports, and :func:`clair_kg.server.holder.prepare` takes the loaded store. The thread is
joined before anything is forked, so every fork is of a single-threaded process.
"""

from __future__ import annotations

__all__ = ["Preload", "start"]

import threading
import time

from ..store import EmbeddedStore
from .handover import Handover


class Preload:
    """One load of a hand-over's in-memory store, running on its own (daemon) thread."""

    def __init__(self, handover: Handover) -> None:
        self.handover = handover
        self._store: EmbeddedStore | None = None
        self._quads = 0
        self._seconds = 0.0
        self._error: BaseException | None = None
        # a daemon: SIGTERM while loading ends the holder without waiting for the load to finish
        self._thread = threading.Thread(target=self._load, name="clair-kg preload", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        started = time.perf_counter()
        try:
            store = EmbeddedStore(base_iri=self.handover.settings.base_iri)
            self._quads = store.load_served(self.handover.graph, self.handover.loads)
            self._store = store
        except BaseException as exc:  # noqa: BLE001 - raised again in the holder's thread by result()
            self._error = exc
        self._seconds = time.perf_counter() - started

    def result(self) -> tuple[EmbeddedStore, int, float]:
        """The loaded store, the quads its sources hold, and the seconds the load took.

        :raises SourceError: a ``--load`` file does not parse (as :meth:`EmbeddedStore.load_served`).
        """
        while self._thread.is_alive():
            self._thread.join(0.2)  # in slices: a signal's handler runs meanwhile
        if self._error is not None:
            raise self._error
        assert self._store is not None
        return self._store, self._quads, self._seconds


def start(handover: Handover) -> Preload | None:
    """Start loading ``handover``'s store if it is held in memory here (None: on disk or remote, each
    web process opens its own)."""
    settings = handover.settings
    if settings.store_path is not None or settings.remote_query_url:
        return None
    return Preload(handover)
