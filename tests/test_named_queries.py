"""Named queries: the competency questions answered from the source facts, and the REST API."""

from __future__ import annotations

import csv
import io

import pyoxigraph
import pytest
from fastapi.testclient import TestClient

from clair_kg.errors import InvalidParameter, NotFound
from clair_kg.named_queries import bind_parameters, list_named_queries, load_named_query
from clair_kg.project import Project
from clair_kg.store import EmbeddedStore

ID = "https://w3id.org/clair-kg/id/"
COMPETENCY = [
    "overseas-offices", "branch-offices", "jet-partners", "jet-positions", "networks", "leadership",
    "entity-sources", "conflicting-claims", "wikidata-links", "missing-wikidata-links",
]


def run(store: EmbeddedStore, project: Project, name: str, **params: str) -> list[dict[str, str]]:
    query = load_named_query(project, name)
    bindings = bind_parameters(query, params, base_iri=project.base_iri)
    return [{k: v.value for k, v in row.items()} for row in store.select(query.text, bindings=bindings)]


def test_every_competency_question_is_a_named_query_with_a_header(project: Project) -> None:
    queries = {q.name: q for q in list_named_queries(project)}
    assert set(COMPETENCY) <= set(queries)
    for name in COMPETENCY:
        assert queries[name].summary, name


def test_overseas_offices(embedded_store: EmbeddedStore, project: Project) -> None:
    rows = {r["office"].removeprefix(ID): r for r in run(embedded_store, project, "overseas-offices")}
    cities = ("new-york", "london", "paris", "singapore", "seoul", "sydney", "beijing")
    assert set(rows) == {f"office/{c}" for c in cities}
    assert rows["office/london"]["cityName"] == "London"
    assert rows["office/london"]["countryName"] == "United Kingdom"
    assert rows["office/london"]["localName"] == "Japan Local Government Centre"
    assert rows["office/new-york"]["localName"] == "Japan Local Government Center"
    assert rows["office/sydney"]["localName"] == "Japan Local Government Centre"
    assert "localName" not in rows["office/paris"]
    assert rows["office/singapore"]["countryName"] == "Singapore"  # city-state
    assert rows["office/paris"]["nameJa"] == "自治体国際化協会パリ事務所"


def test_branch_offices(embedded_store: EmbeddedStore, project: Project) -> None:
    rows = run(embedded_store, project, "branch-offices")
    assert len(rows) == 47
    tokyo = next(r for r in rows if r["isoCode"] == "JP-13")
    assert (tokyo["prefectureEn"], tokyo["prefectureJa"]) == ("Tokyo", "東京都")
    assert tokyo["prefecture"] == ID + "prefecture/tokyo"
    assert rows[0]["isoCode"] == "JP-01" and rows[0]["prefectureJa"] == "北海道"


def test_jet_partners(embedded_store: EmbeddedStore, project: Project) -> None:
    rows = run(embedded_store, project, "jet-partners", programme="programme/jet")
    roles = {(r["partner"].removeprefix(ID), r["roleLabel"]) for r in rows}
    assert roles == {
        ("org/clair", "managed by"), ("org/mic", "cooperating partner"), ("org/mofa", "cooperating partner"),
        ("org/mext", "cooperating partner"), ("org/japanese-local-authorities", "cooperating partner"),
        # the article says CLAIR manages JET; the JET, MIC and MOFA pages name it among the collaborators
        ("org/clair", "cooperating partner"),
    }
    assert rows[0]["partner"] == ID + "org/clair" and rows[0]["roleLabel"] == "managed by"  # manager first
    by_role = {(r["partner"].removeprefix(ID), r["roleLabel"]): r["sources"] for r in rows}
    assert by_role[("org/clair", "managed by")].split() == ["https://w3id.org/clair-kg/graph/wikipedia-article"]
    assert "graph/jet-about-en" in by_role[("org/clair", "cooperating partner")]
    mofa = next(r for r in rows if r["partner"].endswith("org/mofa"))
    assert mofa["nameJa"] == "外務省"
    assert "graph/wikipedia-article" in mofa["sources"] and "graph/jet-about-en" in mofa["sources"]


