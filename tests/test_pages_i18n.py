"""Pages a reader wants to read (issue 10), over HTTP through the real app and store:

words for every term (a completeness check of the reviewed table against the built graph), the
Japanese page in Japanese, a sticky language choice, quantities as sentences with their bound,
"sources differ" explained, long lists folded by kind with counts, the place in the reader's
language, provenance (page and date read) beside each statement, and SPARQL results that link
this dataset's IRIs to this server with their labels.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from conftest import app_for
from fastapi.testclient import TestClient

from clair_kg.publish import Distribution
from clair_kg.settings import Settings
from clair_kg.store import EmbeddedStore
from clair_kg.terms import TermLabels, humanise, load_table
from clair_kg.web.i18n import SUPPORTED_LANGUAGES, _load, with_lang
from clair_kg.web.linked_data.claims import Quantity, classify

BASE = "https://w3id.org/clair-kg/"
CLAIR_NS = BASE + "ontology#"
PREFIXED = re.compile(r"\b(rdf|rdfs|owl|skos|org|schema|dcterms|dct|prov|time|dcat|void|xsd|clair|foaf|sh|spdx|vann)"
                      r":[A-Za-z]")


@pytest.fixture()
def fresh(settings: Settings, embedded_store: EmbeddedStore, distribution: Distribution) -> Iterator[TestClient]:
    """A client of its own: the language cookie of one test never leaks into another."""
    with TestClient(app_for(settings, embedded_store, distribution), base_url="http://testserver") as c:
        yield c


class Text(HTMLParser):
    """The text a reader sees (not code, scripts or attribute values) and every link."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code", "pre", "textarea", "head"):
            self._skip += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code", "pre", "textarea", "head"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


def read(html: str) -> Text:
    parser = Text()
    parser.feed(html)
    return parser


# --- words for every term -------------------------------------------------------------------

def test_every_term_of_the_graph_and_its_void_has_english_and_japanese_words(
    embedded_store: EmbeddedStore, distribution: Distribution
) -> None:
    store = embedded_store
    terms = TermLabels.build(store)
    predicates = {r["p"].value for r in store.select("SELECT DISTINCT ?p WHERE { GRAPH ?g { ?s ?p ?o } }")}
    classes = {r["c"].value for r in store.select("SELECT DISTINCT ?c WHERE { GRAPH ?g { ?s a ?c } }")}
    datatypes = {r["d"].value for r in store.select(
        "SELECT DISTINCT ?d WHERE { GRAPH ?g { ?s ?p ?o FILTER(isLiteral(?o)) BIND(DATATYPE(?o) AS ?d) } }")}
    dist = distribution
    void_terms = {t.predicate.value for t in dist.void} | {
        t.object.value for t in dist.void if t.predicate.value.endswith("#type")}
    shown = predicates | classes | datatypes | void_terms
    assert len(shown) > 100, "the graph and its description use many terms"
    missing = sorted(f"{iri} ({lang})" for iri in shown for lang in SUPPORTED_LANGUAGES if not terms.has(iri, lang))
    assert not missing, "terms a page can show without words:\n" + "\n".join(missing)


def test_the_reviewed_table_is_well_formed() -> None:
    table = load_table()
    assert all(v["en"] and v["ja"] for v in table.values())
    assert not any(k.startswith(CLAIR_NS) for k in table), "project terms take their words from the ontology"
    assert humanise("foundingDate") == "founding date" and humanise("has Unit") == "has unit"
    assert humanise("OrganizationalUnit") == "organizational unit" and humanise("URI space") == "URI space"
    assert humanise("Membership") == "membership" and humanise("SPARQL target") == "SPARQL target"


