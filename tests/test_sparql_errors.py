"""SPARQL errors a user can act on, and the predeclared prefixes (issue 9, items 1 and 2).

Through the real CLI (a subprocess) and the real ASGI app over the real store: a syntax error names
line and column, quotes the line with a marker, says what was expected in words; an undeclared
prefix is named with the PREFIX line to add; a query too deep for the engine or using a function
it does not know is a 400, and the query worker survives.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clair_kg.namespaces import PREFIXES, SPARQL_PREFIXES
from clair_kg.store.diagnostics import check_depth, describe_syntax_error, query_depth

ROOT = Path(__file__).resolve().parent.parent
README_QUERY = (
    "SELECT ?office ?label WHERE { ?office a <https://w3id.org/clair-kg/ontology#OverseasOffice> ; "
    "rdfs:label ?label }"
)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "clair_kg.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def sparql(client: TestClient, query: str) -> tuple[int, str]:
    response = client.post("/sparql", content=query.encode(), headers={
        "Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"})
    if response.status_code >= 400:
        return response.status_code, str(response.json()["error"])
    return response.status_code, response.text


def _metric(client: TestClient, name: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no metric {name}")


# --- the README's query runs as pasted ------------------------------------------------------------


def test_readme_query_is_the_one_tested() -> None:
    assert README_QUERY in (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_query_runs_in_the_cli() -> None:
    done = cli("query", README_QUERY, "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert "https://w3id.org/clair-kg/id/office/london" in done.stdout


def test_readme_query_runs_on_sparql(client: TestClient) -> None:
    status, body = sparql(client, README_QUERY)
    assert status == 200, body
    assert "https://w3id.org/clair-kg/id/office/london" in body


def test_a_query_declaring_a_predeclared_prefix_itself_wins(client: TestClient) -> None:
    # rdfs: bound to another namespace: no label matches, where the predeclared one would
    query = "PREFIX rdfs: <http://example.org/not-rdfs#> " + README_QUERY
    status, body = sparql(client, query)
    assert status == 200
    assert '"bindings":[]' in body.replace(" ", "")


def test_predeclared_prefixes_are_the_issue_list() -> None:
    wanted = {"rdf", "rdfs", "owl", "xsd", "skos", "schema", "org", "dcterms", "prov", "time", "dcat",
              "void", "clair"}
    assert wanted <= set(SPARQL_PREFIXES)
    assert all(PREFIXES[name] == iri for name, iri in SPARQL_PREFIXES.items())


def test_query_page_lists_the_predeclared_prefixes(client: TestClient) -> None:
    page = client.get("/sparql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    for name, iri in SPARQL_PREFIXES.items():
        assert f"{name}:" in page.text and iri in page.text, name


def test_docs_list_the_predeclared_prefixes() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, iri in SPARQL_PREFIXES.items():
        assert f"`{name}:`" in readme and iri in readme, name


# --- syntax errors in words ----------------------------------------------------------------------

MISSING_OBJECT = "SELECT * WHERE {\n  ?s ?p ?o .\n  ?s ?p }"
MISSING_OBJECT_REPORT = (
    "SPARQL syntax error at line 3, column 9: expected a triple's object before '}'\n"
    "  3 |   ?s ?p }\n"
    "    |         ^"
)


def test_cli_syntax_error_names_line_column_and_what_was_expected() -> None:
    done = cli("query", MISSING_OBJECT)
    assert done.returncode == 2
    assert MISSING_OBJECT_REPORT in done.stderr
    assert "\\u{" not in done.stderr and "LATERAL" not in done.stderr  # no grammar dump
    assert len(done.stderr.splitlines()) <= 4


def test_sparql_syntax_error_names_line_column_and_what_was_expected(client: TestClient) -> None:
    status, message = sparql(client, MISSING_OBJECT)
    assert status == 400
    assert message == MISSING_OBJECT_REPORT


def test_undeclared_prefix_is_named_with_the_line_to_add(client: TestClient) -> None:
    query = "SELECT ?s WHERE { ?s sh:path ?o }"
    expected = 'prefix "sh:" is not declared — add PREFIX sh: <http://www.w3.org/ns/shacl#>'
    status, message = sparql(client, query)
    assert status == 400
    assert message.splitlines()[0] == f"SPARQL syntax error at line 1, column 22: {expected}"
    assert message.splitlines()[2] == "    |" + " " * 22 + "^"
    done = cli("query", query)
    assert done.returncode == 2 and expected in done.stderr


@pytest.mark.parametrize(("query", "words"), [
    ("SELECT * WHERE { ?s ?p ?o", "expected '}' to close the '{' at line 1, column 16"),
    ("SELECT * WHERE { ?s ?p ?o } }", "this '}' closes nothing"),
    ("SELECT ?s WHERE { ?s ?p ?o . BIND(1 AS ) }", "expected a variable before ')'"),
    ("SELECT * WHERE { ?s }", "expected a predicate and an object before '}'"),
    ("SELECT ?s WHERE { ?s ?p ?o } LIMIT x", "expected a number before 'x'"),
    ('SELECT * { ?s ?p "abc }', 'this string is never closed'),
    ("SELECT ?x WHERE { ?s ?p ?o FILTER(?o = ) }", "expected an expression"),
])
def test_syntax_errors_in_words(client: TestClient, query: str, words: str) -> None:
    status, message = sparql(client, query)
    assert status == 400
    assert words in message.splitlines()[0]
    assert message.splitlines()[2].rstrip().endswith("^")


def test_describe_marks_the_spot_in_a_long_line() -> None:
    query = "SELECT * WHERE { " + "?s ?p ?o . " * 20 + "?s ?p }"
    text = describe_syntax_error(query, "error at 1:300: expected [_]")
    quoted, marker = text.splitlines()[1:]
    assert len(quoted) < 130
    assert quoted[marker.index("^")] == "}"


# --- hostile queries: 400, and the worker lives ------------------------------------------------


def test_depth_counts_brackets_and_chains_not_strings() -> None:
    assert query_depth("SELECT * { FILTER((1)) }")[0] == 3  # {, (, ( (FILTER counts in the { level)
    assert query_depth("SELECT * { ?s ?p ?o } ")[0] == 1
    assert query_depth("SELECT * { FILTER(1 + 2 + 3) }")[0] == 4  # the chain of + nests
    assert query_depth('SELECT * { ?s ?p "((((((((((" }')[0] == 1
    assert query_depth("SELECT * { ?s ?p <urn:x(((((> }")[0] == 1
    check_depth("SELECT * { " + "{" * 400 + "}" * 400 + " }")


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { FILTER(" + "(" * 10_000 + "1" + ")" * 10_000 + ") }",
    "SELECT * WHERE " + "{" * 5_000 + "}" * 5_000,
    "SELECT * WHERE { " + " ".join(["OPTIONAL { ?s ?p ?o }"] * 3_000) + " }",
    "SELECT * WHERE { FILTER(" + "!" * 10_000 + "true) }",
])
def test_too_deep_is_400_before_any_worker(client: TestClient, query: str) -> None:
    died = _metric(client, "clair_kg_sparql_workers_died_total")
    status, message = sparql(client, query)
    assert status == 400
    assert "levels deep" in message and "max_query_depth" in message and "at most 500" in message
    assert _metric(client, "clair_kg_sparql_workers_died_total") == died
    assert sparql(client, "ASK { ?s ?p ?o }")[0] == 200


def test_too_deep_in_the_cli_is_an_error_not_a_crash() -> None:
    done = cli("query", "SELECT * WHERE " + "{" * 5_000 + "}" * 5_000)
    assert done.returncode == 2
    assert "levels deep" in done.stderr


@pytest.mark.parametrize("query", [
    "SELECT ?x WHERE { ?s ?p ?o FILTER(<http://example/function>(?o)) }",
    "SELECT ?x WHERE { BIND(<http://example/function>(1) AS ?x) }",
])
def test_unknown_function_is_400_naming_it(client: TestClient, query: str) -> None:
    died = _metric(client, "clair_kg_sparql_workers_died_total")
    status, message = sparql(client, query)
    assert status == 400, message
    assert "<http://example/function>" in message and "not supported" in message
    assert "RuntimeError" not in message
    assert _metric(client, "clair_kg_sparql_workers_died_total") == died
    done = cli("query", query)
    assert done.returncode == 2 and "<http://example/function> is not supported" in done.stderr


def test_error_lines_have_no_grammar_dump(client: TestClient) -> None:
    status, message = sparql(client, "SELECT ?s WHERE { ?s ?p ?o } GROUP BY")
    assert status == 400
    assert not re.search(r"\\u\{|'\.\.='|\[_\]", message)


# --- a remote store (oxigraph serve) gets the same prefixes and the same words ---------------------


@pytest.mark.remote
def test_remote_store_predeclares_prefixes_and_explains_errors(remote_store) -> None:  # type: ignore[no-untyped-def]
    from clair_kg.errors import QuerySyntaxError

    rows = remote_store.select(README_QUERY)
    assert any(str(row["office"].value).endswith("/id/office/london") for row in rows)
    with pytest.raises(QuerySyntaxError) as raised:
        remote_store.select(MISSING_OBJECT)
    assert raised.value.message == MISSING_OBJECT_REPORT


def test_declared_prefixes_keep_line_numbers() -> None:
    from clair_kg.store.diagnostics import declare_prefixes

    text = declare_prefixes("SELECT * {\n ?s rdfs:label ?o ; ex:p ?x }")
    assert text.count("\n") == 1 and text.startswith("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT")
    assert declare_prefixes("PREFIX rdfs: <urn:x#> SELECT * { ?s rdfs:label ?o }").count("PREFIX") == 1