def test_jet_positions(embedded_store: EmbeddedStore, project: Project) -> None:
    rows = {r["abbreviation"]: r for r in run(embedded_store, project, "jet-positions")}
    assert set(rows) == {"ALT", "CIR", "SEA"}
    assert rows["ALT"]["name"] == "Assistant Language Teacher" and rows["ALT"]["nameJa"] == "外国語指導助手"
    assert "language instruction" in rows["ALT"]["definition"]
    assert rows["CIR"]["nameJa"] == "国際交流員" and rows["SEA"]["nameJa"] == "スポーツ国際交流員"


def test_networks_current_and_former(embedded_store: EmbeddedStore, project: Project) -> None:
    rows = {r["network"].removeprefix(ID): r for r in run(embedded_store, project, "networks", member="org/clair")}
    assert rows["org/uclg"]["statusLabel"] == "current"
    assert rows["programme/intercultural-cities"]["statusLabel"] == "current"
    assert rows["org/uclg-aspac"]["statusLabel"] == "current"
    assert rows["org/uclg-aspac"]["graph"].endswith("graph/clair-sg-uclg-aspac-2016")
    assert rows["org/anmc21"]["statusLabel"] == "former"
    assert "end" not in rows["org/anmc21"]  # ended, but no source gives the date


def test_leadership(embedded_store: EmbeddedStore, project: Project) -> None:
    (row,) = run(embedded_store, project, "leadership", organisation="org/clair")
    assert row["title"] == "Chairman" and row["holderName"] == "Mitsuru Yasuda"
    assert "ambiguous" in row["note"]


ARTICLE = "https://en.wikipedia.org/wiki/Council_of_Local_Authorities_for_International_Relations"


def test_entity_sources(embedded_store: EmbeddedStore, project: Project) -> None:
    rows = run(embedded_store, project, "entity-sources", entity="org/clair")
    founding = {(r["value"], r["page"], r["retrieved"])
                for r in rows if r["property"] == "https://schema.org/foundingDate"}
    # July 1988 is on two pages, so the statement is listed once per page, each with its date.
    assert founding == {
        ("1988", ARTICLE, "2026-11-27"),
        ("1988-07", "https://www.clair.or.jp/e/clair/index.html", "2026-11-29"),
        ("1988-07", "https://clair.org.sg/about", "2026-11-29"),
    }
    article = [r for r in rows if r.get("page") == ARTICLE]
    assert article and all(r["revision"] == "not recorded" for r in article)
    assert all(r["title"] == "Council of Local Authorities for International Relations" for r in article)
    label_ja = {r["graph"].rsplit("/", 1)[-1]: r for r in rows if r["value"] == "一般財団法人自治体国際化協会"}
    assert {"jlgc-ny-about-ja", "mic-jet-ja"} <= set(label_ja)
    assert label_ja["jlgc-ny-about-ja"]["page"] == "https://jlgc.org/ja/about"


def test_entity_sources_without_a_page_show_the_creator(embedded_store: EmbeddedStore, project: Project) -> None:
    rows = run(embedded_store, project, "entity-sources", entity="post/clair-chairman")
    notes = [r for r in rows if r["graph"].endswith("graph/curation")]
    assert notes and all(r["creator"] == "clair-kg curators" and "page" not in r and "retrieved" not in r
                         for r in notes)
    # every row from a cited document has its address and the date it was read
    assert all("page" in r and "retrieved" in r for r in rows if "creator" not in r)


def test_conflicting_claims(embedded_store: EmbeddedStore, project: Project) -> None:
    rows = run(embedded_store, project, "conflicting-claims")
    found = {(r["property"].rsplit("/", 1)[-1].rsplit("#", 1)[-1], frozenset((r["value1"], r["value2"])), r["kind"])
             for r in rows}
    assert ("foundingDate", frozenset({"1988", "1988-07"}), "refinement") in found
    running_total = ("participantCount", frozenset({"more than 65000", "more than 79000"}),
                     "figures of different dates")
    assert running_total in found
    # The article says "in each prefecture" (at least 47), not 47: no branch-count conflict is made up.
    assert not any(p == "branchCount" for p, _, _ in found)
    assert {r["kind"] for r in rows} <= {"refinement", "figures of different dates"}
    assert all(r["page1"].startswith("https://") and r["retrieved2"] for r in rows)


