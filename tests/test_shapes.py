"""Shape tests: every SHACL NodeShape has a valid and an invalid case under ``tests/shapes/<Shape>/``.

The valid case conforms to every shape and check query. The invalid case does not, and one of the
findings carries exactly the ``sh:message`` written in ``expected-message.txt`` - which must itself
be the message of that shape or of one of its property shapes, so a reworded message fails here
until the expectation is updated with it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import RDF, SH, Graph, Namespace, URIRef

from clair_kg.validate import ValidationReport, validate_files

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "shapes"
CLAIRSH = Namespace("https://w3id.org/clair-kg/shapes#")

#: Parameters that make a node shape check the focus node itself (not through sh:property).
NODE_LEVEL = (SH["or"], SH["and"], SH["not"], SH.xone, SH.pattern, SH["class"], SH.nodeKind,
              SH.datatype, SH["in"], SH.hasValue, SH.node, SH.closed)


def shapes_graph() -> Graph:
    graph = Graph()
    for path in sorted((ROOT / "ontology" / "shapes").glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


SHAPES = shapes_graph()
NODE_SHAPES = sorted(str(s).removeprefix(str(CLAIRSH)) for s in SHAPES.subjects(RDF.type, SH.NodeShape))
CASE_DIRS = sorted(p.name for p in CASES.iterdir() if p.is_dir())


def shape_messages(name: str) -> set[str]:
    shape = CLAIRSH[name]
    messages = {str(m) for m in SHAPES.objects(shape, SH.message)}
    for prop in SHAPES.objects(shape, SH.property):
        messages |= {str(m) for m in SHAPES.objects(prop, SH.message)}
    return messages


def explain(report: ValidationReport) -> str:
    return "\n".join(f"<{f.focus_node}> {f.path or ''}: {f.message}" for f in report.findings)


def test_every_node_shape_has_test_cases() -> None:
    assert NODE_SHAPES, "no shapes found"
    assert CASE_DIRS == NODE_SHAPES


@pytest.mark.parametrize("node_shape", NODE_SHAPES)
def test_every_constraint_has_a_message(node_shape: str) -> None:
    shape = CLAIRSH[node_shape]
    if any(SHAPES.value(shape, p) is not None for p in NODE_LEVEL):
        assert SHAPES.value(shape, SH.message) is not None, f"{node_shape}: node-level constraint without sh:message"
    for prop in SHAPES.objects(shape, SH.property):
        messages = list(SHAPES.objects(prop, SH.message))
        assert messages, f"{node_shape}: property shape on {SHAPES.value(prop, SH.path)} has no sh:message"
        assert all(getattr(m, "language", None) == "en" for m in messages)


@pytest.mark.parametrize("case", CASE_DIRS)
def test_valid_case_conforms(case: str) -> None:
    report = validate_files([CASES / case / "valid.ttl"], project_root=ROOT)
    assert report.conforms, explain(report)
    assert report.findings == ()


@pytest.mark.parametrize("case", CASE_DIRS)
def test_invalid_case_reports_the_expected_message(case: str) -> None:
    expected = (CASES / case / "expected-message.txt").read_text(encoding="utf-8").strip()
    assert expected in shape_messages(case), f"{case}: expected-message.txt is not a message of clairsh:{case}"
    report = validate_files([CASES / case / "invalid.ttl"], project_root=ROOT)
    assert not report.conforms
    assert expected in {f.message for f in report.findings}, explain(report)
    hits = [f for f in report.findings if f.message == expected]
    assert all(f.severity == "Violation" for f in hits)
    assert all(f.file and f.file.endswith("invalid.ttl") for f in hits), explain(report)


def test_shape_targets_use_no_entity_iris() -> None:
    """Shapes must not name data IRIs: the check queries also read the shapes graph."""
    ids = [o for o in SHAPES.objects() if isinstance(o, URIRef) and "/clair-kg/id/" in str(o)]
    assert ids == []
