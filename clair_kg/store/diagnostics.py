"""SPARQL errors a person can act on: pure functions over the query text and the engine's message.

pyoxigraph reports a syntax error as ``error at 1:105: expected one of Prefix not found, ['%'], …``
followed by a dump of its grammar's character ranges. :func:`describe_syntax_error` turns that into
a few lines: where (line and column), the query line quoted with a ``^`` under the spot, and what
was expected in words — a triple's object, a closing brace, a variable — or which prefix is not
declared and the ``PREFIX`` line that declares it.

:func:`check_depth` guards the engine: pyoxigraph parses and evaluates nested brackets, and chains
of ``UNION``/``OPTIONAL``/``FILTER`` and operators, recursively, so a few thousand levels overflow
its stack and kill the process (10,000 nested parentheses did). The check runs on the text before
any evaluator sees it.

:func:`describe_engine_error` words the engine's refusals of valid queries it cannot run (an
unknown extension function) for a 400 that names the feature.

>>> print(describe_syntax_error("SELECT * WHERE { ?s ?p }", "error at 1:25: expected one of LATERAL, SERVICE, [_]"))
SPARQL syntax error at line 1, column 24: expected a triple's object before '}'
  1 | SELECT * WHERE { ?s ?p }
    |                        ^
"""

from __future__ import annotations

__all__ = [
    "MAX_QUERY_DEPTH",
    "check_depth",
    "declare_prefixes",
    "declared_prefixes",
    "describe_engine_error",
    "describe_syntax_error",
    "error_position",
    "explain_rejected",
    "query_depth",
]

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ..errors import BadRequest
from ..namespaces import PREFIXES, SPARQL_PREFIXES
from ..settings import MAX_QUERY_DEPTH
from .analysis import TOKEN

_OPEN = {"(": ")", "{": "}", "[": "]"}
_CLOSE = {v: k for k, v in _OPEN.items()}
#: tokens that chain their neighbours into one more level of the engine's expression/algebra tree
_CHAIN_PUNCT = {"||", "&&", "+", "-", "*", "/", "|", "!", "^", "=", "!=", "<", ">", "<=", ">="}
_CHAIN_WORDS = {"UNION", "OPTIONAL", "MINUS", "FILTER"}


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    start: int  # offset in the query text

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def _tokens(query: str) -> Iterator[_Token]:
    for match in TOKEN.finditer(query):
        kind = match.lastgroup or ""
        if kind != "comment":
            yield _Token(kind, match.group(), match.start())


