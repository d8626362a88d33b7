"""The hot path's shortcuts answer exactly what the slow code they skip would answer.

``protocol._unquote_plus`` decodes well-formed URL escapes in C (quoted-printable) instead of
``unquote_to_bytes``' Python loop; ``analysis._plain`` reads the facts of a query that names no
SERVICE and no FROM without the lexer. Both are compared with the code they stand in for, on
hand-picked edge cases and on many random strings built from the pieces that matter.
"""

from __future__ import annotations

import random
from urllib.parse import unquote_to_bytes, urlencode

import pytest

from clair_kg.sparql import protocol
from clair_kg.store import analysis
from clair_kg.store.analysis import QueryFacts
from clair_kg.store.base import QueryForm

ESCAPE_CASES = [
    b"", b"%", b"%4", b"%41", b"%4g", b"%%41", b"a=b", b"=", b"%3D", b"+", b"a+b%2B", b"%e5%a4%96", b"%E5%A4%96",
    b"%\r\n", b"a\r\nb", b"x%0D%0Ay", b"trailing ", b"tab\t", b"\x80\xff", b"%zz%41", b"100%", b"=3D",
]


@pytest.mark.parametrize("raw", ESCAPE_CASES)
def test_unquote_plus_matches_unquote_to_bytes(raw: bytes) -> None:
    assert protocol._unquote_plus(raw) == unquote_to_bytes(raw.replace(b"+", b" "))


def test_unquote_plus_matches_on_random_input_and_real_queries() -> None:
    rng = random.Random(8)
    alphabet = b"%%%%=+aAfF09zZ\x80\xff/?&#_.-:; \t\r\n"
    for _ in range(20_000):
        raw = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        assert protocol._unquote_plus(raw) == unquote_to_bytes(raw.replace(b"+", b" ")), raw
    query = 'PREFIX s: <https://schema.org/> SELECT * { ?x s:name "外務省 = 100% + more" } # 1'
    raw = urlencode({"query": query}).encode("ascii").partition(b"=")[2]
    assert protocol._unquote_plus(raw).decode("utf-8") == query


def _lexed(text: str) -> QueryFacts:
    """What the lexer alone says (the shortcut turned off)."""
    saved = analysis._plain
    analysis._plain = lambda _text: None
    try:
        return analysis.analyse(text)
    finally:
        analysis._plain = saved


QUERY_CASES = [
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?s WHERE { ?s rdfs:label ?l } #1-2",
    "# comment\nBASE <http://a/> prefix ex:<http://e/> ASK {}",
    "# SELECT\nINSERT DATA {}",  # the comment hides the SELECT: an update
    "SELECT:x {}",  # a prefixed name, not the keyword
    "SELECT * FROM <urn:g> {}",
    "SELECT * { SERVICE <http://x/> {} }",
    "SELECT * { ?x <p> \"ſervice\" }",  # U+017F upper-cases to S
    "DESCRIBE <https://w3id.org/clair-kg/id/org/clair>",
    "CONSTRUCT WHERE { ?s ?p ?o }",
    "WITH <g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "PREFIX é: <x> SELECT * {}",
]


@pytest.mark.parametrize("text", QUERY_CASES)
def test_plain_facts_match_the_lexer(text: str) -> None:
    assert analysis.analyse(text) == _lexed(text)


def test_plain_facts_match_the_lexer_on_random_queries() -> None:
    pieces = ["SELECT", "ASK", "PREFIX", "BASE", "DESCRIBE", "CONSTRUCT", "INSERT", "from", "Service", "ſ", "<x>",
              "<a b>", ":", "ex:", "#", "# c", "\n", " ", "\t", "{", "}", "?x", "*", '"', "'", "a", "_", "-", ".",
              "é", "1", "(", "WITH", "prefix", "select"]
    rng = random.Random(9)
    shortcut = 0
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 9)))
        if analysis._plain(text) is not None:
            shortcut += 1
        assert analysis.analyse(text) == _lexed(text), text
    assert shortcut > 500  # the shortcut was really taken, not always declined


def test_plain_takes_the_everyday_query_and_declines_the_rest() -> None:
    facts = analysis._plain("PREFIX s: <https://schema.org/> SELECT * { ?x a s:Place } # 7")
    assert facts is not None and facts.form is QueryForm.SELECT and not facts.has_dataset_clause
    assert analysis._plain("SELECT * FROM <urn:g> {}") is None
    assert analysis._plain("SELECT * { SERVICE <http://x/> {} }") is None
    assert analysis._plain("INSERT DATA {}") is None
