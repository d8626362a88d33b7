"""From sources to a validated release: the hand-over from the build layer to the store.

:func:`prepare_release` parses and validates the sources and returns the N-Quads plus the release
identity (a hash of those N-Quads), which the server uses for ETags and the dumps for their names.
Invalid data never becomes a release: :class:`~clair_kg.errors.ValidationFailed` is raised instead.
"""

from __future__ import annotations

__all__ = ["Release", "ReleaseInfo", "prepare_release", "release_info"]

import hashlib
from dataclasses import dataclass

from . import __version__
from .errors import ValidationFailed
from .project import Project
from .sources import SourceSet, load_sources
from .validate import ValidationReport, validate_sources


@dataclass(frozen=True)
class ReleaseInfo:
    """What identifies one release of the data: a content hash and counts."""

    version: str
    sha256: str  # of the sorted N-Quads
    quads: int
    graphs: tuple[str, ...]

    @property
    def etag_seed(self) -> str:
        return self.sha256[:16]


@dataclass(frozen=True)
class Release:
    sources: SourceSet
    report: ValidationReport
    nquads: bytes
    info: ReleaseInfo


def release_info(nquads: bytes, graphs: tuple[str, ...]) -> ReleaseInfo:
    return ReleaseInfo(
        version=__version__,
        sha256=hashlib.sha256(nquads).hexdigest(),
        quads=nquads.count(b"\n"),
        graphs=graphs,
    )


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
