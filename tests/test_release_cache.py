"""Validated releases kept by content hash: an unchanged project is not parsed and validated again,
and any change — a data file, a shape, a check query — is validated from scratch."""

from __future__ import annotations

import pytest

from clair_kg.errors import ValidationFailed
from clair_kg.project import Project
from clair_kg.release import prepare_release
from clair_kg.release_cache import CACHE_DIR, input_key


def test_a_second_run_reads_the_kept_release_and_it_is_the_same(
    project_copy: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = prepare_release(project_copy)
    kept = list((project_copy.root / CACHE_DIR / "releases").glob("*.nq"))
    assert [p.stem for p in kept] == [input_key(project_copy)]
    import clair_kg.release as release

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unchanged project was parsed again")

    monkeypatch.setattr(release, "load_sources", no_parsing)
    second = prepare_release(project_copy)
    assert second == first  # report, N-Quads and identity


@pytest.mark.parametrize("changed", ["data/clair-offices-en/offices.ttl", "ontology/shapes/organisations.ttl",
                                     "queries/checks/forbidden-literals.rq"])
def test_any_change_is_validated_again(project_copy: Project, changed: str) -> None:
    prepare_release(project_copy)
    key = input_key(project_copy)
    path = project_copy.root / changed
    if changed.endswith("offices.ttl"):  # a planted error must be found, not a stale "conforms"
        path.write_text(path.read_text(encoding="utf-8") + '\n<office/london> skos:altLabel "Unknown"@en .\n',
                        encoding="utf-8")
        assert input_key(project_copy) != key
        with pytest.raises(ValidationFailed) as failed:
            prepare_release(project_copy)
        assert any(f.value == "Unknown" for f in failed.value.report.findings)
    else:
        path.write_text(path.read_text(encoding="utf-8") + "\n# a comment changes the bytes\n", encoding="utf-8")
        assert input_key(project_copy) != key


def test_the_cache_can_be_turned_off(project_copy: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAIR_KG_NO_CACHE", "1")
    prepare_release(project_copy)
    assert not (project_copy.root / CACHE_DIR).exists()
