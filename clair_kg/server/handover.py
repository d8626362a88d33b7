"""The hand-over folder: what ``clair-kg serve``'s parent leaves for its web processes.

The parent parses, validates and publishes the release once, with the same code as ``clair-kg
build`` (:func:`clair_kg.release.publish_release`), and writes here:

- ``settings.json`` — the settings and the release's identity;
- ``graph.nq`` — the release's N-Quads, which every store loads;
- the ``--load`` files, named (not copied: :class:`clair_kg.store.loading.LoadSpec`) in
  ``settings.json``; the store holder parses them straight into its store;
- ``dist/`` and ``dist.publication.json`` — the published files, byte for byte what ``build``
  writes, and what each file is;
- ``labels.sqlite`` — the search index, when the store holder builds it here rather than in the
  project's cache (:func:`clair_kg.server.holder.label_index_for`); opened read-only by every web
  process.

The store holder and its web processes read this folder and nothing else: they never parse Turtle,
run SHACL or call git.
"""

from __future__ import annotations

__all__ = ["Handover", "read_handover", "write_handover"]

import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from ..publish import Distribution, read_distribution, write_distribution
from ..published import ReleaseInfo
from ..settings import Settings
from ..store.loading import LoadSpec


@dataclass(frozen=True)
class Handover:
    folder: Path
    settings: Settings
    release: ReleaseInfo
    distribution: Distribution
    #: the ``--load`` files, loaded after ``graph`` (their statements are part of ``release``)
    loads: tuple[LoadSpec, ...] = ()

    @property
    def graph(self) -> Path:
        """The release's N-Quads file to load (with ``loads``, the whole dataset once the holder has
        written it for a store that is not in memory: :func:`clair_kg.server.holder.prepare`)."""
        return self.folder / "graph.nq"

    @property
    def labels(self) -> Path:
        """The search index of the graph."""
        return self.folder / LABELS


LABELS = "labels.sqlite"


def write_handover(settings: Settings, nquads: bytes, release: ReleaseInfo, distribution: Distribution,
                   loads: tuple[LoadSpec, ...] = ()) -> Path:
    """A new folder holding everything the web processes need; the caller removes it when done.

    No store is loaded here: the store holder loads ``nquads`` and ``loads`` once, and builds or
    finds the search index from that (this process, the build side, is about to be replaced by it).
    """
    folder = Path(tempfile.mkdtemp(prefix="clair-kg-serve-"))
    (folder / "graph.nq").write_bytes(nquads)
    write_distribution(distribution, folder / "dist", manifest=True)
    meta = {"settings": settings.to_json(), "release": {**asdict(release), "graphs": list(release.graphs)},
            "loads": [spec.to_json() for spec in loads]}
    (folder / "settings.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder


def read_handover(folder: Path) -> Handover:
    meta = json.loads((folder / "settings.json").read_text(encoding="utf-8"))
    raw = meta["release"]
    release = ReleaseInfo(raw["version"], raw["sha256"], int(raw["quads"]), tuple(raw["graphs"]))
    loads = tuple(LoadSpec.from_json(raw) for raw in meta.get("loads", []))
    return Handover(folder, Settings.from_json(meta["settings"]), release, read_distribution(folder / "dist"), loads)
