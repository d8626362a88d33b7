"""Pages in a real browser: Debian's headless Chromium, driven over the DevTools protocol on a pipe
(``--remote-debugging-pipe``: no extra package, no network port), renders every page kind from a
live server in English and Japanese, at 1280 px and at 390 px (a phone), and checks what a reader
would notice:

- no console error, uncaught exception or failed resource load;
- no element sticking out of the viewport (horizontal scrolling) at either width;
- every link on the page resolves (internal ones fetched; anchors exist);
- no prefixed name (``org:unitOf``) as visible text outside code;
- the page is in the language asked for (``<html lang>``), and stays in it across three clicks.

A full-page screenshot of each page kind in each language (and at phone width) goes to
``tests/output/screenshots/`` for review.
"""

from __future__ import annotations

import base64
import json
import os
import re
import select
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx
import pytest
import uvicorn
from conftest import app_for

from clair_kg.publish import Distribution
from clair_kg.settings import Settings
from clair_kg.store import EmbeddedStore

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).resolve().parent / "output" / "screenshots"
RESULTS_QUERY = ("PREFIX clair: <https://w3id.org/clair-kg/ontology#>\n"
                 "SELECT ?office ?city WHERE { ?office a clair:OverseasOffice ; "
                 "<https://schema.org/location> ?city } ORDER BY ?office")
PAGES = {
    "landing": "/",
    "clair": "/id/org/clair",
    "office-london": "/id/office/london",
    "branch-hokkaido": "/id/branch/hokkaido",
    "jet": "/id/programme/jet",
    "position-alt": "/id/position/alt",
    "ministry-mofa": "/id/org/mofa",
    "ontology": "/ontology",
    "query-page": "/sparql",
    "query-results": "/sparql?query=" + quote(RESULTS_QUERY),
    "named-query": "/queries/overseas-offices",
    "downloads": "/downloads/",
    "search": "/search?q=London",
    "not-found": "/id/office/atlantis",
    "source-jet-about-en": "/graph/jet-about-en",
}
WIDTHS = (1280, 390)
LANGUAGES = ("en", "ja")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--remote-debugging-pipe", "--lang=en-US",
]
PREFIXED = re.compile(r"\b(rdf|rdfs|owl|skos|org|schema|dcterms|prov|time|dcat|void|xsd|clair|foaf|sh):[A-Za-z]")

# What the page looks like to the checks, computed in the page.
_INSPECT = r"""
(() => {
  const W = document.documentElement.clientWidth;
  const clipped = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden' || o === 'clip') return true;
    }
    return false;
  };
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const style = getComputedStyle(el);
    if (style.position === 'absolute' && style.clip !== 'auto') continue;  // visually hidden labels
    if ((r.right > W + 1 || r.left < -1) && !clipped(el)) {
      wide.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(r.right)} width=${W}`);
    }
  }
  const hidden = [...document.querySelectorAll('code, pre, textarea, script, style')];
  const saved = hidden.map(el => el.style.display);
  hidden.forEach(el => { el.style.display = 'none'; });
  const text = document.body.innerText;
  hidden.forEach((el, i) => { el.style.display = saved[i]; });
  return {
    lang: document.documentElement.lang,
    scrollWidth: document.documentElement.scrollWidth,
    width: W,
    wide: wide.slice(0, 10),
    text: text,
    links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    url: location.href,
  };
})()
"""


