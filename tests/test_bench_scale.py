"""``python -m bench.scale`` end to end on a small graph: every stage measured for every backend, the
table, the JSON and the plot written, and no process left behind (after a run and after SIGTERM)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.servers import proc_stats

ROOT = Path(__file__).resolve().parent.parent
SIZE = 2_000
#: every measure a full run takes, per backend (the build side has the backend "-")
SERVER_MEASURES = ("start to healthy s", "documents req/s", "documents CPU ms/request", "search one ms", "search req/s",
                   "reconcile batch of 3 ms", "reconcile req/s", "SPARQL distinct mix req/s",
                   "SPARQL distinct mix CPU ms/request", "memory PSS MB", "memory RSS MB")
BUILD_MEASURES = ("validate s", "validate peak RSS MB", "build s", "build peak RSS MB")
#: measures with an oxigraph serve side
COMPARED = ("start to healthy s", "documents req/s", "documents CPU ms/request", "SPARQL distinct mix req/s",
            "SPARQL distinct mix CPU ms/request", "memory PSS MB", "memory RSS MB")

pytestmark = pytest.mark.live


def _bench(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench.scale", "--sizes", str(SIZE), "--duration", "1", "--rounds", "1",
            "--repeat", "1", "--connections", "4", "--no-documents-bench", *args]


def _gone(pid: int) -> bool:
    """No live process is ``pid`` or in its process group (each server runs in a group of its own)."""
    return not any(fields[0] != b"Z" and (other == pid or int(fields[2]) == pid) for other, fields in proc_stats())


def _all_gone(pids: list[int], within: float = 15.0) -> list[int]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        left = [p for p in pids if not _gone(p)]
        if not left:
            return []
        time.sleep(0.2)
    return [p for p in pids if not _gone(p)]


def test_every_stage_and_backend_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "results"
    started = time.monotonic()
    proc = subprocess.run(_bench("--out", str(out)), cwd=ROOT, capture_output=True, text=True, timeout=300)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads((out / "scale.json").read_text())
    measures = {(m["backend"], m["measure"]): m for m in data["measures"]}
    for name in BUILD_MEASURES:
        assert measures[("-", name)]["ours"] > 0, name
    for backend in ("memory", "disk", "remote"):
        for name in SERVER_MEASURES:
            m = measures[(backend, name)]
            assert m["ours"] is not None and m["ours"] > 0, (backend, name, m)
            assert m["statements"] >= SIZE
            if name in COMPARED:
                assert m["oxigraph"] > 0 and m["ratio"] == pytest.approx(m["ours"] / m["oxigraph"]), (backend, name)
        # both servers gave the same answers before they were compared
        assert measures[(backend, "documents req/s")]["detail"]["checked"] is True
        assert measures[(backend, "SPARQL distinct mix req/s")]["detail"]["checked"] is True
    assert data["notes"] == {str(measures[("memory", "start to healthy s")]["statements"]): []}
    # the table on stdout holds every line of the JSON
    first_cell = f"| {measures[('-', 'validate s')]['statements']:,} "
    rows = [line for line in proc.stdout.splitlines() if line.startswith(first_cell)]
    assert len(rows) == len(data["measures"])
    assert any("| memory | documents req/s |" in row and "×" in row for row in rows)
    assert (out / "scale.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # every server it started is gone, with every process of its group
    pids = [s["pid"] for s in data["servers"]]
    assert {s["name"] for s in data["servers"]} == {"oxigraph-union", "oxigraph", "ours-memory", "ours-disk",
                                                    "ours-remote"}
    assert _all_gone(pids) == []
    print(f"bench.scale at {SIZE} statements, all stages and backends: {elapsed:.0f} s")


def test_sigterm_stops_every_server(tmp_path: Path) -> None:
    proc = subprocess.Popen(_bench("--stages", "start,documents,sparql", "--backends", "memory", "--duration", "20",
                                   "--out", str(tmp_path)), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stderr is not None
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 120
        for line in proc.stderr:  # bounded: the bench's own start timeout, and ours below
            found = re.search(r"started (\S+) pid (\d+)", line)
            if found:
                pids.append(int(found.group(2)))
            if "documents (memory)" in line or time.monotonic() > deadline:
                break
        # oxigraph serve (its timed start was stopped already) and clair-kg serve, now under load
        assert len(pids) == 2, pids
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        proc.stderr.close()
    assert _all_gone(pids) == []
    assert not (tmp_path / "scale.json").exists()  # an interrupted run writes no results
