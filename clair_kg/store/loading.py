"""Files a user adds to what is served (``clair-kg serve --load``), read as a Graph Store Protocol
server would read them.

``FILE`` goes into the default graph and its relative IRIs resolve against the file's own URL;
``FILE=IRI`` goes into the named graph ``IRI`` and resolves against it (SPARQL 1.1 Graph Store
Protocol §5.5: the graph IRI is the base). Every statement of the file goes there, also a quad an
N-Quads or TriG file puts in a graph of its own. Blank nodes belong to their file: ``_:a`` in two
files is two blank nodes, as it is in two documents.

The files are parsed once, by pyoxigraph (in Rust), straight into the store that serves them
(:func:`load_files`): the CLI only checks that each can be read (:func:`load_specs`) and names it
in the hand-over, and the store holder loads it. A file that does not parse stops the holder with
its name, line and column before anything is served.
"""

from __future__ import annotations

__all__ = ["ExtraGraphs", "LoadSpec", "extra_graphs", "load_files", "load_specs", "loads_digest", "served_release"]

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pyoxigraph
from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat

from ..errors import ConfigError, SourceError
from ..published import ReleaseInfo


@dataclass(frozen=True)
class LoadSpec:
    """One ``--load FILE[=IRI]``: where the file is, which graph it fills, how it is read."""

    #: the file as the user named it (messages say this)
    file: str
    #: the absolute path read
    path: Path
    #: the named graph it fills; None: the default graph
    graph: str | None
    #: what relative IRIs in the file resolve against: the graph IRI, else the file's URL
    base: str
    #: the file's format, by its extension (Turtle when the extension says nothing)
    format: RdfFormat

    @property
    def target(self) -> NamedNode | DefaultGraph:
        return NamedNode(self.graph) if self.graph is not None else DefaultGraph()

    def to_json(self) -> dict[str, str | None]:
        return {"file": self.file, "path": str(self.path), "graph": self.graph, "base": self.base,
                "format": self.format.media_type}

    @classmethod
    def from_json(cls, raw: dict[str, str | None]) -> LoadSpec:
        fmt = RdfFormat.from_media_type(str(raw["format"]))
        if fmt is None:  # written by this module: cannot happen unless the folder was edited
            raise ConfigError(f"--load {raw['file']!r}: unknown format {raw['format']!r} in the hand-over")
        graph = raw["graph"]
        return cls(str(raw["file"]), Path(str(raw["path"])), graph, str(raw["base"]), fmt)


def load_specs(specs: Sequence[str]) -> tuple[LoadSpec, ...]:
    """Each ``FILE`` / ``FILE=IRI`` of ``specs``, checked without parsing the file.

    :raises ConfigError: a graph IRI that is not an absolute IRI.
    :raises SourceError: a file that cannot be read (the message names it).
    """
    out: list[LoadSpec] = []
    for spec in specs:
        file, sep, graph = spec.partition("=")
        path = Path(file).resolve()
        base = path.as_uri()
        target: str | None = None
        if sep:
            try:
                target = NamedNode(graph).value
            except ValueError as exc:
                raise ConfigError(f"--load {spec!r}: {graph!r} is not an absolute IRI ({exc})") from exc
            base = target
        try:
            with path.open("rb") as handle:  # readable, and not a folder; parsing waits for the holder
                handle.read(1)
        except OSError as exc:
            raise SourceError(f"cannot read: {exc.strerror or exc}", file=file) from exc
        fmt = RdfFormat.from_extension(path.suffix.lstrip(".")) or RdfFormat.TURTLE
        out.append(LoadSpec(file, path, target, base, fmt))
    return tuple(out)


def loads_digest(loads: Sequence[LoadSpec]) -> bytes:
    """A hash of what the files make the served dataset: each one's graph, base, format and bytes.

    Part of the served release's identity (so of its ETags and of the caches kept by release): the
    same files give the same digest, and a change to any byte gives another.
    """
    digest = hashlib.sha256()
    for spec in loads:
        digest.update(f"{spec.graph or ''}\x1f{spec.base}\x1f{spec.format.media_type}\x1f".encode())
        with spec.path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.digest()


