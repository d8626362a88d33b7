"""Read the curated sources into one RDF dataset: one named graph per source.

``ontology/*.ttl`` becomes the graph ``{base}graph/ontology``, ``ontology/shapes/*.ttl`` the graph
``{base}graph/shapes``, and every file under ``data/<source>/`` the graph ``{base}graph/<source>``:
a source is a folder, so a source may be split over several files and every statement still says
which source it comes from. The handover to the store is N-Quads (:meth:`SourceSet.to_nquads`),
sorted so that the same sources always give the same bytes.
"""

from __future__ import annotations

__all__ = ["SourceFile", "SourceSet", "load_sources"]

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pyoxigraph
from rdflib import Dataset, Graph, URIRef
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.term import Node

from .canonical import canonical_blank_nodes
from .errors import SourceError
from .project import Project


@dataclass(frozen=True)
class SourceFile:
    path: Path
    graph: str  # IRI of the named graph the file's triples go into


@dataclass(frozen=True)
class SourceSet:
    """All source files of a project, parsed."""

    project: Project
    files: tuple[SourceFile, ...]
    dataset: Dataset = field(compare=False)
    #: subject IRI -> the files (relative to the project root) that state something about it,
    #: so a validation finding can name the file a maintainer has to open.
    subject_files: dict[str, tuple[str, ...]] = field(compare=False)

    def graph(self, iri: str) -> Graph:
        return self.dataset.graph(URIRef(iri))

    @property
    def graph_iris(self) -> tuple[str, ...]:
        return tuple(sorted({f.graph for f in self.files}))

    def data_graph(self) -> Graph:
        """Every source graph except the shapes, merged: what SHACL validates."""
        merged = Graph()
        shapes = self.project.graph_iri("shapes")
        for iri in self.graph_iris:
            if iri != shapes:
                for triple in self.graph(iri):
                    merged.add(triple)
        return merged

    def to_nquads(self) -> bytes:
        """The whole dataset as sorted N-Quads (deterministic: same sources, same bytes).

        Computed once: validation (check queries) and the release both need it.
        """
        return self._nquads

    @cached_property
    def _nquads(self) -> bytes:
        quads: list[pyoxigraph.Quad] = []
        for iri in self.graph_iris:
            graph = pyoxigraph.NamedNode(iri)
            text = self.graph(iri).serialize(format="nt", encoding="utf-8")
            for parsed in pyoxigraph.parse(text, format=pyoxigraph.RdfFormat.N_TRIPLES):
                quads.append(pyoxigraph.Quad(parsed.subject, parsed.predicate, parsed.object, graph))
        # rdflib labels blank nodes at random; content-derived labels make the bytes reproducible.
        body = pyoxigraph.serialize(canonical_blank_nodes(quads), format=pyoxigraph.RdfFormat.N_QUADS) or b""
        lines = sorted(set(body.decode("utf-8").splitlines()))
        return "".join(line + "\n" for line in lines if line).encode("utf-8")


def _discover(project: Project) -> list[SourceFile]:
    found: list[SourceFile] = []
    for path in sorted(project.ontology_dir.glob("*.ttl")):
        found.append(SourceFile(path, project.graph_iri("ontology")))
    for path in sorted(project.shapes_dir.glob("*.ttl")):
        found.append(SourceFile(path, project.graph_iri("shapes")))
    if project.data_dir.is_dir():
        for source_dir in sorted(p for p in project.data_dir.iterdir() if p.is_dir()):
            for path in sorted(source_dir.rglob("*.ttl")):
                found.append(SourceFile(path, project.graph_iri(source_dir.name)))
    return found


def parse_turtle_file(path: Path, *, display_name: str | None = None) -> Graph:
    """Parse one Turtle file; a syntax error becomes a :class:`SourceError` naming file and line."""
    name = display_name or str(path)
    graph = Graph()
    try:
        graph.parse(path, format="turtle")
    except BadSyntax as exc:
        reason = getattr(exc, "_why", None) or str(exc)
        raise SourceError(f"Turtle syntax error: {reason}", file=name, line=exc.lines + 1) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read file: {exc}", file=name) from exc
    except Exception as exc:  # rdflib raises plain Exceptions for some term errors (bad IRIs, ...)
        raise SourceError(f"cannot parse Turtle: {exc}", file=name) from exc
    return graph


def _relative(project: Project, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(project.root.resolve()))
    except ValueError:
        return str(path)


def load_sources(project: Project, *, extra: Iterable[SourceFile] = ()) -> SourceSet:
    """Parse every source file of ``project`` (plus ``extra`` files) into one dataset.

    :raises SourceError: a file cannot be read or is not valid Turtle (the message names the file
        and the line).
    """
    files = _discover(project) + list(extra)
    if not files:
        raise SourceError("no Turtle sources found (expected ontology/ and data/<source>/)",
                          file=str(project.root))
    dataset = Dataset()
    subject_files: dict[str, set[str]] = {}
    for source in files:
        rel = _relative(project, source.path)
        parsed = parse_turtle_file(source.path, display_name=rel)
        target = dataset.graph(URIRef(source.graph))
        for s, p, o in parsed:
            target.add((s, p, o))
            _note_subject(subject_files, s, rel)
    return SourceSet(
        project=project,
        files=tuple(files),
        dataset=dataset,
        subject_files={k: tuple(sorted(v)) for k, v in subject_files.items()},
    )


def _note_subject(index: dict[str, set[str]], subject: Node, file: str) -> None:
    if isinstance(subject, URIRef):
        index.setdefault(str(subject), set()).add(file)
