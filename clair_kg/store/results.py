"""Serialized query results cut to the row cap (or to a page), always written by pyoxigraph.

The row cap needs a count. A SELECT result is written straight in the requested format and its rows
bounded from above by a byte count (:func:`_row_bound`); only when that bound is over the cap is the
result taken through TSV — one row per line, so a line count is the row count and a cut at a line is
a clean cut — and written again. Graph results are counted as N-Triples lines (or as the triples
themselves). The round trips are lossless, and the common case (a result under the cap) pays for none.
"""

from __future__ import annotations

__all__ = ["Shaped", "page_of_solutions", "shape_graph", "shape_solutions", "shape_triples", "solutions_page"]

from collections.abc import Sequence
from dataclasses import dataclass

import pyoxigraph
from pyoxigraph import QueryResultsFormat, QuerySolutions, QueryTriples, RdfFormat, Triple

from ..errors import NotAcceptable
from ..formats import GRAPH_FORMATS, RESULT_FORMATS


@dataclass(frozen=True)
class Shaped:
    """A result body in its final format; ``truncated`` when rows past the cap were cut."""

    body: bytes
    truncated: bool = False


def _cut(text: bytes, keep_lines: int) -> bytes:
    """The first ``keep_lines`` lines of ``text``."""
    end = -1
    for _ in range(keep_lines):
        end = text.index(b"\n", end + 1)
    return text[: end + 1]


def shape_graph(result: QueryTriples, media_type: str, max_rows: int) -> Shaped:
    """A CONSTRUCT/DESCRIBE result cut to ``max_rows`` triples and written as ``media_type``."""
    rdf = GRAPH_FORMATS.get(media_type)
    if rdf is None:
        raise NotAcceptable("a graph result cannot be written in the requested format", supported=list(GRAPH_FORMATS))
    if rdf in (RdfFormat.N_TRIPLES, RdfFormat.N_QUADS):
        return shape_triples(result.serialize(format=RdfFormat.N_TRIPLES) or b"", media_type, max_rows)
    # Other formats need the triples as objects anyway; collecting them is cheaper than
    # writing N-Triples only to parse them back.
    triples: Sequence[Triple] = list(result)
    truncated = len(triples) > max_rows
    if truncated:
        triples = triples[:max_rows]
    return Shaped(_write_graph(triples, rdf), truncated)


def _write_graph(triples: Sequence[Triple], rdf: RdfFormat) -> bytes:
    if rdf in (RdfFormat.TRIG, RdfFormat.N_QUADS):
        # A query result is one graph; in a dataset format it is the default graph.
        rdf = RdfFormat.TURTLE if rdf is RdfFormat.TRIG else RdfFormat.N_TRIPLES
    return pyoxigraph.serialize(triples, format=rdf) or b""


def _row_bound(body: bytes, writer: QueryResultsFormat) -> int:
    """An upper bound on the rows in ``body``, a SELECT result pyoxigraph wrote as ``writer``.

    Each row is one JSON object, one ``<result>`` element, or one line (CSV, TSV); a ``{`` or a
    line break inside a value can only raise the count, and XML escapes ``<`` in values. So a bound
    under the cap proves the result needs no cut, at the price of one C-speed byte count.
    """
    if writer is QueryResultsFormat.JSON:
        return body.count(b"{")
    if writer is QueryResultsFormat.XML:
        return body.count(b"<result>")
    return body.count(b"\n")


def solutions_page(result: QuerySolutions, media_type: str, max_rows: int) -> Shaped:
    """A SELECT result cut to ``max_rows`` rows and written as ``media_type``."""
    writer = RESULT_FORMATS.get(media_type)
    if writer is None:
        raise NotAcceptable("a SELECT result cannot be written in the requested format", supported=list(RESULT_FORMATS))
    if writer is QueryResultsFormat.CSV:
        # CSV cannot be read back (it is lossy), so a cut goes through TSV from the start.
        return shape_solutions(result.serialize(format=QueryResultsFormat.TSV) or b"", media_type, max_rows)
    body = result.serialize(format=writer) or b""
    if _row_bound(body, writer) <= max_rows:
        return Shaped(body)
    if writer is not QueryResultsFormat.TSV:  # a large result, or one with many braces: count exactly
        body = pyoxigraph.parse_query_results(body, format=writer).serialize(format=QueryResultsFormat.TSV) or b""
    return shape_solutions(body, media_type, max_rows)


def shape_solutions(tsv: bytes, media_type: str, max_rows: int) -> Shaped:
    """SELECT results given as TSV, cut to ``max_rows`` and written as ``media_type``."""
    return page_of_solutions(tsv, media_type, offset=0, limit=max_rows)


def page_of_solutions(tsv: bytes, media_type: str, *, offset: int, limit: int) -> Shaped:
    """Rows ``offset`` … ``offset + limit - 1`` of SELECT results given as TSV, written as ``media_type``.

    ``truncated`` says that rows follow the page.
    """
    writer = RESULT_FORMATS.get(media_type)
    if writer is None:
        raise NotAcceptable("a SELECT result cannot be written in the requested format", supported=list(RESULT_FORMATS))
    header_end = tsv.find(b"\n") + 1
    header, rows = tsv[:header_end], tsv[header_end:]
    total = rows.count(b"\n")
    start = _cut(rows, min(offset, total)) if offset else b""
    rows = rows[len(start):]
    truncated = total - offset > limit
    if truncated:
        rows = _cut(rows, limit)
    tsv = header + rows
    if writer is QueryResultsFormat.TSV:
        return Shaped(tsv, truncated)
    solutions = pyoxigraph.parse_query_results(tsv, format=QueryResultsFormat.TSV)
    return Shaped(solutions.serialize(format=writer) or b"", truncated)


def shape_triples(nt: bytes, media_type: str, max_rows: int) -> Shaped:
    """CONSTRUCT/DESCRIBE results given as N-Triples, cut to ``max_rows`` triples, as ``media_type``."""
    rdf = GRAPH_FORMATS.get(media_type)
    if rdf is None:
        raise NotAcceptable("a graph result cannot be written in the requested format", supported=list(GRAPH_FORMATS))
    truncated = nt.count(b"\n") > max_rows
    if truncated:
        nt = _cut(nt, max_rows)
    if rdf in (RdfFormat.N_TRIPLES, RdfFormat.N_QUADS):
        return Shaped(nt, truncated)
    return Shaped(_write_graph([q.triple for q in pyoxigraph.parse(nt, format=RdfFormat.N_TRIPLES)], rdf), truncated)
