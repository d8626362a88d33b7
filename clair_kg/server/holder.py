"""The store holder: what ``clair-kg serve``'s long-lived process prepares once, before it forks anything.

With the in-memory store (the default) the holder loads the hand-over's N-Quads **once**, builds
the runtime and the app from it, and then every web process and every query worker is forked from
it (:mod:`.supervisor`), so the graph's pages are shared copy-on-write rather than loaded once per
process. It never imports the build side (rdflib, pyshacl): it is a fresh interpreter the CLI
replaces itself with (``os.execv``) once the release is published — a fork inherits its parent's
modules, so this matters.

With ``--store-path`` (RocksDB must not be forked while open) or a remote store nothing is
loaded here: each web process opens its store after the fork, and its query workers, if any, are
started as before (``python -m clair_kg.sparql.worker``).

The search index is kept by the release's hash under the project's ``.clair-kg-cache/labels/``, so
a warm start opens it instead of building it again (a minute at 10^6 statements); the runtime's
other reads of the whole store at start (:class:`clair_kg.runtime.StartupReads`: seconds at 10^6)
are kept beside it in ``.clair-kg-cache/startup/``. A cold build runs
in a forked child, which reads the labels from the holder's (shared) store and exits, so the
holder does not keep the build's Python objects.
"""

from __future__ import annotations

__all__ = ["Prepared", "label_index_for", "prepare", "startup_reads_for"]

import gc
import hashlib
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyoxigraph

from .. import __version__, search
from ..errors import StoreUnavailable
from ..runtime import STARTUP_CODE, Runtime, build_runtime
from ..search import LabelIndex
from ..settings import QueryIsolation
from ..sparql.executor import GraphSource, HolderLink
from ..store import EmbeddedStore
from ..store.loading import load_files
from .handover import Handover
from .preload import Preload
from .process import Retirer

#: label indexes kept in the cache at once (each about 160 bytes per statement); the oldest go first
KEEP_INDEXES = 3


@dataclass(frozen=True)
class Prepared:
    """What the holder made once for all its web processes."""

    handover: Handover
    labels: Path
    #: seconds spent loading the store and getting the search index, and whether the index was cached
    timings: tuple[float, float, bool] = (0.0, 0.0, False)
    #: where the runtime's start-up reads of this release are kept (None: not kept)
    startup: Path | None = None
    #: the loaded in-memory store (None: each web process opens its own store after the fork)
    store: EmbeddedStore | None = None
    runtime: Runtime | None = None
    app: Any = None
    #: how a web process asks the holder for query workers ("process" isolation, in-memory store)
    link: HolderLink | None = None
    #: how a web process retires itself after a runaway query ("restart" isolation)
    retirer: Retirer | None = None


def prepare(handover: Handover, *, labels_cache: Path | None, startup_cache: Path | None = None,
            preload: Preload | None = None) -> Prepared:
    """Load the store (in memory) and build the runtime and app, or only find the label index.

    ``labels_cache`` and ``startup_cache`` are the folders the search index and the runtime's start-up
    reads are kept in by release (None: not kept); ``preload`` the load of the in-memory store
    already started (:mod:`.preload`; None: loaded here).
    """
    settings = handover.settings
    restart = settings.query_isolation is QueryIsolation.RESTART
    retirer = Retirer(os.getpid()) if restart else None  # each forked web process gets its own copy
    started = time.perf_counter()
    if settings.store_path is not None or settings.remote_query_url:
        handover = _whole_dataset(handover)
        loaded = time.perf_counter()
        labels, cached = label_index_for(handover, None, labels_cache)
        timings = (loaded - started, time.perf_counter() - loaded, cached)
        return Prepared(handover, labels, timings, startup_reads_for(handover, startup_cache), retirer=retirer)
    if preload is not None:
        store, quads, seconds = preload.result()
        started = time.perf_counter() - seconds  # the load's own time, not the imports beside it
    else:
        store = EmbeddedStore(base_iri=settings.base_iri)
        quads = store.load_served(handover.graph, handover.loads)
    if handover.loads:  # the files' statements are counted now that they are parsed
        handover = replace(handover, release=replace(handover.release, quads=quads))
    loaded = time.perf_counter()
    labels, cached = label_index_for(handover, store, labels_cache)
    timings = (loaded - started, time.perf_counter() - loaded, cached)
    link = None if restart else HolderLink()
    startup = startup_reads_for(handover, startup_cache)
    runtime = build_runtime(
        settings, store, handover.distribution, release=handover.release,
        worker_graph=GraphSource(holder=link) if link is not None else None,
        label_index=labels, startup=startup, on_overrun=retirer,
    )
    from ..web import create_app

    app = create_app(runtime)
    # Objects that exist now live as long as the holder: leave them out of every later collection,
    # so no forked process's garbage collector writes to (and so copies) the pages they are on.
    gc.collect()
    gc.freeze()
    return Prepared(handover, labels, timings, startup, store, runtime, app, link, retirer)


