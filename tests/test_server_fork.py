"""One copy of the store: ``clair-kg serve --workers 2`` forks its web processes and query workers from one holder.

Real processes on loopback ("process" isolation, two query workers per web process, the project
plus 10^4 synthetic statements): who is whose parent, that the workers never load the graph
themselves and share the holder's pages, that a runaway query still kills and replaces its worker,
that a killed web process is replaced (forked again) and serves, that SIGTERM leaves nothing behind,
and that a second start reuses the cached search index.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from test_sparql_live import LiveServer, start_server, stop_server

ROOT = Path(__file__).resolve().parent.parent
SYNTHETIC = "https://w3id.org/clair-kg/graph/synthetic"
HUGE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
WEB, WORKER = b"clair_kg.server.process", b"clair_kg.sparql.worker"


def _stat(pid: int) -> tuple[str, int]:
    """(state, parent pid) of ``pid``."""
    state, ppid = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[:2]
    return state, int(ppid)


def _alive(pid: int) -> bool:
    try:
        return _stat(pid)[0] != "Z"
    except OSError:
        return False


def _tree(root: int) -> dict[int, tuple[int, bytes]]:
    """Every live descendant of ``root``: pid -> (parent pid, command line)."""
    found: dict[int, tuple[int, bytes]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, ppid = _stat(int(entry.name))
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if state != "Z":
            found[int(entry.name)] = (ppid, cmdline)
    tree, todo = {}, [root]
    while todo:
        parent = todo.pop()
        for pid, (ppid, cmdline) in found.items():
            if ppid == parent:
                tree[pid] = (ppid, cmdline)
                todo.append(pid)
    return tree


def _role(tree: dict[int, tuple[int, bytes]], marker: bytes) -> list[int]:
    return sorted(pid for pid, (_, cmdline) in tree.items() if marker in cmdline)


def _memory(pid: int) -> dict[str, int]:
    """``smaps_rollup`` of ``pid`` in kB (Rss, Pss, Private_Dirty, ...)."""
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":", 1)
        out[key] = int(value.split()[0])
    return out


def _wait(predicate: Callable[[], bool], timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic") / "graph.nq"
    subprocess.run([sys.executable, "-m", "bench.synthetic", "--statements", "10000", "--out", str(out)],
                   cwd=ROOT, check=True, capture_output=True, timeout=120)
    return out


@pytest.fixture(scope="module")
def server(synthetic: Path) -> Iterator[LiveServer]:
    server = start_server(f"--load={synthetic}={SYNTHETIC}", workers=2, isolation="process")
    yield server
    stop_server(server)


def _sparql(server: LiveServer, query: str, **kwargs: object) -> httpx.Response:
    return httpx.get(server.sparql, params={"query": query}, headers={"Accept": "application/sparql-results+json"},
                     timeout=30, **kwargs)  # type: ignore[arg-type]


def _count(server: LiveServer) -> int:
    response = _sparql(server, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{SYNTHETIC}> {{ ?s ?p ?o }} }}")
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def test_web_processes_and_query_workers_are_forked_by_the_one_holder(server: LiveServer) -> None:
    holder = server.proc.pid
    # /health answers once one web process serves; the other may still be asking for its workers
    assert _wait(lambda: len(_role(_tree(holder), WEB)) == 2 and len(_role(_tree(holder), WORKER)) == 4), \
        _tree(holder)
    tree = _tree(holder)
    webs, workers = _role(tree, WEB), _role(tree, WORKER)
    assert len(webs) == 2 and len(workers) == 4, tree
    # every one of them is the holder's own child: nothing starts a process of its own
    assert {tree[pid][0] for pid in webs + workers} == {holder}
    assert set(tree) == set(webs) | set(workers)
    # each worker works for one of the web processes, two each
    owners = [next(w for w in webs if f"web process {w} ".encode() in tree[pid][1]) for pid in workers]
    assert sorted(owners) == sorted(webs * 2)
    # nobody was told to load the graph: the workers have the holder's, already loaded
    assert not any(b"--nquads" in cmdline or b"--store-path" in cmdline for _, cmdline in tree.values())
    assert b"clair_kg.server.supervisor" in Path(f"/proc/{holder}/cmdline").read_bytes()
    assert _count(server) >= 10_000


def test_the_store_pages_are_shared_not_copied(server: LiveServer) -> None:
    """The graph is in the holder's memory once; each worker's own (private) memory is a fraction of what it maps."""
    _count(server)  # a query has run: the workers are warm
    holder = server.proc.pid
    tree = _tree(holder)
    everyone = [holder, *tree]
    memory = {pid: _memory(pid) for pid in everyone}
    rss = sum(m["Rss"] for m in memory.values())
    pss = sum(m["Pss"] for m in memory.values())
    # measured at 10^4: 107 of 425 MB here; 315 of 480 MB when every process loaded its own copy
    assert pss < 0.5 * rss, (pss, rss)
    for pid in _role(tree, WORKER):
        assert memory[pid]["Private_Dirty"] < 0.25 * memory[pid]["Rss"], (pid, memory[pid])  # was 26 of 49 MB


def test_a_runaway_query_kills_its_worker_and_the_holder_forks_another(server: LiveServer) -> None:
    holder = server.proc.pid
    before = _role(_tree(holder), WORKER)
    started = time.monotonic()
    response = _sparql(server, HUGE)
    assert response.status_code == 503
    assert time.monotonic() - started < 1.0 + 2
    # one worker is gone (reaped by the holder, not left a zombie) and a new one took its place
    assert _wait(lambda: len(set(before) - set(_role(_tree(holder), WORKER))) == 1)
    gone = (set(before) - set(_role(_tree(holder), WORKER))).pop()
    assert _wait(lambda: not Path(f"/proc/{gone}").exists(), 5), "the killed worker was not reaped"
    assert _wait(lambda: len(_role(_tree(holder), WORKER)) == 4)
    tree = _tree(holder)
    assert {tree[pid][0] for pid in _role(tree, WORKER)} == {holder}
    for _ in range(4):
        assert _count(server) >= 10_000


def test_a_killed_web_process_is_forked_again_and_its_workers_go_with_it(server: LiveServer) -> None:
    holder = server.proc.pid
    tree = _tree(holder)
    victim = _role(tree, WEB)[0]
    its_workers = [pid for pid in _role(tree, WORKER) if f"web process {victim} ".encode() in tree[pid][1]]
    assert len(its_workers) == 2
    os.kill(victim, signal.SIGKILL)
    assert _wait(lambda: not any(_alive(p) for p in [victim, *its_workers]))
    assert _wait(lambda: len(_role(_tree(holder), WEB)) == 2 and len(_role(_tree(holder), WORKER)) == 4)
    tree = _tree(holder)
    webs = _role(tree, WEB)
    assert victim not in webs and {tree[pid][0] for pid in webs} == {holder}
    with httpx.Client() as client:
        for i in range(8):  # new connections: both web processes answer
            r = client.get(server.sparql, params={"query": f"ASK {{ ?s ?p ?o }} # {i}"},
                           headers={"Connection": "close", "Accept": "application/sparql-results+json"})
            assert r.status_code == 200 and r.json()["boolean"] is True
    assert httpx.get(server.url + "/doc/office/london.ttl").status_code == 200


def test_sigterm_stops_every_process_and_removes_the_handover(synthetic: Path) -> None:
    server = start_server(f"--load={synthetic}={SYNTHETIC}", workers=2, isolation="process")
    try:
        _count(server)
        family = [server.proc.pid, *_tree(server.proc.pid)]
        assert len(family) == 7
        handover = Path(next(a for a in Path(f"/proc/{server.proc.pid}/cmdline").read_bytes().split(b"\0")
                             if b"clair-kg-serve-" in a).decode())
        assert handover.is_dir()
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=15) == 0
        assert time.monotonic() - started < 8  # the web processes' grace is 5 s; idle ones stop at once
        assert _wait(lambda: not any(_alive(p) for p in family), 5)
        assert not handover.exists()
    finally:
        stop_server(server)


def test_a_second_start_opens_the_cached_search_index(synthetic: Path) -> None:
    cache = ROOT / ".clair-kg-cache" / "labels"
    inodes: list[set[int]] = []
    for _ in range(2):
        server = start_server(f"--load={synthetic}={SYNTHETIC}", isolation="process")
        try:
            r = httpx.get(server.url + "/search", params={"q": "London"})
            assert r.status_code == 200 and r.json()
            inodes.append({f.stat().st_ino for f in cache.glob("*.sqlite")})
        finally:
            stop_server(server)
    assert inodes[0] and inodes[0] <= inodes[1]  # the same file, not rebuilt (a rebuild replaces the inode)


def test_a_forked_worker_that_copied_its_pages_is_seen_to_have() -> None:
    """What recycling looks at: the share of a forked process's memory it has written to since the fork."""
    from clair_kg.sparql.executor import _Forked

    block = bytearray(64 * 2**20)  # 64 MB the parent has touched, so the child maps it
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.read(go_r, 1)
        for i in range(0, len(block), 4096):  # write every page: each becomes the child's own copy
            block[i] = 1
        os.write(ready_w, b"x")
        os.read(go_r, 1)
        os._exit(0)
    try:
        child = _Forked(pid, os.pidfd_open(pid))
        before, mapped = child.copied()
        os.write(go_w, b"x")
        os.read(ready_r, 1)
        after, mapped_after = child.copied()
        assert mapped >= 64 * 1024 and mapped_after >= 64 * 1024  # the child maps the parent's block...
        # ...has copied little of it, then, having written every page, owns all 64 MB of it
        assert before < 16 * 1024 and after - before >= 60 * 1024, (before, after, mapped_after)
        assert child.poll() is None
    finally:
        os.write(go_w, b"x")
        os.waitpid(pid, 0)
        for fd in (ready_r, ready_w, go_r, go_w):
            os.close(fd)