def _line_col(query: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of ``offset``."""
    line = query.count("\n", 0, offset) + 1
    return line, offset - (query.rfind("\n", 0, offset) + 1) + 1


def _offset(query: str, line: int, column: int) -> int:
    """The offset of a 1-based line and column, clamped to the text."""
    lines = query.split("\n")
    line = min(max(line, 1), len(lines))
    start = sum(len(text) + 1 for text in lines[: line - 1])
    return min(start + max(column, 1) - 1, len(query))


# --- nesting depth ------------------------------------------------------------------------------


def query_depth(query: str) -> tuple[int, int]:
    """The deepest nesting in ``query`` and the offset where it is reached.

    Each ``(``, ``{`` and ``[`` opens a level; within one level, each chaining operator
    (``||``, ``&&``, arithmetic, comparisons, path ``/`` and ``|``, ``!``) and each ``UNION``,
    ``OPTIONAL``, ``MINUS`` and ``FILTER`` adds one, because the engine nests those as deeply.
    """
    chains = [0]
    deepest, where = 0, 0
    for token in _tokens(query):
        if token.kind == "punct" and token.text in _OPEN:
            chains.append(0)
        elif token.kind == "punct" and token.text in _CLOSE:
            if len(chains) > 1:
                chains.pop()
            continue
        elif (token.kind == "punct" and token.text in _CHAIN_PUNCT) or (
            token.kind == "word" and token.text.upper() in _CHAIN_WORDS
        ):
            chains[-1] += 1
        else:
            continue
        depth = len(chains) - 1 + chains[-1]
        if depth > deepest:
            deepest, where = depth, token.start
    return deepest, where


def check_depth(query: str, limit: int = MAX_QUERY_DEPTH) -> None:
    """Refuse ``query`` when it nests deeper than ``limit`` (see :func:`query_depth`).

    :raises BadRequest: the query is too deep; the message says where and what the limit is.
    """
    if len(query) <= limit:  # every level of depth takes at least one character: nothing to count
        return
    depth, offset = query_depth(query)
    if depth <= limit:
        return
    line, column = _line_col(query, offset)
    raise BadRequest(
        f"the query nests {depth} levels deep (at line {line}, column {column}); this endpoint accepts "
        f"at most {limit} (setting max_query_depth). Brackets inside brackets each count one level, and so "
        "does each UNION, OPTIONAL, FILTER or operator chained in one group: write a long list of "
        "alternatives as VALUES or IN (…)"
    )


# --- syntax errors ------------------------------------------------------------------------------

_POSITION = re.compile(r"error at (\d+):(\d+)")
_EXPECTED = re.compile(r"expected (?:one of )?(.*)", re.DOTALL)
#: the engine's own worded messages among the "expected" items (they contain spaces)
_WORDED = re.compile(r"^[A-Z][A-Za-z]*(?: [A-Za-z-]+)+$")
_EXPRESSION_WORDS = {"ABS", "STR", "STRSTARTS", "NOT", "isLITERAL", "isNUMERIC", "IRI", "MAX", "SUM"}


def error_position(message: str) -> tuple[int, int] | None:
    """The (line, column) of a pyoxigraph syntax error message, if it has one."""
    match = _POSITION.search(message)
    return (int(match.group(1)), int(match.group(2))) if match else None


def declared_prefixes(query: str) -> dict[str, str]:
    """The prefixes ``query`` declares itself (``PREFIX name: <iri>``)."""
    tokens = list(_tokens(query))
    found: dict[str, str] = {}
    for index, token in enumerate(tokens[:-2]):
        if token.kind == "word" and token.text.upper() == "PREFIX":
            name, iri = tokens[index + 1], tokens[index + 2]
            if name.kind == "pname" and name.text.endswith(":") and iri.kind == "iri":
                found[name.text[:-1]] = iri.text[1:-1]
    return found


def _expected_items(message: str) -> list[str]:
    """The items after "expected", without the grammar's character ranges."""
    match = _EXPECTED.search(message)
    if not match:
        return []
    items: list[str] = []
    for raw in re.split(r",\s*(?![^\[]*\])", match.group(1)):
        item = raw.strip()
        if item and not (item.startswith("[") and "\\u{" in item):
            items.append(item.strip('"') if item.startswith('"') and len(item) > 1 else item)
    return items


def _quote_line(query: str, offset: int) -> list[str]:
    """The query line holding ``offset``, and a ``^`` under it (long lines are cut around the spot)."""
    line, column = _line_col(query, offset)
    text = query.split("\n")[line - 1].rstrip("\r")
    start = 0
    if len(text) > 120:
        start = max(0, min(column - 70, len(text) - 110))
        text = ("…" if start else "") + text[start:start + 110] + ("…" if start + 110 < len(text) else "")
        column = column - start + (1 if start else 0)
    gutter = f"  {line} | "
    return [gutter + text, " " * (len(gutter) - 2) + "| " + " " * (column - 1) + "^"]


def _unbalanced(tokens: list[_Token]) -> tuple[str, _Token] | None:
    """A closing bracket with no opener, or the innermost opener never closed."""
    stack: list[_Token] = []
    for token in tokens:
        if token.kind != "punct":
            continue
        if token.text in _OPEN:
            stack.append(token)
        elif token.text in _CLOSE:
            if not stack or stack[-1].text != _CLOSE[token.text]:
                return "stray", token
            stack.pop()
    return ("unclosed", stack[-1]) if stack else None


def _undeclared(tokens: list[_Token], query: str, predeclared: Mapping[str, str]) -> _Token | None:
    known = set(predeclared) | set(declared_prefixes(query))
    for token in tokens:
        if token.kind == "pname" and token.text.split(":", 1)[0] not in known:
            return token
    return None


def _triple_gap(tokens: list[_Token], index: int) -> str | None:
    """What the triple pattern before ``tokens[index]`` still lacks, if it is a triple."""
    terms = 0
    for token in reversed(tokens[:index]):
        if token.kind == "punct" and token.text in {"{", "."}:
            break
        if token.kind == "punct" and token.text in {";", ","}:
            return "a predicate and an object" if token.text == ";" and terms == 0 else (
                "an object" if terms == 0 else None)
        if token.kind in {"var", "iri", "pname", "bnode", "string", "number"} or (
            token.kind == "word" and token.text == "a"
        ):
            terms += 1
        else:
            return None
    if terms >= 4:
        return "'.' between triple patterns (a triple has three terms)"
    return {1: "a predicate and an object", 2: "a triple's object"}.get(terms)


def _what_was_expected(items: list[str], query: str, tokens: list[_Token], at: int) -> str:
    """Plain words for the expected items at token index ``at``."""
    worded = [item for item in items if _WORDED.match(item) and item != "Prefix not found"]
    here = tokens[at] if at < len(tokens) else None
    before = f" before {here.text!r}" if here is not None else " before the query ends"
    gap = _triple_gap(tokens, at)
    if gap is not None and (here is None or here.text in {"}", "."} or gap.startswith("'.'")):
        return f"expected {gap}{before}"
    if "IRI parsing failed" in worded:
        return "this is not a valid IRI (an IRI has no spaces, quotes or braces; write <http://…>)"
    if worded:
        return worded[0][0].lower() + worded[0][1:]
    if {".", ";", "}"} <= set(items):
        return f"expected '.', ';' or ',' to continue the pattern, or '}}' to close it{before}"
    if {"$", "?"} <= set(items) and "(" not in items:
        return f"expected a variable{before}"
    if {"$", "?", "("} <= set(items):
        return f"expected a variable or a bracketed expression{before}"
    if _EXPRESSION_WORDS & set(items):
        return f"expected an expression (a variable, a value or a function call){before}"
    if any(item.startswith("['0'") for item in items):
        return f"expected a number{before}"
    if items == ["DISTINCT"] or "DISTINCT" in items:
        return "expected '*', variables or expressions after SELECT"
    if "CONSTRUCT" in items:
        return "expected a query: SELECT, ASK, CONSTRUCT or DESCRIBE (after any PREFIX and BASE lines)"
    if any(item in {'\\"', "\\\\"} for item in items) or '"\\""' in items:
        return "expected the closing quote of this string"
    if items == ["[_]"] or not items:
        return f"unexpected {here.text!r}" if here is not None else "the query ends too early"
    return f"unexpected {here.text!r}" if here is not None else "the query ends too early"


def describe_syntax_error(query: str, message: str, *, predeclared: Mapping[str, str] = SPARQL_PREFIXES) -> str:
    """A few lines for a person: where the error is, the line with a marker, and what to do.

    ``message`` is pyoxigraph's ``SyntaxError`` text for ``query``; ``predeclared`` are the prefixes
    the query could use without declaring them.
    """
    tokens = list(_tokens(query))
    position = error_position(message)
    # Plain structural problems first: they are certain, and the parser reports them late.
    for token in tokens:
        if token.kind == "string" and (len(token.text) < 2 or not token.text.endswith(token.text[0])
                                       or token.text in {'"""', "'''"}):
            return _report(query, token.start, f"this string is never closed: expected a closing {token.text[0]}")
    problem = _unbalanced(tokens)
    undeclared = _undeclared(tokens, query, predeclared)
    if undeclared is not None:  # always an error, wherever the parser happened to notice it
        prefix = undeclared.text.split(":", 1)[0]
        iri = PREFIXES.get(prefix, "…")
        return _report(query, undeclared.start,
                       f"prefix \"{prefix}:\" is not declared — add PREFIX {prefix}: <{iri}>")
    if problem is not None:
        kind, token = problem
        if kind == "stray":
            return _report(query, token.start, f"this {token.text!r} closes nothing (the brackets do not balance)")
        close = _OPEN[token.text]
        line, column = _line_col(query, token.start)
        return _report(query, len(query.rstrip()),
                       f"expected {close!r} to close the {token.text!r} at line {line}, column {column}")
    if position is None:
        return f"SPARQL syntax error: {message.splitlines()[0] if message else 'the query does not parse'}"
    reported = _offset(query, *position)
    # The parser reports the furthest point it reached, usually just past the offending token:
    # mark the token that starts before that point.
    at = next((i for i in range(len(tokens) - 1, -1, -1)
               if tokens[i].start < reported or tokens[i].start == reported), 0)
    if tokens and reported >= len(query.rstrip()) and tokens[-1].text not in _CLOSE:
        at = len(tokens)  # the parser ran out of query
    spot = tokens[at].start if at < len(tokens) else len(query.rstrip())
    return _report(query, spot, _what_was_expected(_expected_items(message), query, tokens, at))


def _report(query: str, offset: int, what: str) -> str:
    line, column = _line_col(query, offset)
    if not query.strip():
        return "SPARQL syntax error: the query is empty"
    return "\n".join([f"SPARQL syntax error at line {line}, column {column}: {what}", *_quote_line(query, offset)])


# --- valid queries the engine cannot run ----------------------------------------------------------

_CUSTOM_FUNCTION = re.compile(r"The custom function (<[^>]*>) is not supported")


def describe_engine_error(message: str) -> str:
    """Words for a query pyoxigraph parsed but refuses to run (a ``RuntimeError``)."""
    match = _CUSTOM_FUNCTION.search(message)
    if match:
        return (f"the function {match.group(1)} is not supported by this endpoint: it evaluates the "
                "SPARQL 1.1 built-in functions and XSD casts only")
    return f"this query uses a feature the endpoint does not support: {message.splitlines()[0] if message else ''}"


# --- stores that take no prefixes= (a remote SPARQL endpoint) -------------------------------------


def declare_prefixes(query: str, prefixes: Mapping[str, str] = SPARQL_PREFIXES) -> str:
    """``query`` with a ``PREFIX`` declaration for each predeclared prefix it uses but does not declare.

    The declarations go in front of the first line, on that line, so every line number the remote
    store reports stays right (only columns on line 1 move; :func:`explain_rejected` re-parses).
    """
    declared = declared_prefixes(query)
    used = {t.text.split(":", 1)[0] for t in _tokens(query) if t.kind == "pname"}
    missing = [name for name in prefixes if name in used and name not in declared]
    return "".join(f"PREFIX {name}: <{prefixes[name]}> " for name in missing) + query


def explain_rejected(query: str, store_message: str) -> str:
    """Words for a query another store rejected: our own parser's diagnosis when it also fails to
    parse ``query`` (the positions are then the user's own), else the store's first line."""
    import pyoxigraph  # only here: the rest of this module is pure text work

    try:
        pyoxigraph.Store().query(query, prefixes=dict(SPARQL_PREFIXES))
    except SyntaxError as exc:
        return describe_syntax_error(query, str(exc))
    except (RuntimeError, ValueError, OSError):
        pass
    first = store_message.strip().splitlines()[0] if store_message.strip() else "the store rejected the query"
    return first
