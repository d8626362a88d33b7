"""No page needs another host (issue 9, item 6): every script, stylesheet, icon and font a page
loads is served by this server, and answers.

Checked on the HTML of each page (what a browser would fetch: ``<script src>``, ``<link href>``,
``<img src>``, CSS ``url(…)`` and ``@import``), and on the URLs the query page's script builds from
``yasgui_url``. A page that loads anything from another host fails.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

PAGES = ["/", "/doc/office/london", "/doc/org/clair?lang=ja", "/sparql", "/api/docs", "/queries",
         "/downloads/", "/search?q=London", "/ontology", "/shapes"]


class _Loads(HTMLParser):
    """The URLs a browser fetches to render the page (not links it merely shows)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("script", "img", "iframe", "source", "audio", "video", "embed") and a.get("src"):
            self.urls.append(a["src"])
        if tag == "link" and a.get("href") and a.get("rel", "").lower() in (
                "stylesheet", "icon", "shortcut icon", "preload", "modulepreload", "manifest"):
            self.urls.append(a["href"])
        if tag == "object" and a.get("data"):
            self.urls.append(a["data"])
        if "style" in a:
            self.urls += _css_urls(a["style"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls += _css_urls(data)


def _css_urls(css: str) -> list[str]:
    return re.findall(r"url\(\s*['\"]?([^'\")]+)", css) + re.findall(r"@import\s+['\"]([^'\"]+)", css)


def _page_loads(client: TestClient, path: str) -> list[str]:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200, path
    assert response.headers["content-type"].startswith("text/html"), path
    parser = _Loads()
    parser.feed(response.text)
    return [urljoin("http://testserver" + path, url) for url in parser.urls if not url.startswith("data:")]


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_nothing_from_another_host(client: TestClient, path: str) -> None:
    loads = _page_loads(client, path)
    foreign = [url for url in loads if urlsplit(url).netloc != "testserver"]
    assert foreign == [], f"{path} loads from another host: {foreign}"
    for url in loads:
        asset = client.get(url)
        assert asset.status_code == 200, url
        if url.endswith(".css"):  # a stylesheet's own imports and fonts count too
            nested = [urljoin(url, u) for u in _css_urls(asset.text) if not u.startswith("data:")]
            assert [u for u in nested if urlsplit(u).netloc != "testserver"] == [], url


def test_api_docs_is_the_vendored_swagger_ui(client: TestClient) -> None:
    loads = _page_loads(client, "/api/docs")
    assert "http://testserver/static/vendor/swagger-ui/swagger-ui-bundle.js" in loads
    assert "http://testserver/static/vendor/swagger-ui/swagger-ui.css" in loads
    bundle = client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert len(bundle.content) > 500_000  # the real bundle, not a stub


def test_query_editor_is_served_locally(client: TestClient) -> None:
    page = client.get("/sparql", headers={"Accept": "text/html"}).text
    base = re.search(r"var base = \"([^\"]*)\";", page)
    assert base is not None
    assert urlsplit(urljoin("http://testserver/sparql", base.group(1))).netloc == "testserver"
    for name in ("yasgui.min.js", "yasgui.min.css"):
        asset = client.get(urljoin("/sparql", base.group(1)) + name)
        assert asset.status_code == 200 and len(asset.content) > 10_000, name


def test_vendored_assets_carry_their_licences(client: TestClient) -> None:
    for path in ("/static/vendor/swagger-ui/LICENSE", "/static/vendor/swagger-ui/package.json",
                 "/static/vendor/yasgui/package.json", "/static/vendor/README.md"):
        assert client.get(path).status_code == 200, path
    assert '"license": "MIT"' in client.get("/static/vendor/yasgui/package.json").text