CLAIMS_FIXTURE = """
@prefix clair: <https://w3id.org/clair-kg/ontology#> .
@prefix schema: <https://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix org: <https://w3id.org/clair-kg/id/org/> .
@prefix claim: <https://w3id.org/clair-kg/id/claim/> .
GRAPH <https://w3id.org/clair-kg/graph/a> {
  org:x schema:foundingDate "1988"^^xsd:gYear ; clair:branchCount claim:a1 , claim:a2 .
  claim:a1 schema:minValue 47 .
}
GRAPH <https://w3id.org/clair-kg/graph/b> {
  org:x schema:foundingDate "1990"^^xsd:gYear ; clair:branchCount claim:b1 .
  claim:b1 schema:value 67 .
}
GRAPH <https://w3id.org/clair-kg/graph/c> {
  org:x clair:branchCount claim:c1 .
  claim:c1 schema:value 20 .
}
"""


def test_conflicting_claims_tells_a_contradiction_from_a_refinement(project: Project) -> None:
    store = EmbeddedStore()
    store.load_nquads(pyoxigraph.serialize(pyoxigraph.parse(CLAIMS_FIXTURE, format=pyoxigraph.RdfFormat.TRIG),
                                           format=pyoxigraph.RdfFormat.N_QUADS) or b"")
    rows = run(store, project, "conflicting-claims")
    kinds = {(r["graph1"][-1], r["value1"], r["graph2"][-1], r["value2"]): r["kind"] for r in rows}
    assert kinds[("a", "1988", "b", "1990")] == "contradiction"  # different years
    assert kinds[("a", "more than 47", "b", "67")] == "refinement"  # an exact figure within the bound
    assert kinds[("a", "more than 47", "c", "20")] == "contradiction"  # below the bound
    assert kinds[("b", "67", "c", "20")] == "contradiction"  # two exact counts


def test_wikidata_links_and_missing(embedded_store: EmbeddedStore, project: Project) -> None:
    links = {r["entity"].removeprefix(ID): r["qid"] for r in run(embedded_store, project, "wikidata-links")}
    assert links["org/mofa"] == "Q222241" and links["place/london"] == "Q84"
    assert links["prefecture/tokyo"] == "Q1490"
    missing = {r["entity"].removeprefix(ID) for r in run(embedded_store, project, "missing-wikidata-links")}
    assert {"org/clair", "programme/jet", "position/alt", "office/london"} <= missing
    assert not missing & set(links)


def test_bad_parameters_name_the_parameter(project: Project) -> None:
    query = load_named_query(project, "entity-sources")
    with pytest.raises(InvalidParameter, match="'entity'"):
        bind_parameters(query, {"entity": "not an iri"}, base_iri=project.base_iri)
    with pytest.raises(InvalidParameter, match="'entity'"):
        bind_parameters(query, {}, base_iri=project.base_iri)
    with pytest.raises(NotFound):
        load_named_query(project, "no-such-query")


# --- REST API ------------------------------------------------------------------------------------


