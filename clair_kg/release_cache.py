"""Validated releases kept by the content hash of everything they were made from.

Validating is the slow part of every ``clair-kg validate``, ``build`` and ``serve`` (pyshacl over the
whole graph: seconds here, minutes at 10^6 statements), and most runs validate exactly what the run
before validated. So the report and the release's N-Quads are kept under a key that hashes every input
that can change them — each source file (its path and bytes: ontology, shapes, data, check queries),
the base IRI, the versions of clair-kg and pyshacl, and the code that parses, validates and rebases —
and the next run with the same key reads them instead of parsing and validating again.

A change to any one file gives another key, and the data is validated again — but not all of it
unless it must be. Each kept release also keeps pyshacl's results and the key of the *schema* it was
validated with (:func:`schema_key`: the shapes, the ontology, the code and the versions, no data):
when that key is unchanged, :func:`last_validation` hands the last release's N-Quads and results to
:func:`clair_kg.validate.validate_scoped`, which checks again only the focus nodes the changed
statements can affect (:mod:`clair_kg.validate_scope`); a change to a shape or to the ontology
validates the whole graph. The check queries always run over the whole graph. The cache lives in the
project, in ``.clair-kg-cache/`` (ignored by git); delete it, or set ``CLAIR_KG_NO_CACHE=1``, to
validate from scratch.
"""

from __future__ import annotations

__all__ = ["CACHE_DIR", "LastValidation", "cached_release", "input_key", "keep_release", "last_validation",
           "schema_key"]

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from . import __version__
from .project import Project
from .validate import Finding, ShaclResult, ValidationReport

CACHE_DIR = ".clair-kg-cache"
#: releases kept at once (each is as large as the release's N-Quads); the oldest go first
KEEP = 3
#: the package's own code that decides what a release holds
_CODE = ("sources.py", "validate.py", "validate_scope.py", "release.py", "canonical.py", "release_cache.py",
         "shacl/__init__.py", "shacl/data.py", "shacl/engine.py", "shacl/paths.py", "shacl/shapes.py", "shacl/terms.py")


def _inputs(project: Project) -> list[Path]:
    files = [*project.ontology_dir.rglob("*.ttl"), *project.checks_dir.glob("*.rq")]
    if project.data_dir.is_dir():
        files += project.data_dir.rglob("*.ttl")
    return sorted(files)


def _key(project: Project, inputs: list[Path]) -> str:
    digest = hashlib.sha256()
    try:
        shacl = metadata.version("pyshacl")
    except metadata.PackageNotFoundError:
        shacl = "?"
    digest.update(f"{__version__}\x1f{shacl}\x1f{project.base_iri}\x1f".encode())
    here = Path(__file__).resolve().parent
    for name in _CODE:
        digest.update((here / name).read_bytes())
    for path in inputs:
        digest.update(str(path.relative_to(project.root)).encode() + b"\x1f")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def input_key(project: Project) -> str:
    """The hash of everything a release of ``project`` is made from."""
    return _key(project, _inputs(project))


def schema_key(project: Project) -> str:
    """The hash of what SHACL validation depends on besides the data: ontology and shapes (every
    ``ontology/**/*.ttl``), the code and the versions."""
    return _key(project, sorted(project.ontology_dir.rglob("*.ttl")))


def _folder(project: Project) -> Path | None:
    if os.environ.get("CLAIR_KG_NO_CACHE"):
        return None
    return project.root / CACHE_DIR / "releases"


def cached_release(project: Project, key: str) -> tuple[ValidationReport, bytes, tuple[str, ...]] | None:
    """The report, N-Quads and graph IRIs kept under ``key``, or None (not kept, unreadable, caching off)."""
    folder = _folder(project)
    if folder is None:
        return None
    try:
        body = json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
        nquads = (folder / f"{key}.nq").read_bytes()
    except (OSError, ValueError):
        return None
    if hashlib.sha256(nquads).hexdigest() != body.get("nquads_sha256"):
        return None  # half written, or changed by hand
    report = ValidationReport(
        conforms=bool(body["conforms"]),
        findings=tuple(Finding(**f) for f in body["findings"]),
        triples=int(body["triples"]),
        checks_run=int(body["checks_run"]),
    )
    return report, nquads, tuple(body["graphs"])


@dataclass(frozen=True)
class LastValidation:
    """The newest kept release validated with today's schema: its N-Quads and pyshacl's results."""

    nquads: bytes
    results: tuple[ShaclResult, ...]
    #: what each SPARQL target selected (None: not kept)
    targeted: dict[str, frozenset[str]] | None = None


def last_validation(project: Project, schema: str) -> LastValidation | None:
    """The newest kept release whose schema key is ``schema``, or None."""
    folder = _folder(project)
    if folder is None:
        return None
    try:
        kept = sorted(folder.glob("*.json"), key=lambda f: f.stat().st_mtime, reverse=True)
    except OSError:
        return None
    for path in kept:
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
            if body.get("schema") != schema or "shacl" not in body:
                continue
            nquads = path.with_suffix(".nq").read_bytes()
            if hashlib.sha256(nquads).hexdigest() != body.get("nquads_sha256"):
                continue
            results = tuple(ShaclResult(key, Finding(**f)) for key, f in body["shacl"])
            kept_targets = body.get("targeted")
            targeted = None if kept_targets is None else {k: frozenset(v) for k, v in kept_targets.items()}
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            continue
        return LastValidation(nquads, results, targeted)
    return None


def keep_release(project: Project, key: str, report: ValidationReport, nquads: bytes,
                 graphs: tuple[str, ...], *, schema: str | None = None,
                 results: tuple[ShaclResult, ...] | None = None,
                 targeted: dict[str, frozenset[str]] | None = None) -> None:
    """Keep a release under ``key`` (best effort: a read-only project just isn't cached), with the
    schema key it was validated under and pyshacl's results when a later run may start from them."""
    folder = _folder(project)
    if folder is None:
        return
    body: dict[str, object] = {
        "conforms": report.conforms, "triples": report.triples, "checks_run": report.checks_run,
        "findings": [asdict(f) for f in report.findings], "nquads_sha256": hashlib.sha256(nquads).hexdigest(),
        "graphs": list(graphs),
    }
    if schema is not None and results is not None:
        body["schema"] = schema
        body["shacl"] = [[r.focus_key, asdict(r.finding)] for r in results]
        if targeted is not None:
            body["targeted"] = {select: sorted(nodes) for select, nodes in targeted.items()}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for suffix, data in ((".nq", nquads), (".json", json.dumps(body).encode("utf-8"))):
            handle, tmp = tempfile.mkstemp(dir=folder, prefix=f".{key}")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(tmp, folder / f"{key}{suffix}")
        kept = sorted(folder.glob("*.json"), key=lambda f: f.stat().st_mtime, reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)
            old.with_suffix(".nq").unlink(missing_ok=True)
    except OSError:
        return


def cache_folder(project: Project, kind: str) -> Path | None:
    """``.clair-kg-cache/<kind>/`` of ``project`` (e.g. ``labels``: search indexes kept by release), or
    None when caching is off (``CLAIR_KG_NO_CACHE``). Not created here."""
    if os.environ.get("CLAIR_KG_NO_CACHE"):
        return None
    return project.root / CACHE_DIR / kind
