"""/reconcile against the W3C Reconciliation Service API 0.2: every response validates against the
spec's JSON Schemas (tests/reconciliation-api/0.2/schemas), and the spec's valid/invalid example
queries are accepted/rejected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from clair_kg.errors import InvalidParameter
from clair_kg.reconcile import parse_batch, parse_extend

SUITE = Path(__file__).parent / "reconciliation-api" / "0.2"
OFFICE = "https://w3id.org/clair-kg/ontology#OverseasOffice"


def _registry() -> tuple[Registry, dict[str, dict[str, Any]]]:
    schemas: dict[str, dict[str, Any]] = {}
    resources = []
    for path in sorted((SUITE / "schemas").glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        schemas[path.stem] = contents
        resource = Resource(contents=contents, specification=DRAFT7)
        uri = contents["$id"]
        resources += [(uri, resource), (uri.rstrip("#"), resource)]
    return Registry().with_resources(resources), schemas


REGISTRY, SCHEMAS = _registry()


def validate(kind: str, document: object) -> None:
    Draft7Validator(SCHEMAS[kind], registry=REGISTRY).validate(document)


def examples(kind: str, verdict: str) -> list[Path]:
    return sorted((SUITE / "examples" / kind / verdict).glob("*.json"))


def reconcile(client: TestClient, batch: dict[str, Any]) -> dict[str, Any]:
    resp = client.post("/reconcile", data={"queries": json.dumps(batch)})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    validate("reconciliation-result-batch", body)
    return body


# --- the schemas themselves behave as the examples say (guards the registry set-up) ---------------

@pytest.mark.parametrize("kind", ["manifest", "reconciliation-query-batch", "reconciliation-result-batch",
                                  "data-extension-query", "data-extension-response"])
def test_schema_examples(kind: str) -> None:
    for path in examples(kind, "valid"):
        validate(kind, json.loads(path.read_text(encoding="utf-8")))
    for path in examples(kind, "invalid"):
        assert not Draft7Validator(SCHEMAS[kind], registry=REGISTRY).is_valid(
            json.loads(path.read_text(encoding="utf-8"))), path.name


# --- request validation --------------------------------------------------------------------------

@pytest.mark.parametrize("path", examples("reconciliation-query-batch", "valid"), ids=lambda p: p.name)
def test_valid_query_batches_are_accepted(path: Path, client: TestClient) -> None:
    batch = json.loads(path.read_text(encoding="utf-8"))
    assert set(parse_batch(batch)) == set(batch)
    body = reconcile(client, batch)
    assert set(body) == set(batch)


@pytest.mark.parametrize("path", examples("reconciliation-query-batch", "invalid"), ids=lambda p: p.name)
def test_invalid_query_batches_are_rejected(path: Path, client: TestClient) -> None:
    batch = json.loads(path.read_text(encoding="utf-8"))
    with pytest.raises(InvalidParameter):
        parse_batch(batch)
    resp = client.post("/reconcile", data={"queries": json.dumps(batch)})
    assert resp.status_code == 400 and "'queries'" in resp.json()["error"]


@pytest.mark.parametrize("path", examples("data-extension-query", "valid"), ids=lambda p: p.name)
def test_valid_extension_queries_are_accepted(path: Path, client: TestClient) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    query = parse_extend(document)
    assert query.ids and query.properties
    resp = client.post("/reconcile", data={"extend": json.dumps(document)})
    assert resp.status_code == 200
    validate("data-extension-response", resp.json())
    assert set(resp.json()["rows"]) == set(document["ids"])


@pytest.mark.parametrize("document", [
    {"ids": ["org/clair"]}, {"properties": []}, {"ids": "org/clair", "properties": []},
    {"ids": [], "properties": [{"name": "x"}]}, [],
])
def test_invalid_extension_queries_are_rejected(document: object, client: TestClient) -> None:
    assert not Draft7Validator(SCHEMAS["data-extension-query"], registry=REGISTRY).is_valid(document)
    with pytest.raises(InvalidParameter):
        parse_extend(document)
    assert client.post("/reconcile", data={"extend": json.dumps(document)}).status_code == 400


def test_malformed_json_is_400(client: TestClient) -> None:
    resp = client.post("/reconcile", data={"queries": "{not json"})
    assert resp.status_code == 400 and "'queries'" in resp.json()["error"]


# --- manifest ------------------------------------------------------------------------------------

def test_manifest(client: TestClient) -> None:
    resp = client.get("/reconcile")
    assert resp.status_code == 200 and resp.headers["access-control-allow-origin"] == "*"
    manifest = resp.json()
    validate("manifest", manifest)
    assert manifest["versions"] == ["0.2"]
    assert manifest["identifierSpace"] == "https://w3id.org/clair-kg/id/"
    assert manifest["schemaSpace"] == "https://w3id.org/clair-kg/ontology#"
    assert manifest["view"]["url"].endswith("/doc/{{id}}")
    assert {t["id"] for t in manifest["defaultTypes"]} >= {OFFICE}
    assert set(manifest["suggest"]) == {"entity", "type", "property"}
    assert manifest["extend"]["propose_properties"]["service_path"] == "/properties"
    for key in ("suggest", "extend"):
        assert manifest[key]


def test_jsonp(client: TestClient) -> None:
    resp = client.get("/reconcile", params={"callback": "jsonp123"})
    assert resp.text.startswith("/**/jsonp123(") and resp.headers["content-type"].startswith("application/javascript")
    assert client.get("/reconcile", params={"callback": "alert(1)"}).status_code == 400


# --- reconciliation ------------------------------------------------------------------------------

def test_exact_unique_name_is_a_match(client: TestClient) -> None:
    body = reconcile(client, {"q0": {"query": "Ministry of Foreign Affairs"}, "q1": {"query": "外務省"}})
    for key in ("q0", "q1"):
        first = body[key]["result"][0]
        assert first["id"] == "org/mofa" and first["match"] is True
        assert all(c["match"] is False for c in body[key]["result"][1:])


def test_type_filter(client: TestClient) -> None:
    body = reconcile(client, {"q0": {"query": "London", "type": OFFICE}})
    results = body["q0"]["result"]
    assert [r["id"] for r in results] == ["office/london"]
    assert results[0]["match"] is False  # "London" is not the office's name
    assert any(t["id"] == OFFICE for t in results[0]["type"])
    plain = reconcile(client, {"q0": {"query": "London"}})["q0"]["result"]
    assert plain[0]["id"] == "place/london" and plain[0]["match"] is True


def test_office_by_city_property(client: TestClient) -> None:
    batch = {"q0": {"query": "CLAIR office", "type": OFFICE, "properties": [{"pid": "city", "v": "Paris"}]},
             "q1": {"query": "Japan Local Government Centre", "properties": [{"pid": "city", "v": "Sydney"}]},
             "q2": {"query": "JLGC", "type": OFFICE, "properties": [{"pid": "city", "v": {"id": "place/seoul"}}]}}
    body = reconcile(client, batch)
    assert body["q0"]["result"][0]["id"] == "office/paris"
    assert body["q1"]["result"][0]["id"] == "office/sydney" and body["q1"]["result"][0]["match"] is True
    features = {f["id"]: f["value"] for f in body["q1"]["result"][0]["features"]}
    assert features["property:city"] == 1.0
    london = next(r for r in body["q1"]["result"] if r["id"] == "office/london")
    assert london["score"] < body["q1"]["result"][0]["score"]


def test_properties_only_query(client: TestClient) -> None:
    body = reconcile(client, {"q0": {"properties": [{"pid": "isoCode", "v": "JP-13"}]}})
    first = body["q0"]["result"][0]
    assert first["id"] == "prefecture/tokyo" and first["match"] is True


def test_ambiguous_name_is_not_a_match(client: TestClient) -> None:
    body = reconcile(client, {"q0": {"query": "Japan Local Government Centre"}})
    ids = [r["id"] for r in body["q0"]["result"][:3]]
    assert set(ids) == {"office/london", "office/sydney", "office/new-york"}
    assert all(r["match"] is False for r in body["q0"]["result"])


def test_limit_and_get_and_json_body(client: TestClient) -> None:
    batch = {"q0": {"query": "clair", "limit": 2}}
    via_get = client.get("/reconcile", params={"queries": json.dumps(batch)}).json()
    validate("reconciliation-result-batch", via_get)
    assert len(via_get["q0"]["result"]) == 2
    via_json = client.post("/reconcile", json=batch).json()
    wrapped = client.post("/reconcile", json={"queries": batch}).json()
    assert via_get == via_json == wrapped


def test_unsupported_body_is_415(client: TestClient) -> None:
    assert client.post("/reconcile", content=b"x", headers={"content-type": "text/plain"}).status_code == 415


# --- suggest, preview, flyout --------------------------------------------------------------------

def test_suggest_entities(client: TestClient) -> None:
    body = client.get("/reconcile/suggest/entity", params={"prefix": "lon"}).json()
    validate("suggest-entities-response", body)
    assert {"place/london", "office/london"} <= {r["id"] for r in body["result"]}
    ja = client.get("/reconcile/suggest/entity", params={"prefix": "外務"}).json()
    assert ja["result"][0]["id"] == "org/mofa"


def test_suggest_types_and_properties(client: TestClient) -> None:
    types = client.get("/reconcile/suggest/type", params={"prefix": "overseas"}).json()
    validate("suggest-types-response", types)
    assert types["result"][0]["id"] == OFFICE
    props = client.get("/reconcile/suggest/property", params={"prefix": "ci"}).json()
    validate("suggest-properties-response", props)
    assert props["result"][0]["id"] == "city"


def test_preview_and_flyout(client: TestClient) -> None:
    page = client.get("/reconcile/preview", params={"id": "office/london"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "CLAIR London Office" in page.text and "自治体国際化協会ロンドン事務所" in page.text
    assert client.get("/reconcile/preview", params={"id": "office/atlantis"}).status_code == 404
    flyout = client.get("/reconcile/flyout/entity", params={"id": "org/mofa"}).json()
    assert flyout["id"] == "org/mofa" and "外務省" in flyout["html"]


# --- data extension ------------------------------------------------------------------------------

def test_propose_properties(client: TestClient) -> None:
    body = client.get("/reconcile/properties", params={"type": OFFICE, "limit": 5}).json()
    validate("data-extension-property-proposal", body)
    ids = [p["id"] for p in body["properties"]]
    assert "city" in ids and "prefecture" not in ids and len(ids) <= 5


def test_extend_city_and_wikidata(client: TestClient) -> None:
    query = {"ids": ["office/london", "office/singapore", "place/london", "office/atlantis"],
             "properties": [{"id": "city"}, {"id": "wikidata"}, {"id": "country", "settings": {"lang": "en"}}]}
    resp = client.post("/reconcile", data={"extend": json.dumps(query)})
    assert resp.status_code == 200
    body = resp.json()
    validate("data-extension-response", body)
    rows = body["rows"]
    assert rows["office/london"]["city"] == [{"id": "place/london", "name": "London"}]
    assert rows["office/london"]["wikidata"] == []  # the office's own item is not confirmed
    assert rows["office/singapore"]["country"] == [{"id": "place/singapore", "name": "Singapore"}]
    assert rows["place/london"]["wikidata"] == [{"str": "Q84"}]
    assert rows["office/atlantis"] == {"city": [], "wikidata": [], "country": []}
    assert [m["id"] for m in body["meta"]] == ["city", "wikidata", "country"]


def test_extend_literals_and_limit(client: TestClient) -> None:
    query = {"ids": ["org/clair", "prefecture/hokkaido"],
             "properties": [{"id": "foundingDate"}, {"id": "altLabel", "settings": {"limit": "1"}},
                            {"id": "isoCode"}, {"id": "http://www.w3.org/2004/02/skos/core#prefLabel"}]}
    body = client.post("/reconcile", json={"extend": query}).json()
    validate("data-extension-response", body)
    clair = body["rows"]["org/clair"]
    assert {"str": "1988"} in clair["foundingDate"] and {"str": "1988-07"} in clair["foundingDate"]
    assert len(clair["altLabel"]) == 1
    assert body["rows"]["prefecture/hokkaido"]["isoCode"] == [{"str": "JP-01"}]
    assert {"str": "北海道"} in body["rows"]["prefecture/hokkaido"]["http://www.w3.org/2004/02/skos/core#prefLabel"]


def test_extend_unknown_property_has_no_values(client: TestClient) -> None:
    resp = client.post("/reconcile", json={"extend": {"ids": ["org/clair"], "properties": [{"id": "shoeSize"}]}})
    assert resp.status_code == 200 and resp.json()["rows"] == {"org/clair": {"shoeSize": []}}
    bad_iri = {"ids": ["org/clair"], "properties": [{"id": "http://example.org/a b"}]}
    resp = client.post("/reconcile", json={"extend": bad_iri})
    assert resp.status_code == 400 and "'extend'" in resp.json()["error"]


def test_batch_size_is_capped_with_a_clear_message(client: TestClient) -> None:
    from clair_kg.reconcile.requests import MAX_BATCH

    ok = {f"q{i}": {"query": "London"} for i in range(MAX_BATCH)}
    assert client.post("/reconcile", data={"queries": json.dumps(ok)}).status_code == 200
    too_many = {f"q{i}": {"query": "London"} for i in range(MAX_BATCH + 1)}
    response = client.post("/reconcile", data={"queries": json.dumps(too_many)})
    assert response.status_code == 400
    assert f"at most {MAX_BATCH}" in response.json()["error"]
