"""Pages in a real browser: Debian's headless Chromium renders the landing page, an overseas office,
a prefecture branch and the ontology from a live server, with no console errors; every internal link
and resource on them answers 200; a screenshot of each goes to tests/output/screenshots/ for review.

Console errors are read from Chromium's log (``--enable-logging=stderr``): uncaught exceptions and
failed resource loads are logged there as ``CONSOLE`` lines.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

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
PAGES = {
    "landing": "/",
    "office-london": "/id/office/london",
    "branch-hokkaido": "/id/branch/hokkaido",
    "ontology": "/ontology",
}
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars",
]


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


def chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    if CHROMIUM is None:
        pytest.skip("Debian chromium is not installed (make system-deps installs it)")
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=90, check=False,
    )


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: set[str] = set()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        for attr in ("href", "src"):
            if values.get(attr) and (tag != "form"):
                self.urls.add(str(values[attr]))


CONSOLE_ERROR = re.compile(r"CONSOLE.*(Uncaught|Error|Failed to load resource)|:ERROR:CONSOLE", re.IGNORECASE)


@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_without_errors_and_links_resolve(name: str, live_server: str, tmp_path: Path) -> None:
    url = live_server + PAGES[name]
    dump = chromium(["--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000", "--dump-dom", url],
                    tmp_path / "profile")
    assert dump.returncode == 0, dump.stderr[-2000:]
    dom = dump.stdout
    assert "<main" in dom and "</html>" in dom, dom[:500]
    errors = [line for line in dump.stderr.splitlines() if CONSOLE_ERROR.search(line)]
    assert not errors, "console errors:\n" + "\n".join(errors)

    # the screenshot first, so a reviewer has it even when a link check below fails
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    target.unlink(missing_ok=True)
    shot = chromium(["--window-size=1280,900", f"--screenshot={target}", url], tmp_path / "profile-shot")
    assert shot.returncode == 0 and target.is_file() and target.stat().st_size > 10_000, shot.stderr[-2000:]
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    parser = Links()
    parser.feed(dom)
    base = httpx.get(url, follow_redirects=True).url  # /id/… lands on /doc/…
    checked = 0
    broken: list[str] = []
    with httpx.Client(follow_redirects=True, timeout=20) as http:
        for link in sorted(parser.urls):
            absolute = urljoin(str(base), link)
            parts = urlsplit(absolute)
            if parts.netloc != urlsplit(live_server).netloc:
                continue  # external links (Wikidata, GeoNames, licences) are not fetched in tests
            if parts.fragment and absolute.split("#")[0] == str(base).split("#")[0]:
                assert parts.fragment in parser.ids, f"anchor #{parts.fragment} missing on {name}"
                continue
            response = http.get(absolute.split("#")[0], headers={"accept": "text/html,*/*;q=0.8"})
            if response.status_code != 200:
                broken.append(f"{link} -> {response.status_code}")
            checked += 1
    assert not broken, f"broken links on {name}: {broken}"
    assert checked >= 5, "a page links to at least a few others"



def test_entity_page_on_a_phone(live_server: str, tmp_path: Path) -> None:
    """The statements table collapses into one column on a narrow screen (no horizontal scrolling)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / "office-london-phone.png"
    shot = chromium(["--window-size=390,844", f"--screenshot={target}", live_server + "/doc/office/london"],
                    tmp_path / "profile")
    assert shot.returncode == 0 and target.is_file()
