"""clair_kg.shacl gives pyshacl's findings on the project's own shapes, finding for finding.

Compared unlocated (focus node, path, value, message, severity, shape) on: the real CLAIR graph;
the real graph with a file of planted errors that break nearly every shape; the planted changes of
tests/test_validate_scope.py; and a 10^4-statement synthetic graph (bench/synthetic.py), clean and
with a planted error. And ``validate_scoped`` says which engine ran, falling back to pyshacl when
the shapes use a feature the engine does not evaluate.
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from pathlib import Path

import pytest
from test_validate_scope import CHANGES, _edit

from bench import synthetic
from clair_kg.project import Project
from clair_kg.sources import load_sources
from clair_kg.validate import ENGINE_FAST, ENGINE_PYSHACL, ShaclResult, shacl_results, validate_scoped

#: statements that break the project's shapes in as many ways as a maintainer could (each line says
#: which): wrong IRIs, missing and duplicate labels, wrong datatypes and node kinds, classes, lists
BROKEN = """@base <https://w3id.org/clair-kg/id/> .
@prefix clair: <https://w3id.org/clair-kg/ontology#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema: <https://schema.org/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix time: <http://www.w3.org/2006/time#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<Org/Bad_Name> a org:FormalOrganization ;                       # pattern on the IRI
    rdfs:label "Bad"@en , "Bad again"@en , "no language" ;    # qualifiedMaxCount, uniqueLang, datatype
    skos:prefLabel "Bad"@ja ;                                   # qualifiedMinCount (no English)
    skos:altLabel "plain" ;                                     # datatype
    schema:foundingDate "1988" ;                                # or (no gYear)
    schema:url "https://example.org/" ;                         # nodeKind, pattern
    clair:annualBudget "a lot" , clair:unknown ;                # maxCount, or
    schema:numberOfEmployees 12 , "twelve" ;                    # maxCount, or
    clair:legalForm <org/clair> ;                               # class
    owl:sameAs <http://www.wikidata.org/entity/Q1> , <http://www.wikidata.org/entity/Q2> ,
        "Q3" , <https://www.wikidata.org/wiki/Q4> .             # qualifiedMaxCount, nodeKind, pattern
<org/nothing> rdfs:comment "no type, no label"@en .             # minCount, qualifiedMinCount, or
<membership/broken> a org:Membership ;
    org:member "someone" ;                                      # nodeKind
    org:organization <org/clair> , <org/nothing> ;              # maxCount
    clair:membershipStatus clair:former , clair:sometimes ;     # maxCount, in; FormerMembershipShape
    rdfs:label "Broken membership"@en ; skos:prefLabel "Broken membership"@en .
<place/nowhere> a schema:City ; rdfs:label "Nowhere"@en ; skos:prefLabel "Nowhere"@en ;
    schema:containedInPlace <place/nowhere> .                   # or (no country)
<place/ward> a schema:AdministrativeArea ; rdfs:label "Ward"@en ; skos:prefLabel "Ward"@en ;
    clair:localGovernmentCode "12345" , 131016 .                # maxCount, datatype, pattern
<claim/count> a schema:QuantitativeValue ; rdfs:label "Count"@en ; skos:prefLabel "Count"@en ;
    schema:minValue "65,000" .                                  # or, minCount (dcterms:source)