def test_every_ui_string_has_both_languages() -> None:
    table = _load()
    assert set(table["en"]) == set(table["ja"])
    empty = [k for lang in SUPPORTED_LANGUAGES for k, v in table[lang].items() if not v.strip()]
    assert not empty
    assert table["ja"]["search_button"] == "検索" and table["en"]["nav_queries"] == "Queries"


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("path", ["/doc/office/london", "/doc/org/clair", "/doc/programme/jet",
                                  "/doc/branch/hokkaido", "/doc/position/alt", "/doc/org/mofa", "/", "/ontology",
                                  "/graph/jet-about-en"])
def test_no_prefixed_name_is_visible_text(fresh: TestClient, path: str, lang: str) -> None:
    page = fresh.get(path, params={"lang": lang}, headers={"accept": "text/html"})
    assert page.status_code == 200
    text = read(page.text).text
    found = PREFIXED.findall(text)
    assert not found, f"prefixed names shown on {path} ({lang}): {PREFIXED.findall(text)[:5]} in {text[:300]}"
    assert 'title="org:' in page.text or 'title="skos:' in page.text or 'title="rdfs:' in page.text or \
        path in ("/",), "the prefixed name stays available as a tooltip"


def test_the_name_appears_once_as_the_heading(fresh: TestClient) -> None:
    page = fresh.get("/doc/office/london", params={"lang": "en"}).text
    assert "<h1>CLAIR London Office</h1>" in page
    assert read(page).text.count("CLAIR London Office") == 1 + page.count("<title>CLAIR London Office") * 0
    assert "preferred label" not in read(page).text.lower() and ">label<" not in page


# --- Japanese pages in Japanese, and the choice sticks --------------------------------------

def test_japanese_page_furniture_and_lang_attributes(fresh: TestClient) -> None:
    page = fresh.get("/doc/office/london?lang=ja")
    assert page.headers["content-language"] == "ja" and '<html lang="ja">' in page.text
    text = read(page.text).text
    for word in ("定型クエリ", "ダウンロード", "オントロジー", "検索", "所在地", "上部組織", "出典", "記述"):
        assert word in text, word
    assert "自治体国際化協会ロンドン事務所</h1>" in page.text
    # London has no Japanese name in the graph: the English one shows, marked as English
    assert re.search(r'lang="en"><strong>London</strong>', page.text)
    assert 'placeholder="検索：' in page.text
    assert '<link rel="alternate" hreflang="en" href="/doc/office/london?lang=en">' in page.text


def test_the_choice_sticks_over_accept_language_and_links_keep_it(fresh: TestClient) -> None:
    first = fresh.get("/doc/office/london?lang=ja", headers={"accept-language": "en"})
    assert "lang=ja" in first.headers["set-cookie"]
    switch = "/doc/office/london?lang=en"  # the language switch itself
    links = [h for h in read(first.text).links if h.startswith("/") and not h.startswith("/api/") and h != switch]
    keeps = [h for h in links if "lang=ja" in h or h.rsplit(".", 1)[-1] in ("ttl", "jsonld", "nt", "rdf")]
    assert len(keeps) == len(links), set(links) - set(keeps)
    # the next page without ?lang= is Japanese although the browser asks for English: the cookie wins
    second = fresh.get("/doc/org/clair", headers={"accept-language": "en"})
    assert second.headers["content-language"] == "ja" and "Cookie" in second.headers["vary"]
    third = fresh.get("/downloads/", headers={"accept-language": "en", "accept": "text/html"})
    assert third.headers["content-language"] == "ja" and "ダウンロード" in third.text
    switched = fresh.get("/?lang=en", headers={"accept-language": "ja"})
    assert switched.headers["content-language"] == "en" and "lang=en" in switched.headers["set-cookie"]


