"""``clair-kg build``: validated, reproducible (byte-identical rebuilds), atomic, and the dumps agree."""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import pytest
from rdflib import Dataset, Graph, Literal, URIRef

from clair_kg.cli import main

BASE = "https://w3id.org/clair-kg/"
VOID = "http://rdfs.org/ns/void#"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, project_root: Path) -> tuple[Path, Path]:
    """Two builds of the same sources into two folders (the CLI, as a maintainer runs it)."""
    first = tmp_path_factory.mktemp("build") / "dist"
    second = tmp_path_factory.mktemp("rebuild") / "dist"
    assert main(["--project", str(project_root), "build", "--out", str(first)]) == 0
    assert main(["--project", str(project_root), "build", "--out", str(second)]) == 0
    return first, second


EXPECTED = {
    "clair-kg.ttl", "clair-kg.nt", "clair-kg.jsonld", "clair-kg.rdf", "clair-kg.trig", "clair-kg.nq",
    "void.ttl", "validation-report.ttl", "validation-report.txt", "SHA256SUMS",
}


def test_build_writes_every_file(built: tuple[Path, Path]) -> None:
    names = {p.name for p in built[0].iterdir()}
    assert EXPECTED <= names
    for dump in ("ttl", "nt", "jsonld", "rdf", "trig", "nq"):
        assert f"clair-kg.{dump}.gz" in names
        raw = (built[0] / f"clair-kg.{dump}").read_bytes()
        assert gzip.decompress((built[0] / f"clair-kg.{dump}.gz").read_bytes()) == raw
    assert not [p for p in built[0].parent.iterdir() if p.name.startswith(".dist")], "no temp folders left"


def test_rebuild_is_byte_identical(built: tuple[Path, Path]) -> None:
    first, second = built
    assert sorted(p.name for p in first.iterdir()) == sorted(p.name for p in second.iterdir())
    for path in first.iterdir():
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name


def test_gzip_has_no_timestamp_or_name(built: tuple[Path, Path]) -> None:
    header = (built[0] / "clair-kg.nt.gz").read_bytes()[:10]
    assert header[4:8] == b"\0\0\0\0", "mtime 0"
    assert header[3] & 0x08 == 0, "no file name"


def test_sha256sums_verify(built: tuple[Path, Path]) -> None:
    lines = (built[0] / "SHA256SUMS").read_text().splitlines()
    listed = {}
    for line in lines:
        digest, name = line.split("  ", 1)
        listed[name] = digest
        assert hashlib.sha256((built[0] / name).read_bytes()).hexdigest() == digest, name
    assert set(listed) == {p.name for p in built[0].iterdir()} - {"SHA256SUMS"}


def test_dumps_agree_on_the_statement_count(built: tuple[Path, Path]) -> None:
    d = built[0]
    quads = {}
    for name, fmt in (("clair-kg.nq", "nquads"), ("clair-kg.trig", "trig"), ("clair-kg.jsonld", "json-ld")):
        ds = Dataset()
        ds.parse(d / name, format=fmt)
        quads[name] = sum(len(g) for g in ds.graphs())
    triples = {}
    for name, fmt in (("clair-kg.nt", "nt"), ("clair-kg.ttl", "turtle"), ("clair-kg.rdf", "xml")):
        triples[name] = len(Graph().parse(d / name, format=fmt))
    assert len(set(quads.values())) == 1, quads
    assert len(set(triples.values())) == 1, triples
    nq_lines = (d / "clair-kg.nq").read_text().splitlines()
    assert quads["clair-kg.nq"] == len(nq_lines)
    distinct = {line.rsplit(" ", 2)[0] for line in nq_lines}  # drop " <graph> ."
    assert triples["clair-kg.nt"] == len(distinct)
    void = Graph().parse(d / "void.ttl", format="turtle")
    assert int(void.value(URIRef(BASE + "dataset"), URIRef(VOID + "triples"))) == len(distinct)


