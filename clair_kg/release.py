"""From sources to a validated, published release: the build side's last step.

:func:`prepare_release` parses and validates the sources and returns the N-Quads of the source graphs
plus the release identity (a hash of those N-Quads), which the server uses for ETags and the dumps for
their names. Invalid data never becomes a release: :class:`~clair_kg.errors.ValidationFailed` is raised
instead. :func:`publish_release` makes the release's files (dumps, VoID, validation reports,
checksums); ``clair-kg build`` writes them to ``dist/`` and ``clair-kg serve`` hands them to the web
processes, so both publish the very same bytes.
"""

from __future__ import annotations

__all__ = ["Release", "prepare_release", "publish_release", "rebased"]

import logging
from dataclasses import dataclass

import pyoxigraph

from .errors import ValidationFailed
from .project import DEFAULT_BASE_IRI, Project
from .publish import Distribution, quads_from_nquads, release_date, release_distribution
from .published import ReleaseInfo, release_info
from .release_cache import cached_release, input_key, keep_release, last_validation, schema_key
from .sources import load_sources
from .validate import ShaclResult, ValidationReport, report_to_text, report_to_turtle, validate_scoped

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Release:
    report: ValidationReport
    #: the source graphs as sorted N-Quads (what the release hash is of)
    nquads: bytes
    info: ReleaseInfo


def prepare_release(project: Project, *, validate: bool = True) -> Release:
    """Parse, validate and serialize the project's sources.

    :raises SourceError: a source file is broken.
    :raises ValidationFailed: the data violates a shape or check (``exc.report`` says where).
    """
    key = input_key(project) if validate else None
    kept = cached_release(project, key) if key is not None else None
    if kept is not None:  # exactly these sources were validated before (clair_kg.release_cache)
        report, nquads, graphs = kept
    else:
        sources = load_sources(project)
        nquads = rebased(sources.to_nquads(), project.base_iri)
        graphs = sources.graph_iris
        results: tuple[ShaclResult, ...] | None = None
        targeted: dict[str, frozenset[str]] | None = None
        schema = schema_key(project) if validate else None
        if validate:
            # The last release validated with the same shapes and ontology, if kept: only the focus
            # nodes the change can affect are checked again (clair_kg.validate_scope). Its N-Quads
            # are the sources as written only under the default base IRI (else they were rebased).
            last = last_validation(project, schema) if schema and project.base_iri == DEFAULT_BASE_IRI else None
            validation = validate_scoped(sources, before=last.nquads if last else None,
                                         results_before=last.results if last else (),
                                         targeted_before=last.targeted if last else None)
            report, results, targeted = validation.report, validation.results, validation.targeted
            if validation.rechecked is not None:
                _log.info("validated %d focus nodes again (the rest is unchanged)", validation.rechecked)
        else:
            report = ValidationReport(conforms=True, findings=(), triples=0, checks_run=0)
        if key is not None:
            keep_release(project, key, report, nquads, graphs, schema=schema, results=results, targeted=targeted)
    if not report.conforms:
        raise ValidationFailed(f"the data does not conform: {len(report.violations)} violation(s)", report=report)
    return Release(report, nquads, release_info(nquads, graphs))


#: the parts of the identifier space the dataset's base IRI owns (its vocabulary keeps its own IRIs)
_REBASED = tuple(DEFAULT_BASE_IRI + part for part in ("id/", "graph/", "dataset"))


def rebased(nquads: bytes, base_iri: str) -> bytes:
    """``nquads`` with the curated files' identifiers moved under ``base_iri``.

    The sources are written with the published base (``https://w3id.org/clair-kg/``); a deployment
    with another ``base_iri`` serves its things, graphs and dataset under its own, so ids, documents,
    VoID, search, reconciliation and named queries all agree. The ontology's terms keep their IRIs:
    they name the vocabulary, not this deployment's data. Validation runs on the sources as written.
    """
    if base_iri == DEFAULT_BASE_IRI:
        return nquads

    def move(term: pyoxigraph.NamedNode) -> pyoxigraph.NamedNode:
        value = term.value
        if value.startswith(_REBASED):
            return pyoxigraph.NamedNode(base_iri + value[len(DEFAULT_BASE_IRI):])
        return term

    quads = []
    for q in pyoxigraph.parse(nquads, format=pyoxigraph.RdfFormat.N_QUADS):
        s, o, g = q.subject, q.object, q.graph_name
        quads.append(pyoxigraph.Quad(
            move(s) if isinstance(s, pyoxigraph.NamedNode) else s,
            move(q.predicate),
            move(o) if isinstance(o, pyoxigraph.NamedNode) else o,
            move(g) if isinstance(g, pyoxigraph.NamedNode) else g,
        ))
    body = (pyoxigraph.serialize(quads, format=pyoxigraph.RdfFormat.N_QUADS) or b"").decode("utf-8")
    return "".join(line + "\n" for line in sorted(set(body.splitlines())) if line).encode("utf-8")


def publish_release(release: Release, project: Project) -> Distribution:
    """Every file of ``release``: what ``clair-kg build`` writes and ``/downloads`` serves."""
    reports = {
        "validation-report.ttl": ("text/turtle", report_to_turtle(release.report).encode("utf-8")),
        "validation-report.txt": ("text/plain", report_to_text(release.report).encode("utf-8")),
    }
    return release_distribution(
        quads_from_nquads(release.nquads), project, release.info, issued=release_date(project), reports=reports
    )
