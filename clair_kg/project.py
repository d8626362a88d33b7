"""Where a project's sources live, and the IRIs the dataset uses.

A *project* is a folder with ``ontology/`` (``shapes/`` inside), ``data/<source>/`` and
``queries/`` (``checks/`` inside). Every command finds its project the way git finds a repository:
``--project`` or ``CLAIR_KG_PROJECT`` if given, else the folder it runs in or the nearest parent with
``ontology/`` and ``data/``, else the project folder the package was installed from.
"""

from __future__ import annotations

__all__ = ["DEFAULT_BASE_IRI", "ENTITY_PATH_PATTERN", "Project", "default_project_root", "find_project"]

import os
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BASE_IRI = "https://w3id.org/clair-kg/"

#: The external identifier: the part of an entity IRI after ``id/`` (``office/new-york``).
#: A Wikidata property for clair-kg would use this as its format regex.
ENTITY_PATH_PATTERN = re.compile(r"^[a-z]+/[a-z0-9]+(-[a-z0-9]+)*$")


def find_project(start: Path) -> Path | None:
    """``start`` or its nearest parent that has ``ontology/`` and ``data/`` (as git finds a repository)."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "ontology").is_dir() and (folder / "data").is_dir():
            return folder
    return None


def default_project_root() -> Path:
    """``CLAIR_KG_PROJECT``; else the project the current folder is in; else the installed one."""
    env = os.environ.get("CLAIR_KG_PROJECT")
    if env:
        return Path(env).resolve()
    try:
        here = find_project(Path.cwd())
    except OSError:  # the current folder was removed
        here = None
    return here or Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Project:
    """The source folders of one project and the IRIs its graphs get."""

    root: Path
    base_iri: str = DEFAULT_BASE_IRI

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def shapes_dir(self) -> Path:
        return self.root / "ontology" / "shapes"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    @property
    def checks_dir(self) -> Path:
        return self.root / "queries" / "checks"

    def graph_iri(self, source: str) -> str:
        return f"{self.base_iri}graph/{source}"

    def entity_iri(self, path: str) -> str:
        return f"{self.base_iri}id/{path}"

    @property
    def ontology_iri(self) -> str:
        return f"{self.base_iri}ontology"

    @property
    def shapes_iri(self) -> str:
        return f"{self.base_iri}shapes"
