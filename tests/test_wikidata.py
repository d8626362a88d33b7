"""The Wikidata kit: Mix'n'match export, property proposal, link count, and `check` against a real
local `oxigraph serve` loaded with a Wikidata-shaped fixture (never the live service)."""

from __future__ import annotations

import csv
import http.server
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import free_port, oxigraph_serve

from clair_kg.cli import main
from clair_kg.project import ENTITY_PATH_PATTERN, Project
from clair_kg.search import LabelIndex
from clair_kg.store import EmbeddedStore
from clair_kg.wikidata import (
    CATALOGUE_KINDS,
    MIXNMATCH_COLUMNS,
    USER_AGENT,
    WikidataUnavailable,
    catalogue_entries,
    check_against_wikidata,
    count_wikidata_links,
    mixnmatch_tsv,
    property_proposal,
    run_sparql,
)
from clair_kg.wikidata.check import build_check_query

FIXTURE = Path(__file__).parent / "fixtures" / "wikidata" / "wikidata-sample.ttl"
BASE = "https://w3id.org/clair-kg/"
@pytest.fixture(scope="module")
def index(embedded_store: EmbeddedStore) -> LabelIndex:
    return LabelIndex.build(embedded_store, BASE)


@pytest.fixture(scope="module")
def wikidata_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``oxigraph serve`` holding the Wikidata-shaped fixture in its default graph."""
    with oxigraph_serve(tmp_path_factory.mktemp("wikidata-oxigraph"), union_default_graph=False) as base:
        loaded = httpx.post(f"{base}/store?default", content=FIXTURE.read_bytes(),
                            headers={"content-type": "text/turtle"}, timeout=10)
        assert loaded.status_code in (200, 201, 204), loaded.text
        yield f"{base}/query"


# --- catalogue, proposal, counts -----------------------------------------------------------------

def test_mixnmatch_catalogue(embedded_store: EmbeddedStore, index: LabelIndex) -> None:
    text = mixnmatch_tsv(catalogue_entries(index, embedded_store, base_iri=BASE))
    rows = list(csv.DictReader(io.StringIO(text), delimiter="\t"))
    assert list(rows[0]) == list(MIXNMATCH_COLUMNS)
    by_id = {r["id"]: r for r in rows}
    assert by_id["office/london"]["name"] == "CLAIR London Office"
    assert by_id["office/london"]["url"] == BASE + "id/office/london"
    assert by_id["office/london"]["Aja"] == "自治体国際化協会ロンドン事務所"
    assert by_id["org/mofa"]["q"] == "Q222241" and by_id["org/mofa"]["type"] == "Q43229"
    assert "place/london" not in by_id and "person/mitsuru-yasuda" not in by_id  # only referred to
    assert {r["id"].split("/", 1)[0] for r in rows} == set(CATALOGUE_KINDS)
    assert all(ENTITY_PATH_PATTERN.match(r["id"]) for r in rows)


def test_mixnmatch_cli_filters_by_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["wikidata", "export-mixnmatch", "--type", "office"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 8 and all(line.startswith("office/") for line in lines[1:])


def test_property_proposal(embedded_store: EmbeddedStore, index: LabelIndex) -> None:
    proposal = property_proposal(embedded_store, index, base_iri=BASE)
    catalogue = catalogue_entries(index, embedded_store, base_iri=BASE)
    assert proposal.formatter_url == "https://w3id.org/clair-kg/id/$1"
    assert proposal.formatter_uri_for_rdf == "https://w3id.org/clair-kg/id/$1"
    assert proposal.datatype == "external-id"
    assert proposal.entity_count == len(catalogue)
    assert dict(proposal.counts_by_kind)["office"] == 7 and dict(proposal.counts_by_kind)["branch"] == 47
    # every example names an existing item and our identifier for it
    assert proposal.examples
    assert all(q.startswith("Q") and ENTITY_PATH_PATTERN.match(i) for i, _, q in proposal.examples)
    assert ("org/mofa", "Ministry of Foreign Affairs", "Q222241") in proposal.examples
    wikitext = proposal.to_wikitext()
    assert wikitext.startswith("=== CLAIR knowledge graph ID ===\n{{Property proposal")
    assert "|formatter URL = https://w3id.org/clair-kg/id/$1" in wikitext
    assert "no item confirmed" not in wikitext and "Motivation" in wikitext


def test_property_proposal_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["wikidata", "property-proposal", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["formatter_url"] == "https://w3id.org/clair-kg/id/$1" and doc["entity_count"] == 70
    assert all(example["qid"] for example in doc["examples"])


def test_link_count(embedded_store: EmbeddedStore, project: Project) -> None:
    rows = (project.root / "data" / "reference" / "verified-wikidata.csv").read_text().strip().splitlines()[1:]
    assert count_wikidata_links(embedded_store, base_iri=BASE) == len(rows)


# --- check ---------------------------------------------------------------------------------------

def test_check_query_binds_values_as_terms() -> None:
    from pyoxigraph import Literal

    query = build_check_query(["Q84"], [Literal('Evil" } ; DROP', language="en")], [BASE + "id/org/clair"])
    assert '"Evil\\" } ; DROP"@en' in query
    with pytest.raises(Exception, match="property"):
        build_check_query([], [], [], id_property="P1 } DELETE")


def test_check_against_local_wikidata(embedded_store: EmbeddedStore, index: LabelIndex, wikidata_endpoint: str) -> None:
    report = check_against_wikidata(embedded_store, index, base_iri=BASE, endpoint=wikidata_endpoint)
    mismatched = {(m.entity.removeprefix(BASE + "id/"), m.qid) for m in report.mismatches}
    assert mismatched == {("org/mic", "Q1322293")}  # MOFA agrees in Japanese, London in both
    assert f"{BASE}id/place/japan Q17" in report.missing_items  # not in the fixture
    candidates = {(c.entity.removeprefix(BASE + "id/"), c.qid) for c in report.candidates}
    assert ("org/clair", "Q900000001") in candidates
    assert ("programme/jet", "Q900000002") in candidates
    pointers = {(p.qid, p.entity.removeprefix(BASE + "id/")): p.consistent for p in report.pointers}
    assert pointers == {("Q84", "place/london"): True, ("Q900000002", "programme/jet"): False}
    assert report.problems > 0
    assert "Q1322293" in report.to_text()


def test_check_cli_exit_codes(wikidata_endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["wikidata", "check", "--endpoint", wikidata_endpoint, "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["problems"] > 0 and doc["label_mismatches"][0]["qid"] == "Q1322293"
    dead = f"http://127.0.0.1:{free_port()}/sparql"
    assert main(["wikidata", "check", "--endpoint", dead]) == 2


class _TooManyRequests(http.server.BaseHTTPRequestHandler):
    """Answers 429 with Retry-After once, then an empty SPARQL result; records the User-Agent."""

    calls: list[str] = []

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).calls.append(self.headers.get("user-agent", ""))
        if len(type(self).calls) == 1:
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.end_headers()
            return
        rows = [{"x": {"type": "literal", "value": "ok"}}]
        body = json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": rows}})
        self.send_response(200)
        self.send_header("content-type", "application/sparql-results+json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


def test_retry_after_429_with_descriptive_user_agent() -> None:
    _TooManyRequests.calls = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TooManyRequests)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    waits: list[float] = []
    try:
        rows = run_sparql(f"http://127.0.0.1:{server.server_address[1]}/sparql", "SELECT ?x {}", sleep=waits.append)
    finally:
        server.shutdown()
        server.server_close()
    assert rows == [{"x": {"type": "literal", "value": "ok"}}]
    assert waits == [1.0]
    assert len(_TooManyRequests.calls) == 2 and all(ua == USER_AGENT for ua in _TooManyRequests.calls)
    assert "clair-kg" in USER_AGENT and "w3id.org/clair-kg" in USER_AGENT


def test_gives_up_when_asked_to_wait_too_long() -> None:
    _TooManyRequests.calls = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TooManyRequests)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(WikidataUnavailable, match="wait"):
            run_sparql(f"http://127.0.0.1:{server.server_address[1]}/sparql", "SELECT ?x {}", max_wait=0.5,
                       sleep=lambda s: None)
    finally:
        server.shutdown()
        server.server_close()
