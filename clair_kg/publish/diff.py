"""What changed between two releases: statements added and removed, grouped by entity.

Each side is a build folder (its ``clair-kg.nq``, else ``clair-kg.nt``) or a single ``.nq``/``.nt``
file (optionally ``.gz``). Statements are compared as quads, so a triple that moved from one source
graph to another shows as removed from one and added to the other.
"""

from __future__ import annotations

__all__ = ["EntityChange", "ReleaseDiff", "diff_releases", "diff_to_json", "diff_to_text", "read_statements"]

import gzip
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import Quad, RdfFormat, parse

from ..errors import SourceError
from .rdfio import canonical_blank_nodes


@dataclass(frozen=True)
class EntityChange:
    entity: str  # the subject (IRI, or _:label)
    added: tuple[str, ...]  # N-Quads lines
    removed: tuple[str, ...]


@dataclass(frozen=True)
class ReleaseDiff:
    old: str
    new: str
    added: int
    removed: int
    entities: tuple[EntityChange, ...]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def _resolve(path: Path) -> Path:
    if path.is_dir():
        for name in ("clair-kg.nq", "clair-kg.nq.gz", "clair-kg.nt", "clair-kg.nt.gz"):
            if (path / name).is_file():
                return path / name
        raise SourceError("no clair-kg.nq or clair-kg.nt in this folder (is it a build?)", file=str(path))
    if not path.is_file():
        raise SourceError("no such file or folder", file=str(path))
    return path


def read_statements(path: Path) -> list[Quad]:
    """The statements of a build folder or dump file (N-Quads or N-Triples, maybe gzipped)."""
    file = _resolve(path)
    try:
        data = file.read_bytes()
        if file.suffix == ".gz":
            data = gzip.decompress(data)
    except OSError as exc:
        raise SourceError(f"cannot read: {exc}", file=str(file)) from exc
    name = file.name.removesuffix(".gz")
    fmt = RdfFormat.N_TRIPLES if name.endswith(".nt") else RdfFormat.N_QUADS
    try:
        return list(parse(data, format=fmt))
    except SyntaxError as exc:
        raise SourceError(f"not valid {'N-Triples' if fmt is RdfFormat.N_TRIPLES else 'N-Quads'}: {exc}",
                          file=str(file)) from exc


def _line(q: Quad) -> str:
    graph = f" {q.graph_name}" if str(q.graph_name) != "DEFAULT" and hasattr(q.graph_name, "value") else ""
    return f"{q.subject} {q.predicate} {q.object}{graph} ."


def diff_releases(old: Path, new: Path) -> ReleaseDiff:
    """Compare two releases statement by statement."""
    before = {_line(q): q for q in canonical_blank_nodes(read_statements(old))}
    after = {_line(q): q for q in canonical_blank_nodes(read_statements(new))}
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    by_entity: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"added": [], "removed": []})
    for line in added:
        by_entity[str(getattr(after[line].subject, "value", after[line].subject))]["added"].append(line)
    for line in removed:
        by_entity[str(getattr(before[line].subject, "value", before[line].subject))]["removed"].append(line)
    entities = tuple(
        EntityChange(e, tuple(c["added"]), tuple(c["removed"])) for e, c in sorted(by_entity.items())
    )
    return ReleaseDiff(str(old), str(new), len(added), len(removed), entities)


def diff_to_text(diff: ReleaseDiff) -> str:
    lines = []
    for change in diff.entities:
        lines.append(f"{change.entity}  (+{len(change.added)} -{len(change.removed)})")
        lines += [f"  - {line}" for line in change.removed]
        lines += [f"  + {line}" for line in change.added]
    lines.append(
        f"{len(diff.entities)} entities changed: {diff.added} statements added, {diff.removed} removed"
        if diff.changed else "no differences"
    )
    return "\n".join(lines) + "\n"


def diff_to_json(diff: ReleaseDiff) -> str:
    body = {
        "old": diff.old,
        "new": diff.new,
        "added": diff.added,
        "removed": diff.removed,
        "entities": [
            {"entity": c.entity, "added": list(c.added), "removed": list(c.removed)} for c in diff.entities
        ],
    }
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
