"""Validating only what a change can affect gives the report a whole-graph run gives.

Each case plants a change in a copy of the real project after a first (whole-graph) validation was
kept, then validates with the kept N-Quads and results (re-checking only the affected focus nodes)
and compares the report, finding for finding, with a validation of the whole graph from scratch.
The changes are chosen so that a finding appears on a node *other* than the changed one: a city's
type (read by an office's ``sh:class`` in another file), a membership's organisation (read by the
network's ``sh:inversePath``), an interval's end (read two steps away by ``FormerMembershipShape``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from rdflib import Graph

from clair_kg.errors import ValidationFailed
from clair_kg.project import Project
from clair_kg.release import prepare_release
from clair_kg.release_cache import last_validation, schema_key
from clair_kg.sources import load_sources
from clair_kg.validate import ValidationReport, validate_scoped, validate_sources
from clair_kg.validate_scope import shapes_reach

LONDON_OFFICE = "https://w3id.org/clair-kg/id/office/london"
UCLG_ASPAC = "https://w3id.org/clair-kg/id/org/uclg-aspac"
ANMC_MEMBERSHIP = "https://w3id.org/clair-kg/id/membership/clair-anmc21"

#: (file, text, replacement, a focus node that must get a finding although its own file is unchanged
#: or its own statements are)
CHANGES = {
    "city-type-read-by-an-office-elsewhere": (
        "data/reference/places.ttl", "<place/london> a schema:City ;", "<place/london>", LONDON_OFFICE),
    "membership-read-backwards-by-its-network": (
        "data/clair-sg-uclg-aspac-2016/networks.ttl", "    org:organization <org/uclg-aspac> ;\n", "", UCLG_ASPAC),
    "interval-end-read-two-steps-away": (
        "data/wikipedia-article/networks.ttl", "    time:hasEnd <instant/clair-anmc21-end> .", "    .",
        ANMC_MEMBERSHIP),
    "forbidden-literal": (
        "data/clair-offices-en/offices.ttl", "", '\n<office/london> skos:altLabel "Unknown"@en .\n', LONDON_OFFICE),
}


def _report(project: Project) -> ValidationReport:
    try:
        return prepare_release(project).report
    except ValidationFailed as exc:
        assert exc.report is not None
        return exc.report


def _edit(project: Project, file: str, text: str, replacement: str) -> None:
    path = project.root / file
    body = path.read_text(encoding="utf-8")
    if not text:  # an addition at the end
        path.write_text(body + replacement, encoding="utf-8")
        return
    assert text in body, f"{file} no longer holds {text!r}"
    path.write_text(body.replace(text, replacement, 1), encoding="utf-8")


def _scoped_and_whole(project: Project, *, kept_targets: bool = True
                      ) -> tuple[ValidationReport, ValidationReport, int | None]:
    last = last_validation(project, schema_key(project))
    assert last is not None, "the first run kept its validation"
    assert last.targeted is not None and len(last.targeted) == 1  # what EntityShape's SPARQL target selected
    sources = load_sources(project)
    scoped = validate_scoped(sources, before=last.nquads, results_before=last.results,
                             targeted_before=last.targeted if kept_targets else None)
    whole = validate_sources(load_sources(project))
    return scoped.report, whole, scoped.rechecked


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_a_change_rechecks_few_nodes_and_reports_what_a_whole_run_reports(project_copy: Project, name: str) -> None:
    file, text, replacement, affected = CHANGES[name]
    assert _report(project_copy).conforms
    _edit(project_copy, file, text, replacement)
    scoped, whole, rechecked = _scoped_and_whole(project_copy)
    assert rechecked is not None and 0 < rechecked < 100, rechecked  # of about 300 entities
    assert not whole.conforms
    assert affected in {f.focus_node for f in whole.findings}
    assert scoped == whole  # every finding: message, shape, file and line


def test_without_the_kept_targets_the_last_graph_is_read_again(project_copy: Project) -> None:
    assert _report(project_copy).conforms
    file, text, replacement, affected = CHANGES["membership-read-backwards-by-its-network"]
    _edit(project_copy, file, text, replacement)
    scoped, whole, rechecked = _scoped_and_whole(project_copy, kept_targets=False)
    assert rechecked is not None and affected in {f.focus_node for f in whole.findings}
    assert scoped == whole


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_fixing_a_planted_error_drops_its_findings(project_copy: Project, name: str) -> None:
    file, text, replacement, _affected = CHANGES[name]
    original = (project_copy.root / file).read_bytes()
    _edit(project_copy, file, text, replacement)
    assert not _report(project_copy).conforms  # kept with its findings
    (project_copy.root / file).write_bytes(original)
    scoped, whole, rechecked = _scoped_and_whole(project_copy)
    assert rechecked is not None
    assert whole.conforms and whole.findings == ()
    assert scoped == whole


def test_prepare_release_validates_a_change_in_scope(project_copy: Project, caplog: pytest.LogCaptureFixture) -> None:
    prepare_release(project_copy)
    file, text, replacement, affected = CHANGES["city-type-read-by-an-office-elsewhere"]
    _edit(project_copy, file, text, replacement)
    with caplog.at_level(logging.INFO, logger="clair_kg.release"):
        report = _report(project_copy)
    assert any("focus nodes again" in r.getMessage() for r in caplog.records)
    assert affected in {f.focus_node for f in report.findings}


def test_a_shape_change_validates_the_whole_graph(project_copy: Project) -> None:
    prepare_release(project_copy)
    schema = schema_key(project_copy)
    shapes = project_copy.root / "ontology" / "shapes" / "places.ttl"
    shapes.write_text(shapes.read_text(encoding="utf-8") + "\n# a comment changes the bytes\n", encoding="utf-8")
    assert schema_key(project_copy) != schema
    assert last_validation(project_copy, schema_key(project_copy)) is None


def test_an_unchanged_graph_rechecks_nothing(project_copy: Project) -> None:
    prepare_release(project_copy)
    check = project_copy.root / "queries" / "checks" / "forbidden-literals.rq"
    check.write_text(check.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    scoped, whole, rechecked = _scoped_and_whole(project_copy)
    assert rechecked == 0
    assert scoped == whole


# --- how far the shapes read -----------------------------------------------------------------------

SH = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
"""


