"""Validate a project's data: SHACL shapes (pyshacl) and check queries (``queries/checks/*.rq``).

Shapes catch what a single entity gets wrong; a check query states a rule over the whole graph
(for example "every ``owl:sameAs`` to Wikidata is a verified QID") and fails the build for every row
it returns. The result is a :class:`ValidationReport` a maintainer can act on: each finding names
the entity, the property, the message and the file(s) where the entity is written.
"""

from __future__ import annotations

__all__ = [
    "Finding",
    "ValidationReport",
    "report_to_json",
    "report_to_text",
    "report_to_turtle",
    "validate_files",
    "validate_sources",
]

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyoxigraph
from pyshacl import validate as shacl_validate
from rdflib import RDF, SH, Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from .errors import SourceError
from .project import Project
from .queryfile import read_query_file
from .sources import SourceFile, SourceSet, load_sources

CHECK = Namespace("https://w3id.org/clair-kg/checks#")


@dataclass(frozen=True)
class Finding:
    focus_node: str
    path: str | None
    message: str
    severity: str  # "Violation", "Warning" or "Info"
    source_shape: str  # the shape IRI, or the check query's file name
    file: str | None  # the file(s) stating the focus node, comma-separated
    value: str | None = None


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


def _shacl_findings(results: Graph, subject_files: dict[str, tuple[str, ...]]) -> list[Finding]:
    findings: list[Finding] = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus = results.value(result, SH.focusNode)
        severity = results.value(result, SH.resultSeverity)
        messages = sorted(str(m) for m in results.objects(result, SH.resultMessage))
        focus_str = str(focus) if focus is not None else ""
        findings.append(
            Finding(
                focus_node=focus_str,
                path=_short(results.value(result, SH.resultPath)),
                message="; ".join(messages) or "constraint violated (the shape gives no sh:message)",
                severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
                source_shape=str(results.value(result, SH.sourceShape) or ""),
                file=", ".join(subject_files.get(focus_str, ())) or None,
                value=_short(results.value(result, SH.value)),
            )
        )
    return findings


def _term_value(term: Any) -> str:
    return str(term.value) if term is not None and hasattr(term, "value") else str(term)


def _check_findings(sources: SourceSet, checks_dir: Path) -> tuple[list[Finding], int]:
    files = sorted(checks_dir.glob("*.rq")) if checks_dir.is_dir() else []
    if not files:
        return [], 0
    store = pyoxigraph.Store()
    store.load(sources.to_nquads(), format=pyoxigraph.RdfFormat.N_QUADS)
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
            findings.append(
                Finding(
                    focus_node=entity,
                    path=_term_value(row["property"]) if "property" in variables and row["property"] else None,
                    message=message,
                    severity="Violation",
                    source_shape=f"queries/checks/{path.name}",
                    file=", ".join(sources.subject_files.get(entity, ())) or None,
                    value=_term_value(row["value"]) if "value" in variables and row["value"] else None,
                )
            )
    return findings, len(files)


def validate_sources(sources: SourceSet) -> ValidationReport:
    """Run the project's shapes and check queries over ``sources``.

    :raises SourceError: a shapes file or check query is itself broken.
    """
    project = sources.project
    shapes = sources.graph(project.graph_iri("shapes"))
    ontology = sources.graph(project.graph_iri("ontology"))
    data = sources.data_graph()
    conforms, results, _text = shacl_validate(
        data,
        shacl_graph=shapes,
        ont_graph=ontology,
        inference="none",
        advanced=True,
        allow_warnings=True,
    )
    findings = _shacl_findings(results, sources.subject_files)
    check_findings, checks_run = _check_findings(sources, project.checks_dir)
    findings.extend(check_findings)
    findings.sort(key=lambda f: (f.file or "", f.focus_node, f.path or "", f.message))
    has_violation = any(f.severity == "Violation" for f in findings)
    return ValidationReport(
        conforms=bool(conforms) and not has_violation,
        findings=tuple(findings),
        triples=len(data),
        checks_run=checks_run,
    )


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
        where = f.file or "(no source file)"
        prop = f" {f.path}" if f.path else ""
        value = f" (value: {f.value})" if f.value else ""
        lines.append(f"{where}: {f.severity}: <{f.focus_node}>{prop}: {f.message}{value}")
    verdict = "conforms" if report.conforms else f"does NOT conform: {len(report.violations)} violation(s)"
    lines.append(f"{report.triples} triples, {report.checks_run} check queries: {verdict}")
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
        if f.path:
            g.add((r, SH.resultPath, URIRef(f.path)))
        g.add((r, SH.resultMessage, Literal(f.message)))
        g.add((r, SH.resultSeverity, SH[f.severity]))
        if f.source_shape.startswith("http"):
            g.add((r, SH.sourceShape, URIRef(f.source_shape)))
        else:
            g.add((r, CHECK.checkQuery, Literal(f.source_shape)))
        if f.file:
            g.add((r, CHECK.sourceFile, Literal(f.file)))
    return g.serialize(format="turtle")

