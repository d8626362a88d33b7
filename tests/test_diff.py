"""``clair-kg diff``: statements added and removed per entity, as text and JSON."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from clair_kg.cli import main
from clair_kg.publish import build_distribution, quads_from_nquads, write_distribution
from clair_kg.release import Release

BASE = "https://w3id.org/clair-kg/"
LONDON = f"<{BASE}id/office/london>"


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory: pytest.TempPathFactory, release: Release, project) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("diff")
    old = root / "old"
    dist = build_distribution(quads_from_nquads(release.nquads), project, version="1", issued="2000-01-01",
                              sha256=release.info.sha256)
    write_distribution(dist, old)
    lines = (old / "clair-kg.nq").read_text().splitlines(keepends=True)
    removed = next(line for line in lines if line.startswith(LONDON))
    added = f'{LONDON} <http://www.w3.org/2004/02/skos/core#note> "changed"@en <{BASE}graph/wikipedia> .\n'
    new = root / "new.nq"
    new.write_text("".join(line for line in lines if line != removed) + added)
    return old, new


def test_identical_releases_have_no_differences(two_releases: tuple[Path, Path], capsys) -> None:  # type: ignore[no-untyped-def]
    old, _ = two_releases
    assert main(["diff", str(old), str(old / "clair-kg.nq.gz"), "--exit-code"]) == 0
    assert "no differences" in capsys.readouterr().out


def test_diff_text_groups_changes_by_entity(two_releases: tuple[Path, Path], capsys) -> None:  # type: ignore[no-untyped-def]
    old, new = two_releases
    assert main(["diff", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    assert f"{BASE}id/office/london  (+1 -1)" in out
    assert f'  + {LONDON} <http://www.w3.org/2004/02/skos/core#note> "changed"@en' in out
    assert "1 entities changed: 1 statements added, 1 removed" in out
    assert main(["diff", str(old), str(new), "--exit-code"]) == 1


def test_diff_json(two_releases: tuple[Path, Path], capsys) -> None:  # type: ignore[no-untyped-def]
    old, new = two_releases
    assert main(["diff", str(old), str(new), "--format", "json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["added"] == 1 and body["removed"] == 1
    assert [e["entity"] for e in body["entities"]] == [f"{BASE}id/office/london"]
    assert "changed" in body["entities"][0]["added"][0]


def test_diff_of_ntriples_files(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    a = tmp_path / "a.nt"
    b = tmp_path / "b.nt.gz"
    a.write_text(f'{LONDON} <urn:p> "1" .\n')
    b.write_bytes(gzip.compress(f'{LONDON} <urn:p> "2" .\n'.encode()))
    assert main(["diff", str(a), str(b), "--format", "json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["added"] == 1 and body["removed"] == 1


def test_diff_of_something_that_is_not_a_build(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["diff", str(tmp_path), str(tmp_path)]) == 2
    assert "no clair-kg.nq" in capsys.readouterr().err
