"""Validate a project's data: SHACL shapes (pyshacl) and check queries (``queries/checks/*.rq``).

Shapes catch what a single entity gets wrong; a check query states a rule over the whole graph
(for example "every ``owl:sameAs`` to Wikidata is a verified QID") and fails the build for every row
it returns. The result is a :class:`ValidationReport` a maintainer can act on: each finding names
the entity, the property, the message, and the file and line to edit — the offending statement, or
for a missing statement the line where the entity's block begins in the file that gives its type.
A problem that a shape and a check query both catch is one finding, and a shape is named by its
``sh:name`` or IRI (a property shape by its node shape and path), never by a blank-node id.

:func:`validate_scoped` can take the last validation of the same shapes and ontology and check
again only the focus nodes the changed statements can affect (:mod:`clair_kg.validate_scope` says
which, and why that gives the findings a whole-graph run gives); the check queries always run over
the whole graph.
"""

from __future__ import annotations

__all__ = [
    "Finding",
    "ShaclResult",
    "Validation",
    "ValidationReport",
    "report_to_json",
    "report_to_text",
    "report_to_turtle",
    "shacl_results",
    "validate_files",
    "validate_scoped",
    "validate_sources",
]

import json
import logging
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import pyoxigraph
from pyshacl import validate as shacl_validate
from rdflib import RDF, SH, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from . import shacl
from .errors import SourceError
from .namespaces import PREFIXES, RDF_TYPE, RDFS_LABEL
from .project import Project
from .queryfile import read_query_file
from .sources import Location, SourceFile, SourceSet, StatementIndex, load_sources
from .validate_scope import Scope, nodes, scope, shapes_reach, sparql_targets, term_key

CHECK = Namespace("https://w3id.org/clair-kg/checks#")
_log = logging.getLogger(__name__)

#: the engines :func:`validate_scoped` can run, as :attr:`Validation.engine` names them
ENGINE_FAST = "clair_kg.shacl"
ENGINE_PYSHACL = "pyshacl"


@dataclass(frozen=True)
class Finding:
    focus_node: str
    path: str | None
    message: str
    severity: str  # "Violation", "Warning" or "Info"
    source_shape: str  # the shape (sh:name or IRI), or the check query's file name; "; "-joined when both
    file: str | None  # the file to edit (relative to the project root)
    value: str | None = None
    line: int | None = None  # the line in ``file``

    @property
    def where(self) -> str:
        if self.file is None:
            return "(no source file)"
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass(frozen=True)
class ValidationReport:
    conforms: bool
    findings: tuple[Finding, ...]
    triples: int
    checks_run: int

    @property
    def violations(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "Violation")


def _short(node: Node | None) -> str | None:
    if node is None:
        return None
    return str(node)


#: the property a check query is about when its rows do not name one (so its finding and the
#: shape's finding for the same missing statement are recognised as one problem)
_CHECK_PROPERTY = {
    "entity-without-english-label.rq": RDFS_LABEL,
    "entity-without-type.rq": RDF_TYPE,
}


def _compact(iri: str) -> str:
    for prefix, namespace in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if iri.startswith(namespace) and iri != namespace:
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


def shape_name(shapes: Graph, shape: Node | None) -> str:
    """A shape as a person can find it: its sh:name, its IRI, or (a blank node) the named shape
    it belongs to and the path it constrains, e.g. ``…/shapes#EntityShape, property rdfs:label``."""
    if shape is None:
        return ""
    name = shapes.value(shape, SH.name)
    if name is not None:
        return str(name)
    if not isinstance(shape, BNode):
        return str(shape)
    path = shapes.value(shape, SH.path)
    node: Node = shape
    for _ in range(32):  # climb sh:property / sh:or / sh:qualifiedValueShape … up to a named shape
        parents = sorted(shapes.subjects(None, node), key=str)
        if not parents:
            break
        node = parents[0]
        if not isinstance(node, BNode):
            break
    owner = str(shapes.value(node, SH.name) or node) if not isinstance(node, BNode) else "a shape"
    return f"{owner}, property {_compact(str(path))}" if isinstance(path, URIRef) else owner


