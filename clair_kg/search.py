"""Label search over the graph's entities, in English and Japanese, on an index built once per release.

:class:`LabelIndex` is built once from a store (three SELECTs: labels, types, descriptions) into a
SQLite database file (the standard library's ``sqlite3``; FTS5 with the trigram tokenizer for
substrings, which Japanese needs since it has no spaces) and answers :meth:`LabelIndex.search` from
that index, never by scanning every label in Python. Matching is case- and width-insensitive:
labels and queries are normalised with NFKC (full-width ``ＣＬＡＩＲ`` and half-width ``ｸﾚｱ`` become
``CLAIR`` and ``クレア``) and case-folded. Ranking, best first::

    exact label     1.0      (B-tree index on the normalised label)
    label prefix    0.9      (range scan of the same index)
    word prefix     0.8      (a word of the label starts with the query: index of words)
    substring       0.7      (FTS5 trigram index, looked up by the query's rarest trigrams;
                              1-2 character queries: a scan in SQLite)
    fuzzy           up to 0.6 (difflib ratio >= 0.75 against the label or one of its words, for the
                              labels holding a word close to the query's: the close words are
                              every word one edit away, from an index of one-deletion variants,
                              and the words sharing most trigrams, from an index of the distinct
                              words' trigrams; never a scan)

A preferred label scores a little above an alternative one, and among equal scores the shorter
label wins, so an exact name beats a longer name that merely contains it. Classes are searched in
that order and the search stops as soon as ``limit`` entities are found: an entity found in a
better class always outranks one of a worse class.

Every search can be bounded by a time limit (``timeout=`` seconds): SQLite's progress handler
stops a statement past the deadline, and the search raises :class:`~clair_kg.errors.QueryTimeout`
(503 on the web).

The index file is read-only once built; each thread (and each process, after a fork) opens its
own read-only connection, so the pages are shared through the operating system's cache. The
searches of one process take turns on one lock (:attr:`LabelIndex.lane`; waiting counts against the
time limit).

The index also holds the values of reconciliation's catalogue properties
(:meth:`LabelIndex.property_values`), so that scoring candidates never asks the store.
"""

from __future__ import annotations

__all__ = ["Entity", "IndexedValue", "Label", "LabelIndex", "SearchHit", "normalise"]

import contextlib
import difflib
import heapq
import json
import os
import re
import sqlite3
import tempfile
import threading
import time
import unicodedata
import weakref
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from zlib import crc32

from pyoxigraph import Literal, NamedNode
from rapidfuzz.fuzz import ratio as indel_ratio
from rapidfuzz.process import extract

from .errors import QueryTimeout
from .namespaces import PREFIXES
from .store import Store, Term

RDFS = PREFIXES["rdfs"]
SKOS = PREFIXES["skos"]
SCHEMA = PREFIXES["schema"]
CLAIR = PREFIXES["clair"]

#: label predicate -> (kind, rank bonus); preferred names rank above alternative ones
_LABEL_PREDICATES = {
    SKOS + "prefLabel": ("pref", 0.02),
    RDFS + "label": ("label", 0.015),
    SKOS + "altLabel": ("alt", 0.0),
    CLAIR + "localName": ("alt", 0.0),
}
_MAX_BONUS = max(bonus for _, bonus in _LABEL_PREDICATES.values())

_LABELS_QUERY = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX clair: <https://w3id.org/clair-kg/ontology#>
SELECT DISTINCT ?s ?p ?label WHERE {
  VALUES ?p { rdfs:label skos:prefLabel skos:altLabel clair:localName }
  ?s ?p ?label .
  FILTER(isIRI(?s) && isLITERAL(?label))
}"""
_TYPES_QUERY = "SELECT DISTINCT ?s ?type WHERE { ?s a ?type . FILTER(isIRI(?s) && isIRI(?type)) }"
_DESCRIPTIONS_QUERY = """
PREFIX schema: <https://schema.org/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?s ?description WHERE {
  { ?s schema:description ?description } UNION { ?s skos:definition ?description }
  FILTER(isIRI(?s) && isLITERAL(?description))
}"""
_CLASS_LABELS_QUERY = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?class ?label WHERE { ?x a ?class . ?class rdfs:label ?label . FILTER(isLITERAL(?label)) }"""

_FUZZY_CUTOFF = 0.75  # difflib ratio below which a label is not a match at all
#: the same cutoff on rapidfuzz's 0-100 scale, a hair under so that rounding never turns away a text
_INDEL_CUTOFF = 100 * _FUZZY_CUTOFF - 1e-6
_FUZZY_MIN_LENGTH = 4  # shorter queries match only exactly, by prefix or as a substring
#: labels sharing the most trigrams with the query that fuzzy matching compares (the index's
#: candidates; never every label)
_FUZZY_CANDIDATES = 200
#: most words read for one trigram of a word fuzzy matching looks for
_GRAM_ROWS = 5_000
#: most trigrams of a substring query looked up in the trigram index, and the count of labels at or
#: under which one trigram alone narrows enough
_SUBSTRING_GRAMS = 3
_RARE_GRAM = 64
#: labels sharing a prefix above which the prefix class reads labels in ranking order, not the B-tree
_COMMON_PREFIX = 2_000
#: SQLite virtual-machine steps between two looks at the deadline (about a tenth of a millisecond)
_PROGRESS_STEPS = 2_000
#: above every character: ``q <= text < q + _TOP`` is "text starts with q" in SQLite's byte order
_TOP = "\U0010ffff"
_SPACES = re.compile(r"\s+")
_WORD_SPLIT = re.compile(r"[\s\-/,.()・（）「」『』]+")

