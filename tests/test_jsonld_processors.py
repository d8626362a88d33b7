"""Every JSON-LD document the server sends parses offline, in rdflib and in jsonld.js, to exactly the
triples of its Turtle variant (issue 9, item 5).

jsonld.js (npm ``jsonld``, pinned in tests/js/package-lock.json, installed by ``make js-deps``) is an
independent processor: ``tests/js/to-nquads.js`` converts each file with a document loader that
refuses every fetch, so a remote ``@context`` fails the run instead of being quietly downloaded.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.compare import isomorphic, to_isomorphic

from clair_kg.namespaces import ID_NS

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "tests" / "js"
#: the non-entity documents that have a JSON-LD variant, with their Turtle variant
DOCUMENTS = [
    ("/.well-known/void.jsonld", "/.well-known/void.ttl"),
    ("/ontology.jsonld", "/ontology.ttl"),
    ("/shapes.jsonld", "/shapes.ttl"),
    *((f"/graph/{source}.jsonld", f"/graph/{source}.ttl")
      for source in ("wikipedia-article", "clair-offices-en", "jet-about-en", "reference", "curation")),
]


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (JS / "node_modules" / "jsonld").is_dir():
        pytest.fail("jsonld.js is not installed: run `make js-deps` (npm ci --prefix tests/js)")
    return node


def _remote_contexts(value: Any) -> list[str]:
    """Every @context given as a URL anywhere in a JSON-LD document."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "@context":
                contexts = item if isinstance(item, list) else [item]
                found += [c for c in contexts if isinstance(c, str)]
            found += _remote_contexts(item)
    elif isinstance(value, list):
        for item in value:
            found += _remote_contexts(item)
    return found


def _entity_paths(client: TestClient) -> list[str]:
    query = f"SELECT DISTINCT ?s {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), \"{ID_NS}\")) }} ORDER BY ?s"
    response = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200
    iris = [row["s"]["value"] for row in response.json()["results"]["bindings"]]
    assert len(iris) > 50
    return [iri.removeprefix(ID_NS) for iri in iris]


@pytest.fixture(scope="module")
def documents(client: TestClient) -> list[tuple[str, str, str]]:
    """(path, JSON-LD text, Turtle text) for every entity and every other JSON-LD document."""
    pairs = [(f"/doc/{p}.jsonld", f"/doc/{p}.ttl") for p in _entity_paths(client)] + DOCUMENTS
    out = []
    for jsonld_path, turtle_path in pairs:
        j, t = client.get(jsonld_path), client.get(turtle_path)
        assert j.status_code == 200 and t.status_code == 200, jsonld_path
        assert j.headers["content-type"].startswith("application/ld+json")
        out.append((jsonld_path, j.text, t.text))
    return out


def test_no_document_references_a_remote_context(documents: list[tuple[str, str, str]]) -> None:
    for path, text, _ in documents:
        doc = json.loads(text)
        assert isinstance(doc.get("@context"), dict), path
        assert _remote_contexts(doc) == [], path


def test_rdflib_reads_every_document_as_its_turtle(documents: list[tuple[str, str, str]]) -> None:
    for path, text, turtle in documents:
        # No remote context (checked above), so rdflib has nothing to fetch.
        from_jsonld = rdflib.Graph().parse(data=text, format="json-ld")
        from_turtle = rdflib.Graph().parse(data=turtle, format="turtle")
        assert len(from_turtle) > 0, path
        assert isomorphic(from_jsonld, from_turtle), path


def test_jsonld_js_reads_every_document_as_its_turtle(documents: list[tuple[str, str, str]],
                                                      tmp_path: Path) -> None:
    node = _node()
    files = []
    for index, (path, text, _) in enumerate(documents):
        file = tmp_path / f"doc{index}.jsonld"
        file.write_text(text, encoding="utf-8")
        files.append(file)
    done = subprocess.run([node, str(JS / "to-nquads.js"), *map(str, files)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    for file, (path, _, turtle) in zip(files, documents, strict=True):
        nquads = file.with_suffix(".nq").read_text(encoding="utf-8")
        from_js = rdflib.Graph().parse(data=nquads, format="nt")
        from_turtle = rdflib.Graph().parse(data=turtle, format="turtle")
        difference = set(to_isomorphic(from_js)) ^ set(to_isomorphic(from_turtle))
        assert isomorphic(from_js, from_turtle), (path, sorted(difference)[:5])


def test_jsonld_js_refuses_a_remote_context(tmp_path: Path) -> None:
    """The harness is honest: a document that needs a fetch fails, it is not read from the network."""
    node = _node()
    file = tmp_path / "remote.jsonld"
    file.write_text(json.dumps({"@context": "https://w3id.org/clair-kg/context.jsonld",
                                "@id": "https://w3id.org/clair-kg/id/org/clair", "label": "CLAIR"}))
    done = subprocess.run([node, str(JS / "to-nquads.js"), str(file)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "refusing to fetch" in done.stderr


def test_the_shared_context_is_still_published(client: TestClient) -> None:
    response = client.get("/context.jsonld")
    assert response.status_code == 200
    assert response.json()["@context"]["clair"] == "https://w3id.org/clair-kg/ontology#"
