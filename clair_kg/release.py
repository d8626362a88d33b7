"""From sources to a validated, published release: the build side's last step.

:func:`prepare_release` parses and validates the sources and returns the N-Quads of the source graphs
plus the release identity (a hash of those N-Quads), which the server uses for ETags and the dumps for
their names. Invalid data never becomes a release: :class:`~clair_kg.errors.ValidationFailed` is raised
instead. :func:`publish_release` makes the release's files (dumps, VoID, validation reports,
checksums); ``clair-kg build`` writes them to ``dist/`` and ``clair-kg serve`` hands them to the web
processes, so both publish the very same bytes.
"""

from __future__ import annotations

__all__ = ["Release", "prepare_release", "publish_release"]

from dataclasses import dataclass

from .errors import ValidationFailed
from .project import Project
from .publish import Distribution, quads_from_nquads, release_date, release_distribution
from .published import ReleaseInfo, release_info
from .sources import SourceSet, load_sources
from .validate import ValidationReport, report_to_text, report_to_turtle, validate_sources


@dataclass(frozen=True)
class Release:
    sources: SourceSet
    report: ValidationReport
    #: the source graphs as sorted N-Quads (what the release hash is of)
    nquads: bytes
    info: ReleaseInfo


def prepare_release(project: Project, *, validate: bool = True) -> Release:
    """Parse, validate and serialize the project's sources.

    :raises SourceError: a source file is broken.
    :raises ValidationFailed: the data violates a shape or check (``exc.report`` says where).
    """
    sources = load_sources(project)
    if validate:
        report = validate_sources(sources)
        if not report.conforms:
            raise ValidationFailed(
                f"the data does not conform: {len(report.violations)} violation(s)", report=report
            )
    else:
        report = ValidationReport(conforms=True, findings=(), triples=0, checks_run=0)
    nquads = sources.to_nquads()
    return Release(sources, report, nquads, release_info(nquads, sources.graph_iris))


def publish_release(release: Release, project: Project) -> Distribution:
    """Every file of ``release``: what ``clair-kg build`` writes and ``/downloads`` serves."""
    reports = {
        "validation-report.ttl": ("text/turtle", report_to_turtle(release.report).encode("utf-8")),
        "validation-report.txt": ("text/plain", report_to_text(release.report).encode("utf-8")),
    }
    return release_distribution(
        quads_from_nquads(release.nquads), project, release.info, issued=release_date(project), reports=reports
    )
