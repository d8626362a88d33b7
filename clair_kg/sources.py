"""Read the curated sources into one RDF dataset: one named graph per source.

``ontology/*.ttl`` becomes the graph ``{base}graph/ontology``, ``ontology/shapes/*.ttl`` the graph
``{base}graph/shapes``, and every file under ``data/<source>/`` the graph ``{base}graph/<source>``:
a source is a folder, so a source may be split over several files and every statement still says
which source it comes from. The handover to the store is N-Quads (:meth:`SourceSet.to_nquads`),
sorted so that the same sources always give the same bytes.

Files are parsed with pyoxigraph (a million statements in seconds, where rdflib takes minutes and
gigabytes) and its statements are written as rdflib would have read them: typed literals get
rdflib's normal form (``"01"^^xsd:integer`` is ``"1"``), so the release's bytes do not depend on the
parser. A file pyoxigraph refuses is handed to rdflib, whose verdict stands: its error (file and
line) as before, or the statements it accepts. rdflib graphs are made only for what needs them
(pyshacl): from the parsed statements, in bulk, sharing one object per term.
"""

from __future__ import annotations

__all__ = [
    "Location",
    "SourceFile",
    "SourceSet",
    "StatementIndex",
    "load_sources",
    "locate_statements",
    "rdflib_graph",
]

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from urllib.parse import urljoin

import pyoxigraph
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.term import Node

from .canonical import canonical_blank_nodes
from .errors import SourceError
from .namespaces import RDF_TYPE
from .project import Project

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


@dataclass(frozen=True)
class SourceFile:
    path: Path
    graph: str  # IRI of the named graph the file's triples go into


@dataclass(frozen=True)
class SourceSet:
    """All source files of a project, parsed: the dataset as sorted N-Quads, blank nodes labelled
    by content (:mod:`clair_kg.canonical`), so a statement has the same text in every run."""

    project: Project
    files: tuple[SourceFile, ...]
    nquads: bytes

    @property
    def graph_iris(self) -> tuple[str, ...]:
        return tuple(sorted({f.graph for f in self.files}))

    def to_nquads(self) -> bytes:
        """The whole dataset as sorted N-Quads (deterministic: same sources, same bytes)."""
        return self.nquads

    @cached_property
    def store(self) -> pyoxigraph.Store:
        """The dataset in an in-memory pyoxigraph store (check queries, scoping a validation)."""
        store = pyoxigraph.Store()
        store.bulk_load(self.nquads, format=pyoxigraph.RdfFormat.N_QUADS)
        return store

    @cached_property
    def statements(self) -> StatementIndex:
        """Where each statement is written (file and line), so a finding can name the line to edit.

        Read from the files' text only when asked: a graph that conforms needs no locations."""
        return self.locations(None)

    def locations(self, nodes: set[str] | None) -> StatementIndex:
        """The statement index of the files that can mention ``nodes`` (IRIs; None: every file).

        Reading a million statements' worth of Turtle takes a minute, and a few findings need only
        the files that mention their nodes. Every way Turtle can write an IRI — in full, relative to
        a base, as a prefixed name — contains the IRI's last segment, so a file without that text
        (and without a backslash, which a prefixed name may escape a character with) states nothing
        about the node, and its index would add nothing to the node's locations."""
        tails = None if nodes is None else {_last_segment(n) for n in nodes if n}
        index = StatementIndex()
        for source in self.files:
            text = source.path.read_text(encoding="utf-8")
            if tails is None or "" in tails or "\\" in text or any(t in text for t in tails):
                index.add_file(_relative(self.project, source.path), text)
        return index

    def graph(self, iri: str) -> Graph:
        """One source graph as an rdflib graph."""
        return rdflib_graph(q.triple for q in self.store.quads_for_pattern(None, None, None, pyoxigraph.NamedNode(iri)))

    @property
    def data_graph_iris(self) -> tuple[str, ...]:
        shapes = self.project.graph_iri("shapes")
        return tuple(iri for iri in self.graph_iris if iri != shapes)

    def data_graph(self) -> Graph:
        """Every source graph except the shapes, merged: what SHACL validates."""
        graphs = self.data_graph_iris
        return rdflib_graph(
            q.triple for iri in graphs
            for q in self.store.quads_for_pattern(None, None, None, pyoxigraph.NamedNode(iri))
        )

    def file_digests(self) -> dict[str, str]:
        """Each source file (relative to the project root) and the SHA-256 of its bytes."""
        return {_relative(self.project, f.path): hashlib.sha256(f.path.read_bytes()).hexdigest() for f in self.files}


