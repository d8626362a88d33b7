"""Search and reconciliation at scale: the synthetic graph (10^4 statements), the index, the time limit."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph
import pytest
from conftest import app_for
from fastapi.testclient import TestClient

from bench import synthetic
from clair_kg.errors import QueryTimeout
from clair_kg.project import Project
from clair_kg.publish import Distribution
from clair_kg.reconcile import ReconcileService, parse_batch
from clair_kg.search import LabelIndex, normalise
from clair_kg.settings import Settings
from clair_kg.store import EmbeddedStore
from clair_kg.validate import validate_files

BASE = "https://w3id.org/clair-kg/"
SIZE = 10_000
ROOT = Path(__file__).resolve().parent.parent






def _nquads(statements: int = SIZE, seed: int = 0) -> bytes:
    out = io.StringIO()
    synthetic.write_nquads(out, statements, seed)
    return out.getvalue().encode("utf-8")


@pytest.fixture(scope="module")
def synthetic_nquads() -> bytes:
    return _nquads()


@pytest.fixture(scope="module")
def synthetic_store(synthetic_nquads: bytes) -> EmbeddedStore:
    store = EmbeddedStore()
    store.load_nquads(synthetic_nquads)
    return store


@pytest.fixture(scope="module")
def synthetic_index(synthetic_store: EmbeddedStore) -> LabelIndex:
    return LabelIndex.build(synthetic_store, BASE)


@pytest.fixture(scope="module")
def slow_client(project_root: Path, synthetic_store: EmbeddedStore, distribution: Distribution) -> Iterator[TestClient]:
    """The app over the synthetic graph with a search time limit no search can meet."""
    settings = Settings(project_root=project_root, query_workers=1, search_timeout=1e-9)
    app = app_for(settings, synthetic_store, distribution)  # the synthetic graph, the real release's files
    with TestClient(app, base_url="http://testserver") as client:
        yield client


# --- the generator --------------------------------------------------------------------------------

def test_generator_is_deterministic_and_sized() -> None:
    first, second = _nquads(), _nquads()
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()
    assert _nquads(seed=1) != first
    lines = first.decode().splitlines()
    assert SIZE <= len(lines) < SIZE + 20  # whole entities only: a few statements over
    assert all(line.endswith(f"<{synthetic.GRAPH}> .") for line in lines)
    assert any('"@ja <' in line for line in lines) and any('"@en <' in line for line in lines)


def test_generated_graph_passes_the_project_shapes(tmp_path: Path, project: Project) -> None:
    path = tmp_path / "synthetic.ttl"
    written = synthetic.write(path, SIZE)
    assert written >= SIZE
    report = validate_files([path], project_root=project.root)
    assert report.conforms, [f.message for f in report.violations][:5]
    assert report.triples >= SIZE


def test_turtle_and_nquads_hold_the_same_statements(tmp_path: Path) -> None:
    ttl, nq = tmp_path / "g.ttl", tmp_path / "g.nq"
    assert synthetic.write(ttl, 2_000) == synthetic.write(nq, 2_000)
    a, b = EmbeddedStore(), EmbeddedStore()
    a.load_nquads(nq.read_bytes())  # the source graph and its merge as the default graph
    b.inner.load(ttl.read_bytes(), format=pyoxigraph.RdfFormat.TURTLE, to_graph=pyoxigraph.NamedNode(synthetic.GRAPH))
    assert len(a) == len(b) == len(b.inner)  # statements in the named graphs


# --- the index ------------------------------------------------------------------------------------

def test_bilingual_search_on_the_synthetic_graph(synthetic_index: LabelIndex) -> None:
    org = synthetic_index.get("org/org-1")
    assert org is not None
    en, ja = org.name("en"), org.name("ja")
    assert synthetic_index.search(en)[0].entity.id == "org/org-1"
    hit = synthetic_index.search(ja, lang="ja")[0]
    assert hit.entity.id == "org/org-1" and hit.match == "exact" and hit.lang == "ja"
    # a Japanese substring (no spaces to split on) still finds it
    middle = ja[1:4]
    assert any(h.entity.id == "org/org-1" for h in synthetic_index.search(middle, limit=100))
    # a typo of a word of the name is a fuzzy match
    word = en.split()[0].lower()
    typo = word[:2] + word[3:] if len(word) > 4 else word + "x"
    assert any(h.match == "fuzzy" or h.match != "exact" for h in synthetic_index.search(typo))


def test_search_reads_the_index_not_every_label(synthetic_index: LabelIndex) -> None:
    """The label table is never scanned for a query of 3+ characters: SQLite's plan for each
    match class uses an index (B-tree or FTS5), never a full scan of ``label``."""
    db = sqlite3.connect(f"file:{synthetic_index.path}?mode=ro", uri=True)
    plans = []
    traced: list[str] = []
    db.set_trace_callback(traced.append)
    conn = synthetic_index._db()
    conn.set_trace_callback(traced.append)
    try:
        synthetic_index.search("zzzqqq")  # every class tried, nothing found
        synthetic_index.search("kanori toma")
    finally:
        conn.set_trace_callback(None)
    assert traced, "the search ran no SQL"
    for statement in traced:
        if not statement.lstrip().upper().startswith("SELECT"):
            continue
        plan = " | ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + statement))
        plans.append(plan)
        assert "SCAN l" not in plan and "SCAN label" not in plan and "SCAN word" not in plan, (statement, plan)
        assert "SCAN vocab " not in plan, (statement, plan)
    assert any("VIRTUAL TABLE" in p for p in plans)  # the trigram index answered the substring class
    db.close()


def test_index_file_is_read_only_and_shared_by_threads(synthetic_index: LabelIndex) -> None:
    import threading

    results: list[str] = []

    def worker() -> None:
        results.append(synthetic_index.search("association")[0].entity.id)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and len(results) == 4
    with pytest.raises(sqlite3.OperationalError):
        synthetic_index._db().execute("DELETE FROM label")


# --- the time limit -------------------------------------------------------------------------------

def test_time_limit_stops_a_search(synthetic_index: LabelIndex) -> None:
    with pytest.raises(QueryTimeout) as caught:
        synthetic_index.search("a", limit=100, timeout=1e-9)
    assert "time limit" in caught.value.message and caught.value.status == 503
    # the same search without a limit answers, and the connection is usable afterwards
    assert synthetic_index.search("a", limit=100)


def test_time_limit_stops_reconciliation(synthetic_store: EmbeddedStore, synthetic_index: LabelIndex) -> None:
    service = ReconcileService(synthetic_store, synthetic_index, base_iri=BASE, timeout=1e-9)
    with pytest.raises(QueryTimeout) as caught:
        service.reconcile(parse_batch({"q0": {"query": "kanori"}, "q1": {"query": "toma"}, "q2": {"query": "a"}}))
    assert "reconciliation ran past its time limit" in caught.value.message


def test_http_search_past_the_time_limit_is_503(slow_client: TestClient) -> None:
    resp = slow_client.get("/search", params={"q": "a", "limit": 100}, headers={"accept": "application/json"})
    assert resp.status_code == 503
    assert "time limit" in resp.json()["error"]


def test_http_reconcile_past_the_time_limit_is_503(slow_client: TestClient) -> None:
    batch = {"q0": {"query": "kanori"}, "q1": {"query": "toma"}, "q2": {"query": "association"}}
    resp = slow_client.post("/reconcile", data={"queries": json.dumps(batch)})
    assert resp.status_code == 503
    assert "time limit" in resp.json()["error"]
    assert slow_client.get("/reconcile/suggest/entity", params={"prefix": "ka"}).status_code == 503
    # what needs no search still answers
    assert slow_client.get("/reconcile").status_code == 200


# --- reconciliation on the index ------------------------------------------------------------------

def test_reconcile_uses_a_bounded_pool(synthetic_store: EmbeddedStore, synthetic_index: LabelIndex,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    limits: list[int] = []
    real = synthetic_index.search

    def spy(query: str, **kw: object) -> object:
        limits.append(int(kw.get("limit", 10)))  # type: ignore[call-overload]
        return real(query, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(synthetic_index, "search", spy)
    service = ReconcileService(synthetic_store, synthetic_index, base_iri=BASE, timeout=5)
    org = synthetic_index.get("org/org-7")
    assert org is not None
    body = service.reconcile(parse_batch({"q0": {"query": org.name("en")}}))
    assert body["q0"]["result"][0]["id"] == "org/org-7"
    assert limits and max(limits) <= 200 < len(synthetic_index)


def test_reconcile_by_property_only_finds_candidates_by_value(
    synthetic_store: EmbeddedStore, synthetic_index: LabelIndex,
) -> None:
    service = ReconcileService(synthetic_store, synthetic_index, base_iri=BASE, timeout=5)
    batch = {"q0": {"type": "http://www.w3.org/ns/org#OrganizationalUnit",
                    "properties": [{"pid": "parent", "v": {"id": "org/org-3"}}]}}
    ids = {r["id"] for r in service.reconcile(parse_batch(batch))["q0"]["result"]}
    assert ids == {"unit/org-3-1", "unit/org-3-2"}


def test_index_written_with_a_release_reopens_without_rebuilding(
    tmp_path: Path, synthetic_store: EmbeddedStore, synthetic_index: LabelIndex,
) -> None:
    path = tmp_path / "labels.sqlite"
    built = LabelIndex.build(synthetic_store, BASE, path=path)
    reopened = LabelIndex.open(path)
    assert len(reopened) == len(built) == len(synthetic_index)
    assert reopened.kinds() == built.kinds() and reopened.types_used() == built.types_used()
    assert reopened.class_labels == built.class_labels
    query = synthetic_index.get("org/org-5").name("ja")  # type: ignore[union-attr]
    assert [h.entity.id for h in reopened.search(query)] == [h.entity.id for h in built.search(query)]
    del built, reopened
    assert path.exists()  # an index at a given path belongs to its caller: never removed behind its back
    with pytest.raises(FileNotFoundError):
        LabelIndex.open(tmp_path / "missing.sqlite")


def test_temporary_index_files_of_dead_processes_are_swept(synthetic_store: EmbeddedStore) -> None:
    import subprocess
    import tempfile

    # a process that has exited: its pid names a file nobody removes, as after a SIGKILL
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = Path(tempfile.gettempdir()) / f"clair-kg-search-{dead.pid}-test.sqlite"
    stale.write_bytes(b"")
    live = Path(tempfile.gettempdir()) / f"clair-kg-search-{os.getpid()}-test.sqlite"
    live.write_bytes(b"")
    try:
        index = LabelIndex.build(synthetic_store, BASE)
        assert not stale.exists() and live.exists()
        assert index.path.name.startswith(f"clair-kg-search-{os.getpid()}-")
        path = index.path
        del index
        import gc

        gc.collect()
        assert not path.exists()  # the builder removes its own file when the index goes
    finally:
        stale.unlink(missing_ok=True)
        live.unlink(missing_ok=True)


# --- what the index answers is what a scan would ----------------------------------------------------

def test_every_word_one_edit_away_is_a_fuzzy_match(synthetic_index: LabelIndex) -> None:
    """A typo — a character changed, added, dropped, or two swapped, anywhere in the word — finds
    the word's entity (the one-deletion index holds every word one edit away, whatever its
    trigrams or first letters)."""
    org = synthetic_index.get("org/org-1")
    assert org is not None
    word = normalise(org.name("en").split()[0])
    assert len(word) >= 6
    middle = len(word) // 2
    swapped = word[:middle] + word[middle + 1] + word[middle] + word[middle + 2:]
    typos = {
        "changed": word[:middle] + ("q" if word[middle] != "q" else "z") + word[middle + 1:],
        "added": word[:middle] + "q" + word[middle:],
        "dropped": word[:middle] + word[middle + 1:],
        "swapped": swapped,
        "first letter changed": ("q" if word[0] != "q" else "z") + word[1:],
    }
    for kind, typo in typos.items():
        assert typo != word
        hits = synthetic_index.search(typo, limit=50)
        assert any(h.entity.id == "org/org-1" and h.match == "fuzzy" for h in hits), (kind, typo)


def test_fuzzy_prefilter_keeps_difflibs_ratio(synthetic_index: LabelIndex) -> None:
    """rapidfuzz's Indel ratio only turns away what difflib's ratio turns away: over word pairs of
    the graph (and their typos) ``_ratio`` is difflib's ratio when it reaches 0.75, else 0."""
    import difflib

    from clair_kg.search import _ratio

    words = sorted({w for e in synthetic_index.entities()[:400] for label in e.labels for w in label.words})
    assert len(words) > 200
    pairs = [(a, b) for a in words[:60] for b in words] + [(w, w[:2] + w[3:]) for w in words]
    reached = 0
    for a, b in pairs:
        expected = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
        got = _ratio(a, b)
        if expected >= 0.75:
            reached += 1
            assert got == expected, (a, b)
        else:
            assert got == 0.0, (a, b)
    assert reached > 100  # the check saw matches, not only misses