def _whole_dataset(handover: Handover) -> Handover:
    """``handover`` with its ``--load`` files parsed into its ``graph.nq``, for a store that is not in
    memory (on disk, remote), which each web process opens from that file after the fork.

    Parsed once here (pyoxigraph, in Rust), counted, and written back as N-Quads; the release's
    identity is unchanged (an on-disk store is marked with it, not with these bytes' hash).
    """
    if not handover.loads:
        return handover
    scratch = pyoxigraph.Store()
    load_files(scratch, handover.loads)
    scratch.bulk_load(path=str(handover.graph), format=pyoxigraph.RdfFormat.N_QUADS)
    partial = handover.graph.with_name(f".{handover.graph.name}.partial")
    scratch.dump(str(partial), format=pyoxigraph.RdfFormat.N_QUADS)
    os.replace(partial, handover.graph)
    return replace(handover, loads=(), release=replace(handover.release, quads=len(scratch)))


def startup_reads_for(handover: Handover, cache: Path | None) -> Path | None:
    """The file the runtime's start-up reads of the hand-over's release are kept in (it may not exist
    yet: the runtime writes it), named by the release, the base IRI and the code that makes them."""
    if cache is None:
        return None
    digest = hashlib.sha256(f"{__version__}\x1f{handover.release.sha256}\x1f{handover.settings.base_iri}\x1f".encode())
    for code in STARTUP_CODE:
        digest.update(code.read_bytes())
    target = cache / f"{digest.hexdigest()}.json"
    if target.is_file():
        os.utime(target)  # most recently used: kept longest
    else:
        kept = sorted(cache.glob("*.json"), key=lambda f: f.stat().st_mtime, reverse=True) if cache.is_dir() else []
        for old in kept[KEEP_INDEXES - 1:]:  # room for the one about to be written
            old.unlink(missing_ok=True)
    return target


def _index_key(handover: Handover) -> str:
    """What the label index is a function of: the served release, the base IRI and the index's code."""
    digest = hashlib.sha256(f"{__version__}\x1f{handover.release.sha256}\x1f{handover.settings.base_iri}\x1f".encode())
    digest.update(Path(search.__file__).read_bytes())
    return digest.hexdigest()


def label_index_for(handover: Handover, store: EmbeddedStore | None, cache: Path | None) -> tuple[Path, bool]:
    """The label index of the hand-over's release, and whether it was cached; else one built now (and cached).

    ``store`` is the loaded release (None: the child loads the N-Quads into a store of its own).
    Without a cache folder the index goes into the hand-over folder.
    """
    if cache is None:
        target = handover.labels
    else:
        target = cache / f"{_index_key(handover)}.sqlite"
        if target.is_file():
            os.utime(target)  # most recently used: kept longest
            return target, True
        cache.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    _build_in_child(handover, store, partial)
    os.replace(partial, target)
    if cache is not None:
        kept = sorted(cache.glob("*.sqlite"), key=lambda f: f.stat().st_mtime, reverse=True)
        for old in kept[KEEP_INDEXES:]:
            old.unlink(missing_ok=True)
    return target, False


def _build_in_child(handover: Handover, store: EmbeddedStore | None, path: Path) -> None:
    """Build the index at ``path`` in a forked child, which then exits with everything it read."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the holder stops it (SIGKILL) if it must stop
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the holder decides
            source = store
            if source is None:
                source = EmbeddedStore(base_iri=handover.settings.base_iri)
                source.load_served(handover.graph, handover.loads)
            LabelIndex.build(source, handover.settings.base_iri, path=path)
            code = 0
        except BaseException:  # noqa: BLE001 - report it; the parent raises
            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)
    try:
        _, status = os.waitpid(pid, 0)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        path.unlink(missing_ok=True)
        raise
    if os.waitstatus_to_exitcode(status) != 0 or not path.is_file():
        path.unlink(missing_ok=True)
        raise StoreUnavailable("building the search index failed (see the error above)")