def test_list_json_and_html(client: TestClient) -> None:
    data = client.get("/queries", headers={"accept": "application/json"}).json()
    names = {q["name"] for q in data["queries"]}
    assert set(COMPETENCY) <= names
    entity_sources = next(q for q in data["queries"] if q["name"] == "entity-sources")
    assert entity_sources["params"] == [{"name": "entity", "type": "iri", "required": True}]
    page = client.get("/queries", headers={"accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "overseas-offices" in page.text and 'action="/search"' in page.text


@pytest.mark.parametrize(("accept", "fmt", "media"), [
    ("application/sparql-results+json", None, "application/sparql-results+json"),
    ("application/sparql-results+xml", None, "application/sparql-results+xml"),
    ("text/csv", None, "text/csv"),
    ("text/tab-separated-values", None, "text/tab-separated-values"),
    (None, "csv", "text/csv"),
    (None, "json", "application/sparql-results+json"),
    ("text/html", None, "text/html"),
])
def test_every_result_format(client: TestClient, accept: str | None, fmt: str | None, media: str) -> None:
    headers = {"accept": accept} if accept else {}
    params = {"format": fmt} if fmt else {}
    resp = client.get("/queries/jet-positions", headers=headers, params=params)
    assert resp.status_code == 200
    assert resp.headers["content-type"].split(";")[0] == media
    assert "Accept" in resp.headers["vary"] and resp.headers["etag"]
    assert "Assistant Language Teacher" in resp.text


def test_csv_is_parseable(client: TestClient) -> None:
    body = client.get("/queries/overseas-offices", params={"format": "csv"}).text
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 7 and rows[0]["office"].startswith(ID)


def test_paging_with_link_next(client: TestClient) -> None:
    first = client.get("/queries/branch-offices", params={"limit": 20})
    bindings = first.json()["results"]["bindings"]
    assert len(bindings) == 20
    link = first.headers["link"]
    assert 'rel="next"' in link and "offset=20" in link
    next_url = link.split(">")[0].lstrip("<")
    second = client.get(next_url)
    assert second.json()["results"]["bindings"][0]["isoCode"]["value"] == "JP-21"
    last = client.get("/queries/branch-offices", params={"limit": 20, "offset": 40})
    assert len(last.json()["results"]["bindings"]) == 7
    assert 'rel="next"' not in last.headers.get("link", "") and 'rel="prev"' in last.headers["link"]


def test_bound_parameter_over_http(client: TestClient) -> None:
    resp = client.get("/queries/entity-sources", params={"entity": "office/london", "format": "json"})
    values = {b["value"]["value"] for b in resp.json()["results"]["bindings"]}
    assert "Japan Local Government Centre" in values


@pytest.mark.parametrize(("params", "name"), [
    ({"entity": "not an iri"}, "entity"),
    ({"entity": "org/clair>"}, "entity"),
    ({}, "entity"),
    ({"entity": "org/clair", "limit": "ten"}, "limit"),
    ({"entity": "org/clair", "offset": "-1"}, "offset"),
    ({"entity": "org/clair", "bogus": "1"}, "bogus"),
])
def test_bad_parameter_is_400_naming_it(client: TestClient, params: dict[str, str], name: str) -> None:
    resp = client.get("/queries/entity-sources", params=params, headers={"accept": "application/json"})
    assert resp.status_code == 400
    assert f"'{name}'" in resp.json()["error"]


def test_injection_attempt_is_a_value_not_query_text(client: TestClient) -> None:
    evil = 'org/clair> } UNION { ?s ?p ?o'
    assert client.get("/queries/entity-sources", params={"entity": evil}).status_code == 400


def test_unknown_query_is_404(client: TestClient) -> None:
    assert client.get("/queries/no-such-query").status_code == 404


def test_unacceptable_format_is_406(client: TestClient) -> None:
    assert client.get("/queries/jet-positions", params={"format": "ttl"}).status_code == 406


def test_etag_gives_304(client: TestClient) -> None:
    first = client.get("/queries/jet-positions")
    again = client.get("/queries/jet-positions", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304


def test_openapi_documents_each_named_query(client: TestClient, project: Project) -> None:
    doc = client.get("/openapi.json").json()
    for query in list_named_queries(project):
        operation = doc["paths"][f"/queries/{query.name}"]["get"]
        names = {p["name"] for p in operation["parameters"]}
        assert {p.name for p in query.params} | {"limit", "offset", "format"} <= names
    entity = next(p for p in doc["paths"]["/queries/entity-sources"]["get"]["parameters"] if p["name"] == "entity")
    assert entity["required"] is True


def test_cli_runs_named_query(capsys: pytest.CaptureFixture[str]) -> None:
    from clair_kg.cli import main

    assert main(["query", "--name", "leadership", "--param", "organisation=org/clair", "--format", "csv"]) == 0
    assert "Mitsuru Yasuda" in capsys.readouterr().out