def test_search_page_language_switch_goes_through_the_cookie(fresh: TestClient) -> None:
    page = fresh.get("/search", params={"q": "London"}, headers={"accept": "text/html", "accept-language": "ja"})
    assert page.headers["content-language"] == "ja"
    assert "/language/en?next=%2Fsearch%3Fq%3DLondon" in page.text
    back = fresh.get("/language/en", params={"next": "/search?q=London"}, follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == "/search?q=London"
    assert "lang=en" in back.headers["set-cookie"]
    for hostile in ("//evil.example/", "/\\evil.example/", "https://evil.example/", "/x\r\nSet-Cookie: a=b"):
        away = fresh.get("/language/ja", params={"next": hostile}, follow_redirects=False)
        assert away.status_code == 303 and away.headers["location"] == "/", hostile
    japanese = fresh.get("/language/ja", params={"next": "/search?q=ロンドン"}, follow_redirects=False)
    assert japanese.headers["location"] == "/search?q=%E3%83%AD%E3%83%B3%E3%83%89%E3%83%B3"
    assert fresh.get("/language/fr").status_code == 400


def test_error_pages_in_the_readers_language(fresh: TestClient) -> None:
    page = fresh.get("/no/such/page", headers={"accept": "text/html", "accept-language": "ja"})
    assert page.status_code == 404 and '<html lang="ja">' in page.text and "見つかりません" in page.text
    assert page.headers["content-language"] == "ja"
    entity = fresh.get("/id/office/atlantis", headers={"accept": "text/html", "accept-language": "ja"})
    assert entity.status_code == 404 and "見つかりません" in entity.text and "グラフを検索" in entity.text


def test_with_lang_leaves_data_files_and_other_sites_alone() -> None:
    assert with_lang("/doc/office/london", "ja") == "/doc/office/london?lang=ja"
    assert with_lang("/sparql?query=x&lang=en", "ja") == "/sparql?query=x&lang=ja"
    assert with_lang("/doc/office/london.ttl", "ja") == "/doc/office/london.ttl"
    assert with_lang("https://www.wikidata.org/wiki/Q84", "ja") == "https://www.wikidata.org/wiki/Q84"
    assert with_lang("/search?q=x", "ja") == "/search?q=x", "lang is the label filter of /search"


def test_japanese_landing_diagram_names_branches_by_their_prefecture(fresh: TestClient) -> None:
    ja = fresh.get("/?lang=ja", headers={"accept": "text/html"}).text
    svg = ja[ja.index("<svg"):ja.index("</svg>")]
    for name in ("北海道", "沖縄県", "東京都", "国内支部", "海外事務所"):
        assert name in svg, name
    assert "Hokkaido" not in re.sub(r"<title>.*?</title>", "", svg)


# --- claims as sentences, differences explained, lists folded --------------------------------

def test_quantities_read_with_their_number_bound_and_source(fresh: TestClient) -> None:
    jet = read(fresh.get("/doc/programme/jet", params={"lang": "en"}).text).text
    assert "more than 79,000 participants" in jet and "more than 65,000 participants" in jet
    assert "80 countries" in jet
    assert "The sources give figures of different dates" in jet
    ja = read(fresh.get("/doc/programme/jet", params={"lang": "ja"}).text).text
    assert "79,000超" in ja and "参加者数" in ja


def test_founding_date_is_a_refinement_not_a_disagreement(fresh: TestClient) -> None:
    page = fresh.get("/doc/org/clair", params={"lang": "en"}).text
    text = read(page).text
    assert "The sources agree; one says it more precisely: 1988" in text and "July 1988" in text
    ja = read(fresh.get("/doc/org/clair", params={"lang": "ja"}).text).text
    assert "1988年7月" in ja


def test_differences_are_classified() -> None:
    exact47, exact67 = Quantity("a", value=47), Quantity("b", value=67)
    at_least47 = Quantity("c", min_value=47)
    assert classify(["1988", "1988-07"], [None, None]) == "refinement"
    assert classify([at_least47, exact67], [None, None]) == "refinement"
    assert classify([Quantity("d", min_value=79000), Quantity("e", min_value=65000)], [None, None]) == \
        "different-dates"
    assert classify([exact47, exact67], ["2026-11-29", "2024-05-01"]) == "different-dates"
    assert classify([exact47, exact67], [None, None]) == "contradiction"
    assert classify(["1988", "1990-10"], [None, None]) == "contradiction"
    assert classify([exact47, Quantity("f", value=47)], [None, None]) is None
    # a running total (JET's participant countries: 78 in CLAIR's message, 80 on jetprogramme.org)
    assert classify([Quantity("g", value=78), Quantity("h", value=80)], [None, None], running_total=True) == \
        "different-dates"


def test_long_lists_fold_by_kind_with_counts(fresh: TestClient) -> None:
    page = fresh.get("/doc/org/clair", params={"lang": "en"}).text
    text = read(page).text
    assert "47 domestic branch offices" in text and "7 overseas offices" in text
    assert re.search(r"<details>\s*<summary>47 domestic branch offices", page), "a long group starts folded"
    ja = read(fresh.get("/doc/org/clair", params={"lang": "ja"}).text).text
    assert "国内支部 47件" in ja


def test_branch_page_shows_its_prefecture_in_the_readers_language(fresh: TestClient) -> None:
    ja = fresh.get("/doc/branch/hokkaido", params={"lang": "ja"}).text
    assert "<strong>北海道</strong>" in ja and "JP-01" in ja and "Wikidata Q1037393" in ja
    en = fresh.get("/doc/branch/hokkaido", params={"lang": "en"}).text
    assert "<strong>Hokkaido</strong>" in en


# --- provenance beside each statement --------------------------------------------------------

@pytest.fixture()
def dated_client(fresh: TestClient) -> TestClient:
    """The real graph: every cited document carries its address and the date it was read."""
    return fresh


def test_statements_show_the_page_and_the_date_read(dated_client: TestClient) -> None:
    en = read(dated_client.get("/doc/programme/jet", params={"lang": "en"}).text).text
    assert "more than 79,000 participants" in en and "read 2026-11-29" in en
    ja = dated_client.get("/doc/programme/jet", params={"lang": "ja"}).text
    assert "JETプログラムの英語版の概要ページ" in ja and "2026-11-29閲覧" in ja
    source = dated_client.get("/graph/jet-about-en", params={"lang": "en"}).text
    text = read(source).text
    assert "Date read 2026-11-29" in text and "https://jetprogramme.org/en/about-jet" in text
    assert "Statements from this source" in text and "Japan Exchange and Teaching Programme" in text


def test_a_source_without_a_date_is_shown_without_one(fresh: TestClient) -> None:
    page = fresh.get("/graph/curation", params={"lang": "en"})  # the curators' own notes: no page, no date
    assert page.status_code == 200
    text = read(page.text).text
    assert "Date read not recorded" in text and "Statements from this source" in text


# --- SPARQL results for people ----------------------------------------------------------------

def test_sparql_results_link_to_this_server_with_labels(fresh: TestClient) -> None:
    query = "SELECT ?o WHERE { ?o a <https://w3id.org/clair-kg/ontology#OverseasOffice> } ORDER BY ?o"
    page = fresh.get("/sparql", params={"query": query}, headers={"accept": "text/html", "accept-language": "ja"})
    assert page.status_code == 200
    assert '<a href="/id/office/london">自治体国際化協会ロンドン事務所</a>' in page.text
    assert "https://w3id.org/clair-kg/id/office/london" in page.text, "the IRI stays beside its label"
    assert 'href="https://w3id.org/clair-kg/id/' not in page.text
    named = fresh.get("/queries/overseas-offices", headers={"accept": "text/html"})
    assert named.status_code == 200 and 'href="/id/office/london"' in named.text
    assert ">CLAIR London Office</a>" in named.text
    external = fresh.get("/sparql", params={"query": "SELECT ?w WHERE { ?s <http://www.w3.org/2002/07/owl#sameAs> ?w "
                                                     "FILTER(CONTAINS(STR(?w), 'Q84')) }"},
                         headers={"accept": "text/html"})
    assert 'href="http://www.wikidata.org/entity/Q84" rel="external noopener"' in external.text
