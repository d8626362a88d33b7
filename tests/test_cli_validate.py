"""`clair-kg validate` and `clair-kg query` as a maintainer runs them: exit codes and messages."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clair_kg.cli import main
from clair_kg.project import Project

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
    assert "data/test/office.ttl:5: Violation: <https://w3id.org/clair-kg/id/office/nowhere>" in text.stdout
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


# --- issue 9, item 7: a publication gate people can trust ---------------------------------------
# Each kind of error is planted in a temporary copy of the real project; `clair-kg validate` runs
# inside the copy with no --project (it must find the copy as git finds a repository), and the test
# asserts the exact finding: file, line, wording, shape, and that it is reported once.

LONDON = "https://w3id.org/clair-kg/id/office/london"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
OWL_SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"


@pytest.fixture()
def clone(project_copy: Project) -> Path:
    """The folder of a copy of the project, to change freely."""
    return project_copy.root


def _line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def validate_in(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CLAIR_KG_PROJECT"}
    return subprocess.run([sys.executable, "-m", "clair_kg.cli", "validate", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)


def _findings(folder: Path) -> list[dict[str, object]]:
    done = validate_in(folder, "--format", "json")
    assert done.returncode == 1, done.stdout + done.stderr
    return list(json.loads(done.stdout)["findings"])


def test_missing_label_is_one_finding_at_the_block_in_the_typing_file(clone: Path) -> None:
    offices = clone / "data" / "wikipedia-article" / "offices.ttl"
    block = _line_of(offices, "<office/london> a clair:OverseasOffice")
    text = offices.read_text(encoding="utf-8")
    offices.write_text(text.replace('    rdfs:label "CLAIR London Office"@en ;\n', ""), encoding="utf-8")
    assert _findings(clone) == [{
        "focus_node": LONDON,
        "path": RDFS_LABEL,
        "message": 'Give the entity exactly one English label: rdfs:label "..."@en.',
        "severity": "Violation",
        "source_shape": "https://w3id.org/clair-kg/shapes#EntityShape, property rdfs:label; "
                        "queries/checks/entity-without-english-label.rq",
        "file": "data/wikipedia-article/offices.ttl",
        "value": None,
        "line": block,
    }]


def test_unverified_qid_is_not_in_the_verified_list_once(clone: Path) -> None:
    identity = clone / "data" / "reference" / "identity.ttl"
    note = '<office/london> skos:note "Wikidata item not yet confirmed"@en .'
    # Q999999999 is deliberately not in the verified list: the planted error.
    identity.write_text(identity.read_text(encoding="utf-8").replace(
        note, note[:-2] + " ;\n    owl:sameAs <http://www.wikidata.org/entity/Q999999999> ."), encoding="utf-8")
    findings = _findings(clone)
    assert len(findings) == 1, findings
    (finding,) = findings
    assert finding["file"] == "data/reference/identity.ttl"
    assert finding["line"] == _line_of(identity, "Q999999999")
    assert finding["path"] == OWL_SAME_AS and finding["value"] == "http://www.wikidata.org/entity/Q999999999"
    assert str(finding["message"]).startswith("This Wikidata link is not in the verified list")
    assert "verified Wikidata link" not in str(finding["message"])


def test_a_listed_qid_with_the_note_is_told_apart_truthfully(clone: Path) -> None:
    identity = clone / "data" / "reference" / "identity.ttl"
    mic = "<org/mic> owl:sameAs <http://www.wikidata.org/entity/Q1322293> ."
    identity.write_text(identity.read_text(encoding="utf-8").replace(
        mic, mic[:-2] + ' ;\n    skos:note "Wikidata item not yet confirmed"@en .'), encoding="utf-8")
    (finding,) = _findings(clone)
    assert finding["source_shape"] == "queries/checks/wikidata-status-missing.rq"
    assert str(finding["message"]).startswith("The entity has a Wikidata link and also says")
    assert finding["file"] == "data/reference/identity.ttl"
    assert finding["line"] == _line_of(identity, "<org/mic> owl:sameAs")


def test_a_bad_literal_names_its_own_line(clone: Path) -> None:
    offices = clone / "data" / "clair-offices-en" / "offices.ttl"
    offices.write_text(offices.read_text(encoding="utf-8") + '\n<office/london> skos:altLabel "Unknown"@en .\n',
                       encoding="utf-8")
    (finding,) = _findings(clone)
    assert (finding["file"], finding["line"]) == ("data/clair-offices-en/offices.ttl", _line_of(offices, '"Unknown"'))
    assert finding["source_shape"] == "queries/checks/forbidden-literals.rq"
    assert finding["value"] == "Unknown"


def test_text_report_names_file_and_line(clone: Path) -> None:
    offices = clone / "data" / "clair-offices-en" / "offices.ttl"
    offices.write_text(offices.read_text(encoding="utf-8") + '\n<office/london> skos:altLabel "Unknown"@en .\n',
                       encoding="utf-8")
    done = validate_in(clone)
    assert done.returncode == 1
    where = f"data/clair-offices-en/offices.ttl:{_line_of(offices, 'Unknown')}"
    assert done.stdout.startswith(f"{where}: Violation: <{LONDON}>")


def test_no_finding_names_a_blank_node(clone: Path) -> None:
    # An office with nothing but a type: many property shapes fire at once.
    (clone / "data" / "test").mkdir()
    (clone / "data" / "test" / "office.ttl").write_text(
        PREFIXES + "\n<https://w3id.org/clair-kg/id/office/nowhere> a clair:OverseasOffice .\n")
    findings = _findings(clone)
    assert findings
    for finding in findings:
        shape = str(finding["source_shape"])
        assert "_:" not in shape and not re.search(r"\bn[0-9a-f]{20,}", shape), shape
        assert finding["line"] is not None and finding["file"] is not None
    problems = [(f["focus_node"], f["path"], f["value"]) for f in findings]
    assert len(problems) == len(set(problems)), "one finding per problem"


def test_validate_finds_the_project_it_runs_in(clone: Path) -> None:
    """Like git: the folder it runs in or the nearest parent with ontology/ and data/."""
    offices = clone / "data" / "clair-offices-en" / "offices.ttl"
    offices.write_text(offices.read_text(encoding="utf-8") + '\n<office/london> skos:altLabel "Unknown"@en .\n',
                       encoding="utf-8")
    deep = clone / "data" / "clair-offices-en"
    done = validate_in(deep, "--format", "json")
    assert done.returncode == 1, done.stderr  # the copy's planted error, not the installed checkout
    assert json.loads(done.stdout)["findings"][0]["file"] == "data/clair-offices-en/offices.ttl"
    outside = clone.parent / "elsewhere"
    outside.mkdir()
    assert validate_in(outside).returncode == 0  # no project here or above: the installed project