class Browser:
    """A minimal DevTools-protocol client over Chromium's pipe (fd 3 in, fd 4 out, NUL-framed JSON)."""

    def __init__(self, profile: Path) -> None:
        assert CHROMIUM is not None
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire() -> None:  # in the child, before exec: the pipe ends become fds 3 and 4
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(3, 4), preexec_fn=wire,  # noqa: PLW1509 (no threads run Python in the child)
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        targets = self.call("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=True)

    def _read_message(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError("no message from Chromium")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise ConnectionError("Chromium closed the pipe")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        return message

    def call(self, method: str, *, session: bool = False, timeout: float = 30, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read_message(timeout)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        if any(e.get("method") == method for e in self.events):
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self._read_message(deadline - time.monotonic())
            self.events.append(event)
            if event.get("method") == method:
                return
        raise TimeoutError(method)

    def settle(self) -> None:
        """Wait for the load event, then let late events (console, failed loads) arrive."""
        self.wait_for("Page.loadEventFired")
        try:
            self.wait_for("Never.happens", timeout=0.3)
        except TimeoutError:
            pass

    def open(self, url: str, width: int) -> None:
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=900,
                  deviceScaleFactor=1, mobile=width < 600)
        self.events.clear()
        self.call("Page.navigate", session=True, url=url)
        self.settle()

    def evaluate(self, expression: str) -> Any:
        reply = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True,
                          awaitPromise=True)
        if "exceptionDetails" in reply:
            raise RuntimeError(reply["exceptionDetails"])
        return reply["result"].get("value")

    def click(self, selector: str) -> None:
        self.events.clear()
        found = self.evaluate(f"(() => {{ const a = document.querySelector({json.dumps(selector)}); "
                              "if (!a) return false; "
                              "a.dispatchEvent(new MouseEvent('click', "
                              "{bubbles: true, cancelable: true, view: window})); "
                              "return true; })()")
        assert found, f"no link {selector} on {self.evaluate('location.href')}"
        self.settle()

    def screenshot(self, target: Path) -> None:
        metrics = self.call("Page.getLayoutMetrics", session=True)["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": metrics["width"], "height": min(metrics["height"], 8000), "scale": 1}
        data = self.call("Page.captureScreenshot", session=True, format="png", clip=clip,
                         captureBeyondViewport=True)["data"]
        target.write_bytes(base64.b64decode(data))

    def errors(self, expected_status_of: str | None = None) -> list[str]:
        """Console errors, uncaught exceptions and failed loads (the page's own 404 when expected)."""
        out = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(json.dumps(params.get("exceptionDetails", {}))[:300])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append(json.dumps(params.get("args", []))[:300])
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                if expected_status_of and entry.get("url", "").startswith(expected_status_of):
                    continue  # a 404 page reports its own status: that is what it is for
                if "favicon.ico" not in entry.get("url", ""):
                    out.append(f"{entry.get('text')} {entry.get('url', '')}")
        return out

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except (TimeoutError, ConnectionError, RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        os.close(self._to_browser)
        os.close(self._from_browser)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(settings: Settings, embedded_store: EmbeddedStore, distribution: Distribution) -> Iterator[str]:
    port = free_port()
    app = app_for(settings, embedded_store, distribution)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    else:  # pragma: no cover
        pytest.fail("the live server did not start")
    yield url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.skip("Debian chromium is not installed (make system-deps installs it)")
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


def _url(live_server: str, path: str, lang: str) -> str:
    if path.startswith(("/search", "/queries/")):
        # there ``lang`` is the resource's own parameter: the page's language comes from the cookie
        return f"{live_server}/language/{lang}?next={quote(path, safe='')}"
    return live_server + path + ("&" if "?" in path else "?") + f"lang={lang}"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", list(PAGES))
def test_page_reads_well(name: str, lang: str, live_server: str, browser: Browser) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    url = _url(live_server, PAGES[name], lang)
    looks: dict[int, dict[str, Any]] = {}
    for width in WIDTHS:
        browser.open(url, width)
        suffix = "" if width == WIDTHS[0] else "-phone"
        target = SCREENSHOTS / f"{name}-{lang}{suffix}.png"
        target.unlink(missing_ok=True)
        browser.screenshot(target)  # first, so a reviewer has it even when a check below fails
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and target.stat().st_size > 5_000
        looks[width] = browser.evaluate(_INSPECT)
        errors = browser.errors(expected_status_of=url if name == "not-found" else None)
        assert not errors, f"console errors on {name} ({lang}, {width}px):\n" + "\n".join(errors)
        look = looks[width]
        assert look["lang"] == lang, f"{name}: html lang {look['lang']!r}, asked {lang!r}"
        assert look["scrollWidth"] <= look["width"] + 1 and not look["wide"], \
            f"{name} ({lang}) overflows at {width}px: {look['wide']}"
        shown = PREFIXED.findall(look["text"])
        assert not shown, f"prefixed names as visible text on {name} ({lang}): " + ", ".join(
            m.group(0) for m in PREFIXED.finditer(look["text"]))
    look = looks[WIDTHS[0]]
    page_url = look["url"]
    broken: list[str] = []
    checked = 0
    with httpx.Client(follow_redirects=True, timeout=20) as http:
        for link in sorted(set(look["links"])):
            absolute = urljoin(page_url, link)
            parts = urlsplit(absolute)
            if parts.netloc != urlsplit(live_server).netloc:
                continue  # external links (Wikidata, GeoNames, licences) are not fetched in tests
            if name == "not-found" and parts.path == urlsplit(page_url).path:
                continue  # the 404 page's own address in the other language is a 404 too
            if parts.fragment and absolute.split("#")[0] == page_url.split("#")[0]:
                assert parts.fragment in look["ids"], f"anchor #{parts.fragment} missing on {name}"
                continue
            response = http.get(absolute.split("#")[0], headers={"accept": "text/html,*/*;q=0.8"})
            if response.status_code != 200:
                broken.append(f"{link} -> {response.status_code}")
            checked += 1
    assert not broken, f"broken links on {name} ({lang}): {broken}"
    assert checked >= 5, "a page links to at least a few others"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_language_is_kept_across_three_clicks(lang: str, live_server: str, browser: Browser) -> None:
    browser.open(f"{live_server}/?lang={lang}", 1280)
    assert browser.evaluate("document.documentElement.lang") == lang
    for selector in ('a[href^="/id/office/london"]', 'a[href^="/id/org/clair"]', 'a[href^="/id/branch/hokkaido"]'):
        browser.click(selector)
        assert browser.evaluate("document.documentElement.lang") == lang, \
            f"after clicking {selector}: {browser.evaluate('location.href')}"
    assert "/doc/branch/hokkaido" in browser.evaluate("location.href")
    assert not browser.errors()
