"""The hand-over folder: what ``clair-kg serve``'s parent leaves for its web processes.

The parent parses, validates and publishes the release once, with the same code as ``clair-kg
build`` (:func:`clair_kg.release.publish_release`), and writes here:

- ``settings.json`` — the settings and the release's identity;
- ``graph.nq`` — the N-Quads every store and query worker loads;
- ``dist/`` and ``dist.publication.json`` — the published files, byte for byte what ``build``
  writes, and what each file is;
- ``labels.sqlite`` — the search index, built once here (at 10^6 statements it takes a minute) and
  opened read-only by every web process.

A web process reads this folder and nothing else: it never parses Turtle, runs SHACL or calls git.
"""

from __future__ import annotations

__all__ = ["Handover", "read_handover", "write_handover"]

import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from ..publish import Distribution, read_distribution, write_distribution
from ..published import ReleaseInfo
from ..search import LabelIndex
from ..settings import Settings
from ..store import EmbeddedStore


@dataclass(frozen=True)
class Handover:
    folder: Path
    settings: Settings
    release: ReleaseInfo
    distribution: Distribution

    @property
    def graph(self) -> Path:
        """The N-Quads file to load."""
        return self.folder / "graph.nq"

    @property
    def labels(self) -> Path:
        """The search index of the graph."""
        return self.folder / LABELS


LABELS = "labels.sqlite"


def write_handover(settings: Settings, nquads: bytes, release: ReleaseInfo, distribution: Distribution) -> Path:
    """A new folder holding everything the web processes need; the caller removes it when done.

    The search index is built here, from a store of its own holding ``nquads`` (what every backend
    serves), which is dropped once the index is written.
    """
    folder = Path(tempfile.mkdtemp(prefix="clair-kg-serve-"))
    (folder / "graph.nq").write_bytes(nquads)
    store = EmbeddedStore(base_iri=settings.base_iri)
    store.load_nquads(nquads)
    LabelIndex.build(store, settings.base_iri, path=folder / LABELS)
    del store
    write_distribution(distribution, folder / "dist", manifest=True)
    meta = {"settings": settings.to_json(), "release": {**asdict(release), "graphs": list(release.graphs)}}
    (folder / "settings.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder


def read_handover(folder: Path) -> Handover:
    meta = json.loads((folder / "settings.json").read_text(encoding="utf-8"))
    raw = meta["release"]
    release = ReleaseInfo(raw["version"], raw["sha256"], int(raw["quads"]), tuple(raw["graphs"]))
    return Handover(folder, Settings.from_json(meta["settings"]), release, read_distribution(folder / "dist"))
