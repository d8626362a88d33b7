"""Open the store the settings ask for, holding one release: in memory, on disk, or remote."""

from __future__ import annotations

__all__ = ["open_store"]

import fcntl
import hashlib
import shutil
from pathlib import Path

from ..settings import Settings
from .base import Store
from .embedded import EmbeddedStore
from .remote import RemoteStore


def open_store(settings: Settings, nquads: bytes, *, identity: str | None = None) -> Store:
    """The store ``settings`` ask for, holding ``nquads`` (the release's hand-over) and their merge.

    ``identity`` names the release ``nquads`` are (default: their hash): an on-disk store marked
    with it is opened as it is, so it is loaded once per release, whatever the bytes' blank node labels.

    A remote store is loaded only when a Graph Store Protocol URL is given (its dataset replaced, so
    several web processes starting at once leave it holding the release once); otherwise it is
    assumed to hold the release already (``clair-kg load``).
    """
    if settings.remote_query_url:
        remote = RemoteStore(
            settings.remote_query_url, data_url=settings.remote_data_url, timeout=settings.query_timeout + 1,
            base_iri=settings.base_iri,
        )
        if settings.remote_data_url:
            remote.load_nquads(nquads, replace=True)
        return remote
    if settings.store_path is not None:
        path = Path(settings.store_path)
        _ensure_disk_store(path, nquads, identity)
        return EmbeddedStore.open_read_only(path, base_iri=settings.base_iri)
    store = EmbeddedStore(base_iri=settings.base_iri)
    store.load_nquads(nquads)
    return store


def _ensure_disk_store(path: Path, nquads: bytes, identity: str | None = None) -> None:
    """Make the on-disk store at ``path`` hold exactly this release, loading it if it does not.

    A marker beside the folder names the release the store holds, so a store left by an older
    release is rebuilt rather than served under the new release's ETags. Several server processes
    start at once: a file lock lets the first load and the others wait, then open it read-only.
    """
    sha = identity or hashlib.sha256(nquads).hexdigest()
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
