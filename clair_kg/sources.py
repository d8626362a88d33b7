"""Read the curated sources into one RDF dataset: one named graph per source.

``ontology/*.ttl`` becomes the graph ``{base}graph/ontology``, ``ontology/shapes/*.ttl`` the graph
``{base}graph/shapes``, and every file under ``data/<source>/`` the graph ``{base}graph/<source>``:
a source is a folder, so a source may be split over several files and every statement still says
which source it comes from. The handover to the store is N-Quads (:meth:`SourceSet.to_nquads`),
sorted so that the same sources always give the same bytes.
"""

from __future__ import annotations

__all__ = ["Location", "SourceFile", "SourceSet", "StatementIndex", "load_sources", "locate_statements"]

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import urljoin

import pyoxigraph
from rdflib import Dataset, Graph, URIRef
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.term import Node

from .canonical import canonical_blank_nodes
from .errors import SourceError
from .namespaces import RDF_TYPE
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
    #: where each statement is written (file and line), so a finding can name the line to edit
    statements: StatementIndex = field(compare=False, default_factory=lambda: StatementIndex())

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
    index = StatementIndex()
    for source in files:
        rel = _relative(project, source.path)
        parsed = parse_turtle_file(source.path, display_name=rel)
        index.add_file(rel, source.path.read_text(encoding="utf-8"))
        target = dataset.graph(URIRef(source.graph))
        for s, p, o in parsed:
            target.add((s, p, o))
            _note_subject(subject_files, s, rel)
    return SourceSet(
        project=project,
        files=tuple(files),
        dataset=dataset,
        subject_files={k: tuple(sorted(v)) for k, v in subject_files.items()},
        statements=index,
    )


def _note_subject(index: dict[str, set[str]], subject: Node, file: str) -> None:
    if isinstance(subject, URIRef):
        index.setdefault(str(subject), set()).add(file)


# --- where statements are written ----------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    """A place in a source file (``file`` relative to the project root, ``line`` 1-based)."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


