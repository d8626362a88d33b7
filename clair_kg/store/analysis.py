"""The one query analyser: what a query asks for, read from its tokens before anything runs it.

Every caller that needs to know something about a query's text asks here: its form (for format
negotiation and the CLI's table), whether it is a SPARQL Update (which gets "read-only", not
"syntax error"), which services it calls (pyoxigraph evaluates ``SERVICE`` by calling the named
endpoint over HTTP, so they are refused unless allowlisted), whether it states its own dataset
(``FROM`` / ``FROM NAMED``), and where its comments, strings and IRIs are (:func:`mask_opaque`, so
parameter binding never looks inside them).

The scan is a small SPARQL lexer, not a regular expression over the raw text: comments, all four
kinds of string (long strings included), IRIs, variables, prefixed names, blank node labels and
language tags are recognised as whole tokens, so a keyword hidden in a string cannot slip past
and a name such as ``schema:Service`` is not mistaken for one. Whatever is left is keywords,
numbers and punctuation; the check for ``SERVICE`` over that rest is deliberately blunt (any
occurrence counts), so an unusual spelling errs towards refusing.

>>> facts = analyse("PREFIX s: <https://schema.org/> SELECT * FROM <urn:g> { ?x a s:Service }")
>>> facts.form, facts.services, facts.has_dataset_clause
(<QueryForm.SELECT: 'SELECT'>, (), True)
"""

from __future__ import annotations

__all__ = ["TOKEN", "QueryFacts", "analyse", "check_services", "looks_like_update", "mask_opaque", "query_form"]

import re
from dataclasses import dataclass

from ..errors import ForbiddenOperation
from .base import QueryForm

_NAME_START = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd"
)
_NAME_CHAR = _NAME_START + "_0-9\u00b7\u0300-\u036f\u203f-\u2040\\-"

#: the one SPARQL lexer (the analyser here, the error messages and the depth limit in .diagnostics):
#: strings, IRIs and comments are whole tokens, so nothing inside one counts as syntax; an unterminated
#: string runs to the end (a query being typed still tokenises); everything else is a word, a number or
#: one punctuation token
TOKEN = re.compile(
    r"""
    (?P<comment>\#[^\n\r]*)
  | (?P<string>\"\"\"(?:[^\"\\]|\\.|\"(?!\"\"))*(?:\"\"\"|$)
             | '''(?:[^'\\]|\\.|'(?!''))*(?:'''|$)
             | \"(?:[^\"\\\n\r]|\\.)*\"?
             | '(?:[^'\\\n\r]|\\.)*'?)
  | (?P<iri><[^<>\"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][""" + _NAME_CHAR + r"""]+)
  | (?P<bnode>_:[""" + _NAME_CHAR + r""".]*)
  | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<pname>(?:[""" + _NAME_START + r"""][""" + _NAME_CHAR + r""".]*)?:
               (?:[""" + _NAME_CHAR + r""":%]|\\.|\.(?=[""" + _NAME_CHAR + r""":%]))*)
  | (?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)
  | (?P<word>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<punct>\^\^|&&|\|\||!=|<=|>=|\S)
    """,
    re.VERBOSE | re.DOTALL,
)

_FORMS = {"SELECT": QueryForm.SELECT, "ASK": QueryForm.ASK, "CONSTRUCT": QueryForm.CONSTRUCT,
          "DESCRIBE": QueryForm.DESCRIBE}
_UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}


@dataclass(frozen=True)
class QueryFacts:
    """What :func:`analyse` found in one query text."""

    form: QueryForm | None
    #: IRIs of the SERVICE clauses, as written (prefixed names expanded); "?" for a variable
    services: tuple[str, ...]
    #: the text mentions SERVICE somewhere outside strings, IRIs and names
    mentions_service: bool
    #: the query has FROM or FROM NAMED (its own dataset description)
    has_dataset_clause: bool
    #: no query form, and the first keyword is an update operation (INSERT, LOAD, CLEAR, ...)
    is_update: bool


# The prologue (comments, PREFIX and BASE declarations, in ASCII spelling) and then a query form.
# The comment is possessive: it always runs to the end of its line, as the lexer's does. The form
# must be followed by what ends a word for the lexer too ("SELECT:" is a prefixed name there).
_PLAIN_PROLOGUE_FORM = re.compile(
    r"""\A(?:\s+|\#[^\n\r]*+|(?:PREFIX\s*(?:[A-Za-z][A-Za-z0-9_.\-]*)?:|BASE)\s*<[^<>\"{}|^`\\\x00-\x20]*>)*
    (SELECT|ASK|CONSTRUCT|DESCRIBE)(?=[\s{*?$(<\#]|\Z)""",
    re.IGNORECASE | re.VERBOSE,
)


