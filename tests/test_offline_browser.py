"""The vendored Swagger UI really renders /api/docs in a browser that cannot reach any other host
(issue 9, item 6). Headless Chromium, with every host name but 127.0.0.1 made unresolvable."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_pages_browser import chromium, live_server  # noqa: F401 - the shared fixture and runner

pytestmark = pytest.mark.browser

OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


def test_api_docs_render_offline(live_server: str, tmp_path: Path) -> None:  # noqa: F811
    dump = chromium([OFFLINE, "--virtual-time-budget=8000", "--dump-dom", live_server + "/api/docs"],
                    tmp_path / "profile")
    assert dump.returncode == 0, dump.stderr[-2000:]
    assert 'class="swagger-ui' in dump.stdout
    assert "opblock" in dump.stdout and "/queries" in dump.stdout  # the operations were drawn