_TTL_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\n]+|\#[^\n]*)
  | (?P<long>\"\"\"(?:[^\"\\]|\\.|\"(?!\"\"))*\"\"\"|'\'\'(?:[^'\\]|\\.|'(?!''))*'\'\')
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<dt>\^\^)
  | (?P<bnode>_:[^\s;,.\])]+)
  | (?P<number>[+-]?(?:[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+))
  | (?P<pname>[^\s;,\[\]()"'<>#]*:[^\s;,\[\]()"'<>#]*?(?=[\s;,\[\]()#]|\.(?:\s|$)|$)|[A-Za-z][A-Za-z0-9_-]*)
  | (?P<punct>[.;,\[\]()])
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _resolve(base: str, iri: str) -> str:
    """``iri`` resolved against ``base`` (an absolute IRI is returned as written, ``#`` and all)."""
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", iri) or not base:
        return iri
    return urljoin(base, iri) + ("#" if iri.endswith("#") else "")


def _unescape(body: str) -> str:
    return re.sub(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)",
                  lambda m: chr(int(m.group(1)[1:], 16)) if m.group(1)[0] in "uU" and len(m.group(1)) > 1
                  else _ESCAPES.get(m.group(1), m.group(1)), body)


class StatementIndex:
    """File and line of each statement in the curated Turtle, read from the text itself.

    rdflib keeps no positions, so each file is scanned once with a small Turtle lexer: subjects,
    predicates and objects are followed through ``;``, ``,``, ``.`` and ``[ … ]``, prefixed names
    are expanded with the file's own ``@prefix`` lines, and each object's line is recorded under
    (subject, predicate). Literal objects are kept by their lexical form, IRIs in full.
    """

    def __init__(self) -> None:
        #: (subject, predicate) -> [(object, location)] in file order
        self.objects: dict[tuple[str, str], list[tuple[str, Location]]] = {}
        #: subject -> where each block about it begins, in file order
        self.blocks: dict[str, list[Location]] = {}
        #: IRI -> where it is first used as an object
        self.mentions: dict[str, Location] = {}

    def add_file(self, name: str, text: str) -> None:
        prefixes: dict[str, str] = {"": ""}
        base = ""
        tokens: list[tuple[str, str, int]] = []
        line = 1
        for match in _TTL_TOKEN.finditer(text):
            kind, value = match.lastgroup or "", match.group()
            if kind != "ws":
                tokens.append((kind, value, line))
            line += value.count("\n")
        subjects: list[str | None] = []  # a stack: [ … ] opens an anonymous subject
        predicates: list[str | None] = []
        index = 0
        while index < len(tokens):
            kind, value, at = tokens[index]
            index += 1
            if kind == "lang" and value in ("@prefix", "@base") or kind == "pname" and value.upper() in (
                    "PREFIX", "BASE"):
                if value.lower().endswith("prefix") and index + 1 < len(tokens):
                    prefixes[tokens[index][1].rstrip(":")] = _resolve(base, tokens[index + 1][1][1:-1])
                    index += 2
                elif index < len(tokens):
                    base = _resolve(base, tokens[index][1][1:-1])
                    index += 1
                if index < len(tokens) and tokens[index][1] == ".":
                    index += 1
                continue
            if kind == "punct":
                if value == "[":
                    subjects.append(None)
                    predicates.append(None)
                elif value == "]" and len(subjects) > 1:
                    subjects.pop()
                    predicates.pop()
                elif value == ";" and predicates:
                    predicates[-1] = None
                elif value == "." and len(subjects) <= 1:
                    subjects, predicates = [], []
                continue
            if kind in ("lang", "dt"):
                if kind == "dt":
                    index += 1  # the datatype belongs to the literal just recorded
                continue
            term = self._term(kind, value, prefixes)
            if kind == "iri" and term is not None:
                term = _resolve(base, term)
            if not subjects:
                subjects, predicates = [term], [None]
                if term is not None:
                    self.blocks.setdefault(term, []).append(Location(name, at))
            elif predicates[-1] is None:
                predicates[-1] = RDF_TYPE if value == "a" and kind == "pname" else term
            else:
                subject, predicate = subjects[-1], predicates[-1]
                if subject is not None and predicate is not None and term is not None:
                    self.objects.setdefault((subject, predicate), []).append((term, Location(name, at)))
                if kind == "iri" or (kind == "pname" and term is not None and ":" in value):
                    self.mentions.setdefault(term or "", Location(name, at))

    @staticmethod
    def _term(kind: str, value: str, prefixes: dict[str, str]) -> str | None:
        if kind == "iri":
            return value[1:-1]
        if kind == "pname" and ":" in value:
            prefix, _, local = value.partition(":")
            return prefixes[prefix] + re.sub(r"\\(.)", r"\1", local) if prefix in prefixes else None
        if kind == "long":
            return _unescape(value[3:-3])
        if kind == "string":
            return _unescape(value[1:-1])
        return value  # numbers, true/false

    def statement(self, subject: str, predicate: str, value: str | None = None) -> Location | None:
        """Where ``subject predicate value`` is written (any value when ``value`` is None)."""
        found = self.objects.get((subject, predicate), [])
        for obj, where in found:
            if value is None or obj == value:
                return where
        return None

    def block(self, subject: str) -> Location | None:
        """Where the block about ``subject`` begins: in the file that gives its rdf:type if any."""
        typed = self.statement(subject, RDF_TYPE)
        blocks = self.blocks.get(subject, [])
        if typed is not None:
            return max((b for b in blocks if b.file == typed.file and b.line <= typed.line),
                       key=lambda b: b.line, default=typed)
        return blocks[0] if blocks else self.mentions.get(subject)


def locate_statements(name: str, text: str) -> StatementIndex:
    """The statement index of one Turtle text (for tests and tools)."""
    index = StatementIndex()
    index.add_file(name, text)
    return index