def _plain(text: str) -> QueryFacts | None:
    """The facts of a query that names no SERVICE and no FROM anywhere, found without the lexer.

    The lexer is a Python loop over the tokens (~40 µs for an everyday query on every uncached
    request); most queries state neither clause anywhere, not even in a string or a name, and
    then their form is the first keyword after the prologue. Anything else (the words present
    anywhere, an unusual prologue) returns None and goes through the lexer.
    """
    upper = text.upper()  # as analyse() compares; "ſ" (U+017F) upper-cases to "S"
    if "SERVICE" in upper or "FROM" in upper:
        return None
    match = _PLAIN_PROLOGUE_FORM.match(text)
    if match is None:
        return None
    return QueryFacts(form=_FORMS[match.group(1).upper()], services=(), mentions_service=False,
                      has_dataset_clause=False, is_update=False)


def analyse(text: str) -> QueryFacts:
    """Tokenise ``text`` and report its form, SERVICE targets and dataset clauses.

    Not memoised: with the shortcut (:func:`_plain`) an everyday query costs a few µs, and a cache
    keyed by every distinct query text would cost more than it saves.
    """
    plain = _plain(text)
    if plain is not None:
        return plain
    prefixes: dict[str, str] = {}
    tokens: list[tuple[str, str]] = []
    rest: list[str] = []
    pos = 0
    for match in TOKEN.finditer(text):
        rest.append(text[pos:match.start()])
        pos = match.end()
        kind = match.lastgroup or ""
        if kind == "comment":
            rest.append(" ")
            continue
        value = match.group()
        tokens.append((kind, value))
        rest.append(" " if kind != "word" else value)
    rest.append(text[pos:])

    form: QueryForm | None = None
    first_keyword: str | None = None
    services: list[str] = []
    has_dataset = False
    for index, (kind, value) in enumerate(tokens):
        if kind != "word":
            continue
        upper = value.upper()
        if upper == "PREFIX" and index + 2 < len(tokens):
            (k1, name), (k2, iri) = tokens[index + 1], tokens[index + 2]
            if k1 == "pname" and k2 == "iri":
                prefixes[name.rstrip(":").split(":")[0]] = iri[1:-1]
            continue
        if upper in ("PREFIX", "BASE"):
            continue
        if first_keyword is None:
            first_keyword = upper
        if form is None and upper in _FORMS:
            form = _FORMS[upper]
        elif upper == "FROM":
            has_dataset = True
        elif upper == "SERVICE":
            services.append(_service_target(tokens, index + 1, prefixes))
    mentions = "SERVICE" in "".join(rest).upper()
    if mentions and not services:
        services.append("?")
    return QueryFacts(
        form=form,
        services=tuple(services),
        mentions_service=mentions,
        has_dataset_clause=has_dataset,
        is_update=form is None and first_keyword in _UPDATE_WORDS,
    )


def query_form(text: str) -> QueryForm | None:
    """The form of a query (SELECT, ASK, CONSTRUCT, DESCRIBE); None if it has none."""
    return analyse(text).form


def looks_like_update(text: str) -> bool:
    """True when ``text`` reads as a SPARQL Update request (so it gets "read-only", not "syntax")."""
    return analyse(text).is_update


_OPAQUE_KINDS = ("comment", "string", "iri")


def mask_opaque(text: str) -> str:
    """``text`` with every comment, string and IRI blanked out (same length, same offsets)."""
    out: list[str] = []
    pos = 0
    for match in TOKEN.finditer(text):
        if match.lastgroup in _OPAQUE_KINDS:
            out.append(text[pos:match.start()])
            out.append(" " * (match.end() - match.start()))
            pos = match.end()
    out.append(text[pos:])
    return "".join(out)


def _service_target(tokens: list[tuple[str, str]], index: int, prefixes: dict[str, str]) -> str:
    if index < len(tokens) and tokens[index] == ("word", tokens[index][1]) and tokens[index][1].upper() == "SILENT":
        index += 1
    if index >= len(tokens):
        return "?"
    kind, value = tokens[index]
    if kind == "iri":
        return value[1:-1]
    if kind == "pname":
        prefix, _, local = value.partition(":")
        if prefix in prefixes:
            return prefixes[prefix] + local
    return "?"


def check_services(facts: QueryFacts, allowlist: tuple[str, ...]) -> None:
    """Refuse a query whose SERVICE clauses call anything outside ``allowlist``.

    :raises ForbiddenOperation: a SERVICE target is not allowlisted (or is a variable).
    """
    if not facts.mentions_service:
        return
    allowed = set(allowlist)
    for target in facts.services:
        if target == "?":
            raise ForbiddenOperation(
                "SERVICE is refused: this endpoint only calls allowlisted endpoints named by a full IRI"
            )
        if target not in allowed:
            hint = "federation is off" if not allowed else f"allowed: {', '.join(sorted(allowed))}"
            raise ForbiddenOperation(f"SERVICE <{target}> is refused: this endpoint does not call it ({hint})")
