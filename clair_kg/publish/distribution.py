"""The files of a release: dumps in six RDF formats (plus gzip), ``void.ttl``, the validation report
and ``SHA256SUMS``, built in memory and written atomically.

The triple formats (Turtle, N-Triples, RDF/XML) hold the union of the named graphs, each distinct
triple once; the dataset formats (TriG, N-Quads, JSON-LD) keep every named graph, so a client can see
which source says what. ``SHA256SUMS`` is in the format ``sha256sum -c`` checks.
"""

from __future__ import annotations

__all__ = [
    "DUMP_FORMATS",
    "DistFile",
    "Distribution",
    "build_distribution",
    "release_distribution",
    "quads_from_nquads",
    "read_distribution",
    "write_distribution",
]

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pyoxigraph import Quad, RdfFormat, Triple, parse

from ..formats import DATASET_MEDIA_TYPES, MEDIA_EXTENSIONS
from ..project import Project
from ..published import DatasetMetadata, ReleaseInfo, metadata_from_json, metadata_to_json
from .metadata import dataset_metadata
from .rdfio import canonical_blank_nodes, deterministic_gzip, jsonld_context, serialize_dataset, serialize_graph
from .void import FileEntry, void_triples

DUMP_NAME = "clair-kg"
#: extension -> media type of the dumps, in the order they are listed
DUMP_FORMATS: dict[str, str] = {
    MEDIA_EXTENSIONS[m]: m
    for m in ("text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml",
              "application/trig", "application/n-quads")
}
#: beside the files of a distribution written for the server: what each file is, and the metadata
MANIFEST = "publication.json"


@dataclass(frozen=True)
class DistFile:
    """One file of a release: its bytes as built, or (read back for a server) where they are on disk.

    A web process serves a file from disk rather than holding it: at 10^6 statements the dumps are
    hundreds of MB, and every web process would otherwise keep its own copy.
    """

    name: str
    media_type: str
    content: bytes | Path
    compressed: bool = False
    #: the SHA-256 read from the manifest, for a file on disk (not hashed again at each start)
    digest: str | None = None

    @property
    def data(self) -> bytes:
        return self.content if isinstance(self.content, bytes) else self.content.read_bytes()

    @property
    def path(self) -> Path | None:
        """Where the file is, when it is served from disk."""
        return self.content if isinstance(self.content, Path) else None

    @cached_property
    def sha256(self) -> str:
        if self.digest is not None:
            return self.digest
        if isinstance(self.content, Path):
            with self.content.open("rb") as handle:
                return hashlib.file_digest(handle, "sha256").hexdigest()
        return hashlib.sha256(self.content).hexdigest()

    @property
    def size(self) -> int:
        return len(self.content) if isinstance(self.content, bytes) else self.content.stat().st_size

    def entry(self) -> FileEntry:
        return FileEntry(self.name, self.media_type, self.size, self.sha256, self.compressed)


@dataclass(frozen=True)
class Distribution:
    metadata: DatasetMetadata
    files: tuple[DistFile, ...]
    void: tuple[Triple, ...]  # the VoID/DCAT description (also in void.ttl)

    def get(self, name: str) -> DistFile | None:
        for f in self.files:
            if f.name == name:
                return f
        return None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.files)


def quads_from_nquads(data: bytes) -> list[Quad]:
    """Parse N-Quads (the release hand-over format) into quads."""
    return list(parse(data, format=RdfFormat.N_QUADS))


def release_distribution(
    quads: Sequence[Quad],
    project: Project,
    release: ReleaseInfo,
    *,
    issued: str,
    reports: dict[str, tuple[str, bytes]] | None = None,
) -> Distribution:
    """:func:`build_distribution` for a release: its version and hash, dated ``issued``."""
    return build_distribution(
        quads, project, version=release.version, issued=issued, sha256=release.sha256, reports=reports,
    )


def build_distribution(
    quads: Sequence[Quad],
    project: Project,
    *,
    version: str,
    issued: str,
    sha256: str,
    reports: dict[str, tuple[str, bytes]] | None = None,
) -> Distribution:
    """Every file of the release, in memory. ``reports`` maps file name -> (media type, bytes)."""
    canonical = canonical_blank_nodes(list(quads))
    meta = dataset_metadata(canonical, project, version=version, issued=issued, sha256=sha256)
    triples = [q.triple for q in canonical]
    context = jsonld_context()
    files: list[DistFile] = []
    for ext, media in DUMP_FORMATS.items():
        if media in DATASET_MEDIA_TYPES:
            data = serialize_dataset(canonical, media, context_ref=context)
        else:
            data = serialize_graph(triples, media)
        name = f"{DUMP_NAME}.{ext}"
        files.append(DistFile(name, media, data))
        files.append(DistFile(f"{name}.gz", media, deterministic_gzip(data), compressed=True))
    void = tuple(void_triples(meta, [f.entry() for f in files]))
    void_ttl = serialize_graph(void, "text/turtle")
    files.append(DistFile("void.ttl", "text/turtle", void_ttl))
    for name, (media, data) in sorted((reports or {}).items()):
        files.append(DistFile(name, media, data))
    sums = "".join(f"{f.sha256}  {f.name}\n" for f in sorted(files, key=lambda f: f.name))
    files.append(DistFile("SHA256SUMS", "text/plain", sums.encode("ascii")))
    return Distribution(metadata=meta, files=tuple(files), void=void)


def write_distribution(dist: Distribution, out: Path, *, manifest: bool = False) -> None:
    """Write every file into ``out``, atomically: a temporary folder next to it is renamed into place.

    Until the final rename ``out`` keeps its old content; a failure leaves it untouched. With
    ``manifest`` (the server's hand-over) a :data:`MANIFEST` beside the files says what each is and
    holds the dataset metadata, so :func:`read_distribution` needs no RDF parsing to serve them.
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        for f in dist.files:
            with open(tmp / f.name, "wb") as handle:
                if f.path is not None:
                    with f.path.open("rb") as src:
                        shutil.copyfileobj(src, handle)
                else:
                    handle.write(f.data)
                handle.flush()
                os.fsync(handle.fileno())
        if manifest:
            entries = [{"name": f.name, "media_type": f.media_type, "compressed": f.compressed, "sha256": f.sha256}
                       for f in dist.files]
            body = {"metadata": metadata_to_json(dist.metadata), "files": entries}
            (tmp.parent / f"{out.name}.{MANIFEST}").write_text(json.dumps(body), encoding="utf-8")
        os.chmod(tmp, 0o755)  # noqa: S103 - a published folder is world-readable, as dist/ would be
        old: Path | None = None
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            if old.exists():
                shutil.rmtree(old)
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def read_distribution(folder: Path) -> Distribution:
    """The distribution :func:`write_distribution` wrote with ``manifest=True`` into ``folder``.

    The files stay on disk (each :class:`DistFile` names its path); only ``void.ttl`` is read, to parse it.
    """
    folder = folder.resolve()
    body = json.loads((folder.parent / f"{folder.name}.{MANIFEST}").read_text(encoding="utf-8"))
    files = tuple(
        DistFile(e["name"], e["media_type"], folder / e["name"], bool(e["compressed"]), digest=e["sha256"])
        for e in body["files"]
    )
    void = next(f for f in files if f.name == "void.ttl")
    triples = tuple(q.triple for q in parse(void.data, format=RdfFormat.TURTLE))
    return Distribution(metadata=metadata_from_json(body["metadata"]), files=files, void=triples)
