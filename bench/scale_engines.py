"""``python -m bench.scale engines``: SQLite FTS5 (trigram) against tantivy (n-grams) for the substring
index, on the labels of the synthetic graph (how the search index's engine was chosen; docs/scaling.md)."""

from __future__ import annotations

__all__ = ["compare_engines"]

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import synthetic


def _label_norms(statements: int) -> list[str]:
    """The normalised labels of the synthetic graph, in ranking order's stand-in (shortest first)."""
    from clair_kg.search import normalise

    seen: dict[str, None] = {}
    for _, p, o in synthetic.triples(statements):
        if p in (f"<{synthetic.RDFS_LABEL}>", f"<{synthetic.SKOS}prefLabel>", f"<{synthetic.SKOS}altLabel>"):
            seen.setdefault(normalise(o.rsplit("@", 1)[0].strip('"')))
    return sorted(seen, key=lambda t: (len(t), t))


def _engine_queries(norms: list[str]) -> list[str]:
    picks = norms[:: max(1, len(norms) // 12)][:12]
    out = []
    for text in picks:
        words = text.split()
        out += [text[1:5] if len(text) > 5 else text, words[-1][:6] if words else text]  # mid-substring, a word
    return out


def compare_engines(sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    """Build time and substring latency (the 10 best-ranked labels containing the query) of each engine."""
    import sqlite3

    try:
        import tantivy
    except ImportError:
        tantivy = None
        print("tantivy is not installed (pip install tantivy): measuring SQLite FTS5 only", file=sys.stderr)
    rows = []
    for size in sizes:
        norms = _label_norms(size)
        queries = _engine_queries(norms)
        with tempfile.TemporaryDirectory(prefix="clair-kg-engines-") as tmp:
            db = sqlite3.connect(Path(tmp) / "fts.sqlite")
            started = time.perf_counter()
            db.execute("CREATE TABLE label (n INTEGER PRIMARY KEY, norm TEXT)")
            db.executemany("INSERT INTO label VALUES (?, ?)", enumerate(norms, start=1))
            db.execute("CREATE VIRTUAL TABLE t USING fts5(norm, content='label', content_rowid='n', "
                       "tokenize='trigram')")
            db.execute("INSERT INTO t (t) VALUES ('rebuild')")
            db.commit()
            sqlite_build = time.perf_counter() - started
            times, found = [], 0
            for q in queries:
                for _ in range(repeat):
                    started = time.perf_counter()
                    if len(q) >= 3:
                        phrase = '"' + q.replace('"', '""') + '"'
                        got = db.execute("SELECT rowid FROM t WHERE t MATCH ? ORDER BY rowid LIMIT 10",
                                         [phrase]).fetchall()
                    times.append((time.perf_counter() - started) * 1000)
                found += len(got) if len(q) >= 3 else 0
            row: dict[str, Any] = {"statements": size, "labels": len(norms), "sqlite_build_s": sqlite_build,
                                   "sqlite_substring_ms": statistics.median(times),
                                   "sqlite_substring_max_ms": max(times), "sqlite_hits": found}
            db.close()
            if tantivy is not None:
                started = time.perf_counter()
                builder = tantivy.SchemaBuilder()
                builder.add_text_field("norm", stored=False, tokenizer_name="tri", index_option="basic")
                builder.add_integer_field("rank", stored=True, fast=True)
                schema = builder.build()
                (Path(tmp) / "tantivy").mkdir()
                index = tantivy.Index(schema, path=str(Path(tmp) / "tantivy"))
                index.register_tokenizer("tri", tantivy.TextAnalyzerBuilder(
                    tantivy.Tokenizer.ngram(min_gram=3, max_gram=3, prefix_only=False)).build())
                writer = index.writer(heap_size=100_000_000, num_threads=1)
                for n, text in enumerate(norms, start=1):
                    writer.add_document(tantivy.Document(norm=text, rank=n))
                writer.commit()
                writer.wait_merging_threads()
                index.reload()
                tantivy_build = time.perf_counter() - started
                searcher = index.searcher()
                times, found = [], 0
                for q in queries:
                    grams = sorted({q[i:i + 3] for i in range(len(q) - 2)})
                    for _ in range(repeat):
                        started = time.perf_counter()
                        if grams:
                            # every trigram must occur; the best-ranked first (then checked as a substring)
                            query = tantivy.Query.boolean_query([
                                (tantivy.Occur.Must, tantivy.Query.term_query(schema, "norm", g)) for g in grams])
                            hits = searcher.search(query, limit=40, order_by_field="rank",
                                                   order=tantivy.Order.Asc).hits
                            texts = [norms[int(searcher.doc(address)["rank"][0]) - 1] for _, address in hits]
                            got = [t for t in texts if q in t][:10]
                        times.append((time.perf_counter() - started) * 1000)
                    found += len(got) if grams else 0
                row.update({"tantivy_build_s": tantivy_build, "tantivy_substring_ms": statistics.median(times),
                            "tantivy_substring_max_ms": max(times), "tantivy_hits": found})
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    return rows