def _located(index: StatementIndex, focus: str, path: str | None, value: str | None) -> Location | None:
    """The offending statement, or for a missing one where the entity's block begins."""
    if path is not None and value is not None:
        found = index.statement(focus, path, value)
        if found is not None:
            return found
    return index.block(focus)


@dataclass(frozen=True)
class ShaclResult:
    """One pyshacl result as a finding not yet located in a file, under its focus node's key
    (:func:`~clair_kg.validate_scope.term_key`), so a later run can tell which to check again."""

    focus_key: str
    finding: Finding


_PATH_SUFFIX: dict[Node, str] = {SH.zeroOrMorePath: "*", SH.oneOrMorePath: "+", SH.zeroOrOnePath: "?"}


def _path_text(graph: Graph, path: Node | None) -> str | None:
    """A result's path: a property's IRI, or a complex path in SPARQL's syntax (``^<…org#organization>``)
    — not the blank node pyshacl writes it as, whose label changes from run to run."""
    if path is None or isinstance(path, URIRef):
        return _short(path)
    return _path_syntax(graph, path, 0)


def _path_syntax(graph: Graph, path: Node, depth: int) -> str:
    if isinstance(path, URIRef) or depth > 16:
        return f"<{path}>"
    if (path, RDF.first, None) in graph:
        return "(" + "/".join(_path_syntax(graph, p, depth + 1) for p in Collection(graph, path)) + ")"
    for p, o in graph.predicate_objects(path):
        if p == SH.inversePath:
            return "^" + _path_syntax(graph, o, depth + 1)
        if p == SH.alternativePath:
            return "(" + "|".join(_path_syntax(graph, m, depth + 1) for m in Collection(graph, o)) + ")"
        suffix = _PATH_SUFFIX.get(p) if isinstance(p, URIRef) else None
        if suffix is not None:
            return _path_syntax(graph, o, depth + 1) + suffix
    return str(path)


def _shacl_results(results: Graph, shapes: Graph) -> list[ShaclResult]:
    found: list[ShaclResult] = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus = results.value(result, SH.focusNode)
        severity = results.value(result, SH.resultSeverity)
        messages = sorted(str(m) for m in results.objects(result, SH.resultMessage))
        finding = Finding(
            focus_node=str(focus) if focus is not None else "",
            path=_path_text(results, results.value(result, SH.resultPath)),
            message="; ".join(messages) or "constraint violated (the shape gives no sh:message)",
            severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
            source_shape=shape_name(shapes, results.value(result, SH.sourceShape)),
            file=None,
            value=_short(results.value(result, SH.value)),
        )
        found.append(ShaclResult(term_key(focus) if focus is not None else "", finding))
    return found


def _locate(finding: Finding, index: StatementIndex) -> Finding:
    where = _located(index, finding.focus_node, finding.path, finding.value)
    return replace(finding, file=where.file if where else None, line=where.line if where else None)


def _term_value(term: Any) -> str:
    return str(term.value) if term is not None and hasattr(term, "value") else str(term)


