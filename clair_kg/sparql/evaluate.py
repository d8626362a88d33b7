"""Evaluate one :class:`~clair_kg.sparql.wire.Job` on a pyoxigraph store: what a query worker (or a
query thread) runs.

Evaluation goes through the one evaluator (:func:`clair_kg.store.evaluation.evaluate_query`: dataset
rules, base IRI, update detection) and the result is written by pyoxigraph and cut to the row cap
(:mod:`clair_kg.store.results`). An error comes back as a :class:`Reply` naming its class, so the web
process raises the same error (:func:`clair_kg.errors.error_named`).
"""

from __future__ import annotations

__all__ = ["evaluate"]

import pyoxigraph
from pyoxigraph import NamedNode, QueryBoolean, QueryResultsFormat, QuerySolutions

from ..errors import ClairKgError, NotAcceptable
from ..formats import RESULT_FORMATS
from ..store.evaluation import evaluate_query
from ..store.results import shape_graph, solutions_page
from .wire import Job, Reply

_ASK_FORMATS = ("application/sparql-results+json", "application/sparql-results+xml")


def evaluate(store: pyoxigraph.Store, job: Job, *, kept_out: NamedNode | None = None) -> Reply:
    """Run ``job`` on ``store``; errors come back as a :class:`Reply` with their status and class.

    ``kept_out``: the graph read beside ``store``'s default graph (``EmbeddedStore.kept_out``).
    """
    try:
        result = evaluate_query(store, job.query, dataset=job.dataset, base_iri=job.base_iri, kept_out=kept_out)
        if isinstance(result, QueryBoolean):
            writer = RESULT_FORMATS.get(job.media_type)
            if writer is None or writer in (QueryResultsFormat.CSV, QueryResultsFormat.TSV):
                raise NotAcceptable("an ASK result cannot be written in the requested format",
                                    supported=list(_ASK_FORMATS))
            return Reply(200, "ASK", body=result.serialize(format=writer) or b"")
        if isinstance(result, QuerySolutions):
            shaped = solutions_page(result, job.media_type, job.max_rows)
            return Reply(200, "SELECT", shaped.truncated, body=shaped.body)
        shaped = shape_graph(result, job.media_type, job.max_rows)
        return Reply(200, "CONSTRUCT", shaped.truncated, body=shaped.body)
    except ClairKgError as exc:
        return Reply.from_error(exc)