_SCHEMA_SQL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entity (n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
-- Labels are numbered in ranking order (preferred first, then shorter, then by entity id), so
-- "ORDER BY n" is the ranking within a match class and FTS5, which returns rowids in order, hands
-- the best substring matches over first: a search reads only as many rows as it returns.
CREATE TABLE label (n INTEGER PRIMARY KEY, entity INTEGER NOT NULL, pos INTEGER NOT NULL,
                    norm TEXT NOT NULL, lang TEXT NOT NULL, bonus REAL NOT NULL);
CREATE TABLE word (word TEXT NOT NULL, label INTEGER NOT NULL, PRIMARY KEY (word, label)) WITHOUT ROWID;
-- the distinct words, for fuzzy matching: far fewer than the labels; with how many labels hold each
CREATE TABLE vocab (n INTEGER PRIMARY KEY, word TEXT NOT NULL UNIQUE, labels INTEGER NOT NULL);
-- for each trigram, the first words (by number) holding it, packed as an array of 32-bit integers in
-- the machine's byte order (the index is read where it was built): what fuzzy matching counts shared
-- trigrams from
CREATE TABLE vocab_gram (gram TEXT PRIMARY KEY, words BLOB NOT NULL) WITHOUT ROWID;
-- each distinct word under itself and under each text it becomes with one character deleted
-- (hashed to 32 bits: a collision only adds a candidate the ratio then turns away). Two words one
-- edit apart (a character changed, added, dropped or two swapped) share a key.
CREATE TABLE vocab_del (key INTEGER NOT NULL, word INTEGER NOT NULL, PRIMARY KEY (key, word)) WITHOUT ROWID;
CREATE TABLE entity_type (token TEXT NOT NULL, entity INTEGER NOT NULL, PRIMARY KEY (token, entity)) WITHOUT ROWID;
CREATE VIRTUAL TABLE label_text USING fts5(norm, content='label', content_rowid='n', tokenize='trigram');
-- how many labels hold each trigram (FTS5's own count): a substring is looked up by its rarest
-- trigrams, never by every one of them
CREATE TABLE label_gram (gram TEXT PRIMARY KEY, labels INTEGER NOT NULL) WITHOUT ROWID;
-- Property values, for reconciliation to score candidates without asking the store: each property
-- under the query its rows (?s ?v) came from (a property is answered from here only for that very
-- query), each distinct value once (kind i: an IRI, l: a literal; extra: @language or the datatype;
-- text: its N-Triples form, the order values are listed in; labels: the normalised labels of the
-- indexed entity an IRI names, joined by \x1f), and which entity has which value.
CREATE TABLE prop (n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, query TEXT NOT NULL);
CREATE TABLE term (n INTEGER PRIMARY KEY, kind TEXT NOT NULL, value TEXT NOT NULL, extra TEXT NOT NULL,
                   text TEXT NOT NULL, labels TEXT NOT NULL);
CREATE TABLE prop_value (prop INTEGER NOT NULL, entity INTEGER NOT NULL, term INTEGER NOT NULL,
                         PRIMARY KEY (prop, entity, term)) WITHOUT ROWID;
"""
_INDEX_SQL = """
CREATE INDEX label_norm ON label (norm);
INSERT INTO label_text (label_text) VALUES ('rebuild');
CREATE VIRTUAL TABLE temp.label_terms USING fts5vocab(main, 'label_text', 'row');
INSERT INTO label_gram SELECT term, doc FROM temp.label_terms;
DROP TABLE temp.label_terms;
ANALYZE;
"""


def normalise(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed: the form both labels and queries are compared in."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


@dataclass(frozen=True)
class Label:
    text: str
    lang: str
    kind: str  # pref | label | alt
    bonus: float
    norm: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class Entity:
    """One thing in the graph under ``{base}id/``, with what search and reconciliation show."""

    iri: str
    id: str  # the part after {base}id/, e.g. office/london
    kind: str  # the first path segment, e.g. office
    labels: tuple[Label, ...]
    types: tuple[str, ...]
    descriptions: tuple[tuple[str, str], ...]  # (text, lang)

    def name(self, lang: str = "en") -> str:
        """The preferred label in ``lang``, else in English, else any label, else the id."""
        for wanted in (lang, "en", None):
            for kind in ("pref", "label", "alt"):
                for label in self.labels:
                    if label.kind == kind and (wanted is None or label.lang == wanted):
                        return label.text
        return self.id

    def description(self, lang: str = "en") -> str | None:
        for wanted in (lang, "en", None):
            for text, text_lang in self.descriptions:
                if wanted is None or text_lang == wanted:
                    return text
        return None


@dataclass(frozen=True)
class IndexedValue:
    """One value of a property of an entity, as the index holds it."""

    term: Term  # the index holds IRIs and literals; the store may also answer a blank node
    #: the normalised labels of the indexed entity ``term`` names (an IRI), else empty
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchHit:
    entity: Entity
    label: str  # the entity's name in the language of the label that matched
    matched: str  # the label that matched
    lang: str
    match: str  # exact | prefix | word | substring | fuzzy
    score: float

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.entity.iri,
            "label": self.label,
            "type": self.entity.kind,
            "score": self.score,
            "path": self.entity.id,
            "types": list(self.entity.types),
            "matched": self.matched,
            "lang": self.lang,
            "match": self.match,
        }


def _words(norm: str) -> tuple[str, ...]:
    return tuple(w for w in _WORD_SPLIT.split(norm) if w)


def _local_name(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _type_tokens(entity: Entity) -> set[str]:
    """What :meth:`LabelIndex.matches_type` compares, as index keys: kind, class IRIs, local names."""
    return {f"k:{entity.kind}", *(f"t:{t}" for t in entity.types), *(f"l:{_local_name(t)}" for t in entity.types)}


def _wanted_tokens(wanted: str) -> tuple[str, str, str]:
    return f"k:{wanted}", f"t:{wanted}", f"l:{wanted.split(':')[-1]}"


def _ratio(query: str, candidate: str) -> float:
    """difflib's ratio of ``query`` against ``candidate`` if it reaches the cutoff, else 0."""
    # The cheap upper bounds first (as difflib.get_close_matches does), the length one before a
    # matcher is even made: a query far longer or shorter than the text, e.g. 10,000 characters,
    # then costs no comparison at all.
    total = len(query) + len(candidate)
    if 2 * min(len(query), len(candidate)) < _FUZZY_CUTOFF * total:
        return 0.0
    # The Indel ratio (rapidfuzz, in C++: twice the longest common subsequence over the total
    # length) is never below difflib's, whose matching blocks are a common subsequence: under the
    # cutoff there, under it here, and only the few candidates above it cost a difflib matcher.
    if not indel_ratio(query, candidate, score_cutoff=_INDEL_CUTOFF):
        return 0.0
    ratio = difflib.SequenceMatcher(None, query, candidate, autojunk=False).ratio()
    return ratio if ratio >= _FUZZY_CUTOFF else 0.0


def _fuzzy_ratio(query: str, norm: str, memo: dict[str, float]) -> float:
    """The best difflib ratio of ``query`` against a label (normalised) or one of its words (0 if
    under the cutoff).

    ``memo`` holds the ratios of ``query`` against texts already compared (and gets the new ones):
    the labels a fuzzy search reads share most of their words ("office", "city", the close word).
    """
    best = memo.get(norm)
    if best is None:
        best = memo[norm] = _ratio(query, norm)
    words = _words(norm)
    if len(words) > 1:
        for word in words:
            ratio = memo.get(word)
            if ratio is None:
                ratio = memo[word] = _ratio(query, word)
            if ratio > best:
                best = ratio
    return best


def _grams(text: str) -> set[str]:
    """The distinct trigrams (three consecutive characters) of ``text``."""
    return {text[i:i + 3] for i in range(len(text) - 2)}


def _deletion_keys(word: str) -> set[int]:
    """``word`` and each text it becomes with one character deleted, hashed (see ``vocab_del``)."""
    keys = {crc32((word[:i] + word[i + 1:]).encode()) for i in range(len(word))}
    keys.add(crc32(word.encode()))
    return keys


def _phrase(text: str) -> str:
    """``text`` as one FTS5 phrase (a substring, with the trigram tokenizer)."""
    return '"' + text.replace('"', '""') + '"'


_DOC_ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":"))


