"""The SHACL engine (clair_kg.shacl) against the W3C SHACL core test suite, and against pyshacl.

``tests/data/shacl-core/`` is the W3C data-shapes core suite as pyshacl 0.40.1 ships it (see its
README). For each test the engine either declares the shapes unsupported (``validate.py`` then runs
pyshacl; the list of those tests is pinned below and in docs/validation-at-scale.md) or its results
equal both the suite's expected report and pyshacl's, result for result: focus node, path, value,
source shape, source constraint component and severity. A blank node of the expected report is
matched by any blank node (the suite compares reports as graphs); pyshacl's and this engine's
results name the very same blank nodes, so between those two the comparison is exact.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
import pytest
from pyshacl import validate as pyshacl_validate
from rdflib import RDF, SH, BNode, Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from clair_kg import shacl
from clair_kg.shacl.terms import to_oxigraph, to_rdflib

SUITE = Path(__file__).parent / "data" / "shacl-core"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")

#: the core tests whose shapes the engine declares unsupported (each then runs on pyshacl)
UNSUPPORTED: frozenset[str] = frozenset({
    "property/qualifiedValueShape-001",  # writes sh:nodeShape, not a SHACL term: the engine refuses unknown sh: terms
})
#: where pyshacl's report is not the suite's; the engine gives pyshacl's (what validate.py gave before)
PYSHACL_DIFFERS: dict[str, str] = {
    "property/uniqueLang-002": 'pyshacl reads sh:uniqueLang "1"^^xsd:boolean as true; the suite says only "true" '
                               "turns it on",
}
#: where the data as a pyoxigraph store holds it is not the file's, so no engine reading the store can
#: give the suite's report; the engine and pyshacl still agree on the store's data
STORE_DIFFERS: dict[str, str] = {
    "property/datatype-ill-formed": 'the store keeps the out-of-range "300"^^xsd:byte as "300"^^xsd:integer',
}


@dataclass(frozen=True)
class Case:
    name: str  # the test's path under the suite, e.g. "node/class-001"
    data: Path
    shapes: Path
    manifest: Graph
    result: Node  # the expected report, or sht:Failure


def _cases() -> list[Case]:
    cases: list[Case] = []
    todo = [SUITE / "manifest.ttl"]
    while todo:
        path = todo.pop(0)
        g = Graph().parse(path, format="turtle", publicID=path.as_uri())
        for include in sorted(g.objects(None, MF.include), key=str):
            todo.append(Path(str(include).removeprefix("file://")))
        for entries in g.objects(None, MF.entries):
            for entry in Collection(g, entries):
                action = g.value(entry, MF.action)
                data, shapes = g.value(action, SHT.dataGraph), g.value(action, SHT.shapesGraph)
                result = g.value(entry, MF.result)
                assert data is not None and shapes is not None and result is not None, entry
                name = str(entry).removeprefix(SUITE.as_uri() + "/")
                cases.append(Case(name, Path(str(data).removeprefix("file://")),
                                  Path(str(shapes).removeprefix("file://")), g, result))
    return sorted(cases, key=lambda c: c.name)


CASES = _cases()

#: one result as the suite compares it: focus node, path, value, shape, component, severity
Row = tuple[str, str, str, str, str, str]


def _text(node: Node | None, graph: Graph, *, blank: bool) -> str:
    """A node of a result; ``blank``: every blank node reads the same (the suite's own matching)."""
    if node is None:
        return "-"
    if isinstance(node, BNode):
        return "_:" if blank else f"_:{node}"
    return node.n3()


def _path(node: Node | None, graph: Graph) -> str:
    """A path in SPARQL's syntax, whatever blank nodes it is written with."""
    if node is None:
        return "-"
    if isinstance(node, URIRef):
        return node.n3()
    if (node, RDF.first, None) in graph:
        return "(" + "/".join(_path(p, graph) for p in Collection(graph, node)) + ")"
    for p, o in graph.predicate_objects(node):
        if p == SH.inversePath:
            return "^" + _path(o, graph)
        if p == SH.alternativePath:
            return "(" + "|".join(_path(m, graph) for m in Collection(graph, o)) + ")"
        suffix = {SH.zeroOrMorePath: "*", SH.oneOrMorePath: "+", SH.zeroOrOnePath: "?"}.get(p)  # type: ignore[call-overload]
        if suffix:
            return _path(o, graph) + suffix
    return "?"


def _report_rows(graph: Graph, report: Node, *, blank: bool) -> Counter[Row]:
    rows: Counter[Row] = Counter()
    for r in graph.objects(report, SH.result):
        rows[(_text(graph.value(r, SH.focusNode), graph, blank=blank), _path(graph.value(r, SH.resultPath), graph),
              _text(graph.value(r, SH.value), graph, blank=blank), _text(graph.value(r, SH.sourceShape), graph,
                                                                         blank=blank),
              _text(graph.value(r, SH.sourceConstraintComponent), graph, blank=blank),
              _text(graph.value(r, SH.resultSeverity), graph, blank=blank))] += 1
    return rows


def _engine_rows(results: list[shacl.Result], shapes: Graph, *, blank: bool) -> Counter[Row]:
    rows: Counter[Row] = Counter()
    for r in results:
        value = to_rdflib(r.value) if r.value is not None else None
        rows[(_text(to_rdflib(r.focus), shapes, blank=blank), _path(r.path, shapes),
              _text(value, shapes, blank=blank), _text(r.shape, shapes, blank=blank),
              _text(r.component, shapes, blank=blank), _text(r.severity, shapes, blank=blank))] += 1
    return rows


def _store(graph: Graph) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.extend(pyoxigraph.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o))  # type: ignore[arg-type]
                 for s, p, o in graph)
    return store


