"""Sources parsed with pyoxigraph give the bytes, counts and locations that rdflib parsing gave.

The release's N-Quads (whose hash names the release) must not depend on the parser: the reference
here is the former way — each file parsed by rdflib, written as N-Triples, blank nodes labelled by
content, lines sorted — and it must equal :func:`load_sources`' bytes on the real project and on a
file of literals rdflib normalises (``"01"^^xsd:integer``), blank nodes and relative IRIs.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Graph

from clair_kg.canonical import canonical_blank_nodes
from clair_kg.project import Project
from clair_kg.sources import _discover, load_sources
from clair_kg.validate import validate_sources

ODD = """@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<thing/a> ex:n "01"^^xsd:integer , "+5"^^xsd:integer , 1.0e3 , 2.50 , "TRUE"^^xsd:boolean , true ;
    ex:when "1988"^^xsd:gYear , "2026-11-29"^^xsd:date ;
    ex:text "plain" , "typed"^^xsd:string , "tagged"@EN-gb , \"\"\"long
text\"\"\" ;
    ex:b [ ex:c [ ex:d "x" ] ] , [ ex:d "x" ] .
_:same ex:d "y" .
"""


def _rdflib_way(project: Project) -> bytes:
    quads: list[pyoxigraph.Quad] = []
    for source in _discover(project):
        text = Graph().parse(source.path, format="turtle").serialize(format="nt", encoding="utf-8")
        graph = pyoxigraph.NamedNode(source.graph)
        quads += [pyoxigraph.Quad(t.subject, t.predicate, t.object, graph)
                  for t in pyoxigraph.parse(text, format=pyoxigraph.RdfFormat.N_TRIPLES, rename_blank_nodes=True)]
    body = pyoxigraph.serialize(canonical_blank_nodes(quads), format=pyoxigraph.RdfFormat.N_QUADS) or b""
    return "".join(line + "\n" for line in sorted(set(body.decode("utf-8").splitlines())) if line).encode("utf-8")


@pytest.fixture()
def odd_project(project_copy: Project) -> Project:
    root = project_copy.root
    (root / "data" / "odd").mkdir()
    (root / "data" / "odd" / "one.ttl").write_text(ODD, encoding="utf-8")
    (root / "data" / "odd" / "two.ttl").write_text(ODD, encoding="utf-8")  # same blank labels, other file
    return project_copy


def test_the_real_project_gives_the_bytes_rdflib_parsing_gave(project_root: Path) -> None:
    project = Project(project_root)
    assert load_sources(project).to_nquads() == _rdflib_way(project)


def test_normalised_literals_blank_nodes_and_relative_iris_give_the_same_bytes(odd_project: Project) -> None:
    nquads = load_sources(odd_project).to_nquads()
    assert nquads == _rdflib_way(odd_project)
    assert b'"1"^^<http://www.w3.org/2001/XMLSchema#integer>' in nquads  # rdflib's normal form of "01"
    assert b"file://" in nquads  # <thing/a> resolved against the file, as rdflib resolves it


def test_the_statement_count_is_the_merged_graphs(odd_project: Project) -> None:
    sources = load_sources(odd_project)
    merged = Graph()
    for source in _discover(odd_project):
        if source.graph != odd_project.graph_iri("shapes"):
            merged += Graph().parse(source.path, format="turtle")
    assert validate_sources(sources).triples == len(merged)


def test_locations_read_only_the_files_that_can_mention_a_node(project_root: Path) -> None:
    sources = load_sources(Project(project_root))
    london = "https://w3id.org/clair-kg/id/office/london"
    some = sources.locations({london})
    assert some.block(london) == sources.statements.block(london)
    assert some.statement(london, "http://www.w3.org/2000/01/rdf-schema#label") == sources.statements.statement(
        london, "http://www.w3.org/2000/01/rdf-schema#label")
    files_read = {where.file for places in some.blocks.values() for where in places}
    files_all = {where.file for places in sources.statements.blocks.values() for where in places}
    assert files_read < files_all