def _entity_doc(entity: Entity) -> str:
    return _DOC_ENCODER.encode({
        "iri": entity.iri, "kind": entity.kind, "types": entity.types, "descriptions": entity.descriptions,
        "labels": [(label.text, label.lang, label.kind, label.bonus) for label in entity.labels],
    })


def _entity_from_doc(entity_id: str, doc: str) -> Entity:
    data = json.loads(doc)
    labels = []
    for text, lang, kind, bonus in data["labels"]:
        norm = normalise(text)
        labels.append(Label(text, lang, kind, bonus, norm, _words(norm)))
    return Entity(
        iri=data["iri"], id=entity_id, kind=data["kind"], labels=tuple(labels), types=tuple(data["types"]),
        descriptions=tuple((t, lang) for t, lang in data["descriptions"]),
    )


_TEMP_PREFIX = "clair-kg-search-"


def _sweep_stale_files() -> None:
    """Remove temporary index files whose building process no longer runs."""
    for stale in Path(tempfile.gettempdir()).glob(f"{_TEMP_PREFIX}*-*.sqlite"):
        pid_text = stale.name[len(_TEMP_PREFIX):].split("-", 1)[0]
        if not pid_text.isdigit():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            _remove_file(str(stale), os.getpid())
        except PermissionError:
            pass  # another user's live process


def _remove_file(path: str, owner_pid: int) -> None:
    # Only the process that built the index removes it: a forked worker exiting must not delete
    # the file its parent and siblings still read.
    if os.getpid() == owner_pid:
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                os.unlink(path + suffix)
            except FileNotFoundError:
                pass


class _Deadline:
    """The end of one request's time budget; ``None`` means no limit."""

    def __init__(self, timeout: float | None) -> None:
        self.timeout = timeout
        self.at = None if timeout is None else time.monotonic() + timeout

    def passed(self) -> bool:
        return self.at is not None and time.monotonic() > self.at

    def check(self) -> None:
        if self.passed():
            raise self.error()

    def error(self) -> QueryTimeout:
        return QueryTimeout(
            f"the search ran past its time limit of {self.timeout:g} s and was stopped: "
            "try a longer or more specific query, or a type filter")


def _new_lane(ref: weakref.ref[LabelIndex]) -> None:
    index = ref()
    if index is not None:
        index.lane = threading.RLock()


