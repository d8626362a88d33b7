"""Evaluate one :class:`~clair_kg.sparql.wire.Job` on a pyoxigraph store: the code a worker runs.

Results are serialized by pyoxigraph (Rust), never row by row in Python. The row cap needs a count.
A SELECT result is written straight in the requested format and its rows bounded from above by a
byte count (:func:`_row_bound`); only when that bound is over the cap is the result taken through
TSV — one row per line, so a line count is the row count and a cut at a line is a clean cut — and
written again. Graph results are counted as N-Triples lines (or as the triples themselves). The
round trips are lossless, and the common case (a result under the cap) pays for none of them.
"""

from __future__ import annotations

__all__ = ["evaluate", "shape_solutions", "shape_triples"]

import pyoxigraph
from pyoxigraph import NamedNode, QueryBoolean, QueryResultsFormat, QuerySolutions, QueryTriples, RdfFormat

from ..namespaces import SPARQL_PREFIXES
from ..store.base import GRAPH_FORMATS, RESULT_FORMATS, looks_like_update
from .diagnostics import describe_engine_error, describe_syntax_error
from .protocol import READ_ONLY
from .wire import Job, Reply

#: the prefixes every query may use undeclared (a query's own PREFIX wins)
_PREFIXES = dict(SPARQL_PREFIXES)


def _cut(text: bytes, keep_lines: int) -> bytes:
    """The first ``keep_lines`` lines of ``text``."""
    end = -1
    for _ in range(keep_lines):
        end = text.index(b"\n", end + 1)
    return text[: end + 1]


def evaluate(store: pyoxigraph.Store, job: Job) -> Reply:
    """Run ``job`` on ``store``; errors come back as a :class:`Reply` with a 4xx status."""
    try:
        union = job.union_default
        default_graph: list[NamedNode | pyoxigraph.BlankNode | pyoxigraph.DefaultGraph] | None = None
        named_graphs: list[NamedNode | pyoxigraph.BlankNode] | None = None
        if not union and not job.dataset.is_default:
            # The protocol dataset replaces the query's own; a part left out is empty (SPARQL 1.1
            # Protocol §2.1.4), and a graph the store does not hold is simply an empty graph.
            default_graph = [NamedNode(g) for g in job.dataset.default_graphs]
            named_graphs = [NamedNode(g) for g in job.dataset.named_graphs]
        result = store.query(job.query, base_iri=job.base_iri, use_default_graph_as_union=union,
                             default_graph=default_graph, named_graphs=named_graphs,
                             prefixes=_PREFIXES)  # issue 9: predeclared prefixes
        if isinstance(result, QueryBoolean):
            writer = RESULT_FORMATS.get(job.media_type)
            if writer is None or writer in (QueryResultsFormat.CSV, QueryResultsFormat.TSV):
                return _not_acceptable("an ASK result", ["application/sparql-results+json",
                                                          "application/sparql-results+xml"])
            return Reply(200, "ASK", body=result.serialize(format=writer) or b"")
        if isinstance(result, QuerySolutions):
            if job.media_type not in RESULT_FORMATS:
                return _not_acceptable("a SELECT result", list(RESULT_FORMATS))
            return _solutions(result, job.media_type, job.max_rows)
        assert isinstance(result, QueryTriples)
        rdf = GRAPH_FORMATS.get(job.media_type)
        if rdf is None:
            return _not_acceptable("a graph result", list(GRAPH_FORMATS))
        if rdf in (RdfFormat.N_TRIPLES, RdfFormat.N_QUADS):
            return shape_triples(result.serialize(format=RdfFormat.N_TRIPLES) or b"", job.media_type, job.max_rows)
        # Other formats need the triples as objects anyway; collecting them is cheaper than
        # writing N-Triples only to parse them back.
        triples = list(result)
        truncated = len(triples) > job.max_rows
        if truncated:
            del triples[job.max_rows:]
        return Reply(200, "CONSTRUCT", truncated, body=pyoxigraph.serialize(triples, format=rdf) or b"")
    except SyntaxError as exc:
        if looks_like_update(job.query):
            return Reply(403, message=READ_ONLY)
        return Reply(400, message=describe_syntax_error(job.query, str(exc)))  # issue 9
    except RuntimeError as exc:  # issue 9: a valid query the engine cannot run (unknown function)
        return Reply(400, message=describe_engine_error(str(exc)))
    except ValueError as exc:  # an invalid IRI in default-graph-uri / named-graph-uri
        return Reply(400, message=str(exc))
    except OSError as exc:  # SERVICE failures and store read errors
        return Reply(502, message=f"the query failed while running: {exc}")


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


def _solutions(result: QuerySolutions, media_type: str, max_rows: int) -> Reply:
    writer = RESULT_FORMATS[media_type]
    if writer is QueryResultsFormat.CSV:
        # CSV cannot be read back (it is lossy), so a cut goes through TSV from the start.
        return shape_solutions(result.serialize(format=QueryResultsFormat.TSV) or b"", media_type, max_rows)
    body = result.serialize(format=writer) or b""
    if _row_bound(body, writer) <= max_rows:
        return Reply(200, "SELECT", body=body)
    if writer is not QueryResultsFormat.TSV:  # a large result, or one with many braces: count exactly
        body = pyoxigraph.parse_query_results(body, format=writer).serialize(format=QueryResultsFormat.TSV) or b""
    return shape_solutions(body, media_type, max_rows)


def shape_solutions(tsv: bytes, media_type: str, max_rows: int) -> Reply:
    """SELECT results given as TSV, cut to ``max_rows`` and written as ``media_type``."""
    writer = RESULT_FORMATS.get(media_type)
    if writer is None:
        return _not_acceptable("a SELECT result", list(RESULT_FORMATS))
    truncated = tsv.count(b"\n") - 1 > max_rows
    if truncated:
        tsv = _cut(tsv, max_rows + 1)
    if writer is QueryResultsFormat.TSV:
        return Reply(200, "SELECT", truncated, body=tsv)
    solutions = pyoxigraph.parse_query_results(tsv, format=QueryResultsFormat.TSV)
    return Reply(200, "SELECT", truncated, body=solutions.serialize(format=writer) or b"")


def shape_triples(nt: bytes, media_type: str, max_rows: int) -> Reply:
    """CONSTRUCT/DESCRIBE results given as N-Triples, cut to ``max_rows`` triples, as ``media_type``."""
    rdf = GRAPH_FORMATS.get(media_type)
    if rdf is None:
        return _not_acceptable("a graph result", list(GRAPH_FORMATS))
    truncated = nt.count(b"\n") > max_rows
    if truncated:
        nt = _cut(nt, max_rows)
    if rdf in (RdfFormat.N_TRIPLES, RdfFormat.N_QUADS):
        return Reply(200, "CONSTRUCT", truncated, body=nt)
    triples = [q.triple for q in pyoxigraph.parse(nt, format=RdfFormat.N_TRIPLES)]
    return Reply(200, "CONSTRUCT", truncated, body=pyoxigraph.serialize(triples, format=rdf) or b"")


def _not_acceptable(what: str, supported: list[str]) -> Reply:
    return Reply(406, message=f"{what} cannot be written in the requested format; supported: {', '.join(supported)}")