def _check_findings(sources: SourceSet, checks_dir: Path) -> tuple[list[Finding], int]:
    files = sorted(checks_dir.glob("*.rq")) if checks_dir.is_dir() else []
    if not files:
        return [], 0
    store = sources.store
    findings: list[Finding] = []
    for path in files:
        query = read_query_file(path)
        try:
            solutions = store.query(query.text, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise SourceError(f"SPARQL syntax error: {exc}", file=str(path)) from exc
        if not isinstance(solutions, pyoxigraph.QuerySolutions):
            raise SourceError("a check query must be a SELECT", file=str(path))
        variables = [v.value for v in solutions.variables]
        for row in solutions:
            entity = _term_value(row["entity"]) if "entity" in variables and row["entity"] else ""
            message = (
                _term_value(row["message"])
                if "message" in variables and row["message"]
                else query.summary or path.stem
            )
            prop = _term_value(row["property"]) if "property" in variables and row["property"] else None
            prop = prop or _CHECK_PROPERTY.get(path.name)
            value = _term_value(row["value"]) if "value" in variables and row["value"] else None
            findings.append(Finding(
                focus_node=entity,
                path=prop,
                message=message,
                severity="Violation",
                source_shape=f"queries/checks/{path.name}",
                file=None,
                value=value,
            ))
    return findings, len(files)


def validate_sources(sources: SourceSet) -> ValidationReport:
    """Run the project's shapes and check queries over ``sources`` (the whole graph).

    :raises SourceError: a shapes file or check query is itself broken.
    """
    return validate_scoped(sources).report


@dataclass(frozen=True)
class Validation:
    report: ValidationReport
    #: pyshacl's results, unlocated: what a later :func:`validate_scoped` starts from
    results: tuple[ShaclResult, ...]
    #: the focus nodes validated again, or None when the whole graph was validated
    rechecked: int | None = None
    #: what each SPARQL target selects (:func:`~clair_kg.validate_scope.sparql_targets`), if known
    targeted: dict[str, frozenset[str]] | None = None
    #: which SHACL engine ran: :data:`ENGINE_FAST`, or :data:`ENGINE_PYSHACL` when the shapes use a
    #: feature the fast engine does not evaluate
    engine: str = ENGINE_FAST


def validate_scoped(sources: SourceSet, *, before: bytes | None = None,
                    results_before: tuple[ShaclResult, ...] = (),
                    targeted_before: dict[str, frozenset[str]] | None = None) -> Validation:
    """Validate ``sources``; given the N-Quads and results of the last validation with the same
    shapes and ontology (``before``, ``results_before``), check again only the focus nodes the
    change can affect. The report is the one a whole-graph run gives.

    :raises SourceError: a shapes file or check query is itself broken.
    """
    project = sources.project
    shapes = sources.graph(project.graph_iri("shapes"))
    ontology = sources.graph(project.graph_iri("ontology"))
    reach = shapes_reach(shapes)
    targeted = sparql_targets(sources, reach) if reach is not None else None
    scoped: Scope | None = None
    if before is not None and reach is not None:
        scoped = scope(sources, before, reach, targeted_before=targeted_before, targeted_now=targeted)
    read = _fast_engine(shapes)
    if scoped is None:
        if read is not None:
            # the SPARQL targets ran already (for the cache): their nodes, not a second run
            selected = {select: [n for n in nodes(sorted(keys)) if not isinstance(n, pyoxigraph.Triple)]
                        for select, keys in (targeted or {}).items()}
            results = _run_fast(read, shapes, sources.store, sources.data_graph_iris, selected)
        else:
            results = _run_shacl(sources.data_graph(), shapes, ontology)
    else:
        run = _run_fast(read, shapes, scoped.store(), None) if read is not None else \
            _run_shacl(scoped.graph(), shapes, ontology)
        fresh = [r for r in run if r.focus_key in scoped.focus]
        results = [r for r in results_before if r.focus_key not in scoped.focus] + fresh
    results.sort(key=lambda r: (r.focus_key, r.finding.path or "", r.finding.message, r.finding.value or ""))
    check_findings, checks_run = _check_findings(sources, project.checks_dir)
    unlocated = [r.finding for r in results] + check_findings
    if unlocated:  # only the files that can say where these nodes are written are read
        index = sources.locations({f.focus_node for f in unlocated})
        unlocated = [_locate(f, index) for f in unlocated]
    findings = _one_per_problem(unlocated)
    findings.sort(key=lambda f: (f.file or "", f.line or 0, f.focus_node, f.path or "", f.message))
    # pyshacl with allow_warnings conforms unless a result is a Violation: the same test as here
    has_violation = any(f.severity == "Violation" for f in findings)
    report = ValidationReport(
        conforms=not has_violation,
        findings=tuple(findings),
        triples=_count_triples(sources),
        checks_run=checks_run,
    )
    return Validation(report, tuple(results), None if scoped is None else len(scoped.focus), targeted,
                      ENGINE_FAST if read is not None else ENGINE_PYSHACL)


def shacl_results(sources: SourceSet, *, engine: str) -> list[ShaclResult]:
    """The SHACL results of the whole of ``sources`` from one engine (:data:`ENGINE_FAST` or
    :data:`ENGINE_PYSHACL`), unlocated and sorted: what the agreement tests compare.

    :raises clair_kg.shacl.Unsupported: the fast engine was asked for shapes it does not evaluate."""
    project = sources.project
    shapes = sources.graph(project.graph_iri("shapes"))
    if engine == ENGINE_FAST:
        results = _run_fast(shacl.check_supported(shapes), shapes, sources.store, sources.data_graph_iris)
    else:
        results = _run_shacl(sources.data_graph(), shapes, sources.graph(project.graph_iri("ontology")))
    return sorted(results, key=lambda r: (r.focus_key, r.finding.path or "", r.finding.message,
                                          r.finding.value or "", r.finding.source_shape))


#: set to ``pyshacl`` to validate with pyshacl even where the fast engine could (to compare them)
ENGINE_VARIABLE = "CLAIR_KG_SHACL_ENGINE"


def _fast_engine(shapes: Graph) -> shacl.ShapesGraph | None:
    """The shapes read for :mod:`clair_kg.shacl`, or None (with the reason logged) when they use a
    feature it does not evaluate: then pyshacl validates, never a weaker check."""
    if os.environ.get(ENGINE_VARIABLE) == ENGINE_PYSHACL:
        _log.info("SHACL engine: pyshacl (%s=%s)", ENGINE_VARIABLE, ENGINE_PYSHACL)
        return None
    try:
        read = shacl.check_supported(shapes)
    except shacl.Unsupported as exc:
        # a warning, so the CLI shows it: at 10^6 statements pyshacl takes many minutes, not seconds
        _log.warning("SHACL engine: pyshacl, which is much slower (the shapes use what clair_kg.shacl does not "
                     "evaluate: %s)", exc)
        return None
    _log.info("SHACL engine: clair_kg.shacl")
    return read


def _run_fast(read: shacl.ShapesGraph, shapes: Graph, store: pyoxigraph.Store, graphs: tuple[str, ...] | None,
              selected: dict[str, list[shacl.Term]] | None = None) -> list[ShaclResult]:
    names: dict[Node, str] = {}
    found: list[ShaclResult] = []
    for r in shacl.validate(store, read, graphs, selected=selected):
        name = names.get(r.shape)
        if name is None:
            name = names[r.shape] = shape_name(shapes, r.shape)
        messages = sorted(str(m) for m in r.messages)
        component = str(r.component).rsplit("#", 1)[-1]
        finding = Finding(
            focus_node=r.focus.value,
            path=_path_text(shapes, r.path),
            message="; ".join(messages) or f"{component} not satisfied (the shape gives no sh:message)",
            severity=str(r.severity).rsplit("#", 1)[-1],
            source_shape=name,
            file=None,
            value=r.value.value if r.value is not None else None,
        )
        found.append(ShaclResult(str(r.focus), finding))
    return found


def _run_shacl(data: Graph, shapes: Graph, ontology: Graph) -> list[ShaclResult]:
    # inplace: ``data`` is made for this run, so pyshacl need not copy it (at 10^6 statements, gigabytes)
    _conforms, results, _text = shacl_validate(
        data,
        shacl_graph=shapes,
        ont_graph=ontology,
        inference="none",
        advanced=True,
        allow_warnings=True,
        inplace=True,
    )
    return _shacl_results(results, shapes)


_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"


def _count_triples(sources: SourceSet) -> int:
    """The statements of the merged data graph (a statement two sources make counts once)."""
    graphs: list[pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.DefaultGraph] = [
        pyoxigraph.NamedNode(iri) for iri in sources.data_graph_iris]
    solutions = sources.store.query(_COUNT, default_graph=graphs)
    assert isinstance(solutions, pyoxigraph.QuerySolutions)
    for row in solutions:
        return int(_term_value(row["n"]))
    return 0


def _problem(finding: Finding) -> tuple[str, str | None, str | None]:
    # A node-level finding whose value is the node itself (sh:pattern on the IRI) is about the node.
    value = None if finding.path is None and finding.value == finding.focus_node else finding.value
    return finding.focus_node, finding.path, value


def _rank(finding: Finding) -> int:
    """Which of several findings about one problem speaks for it: a check about the identity of a
    value ("not in the verified list") first, then a shape, then other checks."""
    if finding.source_shape.startswith("queries/checks/unverified-"):
        return 0
    return 2 if finding.source_shape.startswith("queries/checks/") else 1


def _one_per_problem(findings: list[Finding]) -> list[Finding]:
    """Merge findings about the same statement (entity, property, value): one per problem, naming
    every shape and check that caught it."""
    groups: dict[tuple[str, str | None, str | None, str], list[Finding]] = {}
    for finding in findings:
        groups.setdefault((*_problem(finding), finding.severity), []).append(finding)
    merged: list[Finding] = []
    for group in groups.values():
        group.sort(key=lambda f: (_rank(f), f.source_shape, f.message))
        first = group[0]
        sources = list(dict.fromkeys(f.source_shape for f in group))
        merged.append(replace(first, source_shape="; ".join(sources)))
    return merged


def validate_files(data_files: list[Path], *, project_root: Path) -> ValidationReport:
    """Validate only ``data_files`` against the project's ontology, shapes and checks.

    Used by the shape tests (each shape has a valid and an invalid case) and by maintainers who
    want to check one new file before adding it.
    """
    project = Project(project_root)
    graph = project.graph_iri("candidate")
    sources = _ontology_and_shapes(project, [SourceFile(Path(p), graph) for p in data_files])
    return validate_sources(sources)


def _ontology_and_shapes(project: Project, extra: list[SourceFile]) -> SourceSet:
    # Reuse load_sources' parsing and indexing, but without the project's own data folder.
    return load_sources(_SchemaOnly(project.root, project.base_iri), extra=extra)


class _SchemaOnly(Project):
    """A project view whose data folder is empty: ontology and shapes only."""

    @property
    def data_dir(self) -> Path:
        return self.root / "__no_data__"


def report_to_text(report: ValidationReport) -> str:
    lines = []
    for f in report.findings:
        prop = f" {f.path}" if f.path else ""
        value = f" (value: {f.value})" if f.value else ""
        lines.append(f"{f.where}: {f.severity}: <{f.focus_node}>{prop}: {f.message}{value} [{f.source_shape}]")
    verdict = "conforms" if report.conforms else f"does NOT conform: {len(report.violations)} violation(s)"
    lines.append(f"{report.triples} statements checked (the merged data graph: sources and ontology, not the "
                 f"shapes), {report.checks_run} check queries: {verdict}")
    return "\n".join(lines) + "\n"


def report_to_json(report: ValidationReport) -> str:
    body = {
        "conforms": report.conforms,
        "triples": report.triples,
        "checks_run": report.checks_run,
        "findings": [asdict(f) for f in report.findings],
    }
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def report_to_turtle(report: ValidationReport) -> str:
    """The report as a SHACL ``sh:ValidationReport`` (findings from check queries included)."""
    g = Graph()
    g.bind("sh", SH)
    node = URIRef("https://w3id.org/clair-kg/validation-report")
    g.add((node, RDF.type, SH.ValidationReport))
    g.add((node, SH.conforms, Literal(report.conforms)))
    for i, f in enumerate(report.findings):
        r = URIRef(f"https://w3id.org/clair-kg/validation-report#r{i}")
        g.add((node, SH.result, r))
        g.add((r, RDF.type, SH.ValidationResult))
        if f.focus_node:
            g.add((r, SH.focusNode, URIRef(f.focus_node)))
        if f.path and not f.path.startswith(("^", "(", "<")):
            g.add((r, SH.resultPath, URIRef(f.path)))
        elif f.path:  # a complex path, in SPARQL's syntax (sh:resultPath would need its blank-node form)
            g.add((r, CHECK.resultPathSyntax, Literal(f.path)))
        g.add((r, SH.resultMessage, Literal(f.message)))
        g.add((r, SH.resultSeverity, SH[f.severity]))
        for source in f.source_shape.split("; "):
            if source.startswith("http") and " " not in source:
                g.add((r, SH.sourceShape, URIRef(source)))
            elif source.startswith("queries/checks/"):
                g.add((r, CHECK.checkQuery, Literal(source)))
            else:
                g.add((r, CHECK.shapeName, Literal(source)))
        if f.file:
            g.add((r, CHECK.sourceFile, Literal(f.file)))
        if f.line is not None:
            g.add((r, CHECK.sourceLine, Literal(f.line)))
    return g.serialize(format="turtle")