class LabelIndex:
    """Every labelled entity under ``{base}id/``, in a read-only SQLite index built once per release."""

    def __init__(
        self, entities: Iterable[Entity], class_labels: dict[str, dict[str, str]] | None = None,
        *, path: Path | None = None, properties: Iterable[tuple[str, str, Iterable[tuple[str, Term]]]] = (),
    ) -> None:
        self.class_labels = class_labels or {}
        if path is None:
            _sweep_stale_files()
            # SQLite takes an empty file as an empty database; the builder's pid is in the name so
            # that a later build can remove the file of a process that was killed (no exit hooks ran).
            fd, name = tempfile.mkstemp(prefix=f"{_TEMP_PREFIX}{os.getpid()}-", suffix=".sqlite")
            os.close(fd)
            self.path = Path(name)
            self._finalizer: weakref.finalize[Any, LabelIndex] | None = weakref.finalize(
                self, _remove_file, name, os.getpid())
        else:
            self.path = Path(path)
            if self.path.exists():
                self.path.unlink()
            self._finalizer = None
        self._local = threading.local()
        self._attach(*self._write(entities, properties))

    def _attach(self, count: int, kinds: list[str], profiles: frozenset[tuple[str, tuple[str, ...]]]) -> None:
        #: Searches of one process take turns on this lock (reentrant: a reconciliation holds it for
        #: its whole batch and searches inside it). sqlite3 lets go of the GIL around every statement
        #: step, so several threads searching at once hand the GIL to each other thousands of times
        #: a request: measured at 10^6 statements, 8 reconciliation batches at once in one process
        #: cost 12-17 ms of CPU each on the web framework's 40 threads, 7-9 ms taking turns. The
        #: work is CPU-bound under one GIL anyway: turns cost no throughput.
        self.lane = threading.RLock()
        ref = weakref.ref(self)
        # a fork copies the lock as it is: a child starts with a lock no thread of its own holds
        os.register_at_fork(after_in_child=lambda: _new_lane(ref))
        self._count = count
        self._kinds = kinds
        #: the distinct (kind, types) pairs: what type suggestions and property proposals look at
        self._profiles = profiles
        self._entity_cache: Callable[[int], Entity] = lru_cache(maxsize=8192)(self._load_entity)
        #: property id -> (its number in the index, the query its values came from)
        self._props: dict[str, tuple[int, str]] = {
            pid: (int(n), query) for n, pid, query in self._db().execute("SELECT n, id, query FROM prop")}

    @classmethod
    def open(cls, path: Path) -> LabelIndex:
        """An index written before (``build(..., path=...)``, e.g. with the release), without rebuilding it.

        :raises FileNotFoundError: there is no index at ``path``.
        """
        if not Path(path).is_file():
            raise FileNotFoundError(path)
        index = cls.__new__(cls)
        index.path = Path(path)
        index._finalizer = None
        index._local = threading.local()
        meta = dict(index._db().execute("SELECT key, value FROM meta").fetchall())
        index.class_labels = json.loads(meta["class_labels"])
        profiles = frozenset((kind, tuple(types)) for kind, types in json.loads(meta["profiles"]))
        index._attach(int(meta["count"]), json.loads(meta["kinds"]), profiles)
        return index

    # --- building -------------------------------------------------------------------------------

    def _write(
        self, entities: Iterable[Entity], properties: Iterable[tuple[str, str, Iterable[tuple[str, Term]]]],
    ) -> tuple[int, list[str], frozenset[tuple[str, tuple[str, ...]]]]:
        db = sqlite3.connect(self.path)
        try:
            # No journal (a failed build is thrown away) and a page cache large enough that building
            # the B-trees and the FTS index of 10^6 statements does not thrash.
            db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=MEMORY; "
                             "PRAGMA cache_size=-262144;" + _SCHEMA_SQL)
            ordered = sorted(entities, key=lambda e: e.id)
            kinds = sorted({e.kind for e in ordered})
            profiles = frozenset((e.kind, e.types) for e in ordered)
            entity_rows: list[tuple[int, str, str]] = []
            type_rows: list[tuple[str, int]] = []
            ranked: list[tuple[float, int, int, int, Label]] = []
            for n, entity in enumerate(ordered, start=1):
                entity_rows.append((n, entity.id, _entity_doc(entity)))
                type_rows.extend((token, n) for token in _type_tokens(entity))
                # A label with the same text and language as a better one of the same entity (the
                # rdfs:label beside its skos:prefLabel) can never be the entity's best match: not indexed.
                best: dict[tuple[str, str], tuple[float, int]] = {}
                for pos, label in enumerate(entity.labels):
                    key = (label.norm, label.lang)
                    if key not in best or (-label.bonus, pos) < best[key]:
                        best[key] = (-label.bonus, pos)
                ranked.extend((bonus, len(norm), n, pos, entity.labels[pos])
                              for (norm, _), (bonus, pos) in best.items())
            self._write_properties(db, ordered, properties)
            del ordered
            ranked.sort(key=lambda r: r[:4])
            db.executemany("INSERT INTO entity VALUES (?, ?, ?)", entity_rows)
            db.executemany("INSERT INTO label VALUES (?, ?, ?, ?, ?, ?)",
                           ((i, r[2], r[3], r[4].norm, r[4].lang, r[4].bonus) for i, r in enumerate(ranked, start=1)))
            # in key order, so each B-tree is appended to rather than split at random
            db.executemany("INSERT OR IGNORE INTO word VALUES (?, ?)",
                           sorted({(w, i) for i, r in enumerate(ranked, start=1) for w in r[4].words}))
            db.execute("INSERT INTO vocab (word, labels) SELECT word, count(*) FROM word GROUP BY word ORDER BY word")
            gram_words: dict[str, array[int]] = {}
            for n, word in db.execute("SELECT n, word FROM vocab ORDER BY n").fetchall():
                for gram in _grams(word):
                    listed = gram_words.get(gram)
                    if listed is None:
                        listed = gram_words[gram] = array("i")
                    if len(listed) < _GRAM_ROWS:
                        listed.append(n)
            db.executemany("INSERT INTO vocab_gram VALUES (?, ?)",
                           ((gram, listed.tobytes()) for gram, listed in sorted(gram_words.items())))
            del gram_words
            db.executemany("INSERT OR IGNORE INTO vocab_del VALUES (?, ?)", sorted(
                (key, n) for n, word in db.execute("SELECT n, word FROM vocab").fetchall()
                for key in _deletion_keys(word)))
            db.executemany("INSERT OR IGNORE INTO entity_type VALUES (?, ?)", sorted(set(type_rows)))
            db.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("count", str(len(entity_rows))), ("kinds", json.dumps(kinds)),
                ("profiles", json.dumps(sorted(profiles), ensure_ascii=False)),
                ("class_labels", json.dumps(self.class_labels, ensure_ascii=False)),
            ])
            db.executescript(_INDEX_SQL)
            db.commit()
        finally:
            db.close()
        return len(entity_rows), kinds, profiles

    @staticmethod
    def _write_properties(db: sqlite3.Connection, ordered: Sequence[Entity],
                          properties: Iterable[tuple[str, str, Iterable[tuple[str, Term]]]]) -> None:
        """The ``prop``, ``term`` and ``prop_value`` tables: each property's values of the indexed entities."""
        numbers = {entity.id: n for n, entity in enumerate(ordered, start=1)}
        by_iri = {entity.iri: n for n, entity in enumerate(ordered, start=1)}

        def target(iri: str) -> int | None:
            # the entity :meth:`get` finds for the IRI, resolved once here instead of per request
            tried = [iri]
            if "/id/" in iri:
                part = iri.split("/id/", 1)[1]
                tried = [part, iri] if "://" in iri else [iri, part]
            return next((numbers[t] for t in tried if t in numbers), None)

        terms: dict[str, int] = {}
        term_rows: list[tuple[int, str, str, str, str, str]] = []
        for prop_n, (pid, query, rows) in enumerate(properties, start=1):
            pairs: set[tuple[int, int]] = set()
            indexable = True
            for iri, value in rows:
                entity_n = by_iri.get(iri)
                if entity_n is None:
                    continue  # not an indexed entity: reconciliation never scores it
                text = str(value)
                term_n = terms.get(text)
                if term_n is None:
                    if isinstance(value, NamedNode):
                        found = target(value.value)
                        labels = "" if found is None else "\x1f".join(
                            dict.fromkeys(label.norm for label in ordered[found - 1].labels))
                        row = ("i", value.value, "", labels)
                    elif isinstance(value, Literal):
                        row = ("l", value.value, f"@{value.language}" if value.language else value.datatype.value, "")
                    else:
                        # a blank node's id is the loaded store's own (another load names it
                        # differently): this property stays with the store
                        indexable = False
                        break
                    term_n = terms[text] = len(terms) + 1
                    term_rows.append((term_n, row[0], row[1], row[2], text, row[3]))
                pairs.add((entity_n, term_n))
            if indexable:
                db.execute("INSERT INTO prop VALUES (?, ?, ?)", (prop_n, pid, query))
                db.executemany("INSERT INTO prop_value VALUES (?, ?, ?)",
                               ((prop_n, entity_n, term_n) for entity_n, term_n in sorted(pairs)))
        db.executemany("INSERT INTO term VALUES (?, ?, ?, ?, ?, ?)", term_rows)

    @classmethod
    def build(cls, store: Store, base_iri: str, *, path: Path | None = None,
              properties: Mapping[str, str] | None = None) -> LabelIndex:
        """Read labels, types and descriptions of every entity from ``store`` and index them, with the
        values of ``properties`` (id -> a SELECT of ``?s ?v``; by default reconciliation's catalogue).

        ``path`` is where the index file goes (a release folder, say); by default a temporary
        file, removed when the index is garbage-collected or the process that built it exits.
        """
        if properties is None:
            # imported here: the reconcile package imports this module at its top
            from .reconcile.properties import indexed_queries

            properties = indexed_queries()
        prefix = f"{base_iri}id/"
        labels: dict[str, list[Label]] = defaultdict(list)
        # (subject, text, language, kind): equal keys are equal labels (skos:altLabel and
        # clair:localName are both "alt"), checked before the text is normalised
        seen: set[tuple[str, str, str, str]] = set()
        for row in store.select(_LABELS_QUERY):
            s, p, lit = row.get("s"), row.get("p"), row.get("label")
            if not (isinstance(s, NamedNode) and isinstance(p, NamedNode) and isinstance(lit, Literal)):
                continue
            if not s.value.startswith(prefix):
                continue
            kind, bonus = _LABEL_PREDICATES[p.value]
            lang = (lit.language or "").lower()
            key = (s.value, lit.value, lang, kind)
            if key in seen:
                continue
            seen.add(key)
            norm = normalise(lit.value)
            labels[s.value].append(Label(lit.value, lang, kind, bonus, norm, _words(norm)))
        del seen
        types: dict[str, list[str]] = defaultdict(list)
        for row in store.select(_TYPES_QUERY):
            s, t = row.get("s"), row.get("type")
            if isinstance(s, NamedNode) and isinstance(t, NamedNode) and s.value.startswith(prefix):
                types[s.value].append(t.value)
        descriptions: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for row in store.select(_DESCRIPTIONS_QUERY):
            s, d = row.get("s"), row.get("description")
            if isinstance(s, NamedNode) and isinstance(d, Literal) and s.value.startswith(prefix):
                descriptions[s.value].append((d.value, (d.language or "").lower()))
        class_labels: dict[str, dict[str, str]] = defaultdict(dict)
        for row in store.select(_CLASS_LABELS_QUERY):
            c, lit = row.get("class"), row.get("label")
            if isinstance(c, NamedNode) and isinstance(lit, Literal):
                class_labels[c.value].setdefault((lit.language or "").lower(), lit.value)

        def entities() -> Iterator[Entity]:
            for iri in sorted(set(labels) | set(types)):
                path_part = iri[len(prefix):]
                yield Entity(
                    iri=iri, id=path_part, kind=path_part.split("/", 1)[0],
                    labels=tuple(labels.get(iri, ())), types=tuple(sorted(set(types.get(iri, ())))),
                    descriptions=tuple(sorted(descriptions.get(iri, ()), key=lambda d: d[1] != "en")),
                )

        def property_rows(query: str) -> Iterator[tuple[str, Term]]:
            for row in store.select(query):
                s, v = row.get("s"), row.get("v")
                if isinstance(s, NamedNode) and v is not None:
                    yield s.value, v

        return cls(entities(), dict(class_labels), path=path,
                   properties=((pid, query, property_rows(query)) for pid, query in properties.items()))

    # --- reading --------------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        """This thread's read-only connection (a new one after a fork: connections never cross one)."""
        pid = os.getpid()
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None or getattr(self._local, "pid", None) != pid:
            db = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            db.execute("PRAGMA mmap_size = 1073741824")
            self._local.db = db
            self._local.pid = pid
        return db

    def _load_entity(self, n: int) -> Entity:
        row = self._db().execute("SELECT id, doc FROM entity WHERE n = ?", (n,)).fetchone()
        return _entity_from_doc(row[0], row[1])

    def __len__(self) -> int:
        return self._count

    def entities(self) -> list[Entity]:
        """Every entity, by id (decodes the whole index: for the CLI, not for a request)."""
        rows = self._db().execute("SELECT id, doc FROM entity ORDER BY n").fetchall()
        return [_entity_from_doc(entity_id, doc) for entity_id, doc in rows]

    def get(self, entity_id: str) -> Entity | None:
        """An entity by id (``office/london``) or full IRI."""
        db = self._db()
        tried = [entity_id]
        if "/id/" in entity_id:
            # a full IRI is the usual case (property values): its id part first, one lookup
            part = entity_id.split("/id/", 1)[1]
            tried = [part, entity_id] if "://" in entity_id else [entity_id, part]
        for wanted in tried:
            row = db.execute("SELECT n FROM entity WHERE id = ?", (wanted,)).fetchone()
            if row is not None:
                return self._entity_cache(int(row[0]))
        return None

    def property_values(self, pid: str, query: str, entity_ids: Sequence[str]) -> dict[str, list[IndexedValue]] | None:
        """The values of property ``pid`` of each entity of ``entity_ids``, in N-Triples order (as
        :func:`~clair_kg.reconcile.properties.fetch_values` lists them), or None when the index was not
        built with that property from that very ``query`` (ask the store then).

        One SQL statement, whatever the number of entities.
        """
        known = self._props.get(pid)
        if known is None or known[1] != query:
            return None
        wanted = list(dict.fromkeys(entity_ids))
        out: dict[str, list[IndexedValue]] = {}
        if not wanted:
            return out
        rows = self._db().execute(
            "SELECT e.id, t.kind, t.value, t.extra, t.labels FROM entity e "
            "JOIN prop_value v ON v.prop = ? AND v.entity = e.n JOIN term t ON t.n = v.term "
            f"WHERE e.id IN ({','.join('?' * len(wanted))}) ORDER BY e.id, t.text", [known[0], *wanted])
        for entity_id, kind, value, extra, labels in rows:
            term: NamedNode | Literal
            if kind == "i":
                term = NamedNode(value)
            elif extra.startswith("@"):
                term = Literal(value, language=extra[1:])
            else:
                term = Literal(value, datatype=NamedNode(extra))
            out.setdefault(entity_id, []).append(IndexedValue(term, tuple(labels.split("\x1f")) if labels else ()))
        return out

    def with_label(self, text: str, *, limit: int = 100) -> list[Entity]:
        """The entities (at most ``limit``) with a label equal to ``text`` once both are normalised."""
        rows = self._db().execute("SELECT DISTINCT entity FROM label WHERE norm = ? ORDER BY entity LIMIT ?",
                                  (normalise(text), limit)).fetchall()
        return [self._entity_cache(int(n)) for (n,) in rows]

    def class_label(self, class_iri: str, lang: str = "en") -> str:
        labels = self.class_labels.get(class_iri, {})
        return labels.get(lang) or labels.get("en") or _local_name(class_iri)

    def kinds(self) -> list[str]:
        return list(self._kinds)

    def types_used(self) -> list[str]:
        """Every class some entity has, sorted."""
        return sorted({t for _, types in self._profiles for t in types})

    def kinds_of_type(self, wanted: str) -> set[str]:
        """The kinds of the entities that :meth:`matches_type` ``wanted``."""
        return {kind for kind, types in self._profiles if self._profile_matches(kind, types, wanted)}

    @staticmethod
    def _profile_matches(kind: str, types: tuple[str, ...], wanted: str) -> bool:
        if wanted == kind or wanted in types:
            return True
        return any(_local_name(t) == wanted.split(":")[-1] for t in types)

    @staticmethod
    def matches_type(entity: Entity, wanted: str) -> bool:
        """``wanted`` is a kind (``office``), a class IRI, or a class's local name (``OverseasOffice``)."""
        return LabelIndex._profile_matches(entity.kind, entity.types, wanted)

    # --- search ---------------------------------------------------------------------------------

    def search(
        self, query: str, *, types: Iterable[str] = (), lang: str | None = None, limit: int = 10,
        timeout: float | None = None,
    ) -> list[SearchHit]:
        """The best ``limit`` entities for ``query``, best first (see the module docstring).

        :raises QueryTimeout: the search took longer than ``timeout`` seconds.
        """
        wanted_query = normalise(query)
        limit = max(0, limit)
        if not wanted_query or limit == 0:
            return []
        deadline = _Deadline(timeout)  # waiting for the lane counts: no request queues past its limit
        with self.turn(timeout):
            return self._bounded(wanted_query, types, lang, limit, deadline)

    @contextlib.contextmanager
    def turn(self, timeout: float | None) -> Iterator[None]:
        """Hold this process's search lane (:attr:`lane`) for the block, waiting at most ``timeout`` seconds.

        :raises QueryTimeout: the lane did not come free in time (the process is busy searching).
        """
        if not self.lane.acquire(timeout=-1 if timeout is None else max(0.0, timeout)):
            raise QueryTimeout(f"the search waited past its time limit of {timeout:g} s for the searches "
                               "before it: the server is busy, try again")
        try:
            yield
        finally:
            self.lane.release()

    def _bounded(self, wanted_query: str, types: Iterable[str], lang: str | None, limit: int,
                 deadline: _Deadline) -> list[SearchHit]:
        filters, params = self._filters([t for t in types if t], lang)
        db = self._db()
        if deadline.at is not None:
            at = deadline.at
            db.set_progress_handler(lambda: int(time.monotonic() > at), _PROGRESS_STEPS)
        try:
            return self._search(db, wanted_query, filters, params, limit, deadline)
        except sqlite3.OperationalError as exc:
            if "interrupt" in str(exc):
                raise deadline.error() from None
            raise
        finally:
            if deadline.at is not None:
                db.set_progress_handler(None, 0)

    @staticmethod
    def _filters(types: list[str], lang: str | None) -> tuple[str, list[object]]:
        sql, params = "", list[object]()
        if lang:
            sql += " AND l.lang = ?"
            params.append(lang)
        if types:
            tokens = [token for wanted in types for token in _wanted_tokens(wanted)]
            marks = ",".join("?" * len(tokens))
            sql += f" AND EXISTS (SELECT 1 FROM entity_type t WHERE t.entity = l.entity AND t.token IN ({marks}))"
            params.extend(tokens)
        return sql, params

    def _search(
        self, db: sqlite3.Connection, q: str, filters: str, params: list[object], limit: int, deadline: _Deadline,
    ) -> list[SearchHit]:
        found: dict[int, SearchHit] = {}
        # A prefix many labels share ("k") is answered fastest by reading the labels in ranking order
        # until enough match; a rarer one by the B-tree, then sorting its few rows.
        common = db.execute("SELECT count(*) FROM (SELECT 1 FROM label WHERE norm > ? AND norm < ? LIMIT ?)",
                            [q, q + _TOP, _COMMON_PREFIX]).fetchone()[0] >= _COMMON_PREFIX
        stages: list[tuple[str, str, list[object], float]] = [
            ("exact", "FROM label l WHERE l.norm = ?", [q], 0.98),
            ("prefix", f"FROM label l {'NOT INDEXED' if common else 'INDEXED BY label_norm'} "
                       "WHERE l.norm > ? AND l.norm < ?", [q, q + _TOP], 0.9),
            ("word", "FROM label l WHERE l.n IN (SELECT label FROM word WHERE word >= ? AND word < ?)",
             [q, q + _TOP], 0.8),
        ]
        if len(q) >= 3:
            # A label holding the query holds each of its trigrams: the rarest few find the labels
            # to look at (a phrase of every trigram reads every one's list, the commonest too), and
            # instr() keeps those that hold the whole query, as casefold() has it.
            stages.append(("substring", "FROM label_text f JOIN label l ON l.n = f.rowid "
                                        "WHERE label_text MATCH ? AND instr(l.norm, ?) > 0",
                           [self._rarest_grams(db, q), q], 0.7))
        else:  # the trigram index cannot hold shorter substrings: SQLite scans the labels, best first
            stages.append(("substring", "FROM label l WHERE instr(l.norm, ?) > 0", [q], 0.7))
        for match, source, args, base in stages:
            deadline.check()
            # FTS5 hands rowids over in order when asked for "ORDER BY rowid": no sort, rows as read
            order = "f.rowid" if "label_text" in source else "l.n"
            rows = db.execute(f"SELECT l.entity, l.pos {source}{filters} ORDER BY {order}", [*args, *params])
            for n, pos in rows:
                if n in found:
                    continue
                entity = self._entity_cache(n)
                label = entity.labels[pos]
                score = round(base + label.bonus, 4) if match == "exact" else round(min(1.0, base + label.bonus), 4)
                found[n] = SearchHit(entity, entity.name(label.lang or "en"), label.text, label.lang, match, score)
                if len(found) >= limit:
                    return list(found.values())
        deadline.check()
        if len(q) >= _FUZZY_MIN_LENGTH:
            found.update(self._fuzzy(db, q, filters, params, found, limit - len(found), deadline))
        return list(found.values())[:limit]

    @staticmethod
    def _rarest_grams(db: sqlite3.Connection, q: str) -> str:
        """An FTS5 query for the labels holding the rarest trigrams of ``q`` (at most three: a rare
        one alone narrows enough; common ones narrow together)."""
        grams = sorted(_grams(q))
        marks = ",".join("?" * len(grams))
        # a trigram no label holds counts 0: it is picked first, and then nothing matches
        counts = dict(db.execute(f"SELECT gram, labels FROM label_gram WHERE gram IN ({marks})", grams).fetchall())
        picked: list[str] = []
        for gram in sorted(grams, key=lambda g: (counts.get(g, 0), g)):
            picked.append(gram)
            if len(picked) == _SUBSTRING_GRAMS or counts.get(gram, 0) <= _RARE_GRAM:
                break
        return " AND ".join(_phrase(g) for g in picked)

    def _similar_words(self, db: sqlite3.Connection, word: str) -> list[tuple[float, str]]:
        """Distinct words of the labels close to ``word`` (difflib ratio >= 0.75), closest first.

        Candidates, never a scan of every word: every word one edit away (the deletion keys they
        share with ``word``: a few B-tree lookups, whatever the size of the vocabulary), the words
        sharing most trigrams with it (farther ones: two edits can still reach the cutoff), and the
        first words starting with the same two characters.
        """
        keys = sorted(_deletion_keys(word))
        candidates = {w for (w,) in db.execute(
            f"SELECT v.word FROM vocab v WHERE v.n IN (SELECT word FROM vocab_del WHERE key IN "
            f"({','.join('?' * len(keys))}))", keys)}
        # the words sharing most trigrams with ``word`` (ties: the lower word number first), counted
        # here from each trigram's packed list: a GROUP BY in SQLite costs two to three times as much;
        # a trigram thousands of words hold adds its first words only, so that the work stays bounded
        grams = sorted(_grams(word))
        if grams:
            shared: Counter[int] = Counter()
            for (packed,) in db.execute(
                    f"SELECT words FROM vocab_gram WHERE gram IN ({','.join('?' * len(grams))})", grams):
                listed = array("i")
                listed.frombytes(packed)
                shared.update(listed)
            by_count: dict[int, list[int]] = defaultdict(list)
            for n, count in shared.items():
                by_count[count].append(n)
            most: list[int] = []
            for count in sorted(by_count, reverse=True):
                most.extend(sorted(by_count[count]))
                if len(most) >= _FUZZY_CANDIDATES:
                    break
            most = most[:_FUZZY_CANDIDATES]
            if most:
                candidates.update(w for (w,) in db.execute(
                    f"SELECT word FROM vocab WHERE n IN ({','.join('?' * len(most))})", most))
        # and words starting with the same two characters, as before the deletion index: a long
        # word with two letters changed in the middle shares few trigrams
        candidates.update(w for (w,) in db.execute(
            "SELECT word FROM vocab WHERE word >= ? AND word < ? AND length(word) BETWEEN ? AND ? LIMIT ?",
            [word[:2], word[:2] + _TOP, int(len(word) * 0.6), int(len(word) / 0.6) + 1, _FUZZY_CANDIDATES]))
        # the Indel pre-filter over every candidate in one call; difflib only for those above it
        above = [text for text, _, _ in extract(word, list(candidates), scorer=indel_ratio,
                                                 score_cutoff=_INDEL_CUTOFF, limit=None)]
        scored = [(ratio, candidate) for candidate in above if (ratio := _ratio(word, candidate))]
        scored.sort(key=lambda r: (-r[0], r[1]))
        return scored

    def _fuzzy(
        self, db: sqlite3.Connection, q: str, filters: str, params: list[object], taken: dict[int, SearchHit],
        limit: int, deadline: _Deadline,
    ) -> dict[int, SearchHit]:
        """Fuzzy hits: labels holding a word close to the query (or to one of its words), scored as
        a whole label and word by word, as :func:`_fuzzy_ratio` does."""
        words = _words(q) or (q,)
        close: dict[str, float] = {}
        # how many labels hold each word of the query that the labels use (one statement)
        used: dict[str, int] = {}
        if len(words) > 1:
            distinct = list(dict.fromkeys(words))
            used = dict(db.execute(f"SELECT word, labels FROM vocab WHERE word IN ({','.join('?' * len(distinct))})",
                                   distinct).fetchall())
        for word in dict.fromkeys(words):
            deadline.check()
            if word in used:
                # A word of a longer query that the labels use as it is: the labels holding it are
                # the candidates; its near neighbours would add little to a whole-label ratio.
                close[word] = 1.0
                continue
            for ratio, candidate in self._similar_words(db, word):
                close[candidate] = max(close.get(candidate, 0.0), ratio)
        # For a one-word query these are its ratios against those words: not computed again per label.
        memo = dict(close) if words == (q,) else {}
        best: dict[int, tuple[float, int, int]] = {}
        # Per close word, its best labels in ranking order: enough of them to fill ``limit`` entities
        # besides those already found.
        wanted = limit + len(taken)
        chosen = sorted(close, key=lambda w: -close[w])[:_FUZZY_CANDIDATES]
        if words != (q,):
            # A longer query: its rare words find the labels like it; a word thousands of labels
            # hold ("office") adds rows to read, not candidates, when a rarer one is there.
            frequent = {w for (w,) in db.execute(
                f"SELECT word FROM vocab WHERE labels >= ? AND word IN ({','.join('?' * len(chosen))})",
                [_COMMON_PREFIX, *chosen])}
            if len(frequent) < len(chosen):
                chosen = [w for w in chosen if w not in frequent]
        kth: float | None = None  # the limit-th best score so far; None: to be worked out again
        label_ratios: dict[str, float] = {}  # a label's ratio, by its text: labels recur across close words
        for candidate in chosen:
            deadline.check()
            if words == (q,) and len(best) >= limit and limit > 0:
                # The close words come closest first, and a label holding this one (and no closer
                # word) scores at most 0.6 x its ratio + the best bonus: once ``limit`` entities
                # score above that, no later word can change the answer.
                if kth is None:
                    kth = heapq.nlargest(limit, (key[0] for key in best.values()))[-1]
                if kth > 0.6 * close[candidate] + _MAX_BONUS + 1e-4:
                    break
            # the label's text from the index row: an entity is only read for the hits returned
            rows = db.execute(
                "SELECT l.entity, l.pos, l.norm, l.bonus FROM word w JOIN label l ON l.n = w.label "
                f"WHERE w.word = ?{filters} ORDER BY w.label LIMIT ?", [candidate, *params, wanted]).fetchall()
            for n, pos, norm, bonus in rows:
                if n in taken:
                    continue
                known = label_ratios.get(norm)
                label_ratio = label_ratios[norm] = _fuzzy_ratio(q, norm, memo) if known is None else known
                if not label_ratio:
                    continue
                score = round(min(1.0, round(0.6 * label_ratio, 4) + bonus), 4)
                key = (score, -len(norm), -pos)
                if n not in best or key > best[n]:
                    best[n] = key
                    kth = None
        ordered = sorted(best.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
        out: dict[int, SearchHit] = {}
        for n, (score, _, neg_pos) in ordered[:limit]:
            entity = self._entity_cache(n)
            label = entity.labels[-neg_pos]
            out[n] = SearchHit(entity, entity.name(label.lang or "en"), label.text, label.lang, "fuzzy", score)
        return out