def _reach(text: str) -> object:
    return shapes_reach(Graph().parse(data=SH + text, format="turtle"))


def test_the_projects_shapes_read_two_steps_and_two_predicates_backwards(project_root: Path) -> None:
    shapes = Graph()
    for path in sorted((project_root / "ontology" / "shapes").glob("*.ttl")):
        shapes.parse(path, format="turtle")
    reach = shapes_reach(shapes)
    assert reach is not None
    assert reach.depth == 2  # org:memberDuring/time:hasEnd; a value's sh:class
    assert reach.inverse == {"http://www.w3.org/ns/org#organization", "https://w3id.org/clair-kg/ontology#hasPosition"}
    assert len(reach.sparql_targets) == 1  # EntityShape's


@pytest.mark.parametrize(("shape", "depth"), [
    ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:pattern \"x\" .", 0),
    ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .", 1),
    ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ( ex:p ex:q ) ; sh:class ex:D ] .", 3),
    ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:node ex:T ] .\n"
     "ex:T a sh:NodeShape ; sh:property [ sh:path ex:q ; sh:class ex:D ] .", 3),
    ("ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:p ; sh:equals ex:q .", 1),
])
def test_reach_is_the_longest_walk(shape: str, depth: int) -> None:
    reach = _reach(shape)
    assert reach is not None and getattr(reach, "depth") == depth


def test_inverse_paths_and_object_targets_are_read_backwards() -> None:
    reach = _reach("ex:S a sh:NodeShape ; sh:targetObjectsOf ex:t ; "
                   "sh:property [ sh:path [ sh:inversePath ex:p ] ; sh:minCount 1 ] .")
    assert reach is not None and getattr(reach, "inverse") == {"http://example.org/p", "http://example.org/t"}


@pytest.mark.parametrize("shape", [
    "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path [ sh:zeroOrMorePath ex:p ] ; sh:minCount 1 ] .",
    "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql [ sh:select \"SELECT $this WHERE { }\" ] .",
    "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:node ex:S .",
    "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:someFutureParameter 1 .",
])
def test_an_unbounded_reach_means_the_whole_graph(shape: str) -> None:
    assert _reach(shape) is None