@dataclass(frozen=True)
class Outcome:
    supported: bool
    engine: Counter[Row]
    engine_exact: Counter[Row]
    expected: Counter[Row] | None  # None: the suite expects a failure
    pyshacl: Counter[Row]
    pyshacl_exact: Counter[Row]


def run_case(case: Case) -> Outcome:
    data = Graph().parse(case.data, format="turtle", publicID=case.data.as_uri())
    shapes = data if case.shapes == case.data else Graph().parse(case.shapes, format="turtle",
                                                                   publicID=case.shapes.as_uri())
    store = _store(data)
    # pyshacl reads the data as the store holds it (as validate.py gives it the release's store)
    stored = Graph()
    stored.addN((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object), stored)  # type: ignore[arg-type]
                for q in store)
    _conforms, report_graph, _text_report = pyshacl_validate(stored, shacl_graph=shapes, inference="none",
                                                             advanced=True)
    reports = list(report_graph.subjects(RDF.type, SH.ValidationReport))
    py_blank = _report_rows(report_graph, reports[0], blank=True)
    py_exact = _report_rows(report_graph, reports[0], blank=False)
    expected = None if case.result == SHT.Failure else _report_rows(case.manifest, case.result, blank=True)
    try:
        results = shacl.validate(store, shapes)
    except shacl.Unsupported:
        return Outcome(False, Counter(), Counter(), expected, py_blank, py_exact)
    return Outcome(True, _engine_rows(results, shapes, blank=True), _engine_rows(results, shapes, blank=False),
                   expected, py_blank, py_exact)


def test_the_suite_is_all_here() -> None:
    assert len(CASES) >= 98  # the core suite's tests, every manifest read
    assert {c.name.split("/")[0] for c in CASES} >= {"complex", "misc", "node", "path", "property", "targets"}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_core_case(case: Case) -> None:
    outcome = run_case(case)
    if case.name in UNSUPPORTED:
        assert not outcome.supported, f"{case.name} is supported now: take it off UNSUPPORTED"
        return
    assert outcome.supported, f"{case.name}: the engine declares it unsupported"
    assert outcome.expected is not None
    assert outcome.engine_exact == outcome.pyshacl_exact, "the engine's results differ from pyshacl's"
    if case.name in PYSHACL_DIFFERS or case.name in STORE_DIFFERS:
        assert outcome.engine != outcome.expected, f"{case.name} now gives the suite's report: unlist it"
    else:
        assert outcome.engine == outcome.expected, "the engine's results differ from the suite's"


if __name__ == "__main__":  # a summary: python tests/test_shacl_core.py
    for case in CASES:
        o = run_case(case)
        if not o.supported:
            print("UNSUPPORTED", case.name)
            continue
        ok_suite = o.engine == o.expected
        ok_py = o.engine_exact == o.pyshacl_exact
        if not (ok_suite and ok_py):
            print("DIFF", case.name, "suite" if not ok_suite else "", "pyshacl" if not ok_py else "",
                  "| pyshacl==suite:", o.pyshacl == o.expected)
            if o.expected is not None:
                print("   engine-expected:", dict(o.engine - o.expected))
                print("   expected-engine:", dict(o.expected - o.engine))
    print(len(CASES), "cases")


def test_a_shape_that_refers_to_itself_is_left_to_pyshacl() -> None:
    shapes = Graph().parse(data="""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:Person a sh:NodeShape ; sh:targetClass ex:Person ;
            sh:property [ sh:path ex:knows ; sh:node ex:Person ] .""", format="turtle")
    with pytest.raises(shacl.Unsupported, match="refers to itself"):
        shacl.check_supported(shapes)
