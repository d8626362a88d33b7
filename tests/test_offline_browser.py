"""The vendored Swagger UI really renders /api/docs in a browser that cannot reach any other host
(issue 9, item 6). Headless Chromium, with every host name but 127.0.0.1 made unresolvable."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from test_pages_browser import CHROMIUM, FLAGS, live_server  # noqa: F401 - the shared live server

pytestmark = pytest.mark.browser

OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


def test_api_docs_render_offline(live_server: str, tmp_path: Path) -> None:  # noqa: F811
    assert CHROMIUM, "Debian chromium is missing: make test installs it"
    flags = [f for f in FLAGS if f != "--remote-debugging-pipe"]  # --dump-dom prints the DOM and exits
    dump = subprocess.run([CHROMIUM, *flags, OFFLINE, f"--user-data-dir={tmp_path / 'profile'}",
                           "--virtual-time-budget=8000", "--dump-dom", live_server + "/api/docs"],
                          capture_output=True, text=True, timeout=120)
    assert dump.returncode == 0, dump.stderr[-2000:]
    assert 'class="swagger-ui' in dump.stdout
    assert "opblock" in dump.stdout and "/queries" in dump.stdout  # the operations were drawn