def served_release(release: ReleaseInfo, loads: Sequence[LoadSpec]) -> ReleaseInfo:
    """The identity of ``release`` served with ``loads`` (``release`` itself when there are none).

    Its hash covers the release and the files' bytes (:func:`loads_digest`), without parsing them;
    its ``quads`` are the release's until the store that loads the files counts them.
    """
    if not loads:
        return replace(release, graphs=tuple(sorted(set(release.graphs))))
    digest = hashlib.sha256(release.sha256.encode() + b"\x1f" + loads_digest(loads)).hexdigest()
    graphs = tuple(sorted(set(release.graphs) | {spec.graph for spec in loads if spec.graph is not None}))
    return ReleaseInfo(release.version, digest, release.quads, graphs)


def load_files(store: pyoxigraph.Store, loads: Sequence[LoadSpec]) -> None:
    """Parse every file of ``loads`` into ``store``, each into its graph (module docstring).

    pyoxigraph's ``bulk_load`` parses in Rust and gives each load its own blank nodes. It puts a
    triple into the graph it is told, but a quad of an N-Quads or TriG file into the quad's own
    graph; such a file is therefore loaded into a store holding nothing else, where every graph it
    filled other than its target is its own and is moved into the target. The first such file is
    loaded first, straight into ``store`` while that is empty; later ones go through a scratch store.

    :raises SourceError: a file that cannot be read or parsed (its name, line and column).
    """
    datasets = [spec for spec in loads if spec.format.supports_datasets]
    triples = [spec for spec in loads if not spec.format.supports_datasets]
    ordered = datasets[:1] + triples + datasets[1:]
    for spec in ordered:
        if not spec.format.supports_datasets:
            _bulk_load(store, spec)
        elif _is_empty(store):
            _bulk_load(store, spec)
            _into_target(store, spec.target)
        else:
            scratch = pyoxigraph.Store()
            _bulk_load(scratch, spec)
            _into_target(scratch, spec.target)
            store.bulk_load(scratch.dump(format=RdfFormat.N_QUADS), format=RdfFormat.N_QUADS)


def _is_empty(store: pyoxigraph.Store) -> bool:
    return next(iter(store), None) is None


def _bulk_load(store: pyoxigraph.Store, spec: LoadSpec) -> None:
    try:
        store.bulk_load(path=str(spec.path), format=spec.format, base_iri=spec.base, to_graph=spec.target)
    except SyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) else None
        raise SourceError(f"not valid {spec.format.name}: {exc.msg or exc}", file=spec.file, line=line) from exc
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}", file=spec.file) from exc
    except ValueError as exc:  # pyoxigraph: a format it cannot bulk-load
        raise SourceError(f"cannot load as {spec.format.name}: {exc}", file=spec.file) from exc


def _into_target(store: pyoxigraph.Store, target: NamedNode | DefaultGraph) -> None:
    """Move the quads of every named graph but ``target`` into ``target`` (``store`` holds one file)."""
    for graph in list(store.named_graphs()):
        if graph == target:
            continue
        quads = store.quads_for_pattern(None, None, None, graph)
        moved = [Quad(q.subject, q.predicate, q.object, target) for q in quads]
        store.remove_graph(graph)
        store.bulk_extend(moved)


@dataclass(frozen=True)
class ExtraGraphs:
    nquads: bytes
    #: the named graphs the files fill
    graphs: tuple[str, ...]
    #: statements read from the files
    statements: int


def extra_graphs(specs: Sequence[str]) -> ExtraGraphs:
    """Every ``FILE`` / ``FILE=IRI`` of ``specs`` as N-Quads, read by the rules of :func:`load_files`
    (for a store that is loaded from N-Quads: a remote one, a benchmark's peer).

    :raises ConfigError: a graph IRI that is not an absolute IRI.
    :raises SourceError: a file that cannot be read or parsed (the message names it and the line).
    """
    loads = load_specs(specs)
    scratch = pyoxigraph.Store()
    load_files(scratch, loads)
    graphs = tuple(dict.fromkeys(spec.graph for spec in loads if spec.graph is not None))
    return ExtraGraphs(scratch.dump(format=RdfFormat.N_QUADS) or b"", graphs, len(scratch))
