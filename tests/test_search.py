"""Label search: English and Japanese, width- and case-insensitive, ranked exact > prefix > substring > fuzzy."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from clair_kg.search import LabelIndex, normalise
from clair_kg.store import EmbeddedStore

BASE = "https://w3id.org/clair-kg/"


@pytest.fixture(scope="module")
def index(embedded_store: EmbeddedStore) -> LabelIndex:
    return LabelIndex.build(embedded_store, BASE)


def top(index: LabelIndex, q: str, **kw: object) -> str:
    hits = index.search(q, **kw)  # type: ignore[arg-type]
    assert hits, f"nothing found for {q!r}"
    return hits[0].entity.id


def test_normalise_folds_width_and_case() -> None:
    assert normalise("ＣＬＡＩＲ") == normalise("clair") == "clair"
    assert normalise("ｸﾚｱ") == "クレア"
    assert normalise("  New   York ") == "new york"


@pytest.mark.parametrize(("query", "expected"), [
    ("外務省", "org/mofa"),
    ("ロンドン", "office/london"),
    ("クレア", "org/clair"),
    ("ｸﾚｱ", "org/clair"),
    ("ＣＬＡＩＲ", "org/clair"),
    ("clair", "org/clair"),
    ("MOFA", "org/mofa"),
    ("北海道", "prefecture/hokkaido"),
    ("Japan Local Government Center", "office/new-york"),
    ("london", "place/london"),
    ("JETプログラム", "programme/jet"),
    ("hokaido", "prefecture/hokkaido"),  # fuzzy
])
def test_finds_the_right_entity(index: LabelIndex, query: str, expected: str) -> None:
    assert top(index, query) == expected


def test_ranking_exact_then_prefix_then_substring_then_fuzzy(index: LabelIndex) -> None:
    hits = index.search("clair", limit=50)
    assert hits[0].entity.id == "org/clair" and hits[0].match == "exact"
    kinds = [h.match for h in hits]
    order = {"exact": 0, "prefix": 1, "word": 2, "substring": 3, "fuzzy": 4}
    assert [order[k] for k in kinds] == sorted(order[k] for k in kinds)
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:], strict=False))
    fuzzy = index.search("Londn")
    assert fuzzy and fuzzy[0].match == "fuzzy" and fuzzy[0].score < 0.7


def test_type_and_language_filters(index: LabelIndex) -> None:
    assert top(index, "london", types=["office"]) == "office/london"
    assert top(index, "london", types=["https://w3id.org/clair-kg/ontology#OverseasOffice"]) == "office/london"
    assert index.search("London", lang="ja") == []
    assert top(index, "ロンドン", lang="ja") == "office/london"


def test_unmatched_query_is_empty(index: LabelIndex) -> None:
    assert index.search("zzzzqqqq") == []
    assert index.search("   ") == []


def test_http_json(client: TestClient) -> None:
    data = client.get("/search", params={"q": "外務省"}, headers={"accept": "application/json"}).json()
    first = data["results"][0]
    assert first["id"] == BASE + "id/org/mofa"
    assert first["label"] == "外務省" and first["type"] == "org" and first["score"] == 1.0
    assert set(first) >= {"id", "label", "type", "score"}


def test_http_filters_and_limit(client: TestClient) -> None:
    data = client.get("/search", params={"q": "clair", "type": "office", "limit": 3}).json()
    assert len(data["results"]) == 3 and all(r["type"] == "office" for r in data["results"])
    assert client.get("/search", params={"q": "clair", "limit": "many"}).status_code == 400
    assert "'lang'" in client.get("/search", params={"q": "clair", "lang": "fr"}).json()["error"]
    assert "'q'" in client.get("/search", headers={"accept": "application/json"}).json()["error"]


def test_http_html_results_page(client: TestClient) -> None:
    page = client.get("/search", params={"q": "ロンドン"}, headers={"accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'href="/id/office/london"' in page.text
    assert 'value="ロンドン"' in page.text  # the search box keeps the query
    empty = client.get("/search", headers={"accept": "text/html"})
    assert empty.status_code == 200 and 'name="q"' in empty.text


def test_index_is_built_once_per_app(client: TestClient) -> None:
    labels = client.app.state.runtime.labels  # type: ignore[attr-defined]
    assert labels.ready  # built with the runtime, before the first request
    index = labels.get()
    client.get("/search", params={"q": "clair"})
    assert labels.get() is index
