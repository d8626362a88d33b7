"""`clair-kg validate` and `clair-kg query` as a maintainer runs them: exit codes and messages."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clair_kg.cli import main

PREFIXES = """@prefix clair: <https://w3id.org/clair-kg/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix org: <http://www.w3.org/ns/org#> .
"""


@pytest.fixture()
def tmp_project(tmp_path: Path, project_root: Path) -> Path:
    """A copy of the real ontology, shapes and checks, with data of the test's choosing."""
    shutil.copytree(project_root / "ontology", tmp_path / "ontology")
    shutil.copytree(project_root / "queries" / "checks", tmp_path / "queries" / "checks")
    (tmp_path / "data" / "test").mkdir(parents=True)
    return tmp_path


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clair_kg.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_real_graph_conforms(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 0
    assert "conforms" in capsys.readouterr().out


def test_broken_turtle_names_file_and_line(tmp_project: Path) -> None:
    bad = tmp_project / "data" / "test" / "broken.ttl"
    bad.write_text(PREFIXES + "\n<https://w3id.org/clair-kg/id/office/x> rdfs:label \"unterminated .\n")
    result = run_cli("--project", str(tmp_project), "validate")
    assert result.returncode == 2
    assert "data/test/broken.ttl:5" in result.stderr
    assert "Traceback" not in result.stderr


def test_shape_violation_exit_1_and_names_file(tmp_project: Path) -> None:
    bad = tmp_project / "data" / "test" / "office.ttl"
    # An overseas office with neither label nor city: several constraints must fire.
    bad.write_text(PREFIXES + "\n<https://w3id.org/clair-kg/id/office/nowhere> a clair:OverseasOffice .\n")
    result = run_cli("--project", str(tmp_project), "validate", "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["conforms"] is False
    about_office = [f for f in report["findings"] if f["focus_node"].endswith("/id/office/nowhere")]
    assert about_office, report["findings"]
    assert all(f["file"] == "data/test/office.ttl" for f in about_office)
    assert all(f["message"] for f in about_office)


def test_text_and_turtle_reports(tmp_project: Path) -> None:
    (tmp_project / "data" / "test" / "office.ttl").write_text(
        PREFIXES + "\n<https://w3id.org/clair-kg/id/office/nowhere> a clair:OverseasOffice .\n"
    )
    text = run_cli("--project", str(tmp_project), "validate")
    assert text.returncode == 1
    assert "data/test/office.ttl: Violation: <https://w3id.org/clair-kg/id/office/nowhere>" in text.stdout
    turtle = run_cli("--project", str(tmp_project), "validate", "--format", "turtle")
    assert turtle.returncode == 1
    import rdflib

    g = rdflib.Graph().parse(data=turtle.stdout, format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    assert (None, sh.conforms, rdflib.Literal(False)) in g


def test_query_formats(capsys: pytest.CaptureFixture[str]) -> None:
    q = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert main(["query", q, "--format", "json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert int(body["results"]["bindings"][0]["n"]["value"]) >= 4
    assert main(["query", q, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "n"
    assert main(["query", "SELECT * WHERE {"]) == 2
    assert "syntax error" in capsys.readouterr().err
    assert main(["query", "ASK { ?s ?p ?o }"]) == 0
    assert capsys.readouterr().out.strip() == "true"


def test_query_turtle_for_construct(capsys: pytest.CaptureFixture[str]) -> None:
    q = "CONSTRUCT { ?s a ?t } WHERE { ?s a ?t } LIMIT 3"
    assert main(["query", q, "--format", "turtle"]) == 0
    import rdflib

    assert len(rdflib.Graph().parse(data=capsys.readouterr().out, format="turtle")) == 3
    assert main(["query", q, "--format", "csv"]) == 2