def _last_segment(iri: str) -> str:
    """The text after an IRI's last ``/``, ``#`` or ``:`` ("" for none: a blank node is found anywhere)."""
    tail = re.split(r"[/#:]", iri)[-1]
    return tail if "://" in iri or iri.startswith("urn:") else ""


def rdflib_graph(triples: Iterable[pyoxigraph.Triple]) -> Graph:
    """An rdflib graph of ``triples`` (pyoxigraph terms), made in bulk with one object per term."""
    terms: dict[object, Node] = {}

    def term(t: object) -> Node:
        found = terms.get(t)
        if found is None:
            found = terms[t] = _rdflib_term(t)
        return found

    graph = Graph()
    graph.addN((term(t.subject), term(t.predicate), term(t.object), graph) for t in triples)
    return graph


def _rdflib_term(t: object) -> Node:
    if isinstance(t, pyoxigraph.NamedNode):
        return URIRef(t.value)
    if isinstance(t, pyoxigraph.BlankNode):
        return BNode(t.value)
    if isinstance(t, pyoxigraph.Literal):
        if t.language:
            return Literal(t.value, lang=t.language)
        datatype = t.datatype.value
        # rdflib reads an untyped literal as one without a datatype (pyshacl treats it as xsd:string)
        return Literal(t.value) if datatype == _XSD_STRING else Literal(t.value, datatype=URIRef(datatype))
    raise SourceError(f"unsupported RDF term in the sources: {t!r}", file="(a parsed source)")


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


@lru_cache(maxsize=65536)
def _rdflib_lexical(lexical: str, datatype: str) -> str:
    """The lexical form rdflib gives a typed literal (it normalises known XSD types)."""
    return str(Literal(lexical, datatype=URIRef(datatype)))


def _as_rdflib_reads(term: pyoxigraph.Literal) -> pyoxigraph.Literal:
    datatype = term.datatype.value
    if term.language or datatype in (_XSD_STRING, _LANG_STRING):
        return term
    lexical = _rdflib_lexical(term.value, datatype)
    return term if lexical == term.value else pyoxigraph.Literal(lexical, datatype=term.datatype)


def _parse_file(source: SourceFile, display_name: str) -> list[pyoxigraph.Quad]:
    """The statements of one Turtle file in its source's graph (blank nodes unique to this parse)."""
    graph = pyoxigraph.NamedNode(source.graph)
    try:
        triples: list[pyoxigraph.Triple] = [
            q.triple for q in pyoxigraph.parse(path=source.path, format=pyoxigraph.RdfFormat.TURTLE,
                                               base_iri=source.path.absolute().as_uri(), rename_blank_nodes=True)
        ]
    except (SyntaxError, ValueError, OSError):
        # rdflib decides what a file pyoxigraph refuses means: its error (file and line), or its triples
        text = parse_turtle_file(source.path, display_name=display_name).serialize(format="nt", encoding="utf-8")
        triples = list(pyoxigraph.parse(text, format=pyoxigraph.RdfFormat.N_TRIPLES, rename_blank_nodes=True))
    quads = []
    for t in triples:
        obj = t.object
        if isinstance(obj, pyoxigraph.Literal):
            obj = _as_rdflib_reads(obj)
        quads.append(pyoxigraph.Quad(t.subject, t.predicate, obj, graph))
    return quads


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
    lines: set[str] = set()
    with_blanks: list[pyoxigraph.Quad] = []
    for source in files:
        plain: list[pyoxigraph.Quad] = []
        for quad in _parse_file(source, _relative(project, source.path)):
            blank = isinstance(quad.subject, pyoxigraph.BlankNode) or isinstance(quad.object, pyoxigraph.BlankNode)
            (with_blanks if blank else plain).append(quad)
        lines.update(_nquad_lines(plain))
    # rdflib and pyoxigraph label blank nodes at random; content-derived labels make the bytes
    # reproducible. A blank node's label depends only on the statements that mention it.
    lines.update(_nquad_lines(canonical_blank_nodes(with_blanks)))
    lines.discard("")
    nquads = "".join(line + "\n" for line in sorted(lines)).encode("utf-8")
    return SourceSet(project=project, files=tuple(files), nquads=nquads)


def _nquad_lines(quads: list[pyoxigraph.Quad]) -> list[str]:
    if not quads:
        return []
    return (pyoxigraph.serialize(quads, format=pyoxigraph.RdfFormat.N_QUADS) or b"").decode("utf-8").split("\n")


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