def test_substring_class_is_what_a_scan_finds(synthetic_index: LabelIndex) -> None:
    """The substring class looks labels up by the query's rarest trigrams; what it returns is
    exactly the labels a scan finds holding the query (in ranking order), common trigrams or not."""
    db = sqlite3.connect(f"file:{synthetic_index.path}?mode=ro", uri=True)
    org = synthetic_index.get("org/org-2")
    assert org is not None
    en, ja = normalise(org.name("en")), org.name("ja")
    for query in (en[2:-2], "city 1 office", "institute city", ja[1:4], "センター第1"):
        hits = synthetic_index.search(query, limit=100)
        found = [h.entity.id for h in hits if h.match in ("exact", "prefix", "word", "substring")]
        scanned: list[str] = []
        for (entity_id,) in db.execute(
                "SELECT e.id FROM label l JOIN entity e ON e.n = l.entity WHERE instr(l.norm, ?) > 0 ORDER BY l.n",
                [normalise(query)]):
            if entity_id not in scanned:
                scanned.append(entity_id)
        assert set(found) <= set(scanned), query
        substring = [h.entity.id for h in hits if h.match == "substring"]
        assert substring == [e for e in scanned if e not in found[:len(found) - len(substring)]][:len(substring)], query
        if len(hits) < 100:  # nothing the scan finds is missing
            assert set(scanned) <= {h.entity.id for h in hits}, query
    db.close()