def test_void_and_dcat_description(built: tuple[Path, Path], kg_select) -> None:  # type: ignore[no-untyped-def]
    g = Graph().parse(built[0] / "void.ttl", format="turtle")
    ds = URIRef(BASE + "dataset")
    dcat = "http://www.w3.org/ns/dcat#"
    dct = "http://purl.org/dc/terms/"
    assert (ds, URIRef(dct + "license"), None) in g
    assert (ds, URIRef(dct + "issued"), None) in g
    assert (ds, URIRef(dcat + "version"), None) in g
    assert (ds, URIRef(VOID + "sparqlEndpoint"), URIRef(BASE + "sparql")) in g
    assert (ds, URIRef(VOID + "dataDump"), URIRef(BASE + "downloads/clair-kg.nt")) in g
    assert len(list(g.objects(ds, URIRef(dcat + "distribution")))) == 12
    assert (URIRef(BASE + "graph/wikipedia-article"), None, None) in g, "each source is a subset"
    wikidata_links = kg_select(
        'SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?o WHERE { ?s <http://www.w3.org/2002/07/owl#sameAs> ?o '
        'FILTER(STRSTARTS(STR(?o), "http://www.wikidata.org/entity/")) } }'
    )[0]["n"]
    linkset = URIRef(BASE + "dataset#links-wikidata")
    assert (linkset, None, URIRef(VOID + "Linkset")) in g
    assert g.value(linkset, URIRef(VOID + "triples")) == Literal(int(wikidata_links))
    report = (built[0] / "validation-report.txt").read_text()
    assert "conforms" in report


def test_release_date_is_not_the_clock(project_root: Path) -> None:
    from clair_kg.project import Project
    from clair_kg.publish import release_date

    assert release_date(Project(project_root), environ={"SOURCE_DATE_EPOCH": "0"}) == "1970-01-01"
    assert release_date(Project(project_root), environ={}) == release_date(Project(project_root), environ={})


def _copy_project(src: Path, dest: Path) -> Path:
    for folder in ("ontology", "data", "queries"):
        shutil.copytree(src / folder, dest / folder)
    return dest


BROKEN_SHAPE = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://w3id.org/clair-kg/shapes#AlwaysBroken> a sh:NodeShape ;
    sh:targetSubjectsOf rdfs:label ;
    sh:property [ sh:path <urn:test:required> ; sh:minCount 1 ;
                  sh:message "test: a property nothing has is required"@en ] .
"""


def test_build_is_atomic_on_a_violation(
    tmp_path: Path, project_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = _copy_project(project_root, tmp_path / "project")
    (broken / "ontology" / "shapes" / "zz-broken.ttl").write_text(BROKEN_SHAPE)
    out = tmp_path / "dist"
    out.mkdir()
    (out / "clair-kg.nt").write_text("previous release\n")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["--project", str(broken), "build", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "test: a property nothing has is required" in err and "violation" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before, "dist/ must not change"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist", "project"], "no temp folders left"


def test_build_replaces_an_old_release(tmp_path: Path, project_root: Path) -> None:
    project = _copy_project(project_root, tmp_path / "project")
    out = tmp_path / "dist"
    out.mkdir()
    (out / "stale.txt").write_text("from an older build")
    assert main(["--project", str(project), "build", "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert "stale.txt" not in names and EXPECTED <= names
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist", "project"]


def test_one_count_of_the_graph(built: tuple[Path, Path], client) -> None:  # type: ignore[no-untyped-def]
    """COUNT(*) over the default graph = VoID void:triples = distinct triples of the N-Triples dump."""
    nt = {line for line in (built[0] / "clair-kg.nt").read_text().splitlines() if line}
    void = Graph().parse(built[0] / "void.ttl", format="turtle")
    described = int(void.value(URIRef(BASE + "dataset"), URIRef(VOID + "triples")))
    r = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                   headers={"Accept": "application/sparql-results+json"})
    counted = int(r.json()["results"]["bindings"][0]["n"]["value"])
    assert counted == described == len(nt)
    quads = len((built[0] / "clair-kg.nq").read_text().splitlines())
    assert quads > counted  # some triples are stated by more than one source: the merge counts them once


@pytest.mark.live
def test_serve_publishes_the_files_build_writes(built: tuple[Path, Path]) -> None:
    """`clair-kg serve` publishes once, through the same code as `clair-kg build`: the same bytes."""
    import httpx
    from test_sparql_live import shared_server

    server = shared_server()
    sums = httpx.get(server.url + "/downloads/SHA256SUMS")
    assert sums.status_code == 200
    assert sums.content == (built[0] / "SHA256SUMS").read_bytes()
    report = httpx.get(server.url + "/downloads/validation-report.txt")
    assert report.content == (built[0] / "validation-report.txt").read_bytes()


def test_validation_adds_nothing_to_the_release(project_root: Path) -> None:
    """pyshacl writes axioms into the graphs it validates; the release must be the sources as written."""
    from clair_kg.project import Project
    from clair_kg.release import prepare_release

    project = Project(project_root)
    assert prepare_release(project, validate=True).nquads == prepare_release(project, validate=False).nquads