"""


def _rows(results: list[ShaclResult]) -> Counter[tuple[str, str | None, str | None, str, str, str]]:
    return Counter((r.focus_key, r.finding.path, r.finding.value, r.finding.message, r.finding.severity,
                    r.finding.source_shape) for r in results)


def _agree(project: Project) -> int:
    """Both engines over the whole of ``project``; returns how many results they agree on."""
    sources = load_sources(project)
    fast = _rows(shacl_results(sources, engine=ENGINE_FAST))
    slow = _rows(shacl_results(sources, engine=ENGINE_PYSHACL))
    assert fast == slow, {"only clair_kg.shacl": fast - slow, "only pyshacl": slow - fast}
    return sum(fast.values())


def test_the_real_graph(project: Project) -> None:
    assert _agree(project) == 0  # the real graph conforms, with either engine


def test_planted_errors_across_the_shapes(project_copy: Project) -> None:
    (project_copy.root / "data" / "clair-offices-en" / "broken.ttl").write_text(BROKEN, encoding="utf-8")
    sources = load_sources(project_copy)
    results = shacl_results(sources, engine=ENGINE_FAST)
    shapes = {r.finding.source_shape.split(",")[0] for r in results}
    # nearly every shape file is hit, through many components
    assert len(results) >= 30 and len(shapes) >= 7, (len(results), shapes)
    assert _agree(project_copy) == len(results)


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_the_scoped_validation_plants(project_copy: Project, name: str) -> None:
    file, text, replacement, affected = CHANGES[name]
    _edit(project_copy, file, text, replacement)
    if name == "forbidden-literal":  # a check query's finding, not a shape's: neither engine reports it
        assert _agree(project_copy) == 0
        return
    assert _agree(project_copy) >= 1
    assert affected in {r.finding.focus_node for r in shacl_results(load_sources(project_copy), engine=ENGINE_FAST)}


def _synthetic(project: Project, statements: int) -> Path:
    text = io.StringIO()
    synthetic.write_turtle(text, statements)
    path = project.root / "data" / "synthetic" / "part.ttl"
    path.parent.mkdir()
    path.write_text(text.getvalue(), encoding="utf-8")
    return path


def test_a_synthetic_graph_of_ten_thousand_statements(project_copy: Project) -> None:
    path = _synthetic(project_copy, 10_000)
    assert _agree(project_copy) == 0
    body = path.read_text(encoding="utf-8")
    country = re.search(r"(<https://w3id.org/clair-kg/id/place/country-\d+>) "
                        r"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://schema.org/Country>", body)
    assert country is not None
    path.write_text(body.replace(country.group(0), f"{country.group(1)} <http://www.w3.org/1999/02/22-rdf-syntax-ns#"
                                 "type> <https://schema.org/Place>", 1), encoding="utf-8")
    assert _agree(project_copy) >= 10  # its cities are in no country now


def test_validation_says_which_engine_ran(project_copy: Project, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="clair_kg.validate"):
        fast = validate_scoped(load_sources(project_copy))
    assert fast.engine == ENGINE_FAST
    assert any(r.getMessage() == "SHACL engine: clair_kg.shacl" for r in caplog.records)
    # a SPARQL-based constraint: beyond the engine, so pyshacl validates (and finds the violation)
    shapes = project_copy.root / "ontology" / "shapes" / "sparql.ttl"
    shapes.write_text("""@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix clairsh: <https://w3id.org/clair-kg/shapes#> .
@prefix org: <http://www.w3.org/ns/org#> .
clairsh:NoOfficeNamedLondonShape a sh:NodeShape ;
    sh:targetClass org:OrganizationalUnit ;
    sh:sparql [ sh:message "no unit may be called London"@en ;
        sh:select '''SELECT $this WHERE { $this <http://www.w3.org/2000/01/rdf-schema#label> ?l .
                             FILTER (CONTAINS(STR(?l), "London")) }''' ] .
""", encoding="utf-8")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="clair_kg.validate"):
        slow = validate_scoped(load_sources(project_copy))
    assert slow.engine == ENGINE_PYSHACL
    assert any("SHACL engine: pyshacl" in r.getMessage() and "sparql" in r.getMessage() and r.levelname == "WARNING"
               for r in caplog.records)
    assert "no unit may be called London" in {f.message for f in slow.report.findings}


def test_the_environment_can_ask_for_pyshacl(project_copy: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    file, text, replacement, affected = CHANGES["city-type-read-by-an-office-elsewhere"]
    _edit(project_copy, file, text, replacement)
    fast = validate_scoped(load_sources(project_copy))
    monkeypatch.setenv("CLAIR_KG_SHACL_ENGINE", "pyshacl")
    slow = validate_scoped(load_sources(project_copy))
    assert (fast.engine, slow.engine) == (ENGINE_FAST, ENGINE_PYSHACL)
    assert affected in {f.focus_node for f in fast.report.findings}
    assert fast.report == slow.report  # every finding, located: file and line
