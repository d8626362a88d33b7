"""Hostile input on every route but /sparql: a 4xx that says what to fix, never a 500, and the
server keeps serving.

Each case sends one request and checks the same things (:func:`assert_sane`): the status is
below 500; the body holds no traceback, no file/line of Python and no exception class name; a
4xx body says what is wrong (JSON ``{"error": …, "status": …}``, an HTML page, or an RDF
document with the reason in a comment); an HTML page that echoes a hostile string escapes it.
The last test checks the app still answers /health and a normal search after the barrage.

Values that must stay raw on the wire (invalid UTF-8, NUL, CR/LF) are written percent-encoded;
everything else is encoded here with :func:`quote`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pyoxigraph
import pytest
from conftest import app_for
from fastapi.testclient import TestClient
from httpx import Response

from clair_kg.named_queries import list_named_queries
from clair_kg.project import Project
from clair_kg.publish import Distribution
from clair_kg.settings import Settings
from clair_kg.store import EmbeddedStore

SCRIPT = "<script>alert(1)</script>"

#: name -> value already percent-encoded for a URL (path segment or query value)
HOSTILE: dict[str, str] = {
    "sparql-injection": quote('"> } DROP ALL #', safe=""),
    "script": quote(SCRIPT, safe=""),
    "10k-chars": "x" * 10_000,
    "invalid-utf8": "%ff%fe",
    "nul": "%00",
    "crlf": "a%0D%0Ab",
    "traversal": quote("../../pyproject.toml", safe=""),
    "unicode": quote("\u202e\U0001f4a9\u0301\u0301\ufeff\uffff全角ＡＢＣ", safe=""),
}

#: things Python prints when an exception escapes
_LEAKS = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|"
    r"\b(?:ValueError|TypeError|KeyError|IndexError|AttributeError|OverflowError|RecursionError|"
    r"UnicodeDecodeError|UnicodeEncodeError|AssertionError|RuntimeError|ZeroDivisionError|"
    r"NameError|OSError|JSONDecodeError)\b"
)


def short(value: object) -> str:
    """A readable test id for a long or odd parameter."""
    text = str(value)
    return text if len(text) <= 60 else f"{text[:40]}…({len(text)} chars)"


@pytest.fixture(scope="module")
def hostile(settings: Settings, embedded_store: EmbeddedStore, distribution: Distribution) -> Iterator[TestClient]:
    """The real app over the real store; a server error comes back as the client would see it."""
    app = app_for(settings, embedded_store, distribution)
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as test_client:
        yield test_client


def assert_sane(r: Response, what: str = "") -> None:
    label = f"{r.request.method} {str(r.request.url)[:200]} {what}".strip()
    body = r.text
    assert r.status_code < 500, f"{label}: {r.status_code} {body[:300]!r}"
    leak = _LEAKS.search(body)
    assert leak is None, f"{label}: the body leaks {leak.group(0)!r}: {body[:300]!r}"
    media = r.headers.get("content-type", "").split(";")[0].strip()
    if media == "text/html":
        assert SCRIPT not in body and "<script>alert" not in body, f"{label}: unescaped <script> in HTML"
        assert 'href="javascript:' not in body.lower(), f"{label}: javascript: link in HTML"
    if 400 <= r.status_code < 500:
        assert body.strip(), f"{label}: {r.status_code} with an empty body"
        if media in ("application/json", "application/ld+json", "application/problem+json"):
            doc = r.json()
            assert isinstance(doc.get("error"), str) and doc["error"].strip(), f"{label}: no error message: {doc}"
            assert doc.get("status") == r.status_code, f"{label}: status {doc.get('status')} != {r.status_code}"
        elif media == "text/html":
            assert "<html" in body and str(r.status_code) in body, f"{label}: HTML error page without its status"
        else:
            assert str(r.status_code) in body or "Not Found" in body, f"{label}: {media} body does not say why"


# ---------------------------------------------------------------------------------------------
# linked data: /id, /doc (every suffix), /graph
# ---------------------------------------------------------------------------------------------

#: one suffix per code path: negotiated by Accept, the HTML 404 page, an RDF 404 document (each RDF
#: writer's own escaping is tested below, in test_not_found_body_is_an_empty_document), an unknown one
SUFFIXES = ["", ".html", ".ttl", ".exe"]


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("suffix", SUFFIXES, ids=lambda s: s or "no-suffix")
def test_doc_hostile_slug(hostile: TestClient, value: str, suffix: str) -> None:
    accepts = ("text/html", "*/*") if not suffix else ("*/*",)  # Accept only decides without a suffix
    for path in (f"/doc/office/{value}{suffix}", f"/doc/{value}/london{suffix}", f"/graph/{value}{suffix}"):
        for accept in accepts:
            r = hostile.get(path, headers={"accept": accept})
            assert_sane(r, f"accept {accept}")
            assert r.status_code in (404, 406), f"{path}: {r.status_code}"


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_id_hostile(hostile: TestClient, value: str) -> None:
    for path in (f"/id/office/{value}", f"/id/{value}/london", f"/id/{value}/{value}.ttl"):
        for accept in ("text/html", "text/turtle", "application/ld+json"):
            r = hostile.get(path, headers={"accept": accept}, follow_redirects=False)
            assert_sane(r, f"accept {accept}")
            assert r.status_code in (404, 406)


#: one route per negotiation handler (entity documents, vocabulary pages, the landing page and VoID,
#: downloads, named queries, the context)
@pytest.mark.parametrize("path", [
    "/doc/office/london", "/id/office/london", "/ontology", "/", "/downloads/", "/queries/overseas-offices",
    "/context.jsonld",
])
@pytest.mark.parametrize("param", ["format", "lang"])
@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_format_and_lang(hostile: TestClient, path: str, param: str, value: str) -> None:
    r = hostile.get(f"{path}?{param}={value}", headers={"accept": "text/html"}, follow_redirects=False)
    assert_sane(r)
    if param == "format":
        assert r.status_code in (303, 406) or path == "/context.jsonld", r.status_code


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_extension(hostile: TestClient, value: str) -> None:
    for path in (f"/ontology.{value}", f"/shapes.{value}", f"/.well-known/void.{value}"):
        r = hostile.get(path)
        assert_sane(r)
        assert r.status_code in (404, 406)


@pytest.mark.parametrize(("path", "media"), [
    ("/doc/x%0A%3Curn:a%3E%20%3Curn:b%3E%20%3Curn:c%3E%20.%0A%23/z.nt", "application/n-triples"),
    ("/doc/office/x%0D%0A%3Curn:a%3E%20%3Curn:b%3E%20%3Curn:c%3E%20.ttl", "text/turtle"),
    ("/graph/x%E2%80%A8%3Curn:a%3E%20%3Curn:b%3E%20%3Curn:c%3E%20.ttl", "text/turtle"),
    ("/doc/office/%00.rdf", "application/rdf+xml"),
    ("/doc/office/---.rdf", "application/rdf+xml"),
    ("/doc/office/--%3E%3Crdf:Description%20rdf:about=%22urn:a%22%3E%3C!--.rdf", "application/rdf+xml"),
    ("/doc/office/%22%7D%2C%22%40id%22%3A%22urn%3Aa.jsonld", "application/ld+json"),
])
def test_not_found_body_is_an_empty_document(hostile: TestClient, path: str, media: str) -> None:
    """The 404 body echoes the path in a comment; no path can end the comment and add statements."""
    r = hostile.get(path)
    assert_sane(r)
    assert r.status_code == 404
    if media == "application/ld+json":
        assert "error" in r.json()
        return
    triples = list(pyoxigraph.parse(r.content, pyoxigraph.RdfFormat.from_media_type(media)))
    assert triples == [], f"a 404 body holds statements: {r.text!r}"


# ---------------------------------------------------------------------------------------------
# downloads: path traversal
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/downloads/../pyproject.toml",
    "/downloads/..%2fpyproject.toml",
    "/downloads/%2e%2e%2fpyproject.toml",
    "/downloads/%2e%2e/%2e%2e/pyproject.toml",
    "/downloads/%2e%2e",
    "/downloads/..%5cpyproject.toml",
    "/downloads/%2fetc%2fpasswd",
    "/downloads//etc/passwd",
    "/downloads/%00",
    "/downloads/clair-kg.ttl%00.txt",
    "/downloads/clair-kg.ttl%2f..%2f..%2fpyproject.toml",
    "/downloads/" + "x" * 10_000,
    "/downloads/%ff%fe",
    "/downloads/" + quote(SCRIPT, safe=""),
    "/downloads/?format=%ff",
    "/downloads?x=%00",
], ids=short)
def test_downloads_traversal(hostile: TestClient, path: str) -> None:
    r = hostile.get(path, headers={"accept": "text/html"}, follow_redirects=False)
    assert_sane(r)
    assert r.status_code in (308, 404, 406), r.status_code
    assert "[project]" not in r.text and "root:" not in r.text


# ---------------------------------------------------------------------------------------------
# named queries
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "%2e%2e", "..%2fpyproject", "checks%2fanything", "checks", "../checks/x", "%00", "%ff%fe",
    "OVERSEAS-OFFICES", "overseas-offices.rq", "overseas-offices%00", "overseas-offices%0A", "-x", "x" * 10_000,
    quote(SCRIPT, safe=""), quote('"> } DROP ALL #', safe=""),
], ids=short)
def test_query_bad_name(hostile: TestClient, name: str) -> None:
    for accept in ("application/json", "text/html"):
        r = hostile.get(f"/queries/{name}", headers={"accept": accept})
        assert_sane(r, accept)
        assert r.status_code == 404, r.status_code


def _declared_params(project: Project) -> list[tuple[str, str]]:
    return [(q.name, p.name) for q in list_named_queries(project) for p in q.params]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "query_param" in metafunc.fixturenames:
        pairs = _declared_params(Project(Path(__file__).resolve().parent.parent))
        metafunc.parametrize("query_param", pairs, ids=[f"{q}:{p}" for q, p in pairs])


HOSTILE_PARAM_VALUES = {**HOSTILE, "javascript-iri": "javascript:alert(1)", "data-iri": "data:text/html,x",
                        "space-iri": "http://a%20b/", "empty": "", "bad-utf8-iri": "http://a/%ff"}


@pytest.mark.parametrize("value", HOSTILE_PARAM_VALUES.values(), ids=HOSTILE_PARAM_VALUES.keys())
def test_query_hostile_parameter(hostile: TestClient, query_param: tuple[str, str], value: str) -> None:
    name, param = query_param
    for fmt in ("json", "html"):  # the two renderers; csv and xml are written by the same pyoxigraph call as json
        r = hostile.get(f"/queries/{name}?{param}={value}&format={fmt}")
        assert_sane(r, fmt)
        assert r.status_code in (200, 400), r.status_code
        if r.status_code == 400 and fmt == "json":
            assert repr(param) in r.json()["error"], "the message names the parameter"


@pytest.mark.parametrize("query", ["overseas-offices", "entity-sources?entity=org/clair"])
@pytest.mark.parametrize("param", ["limit", "offset"])
#: one value per branch of the integer parser: out of range, overflow, not a number, a non-ASCII digit,
#: a control character, invalid UTF-8, a float word
@pytest.mark.parametrize("value", ["-1", "0", "9" * 5000, "abc", "%EF%BC%91", "%00", "%ff%fe", "NaN"], ids=short)
def test_query_paging_junk(hostile: TestClient, query: str, param: str, value: str) -> None:
    sep = "&" if "?" in query else "?"
    r = hostile.get(f"/queries/{query}{sep}{param}={value}", headers={"accept": "application/json"})
    assert_sane(r)
    assert r.status_code in (200, 400), r.status_code
    if r.status_code == 400:
        assert repr(param) in r.json()["error"]


def test_query_unknown_and_repeated_parameters(hostile: TestClient) -> None:
    for url in ("/queries/overseas-offices?bogus=1", "/queries/entity-sources?entity=org/clair&entity=org/x",
                "/queries/entity-sources", f"/queries/overseas-offices?{quote(SCRIPT, safe='')}=1"):
        r = hostile.get(url)
        assert_sane(r)
        assert r.status_code == 400, url


# ---------------------------------------------------------------------------------------------
# search
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("query", [
    "q=", "q=%20%20", "", "q=%00", "q=%ff%fe", "q=%ED%A0%80", "q=" + "a" * 10_000, "q=" + "tokyo%20" * 1500,
    "q=" + "".join(f"%{i:02X}" for i in range(1, 32)), "q=%E2%80%AE%F0%9F%92%A9%CC%81%CC%81",
    "q=%EF%BF%BF", "q=%EF%BC%A3%EF%BC%AC%EF%BC%A1%EF%BC%A9%EF%BC%B2",
    *(f"q={v}" for v in HOSTILE.values()),
    *(f"q=CLAIR&lang={v}" for v in HOSTILE.values()),
    *(f"q=CLAIR&type={v}" for v in HOSTILE.values()),
    "q=CLAIR&type=" + ",".join(["x"] * 500), "q=CLAIR&type=,,,,",
    *(f"q=CLAIR&limit={v}" for v in ("-1", "0", "101", "abc", "1e9", "9" * 5000, "%C2%B2", "%00")),
    "q=CLAIR&q=other", "q[]=x", "q=CLAIR&format=%ff",
], ids=short)
def test_search_junk(hostile: TestClient, query: str) -> None:
    for accept in ("application/json", "text/html"):
        started = time.monotonic()
        r = hostile.get(f"/search?{query}", headers={"accept": accept})
        assert_sane(r, accept)
        assert time.monotonic() - started < 2, "one search must not tie up a worker"


# ---------------------------------------------------------------------------------------------
# reconciliation
# ---------------------------------------------------------------------------------------------

BAD_BATCHES = {
    "truncated": "{", "array": "[]", "null": "null", "string": '"x"', "number": "1", "nan": "NaN",
    "query-not-object": '{"q0": 1}', "query-number": '{"q0": {"query": 1}}',
    "limit-nan": '{"q0": {"query": "x", "limit": NaN}}',
    "limit-infinity": '{"q0": {"query": "x", "limit": Infinity}}',
    "limit-overflow": '{"q0": {"query": "x", "limit": 1e400}}',
    "limit-string": '{"q0": {"query": "x", "limit": "10"}}',
    "unknown-key": '{"q0": {"query": "x", "props": []}}',
    "type-object": '{"q0": {"query": "x", "type": {}}}',
    "type-strict": '{"q0": {"query": "x", "type_strict": "maybe"}}',
    "properties-object": '{"q0": {"query": "x", "properties": {}}}',
    "property-no-v": '{"q0": {"properties": [{"pid": "city"}]}}',
    "property-bad-iri": '{"q0": {"properties": [{"pid": "http://x/> } DROP ALL #", "v": "x"}]}}',
    "value-nested": '{"q0": {"properties": [{"pid": "city", "v": [[[]]]}]}}',
    "empty-query": '{"q0": {}}',
    "deep": "[" * 100_000,
    "deep-object": '{"q0":' * 50_000,
    "too-many": json.dumps({f"q{i}": {"query": "x"} for i in range(1001)}),
}
BAD_EXTENDS = {
    "truncated": "{", "array": "[1]", "no-ids": '{"properties": []}', "ids-number": '{"ids": 1, "properties": []}',
    "ids-mixed": '{"ids": ["office/london", 1], "properties": []}',
    "properties-string": '{"ids": [], "properties": "name"}',
    "property-no-id": '{"ids": ["office/london"], "properties": [{}]}',
    "settings-list": '{"ids": ["office/london"], "properties": [{"id": "name", "settings": []}]}',
    "property-bad-iri": '{"ids": ["office/london"], "properties": [{"id": "http://a b"}]}',
    "too-many-ids": json.dumps({"ids": ["office/london"] * 1001, "properties": []}),
    "deep": '{"ids": ' + "[" * 100_000,
}
#: accepted, but every value is hostile: the answer is 200 and nothing breaks
ODD_BUT_VALID = {
    "hostile-query": json.dumps({"q0": {"query": '"> } DROP ALL #' + SCRIPT}}),
    "10k-query": json.dumps({"q0": {"query": "x" * 10_000}}),
    "negative-limit": '{"q0": {"query": "London", "limit": -5}}',
    "huge-limit": '{"q0": {"query": "London", "limit": 1e308}}',
    "hostile-property": json.dumps({"q0": {"properties": [{"pid": '"> } DROP ALL #', "v": SCRIPT}]}}),
    "hostile-id-value": json.dumps(
        {"q0": {"query": "London", "properties": [{"pid": "country", "v": {"id": "\u0000"}}]}}),
    "control-keys": json.dumps({"\u0000\n": {"query": "London"}, SCRIPT: {"query": "Tokyo"}}),
    "unicode-query": json.dumps({"q0": {"query": "\u202e\U0001f4a9ロンドン"}}),
}
ODD_EXTENDS = {
    "hostile-ids": json.dumps({"ids": [SCRIPT, "\u0000", "../../x", "x" * 10_000],
                               "properties": [{"id": "name"}, {"id": '"> } DROP ALL #'}]}),
    "settings-junk": json.dumps({"ids": ["office/london"], "properties": [
        {"id": "name", "settings": {"limit": "abc", "lang": [1]}},
        {"id": "website", "settings": {"limit": 1e308, "lang": {"x": 1}}},
        {"id": "city", "settings": {"limit": -3, "lang": SCRIPT}}]}),
}


def _reconcile_get(client: TestClient, param: str, value: str) -> Response:
    return client.get("/reconcile", params={param: value})


@pytest.mark.parametrize("batch", BAD_BATCHES.values(), ids=BAD_BATCHES.keys())
def test_reconcile_bad_batch(hostile: TestClient, batch: str) -> None:
    for r in (
        _reconcile_get(hostile, "queries", batch) if len(batch) < 60_000 else None,
        hostile.post("/reconcile", data={"queries": batch}),
        hostile.post("/reconcile", content=batch.encode(), headers={"content-type": "application/json"}),
    ):
        if r is None:
            continue
        assert_sane(r)
        assert r.status_code == 400, f"{r.status_code} {r.text[:200]}"
        assert "queries" in r.json()["error"]


@pytest.mark.parametrize("extend", BAD_EXTENDS.values(), ids=BAD_EXTENDS.keys())
def test_reconcile_bad_extend(hostile: TestClient, extend: str) -> None:
    for r in (
        _reconcile_get(hostile, "extend", extend) if len(extend) < 60_000 else None,
        hostile.post("/reconcile", data={"extend": extend}),
        hostile.post("/reconcile", content=json.dumps({"extend": "PLACEHOLDER"}).replace('"PLACEHOLDER"', extend),
                     headers={"content-type": "application/json"}),
    ):
        if r is None:
            continue
        assert_sane(r)
        assert r.status_code == 400, f"{r.status_code} {r.text[:200]}"


@pytest.mark.parametrize("batch", ODD_BUT_VALID.values(), ids=ODD_BUT_VALID.keys())
def test_reconcile_odd_but_valid_batch(hostile: TestClient, batch: str) -> None:
    r = hostile.post("/reconcile", data={"queries": batch})
    assert_sane(r)
    assert r.status_code == 200, r.text[:300]
    assert set(r.json()) == set(json.loads(batch))


@pytest.mark.parametrize("extend", ODD_EXTENDS.values(), ids=ODD_EXTENDS.keys())
def test_reconcile_odd_but_valid_extend(hostile: TestClient, extend: str) -> None:
    r = hostile.post("/reconcile", data={"extend": extend})
    assert_sane(r)
    assert r.status_code == 200, r.text[:300]
    assert set(r.json()["rows"]) == set(json.loads(extend)["ids"])


@pytest.mark.parametrize("callback", [
    "alert(1)//", "<script>", "a;b", "a b", "1abc", "a..b", "a.", "%00", "x" * 10_000 + "(", "a\u2028b",
    "__proto__[0]", "eval('x')", "a/**/b",
], ids=short)
def test_reconcile_jsonp_callback_refused(hostile: TestClient, callback: str) -> None:
    for r in (
        hostile.get("/reconcile", params={"callback": callback}),
        hostile.get("/reconcile/suggest/entity", params={"prefix": "lon", "callback": callback}),
        hostile.get("/reconcile/flyout/entity", params={"id": "office/london", "callback": callback}),
        hostile.post("/reconcile", data={"queries": '{"q0": {"query": "London"}}', "callback": callback}),
    ):
        assert_sane(r)
        assert r.status_code == 400, r.text[:200]
        assert r.headers["content-type"].startswith("application/json")
        assert "callback" in r.json()["error"]


def test_reconcile_jsonp_callback_identifier(hostile: TestClient) -> None:
    r = hostile.get("/reconcile/suggest/entity", params={"prefix": "lon", "callback": "jQuery123.cb_1"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/javascript")
    assert r.text.startswith("/**/jQuery123.cb_1(") and r.text.endswith(");")


@pytest.mark.parametrize("url", [
    *(f"/reconcile/suggest/{kind}?prefix={v}" for kind in ("entity", "type", "property") for v in HOSTILE.values()),
    *(f"/reconcile/suggest/{kind}?prefix=a&cursor={c}" for kind in ("entity", "type", "property")
      for c in ("-1", "abc", "1e3", "%C2%B2", "%EF%BC%91", "9" * 5000, "99999999999999999999", "%00")),
    *(f"/reconcile/suggest/entity?prefix=lon&type={v}" for v in HOSTILE.values()),
    *(f"/reconcile/properties?type={v}" for v in HOSTILE.values()),
    *(f"/reconcile/properties?limit={v}" for v in ("-1", "abc", "%C2%B2", "%D9%A1", "9" * 5000, "%00")),
    *(f"/reconcile/preview?id={v}" for v in HOSTILE.values()),
    *(f"/reconcile/flyout/entity?id={v}" for v in HOSTILE.values()),
    "/reconcile/preview", "/reconcile/flyout/entity", "/reconcile/preview?id=", "/reconcile/preview?id=org/clair&id=x",
    "/reconcile/suggest", "/reconcile/suggest/%00", "/reconcile/flyout/type?id=x",
], ids=short)
def test_reconcile_services_junk(hostile: TestClient, url: str) -> None:
    for accept in ("application/json", "text/html"):
        r = hostile.get(url, headers={"accept": accept})
        assert_sane(r, accept)


@pytest.mark.parametrize(("content_type", "body"), [
    (None, b"queries={}"),
    ("text/plain", b'{"q0": {"query": "x"}}'),
    ("application/xml", b"<queries/>"),
    (";;;==", b"queries={}"),
    ("application/json; charset=latin-1", b'{"q0": {"query": "\xe9"}}'),
    ("application/json", b""),
    ("application/json", b"\xff\xfe\x00"),
    ("application/json", b'{"queries": null, "extend": null}'),
    ("application/x-www-form-urlencoded", b"queries=%ff%fe"),
    ("application/x-www-form-urlencoded", b"queries=\xff"),
    ("application/x-www-form-urlencoded", b"%%%%&&&==="),
    ("application/x-www-form-urlencoded", b""),
    ("multipart/form-data", b"garbage"),
    ("multipart/form-data; boundary=xx", b"garbage"),
    ("multipart/form-data; boundary=xx", b"--xx\r\nContent-Disposition: form-data\r\n\r\nx\r\n--xx--\r\n"),
])
def test_reconcile_post_wrong_body(hostile: TestClient, content_type: str | None, body: bytes) -> None:
    headers = {"content-type": content_type} if content_type else {}
    r = hostile.post("/reconcile", content=body, headers=headers)
    assert_sane(r)
    assert r.status_code in (400, 415), r.status_code


def test_reconcile_post_oversized(hostile: TestClient, settings: Settings) -> None:
    big = b'{"q0": {"query": "' + b"x" * (settings.max_body_bytes + 1) + b'"}}'
    r = hostile.post("/reconcile", content=big, headers={"content-type": "application/json"})
    assert_sane(r)
    assert r.status_code == 413
    lying = hostile.post("/reconcile", content=b"{}",
                         headers={"content-type": "application/json", "content-length": "99999999999"})
    assert_sane(lying)
    assert lying.status_code == 413


# ---------------------------------------------------------------------------------------------
# headers and methods on every route
# ---------------------------------------------------------------------------------------------

ROUTES = [
    "/", "/doc/office/london", "/doc/office/nope", "/id/office/london", "/graph/wikipedia-article", "/ontology",
    "/shapes",
    "/.well-known/void", "/downloads/", "/downloads/clair-kg.ttl", "/context.jsonld", "/queries",
    "/queries/overseas-offices", "/search?q=CLAIR", "/search", "/reconcile", "/reconcile/suggest/entity?prefix=lo",
    "/reconcile/preview?id=office/london",
]

BAD_HEADERS: dict[str, tuple[str, bytes]] = {
    "accept-q-abc": ("accept", b"*/*;q=abc"),
    "accept-html-q0": ("accept", b"text/html;q=0"),
    "accept-all-q0": ("accept", b"*/*;q=0"),
    "accept-q-negative": ("accept", b"text/html;q=-1, application/json;q=1e999"),
    "accept-5kb-junk": ("accept", b"x/y;q=0.1, " * 450),
    "accept-punctuation": ("accept", b";;;,,,/,/;q=,"),
    "accept-latin1": ("accept", b"\xff/\xfe"),
    "accept-many-params": ("accept", b"text/html;level=1;q=0.5;q=2;charset=\x01"),
    "accept-language-junk": ("accept-language", b"ja;q=abc, *;q=1e999, " + b"x" * 5000),
    "accept-language-latin1": ("accept-language", b"\xe6\x97\xa5;q=nan"),
    "if-none-match-junk": ("if-none-match", b'W/, ", *x, ' + b"x" * 5000),
    "content-type-junk": ("content-type", b"\x01\x02;;==\xff"),
    "origin-junk": ("origin", b"null\x00" + SCRIPT.encode()),
}


@pytest.mark.parametrize("header", BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
def test_bad_headers_on_every_route(hostile: TestClient, header: tuple[str, bytes]) -> None:
    name, value = header
    for route in ROUTES:
        r = hostile.get(route, headers=[(name.encode(), value)], follow_redirects=False)
        assert_sane(r, route)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_wrong_methods(hostile: TestClient, method: str) -> None:
    for route in ROUTES:
        if method == "POST" and route == "/reconcile":
            continue
        r = hostile.request(method, route, content=b"x" * 1000, headers={"content-type": "application/json"})
        assert_sane(r, route)
        assert r.status_code in (405, 404), f"{method} {route}: {r.status_code}"
        if r.status_code == 405:
            assert "not allowed" in r.json()["error"] and "GET" in r.headers["allow"]


def test_unknown_path_says_where_to_go(hostile: TestClient) -> None:
    r = hostile.get("/nowhere/" + quote(SCRIPT, safe=""))
    assert_sane(r)
    assert r.status_code == 404 and "/api/docs" in r.json()["error"]


# ---------------------------------------------------------------------------------------------
# XSS: a hostile string echoed in an HTML page is escaped
# ---------------------------------------------------------------------------------------------

XSS = '"><script>alert(1)</script><a href="javascript:alert(2)">'


@pytest.mark.parametrize("url", [
    "/search?q={x}",
    "/search?q=CLAIR&type={x}",
    "/doc/office/{x}",
    "/doc/{x}/london",
    "/id/office/{x}",
    "/graph/{x}",
    "/downloads/{x}",
    "/queries/{x}",
    "/queries/entity-sources?entity={x}",
    "/queries/overseas-offices?limit={x}",
    "/search?q=CLAIR&lang={x}",
    "/ontology?format={x}",
    "/nowhere/{x}",
    "/reconcile/preview?id={x}",
])
def test_html_echo_is_escaped(hostile: TestClient, url: str) -> None:
    r = hostile.get(url.format(x=quote(XSS, safe="")), headers={"accept": "text/html"})
    assert_sane(r)
    assert r.headers["content-type"].startswith("text/html"), r.headers["content-type"]
    assert "<script>alert(1)" not in r.text
    assert '<a href="javascript:alert(2)">' not in r.text


def test_search_page_escapes_and_keeps_the_query(hostile: TestClient) -> None:
    r = hostile.get("/search", params={"q": XSS}, headers={"accept": "text/html"})
    assert r.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text, "the query is shown, escaped"


@pytest.mark.parametrize("value", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<b>x</b>"])
def test_query_page_never_links_a_script_iri(hostile: TestClient, query_param: tuple[str, str], value: str) -> None:
    name, param = query_param
    r = hostile.get(f"/queries/{name}", params={param: value, "format": "html"})
    assert_sane(r)
    assert 'href="javascript:' not in r.text.lower() and 'href="data:' not in r.text.lower()


# ---------------------------------------------------------------------------------------------
# still serving
# ---------------------------------------------------------------------------------------------

def test_still_serving_after_the_barrage(hostile: TestClient) -> None:
    # One more round of the worst of it, then the ordinary requests.
    hostile.post("/reconcile", content=b"[" * 100_000, headers={"content-type": "application/json"})
    hostile.get("/search", params={"q": "x" * 10_000})
    hostile.get("/reconcile/suggest/entity", params={"prefix": "a", "cursor": "\u00b2"})
    health = hostile.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    found = hostile.get("/search", params={"q": "CLAIR"}, headers={"accept": "application/json"})
    assert found.status_code == 200
    assert any(hit["path"] == "org/clair" for hit in found.json()["results"])
