"""The one evaluator: how every query in the project meets pyoxigraph.

The embedded store (named queries, pages, search, the CLI), the ``/sparql`` query workers and the
in-process query threads all call :func:`evaluate_query`, so one set of dataset rules holds
everywhere:

- the **default graph** is the set-merge of the source graphs, which loading writes into the store's
  real default graph (:func:`merged_default_graph`): a triple two sources state counts once, as
  SPARQL 1.1 §13 asks of an RDF merge, and ``GRAPH ?g`` never sees it. A store loaded with one
  large graph (``clair-kg serve --load FILE=IRI``) keeps that graph's triples out of the copy: its
  real default graph holds the merge of the others *minus* what the large graph states, and a query
  without a dataset of its own reads that graph and the large one together (disjoint, so a triple
  still counts once). Whoever holds such a store (``EmbeddedStore.kept_out``) passes that graph to
  :func:`evaluate_query` as ``kept_out``;
- a **protocol dataset** (``default-graph-uri`` / ``named-graph-uri``) replaces the query's own, and a
  part it leaves out is empty (SPARQL 1.1 Protocol §2.1.4); ``FROM`` / ``FROM NAMED`` in the text
  are honoured by pyoxigraph itself;
- relative IRIs resolve against the dataset's **base IRI**, so ``<id/org/clair>`` names the entity;
- the **predeclared prefixes** (:data:`clair_kg.namespaces.SPARQL_PREFIXES`: rdf, rdfs, owl, xsd, skos,
  schema, org, dcterms, prov, time, dcat, void, clair, …) apply where the query does not declare them;
- an **update** is refused as read-only before it can be mistaken for a syntax error;
- a query nested deeper than ``max_depth`` is refused before pyoxigraph's parser can overflow its stack
  (the ``/sparql`` service checks in the web process, so its workers are not asked again).

Errors come out as the package's own (:mod:`clair_kg.errors`), in words a user can act on
(:mod:`.diagnostics`: line, column, the line with a marker, what was expected), never as pyoxigraph's.
"""

from __future__ import annotations

__all__ = ["READ_ONLY", "QueryResult", "evaluate_query", "merged_default_graph"]

from collections.abc import Mapping

import pyoxigraph
from pyoxigraph import BlankNode, DefaultGraph, NamedNode, QueryBoolean, QuerySolutions, QueryTriples

from ..errors import BadRequest, ForbiddenOperation, QuerySyntaxError, StoreUnavailable
from ..namespaces import SPARQL_PREFIXES
from .analysis import analyse, looks_like_update
from .base import DEFAULT_DATASET, DatasetSpec, Term
from .bindings import bind_in_text
from .diagnostics import check_depth, describe_engine_error, describe_syntax_error

QueryResult = QuerySolutions | QueryBoolean | QueryTriples

#: the one wording of "read-only", for every way an update can arrive
READ_ONLY = "this endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, …) is not accepted"

#: the prefixes every query may use undeclared (a query's own PREFIX wins); built once
_PREFIXES = dict(SPARQL_PREFIXES)

#: copies every source graph's triples into the default graph; a set, so shared triples count once
_MERGE = "INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"

def merged_default_graph(store: pyoxigraph.Store, *, keep_out: NamedNode | None = None) -> None:
    """Make ``store``'s default graph the merge of its named graphs (kept with what it already holds).

    Done once, after loading. A full copy costs a second copy of each distinct triple: at 10^6 quads
    3–5 s of CPU and 260 MB, as much as loading them. With ``keep_out`` (a large graph) the copy
    leaves that graph out: the other graphs are copied, the triples ``keep_out`` also states are taken
    out of the copy again, and from then on every query of ``store`` without a dataset of its own
    reads the copy and ``keep_out`` together — the same set of triples, each once, in milliseconds
    and no memory. The caller keeps ``keep_out`` with the store and passes it to every
    :func:`evaluate_query` as ``kept_out`` (``EmbeddedStore`` does; a store forked from the holder gets
    it with the store). ``store`` must not be written to afterwards (a served store never is).
    """
    if keep_out is None:
        store.update(_MERGE)
        return
    for graph in list(store.named_graphs()):
        if graph == keep_out:
            continue
        if isinstance(graph, NamedNode):
            store.update(f"INSERT {{ ?s ?p ?o }} WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}")
        else:  # a blank node names no graph in SPARQL text
            store.bulk_extend([pyoxigraph.Quad(q.subject, q.predicate, q.object)
                               for q in store.quads_for_pattern(None, None, None, graph)])
    store.update(f"DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o . GRAPH {keep_out} {{ ?s ?p ?o }} }}")


def evaluate_query(
    store: pyoxigraph.Store,
    query: str,
    *,
    dataset: DatasetSpec = DEFAULT_DATASET,
    base_iri: str | None = None,
    bindings: Mapping[str, Term] | None = None,
    max_depth: int | None = None,
    kept_out: NamedNode | None = None,
) -> QueryResult:
    """Run ``query`` on ``store`` under the project's dataset rules (module docstring).

    ``kept_out``: the large graph :func:`merged_default_graph` left out of ``store``'s default graph
    (None: the copy is whole), read beside it when the query has no dataset of its own.

    :raises ForbiddenOperation: the text is a SPARQL Update.
    :raises QuerySyntaxError: the text does not parse, or names an invalid graph IRI.
    :raises BadRequest: the query asks for something the engine cannot do (an unknown function), or
        nests deeper than ``max_depth`` (None: the caller has checked).
    :raises StoreUnavailable: the store could not be read, or a SERVICE call failed.
    """
    default_graph: list[NamedNode | BlankNode | DefaultGraph] | None = None
    named_graphs: list[NamedNode | BlankNode] | None = None
    if not dataset.is_default:
        try:
            default_graph = [NamedNode(g) for g in dataset.default_graphs]
            named_graphs = [NamedNode(g) for g in dataset.named_graphs]
        except ValueError as exc:
            raise QuerySyntaxError(f"not a valid graph IRI: {exc}") from exc
    # pyoxigraph's own `substitutions` only accept projected variables: bind in the text instead,
    # exactly as RemoteStore does, so both stores give the same answers.
    text = bind_in_text(query, bindings)
    if max_depth is not None:
        check_depth(text, max_depth)
    if default_graph is None and kept_out is not None:
        if not analyse(text).has_dataset_clause:  # FROM in the text is the query's own
            default_graph = [DefaultGraph(), kept_out]
    try:
        return store.query(text, base_iri=base_iri, prefixes=_PREFIXES, default_graph=default_graph,
                           named_graphs=named_graphs)
    except SyntaxError as exc:
        if looks_like_update(query):
            raise ForbiddenOperation(READ_ONLY) from exc
        raise QuerySyntaxError(describe_syntax_error(text, str(exc))) from exc
    except ValueError as exc:
        raise QuerySyntaxError(str(exc)) from exc
    except OSError as exc:  # SERVICE failures and store read errors
        raise StoreUnavailable(f"the query failed while running: {exc}") from exc
    except RuntimeError as exc:  # pyoxigraph: a feature it does not evaluate (e.g. an unknown function)
        raise BadRequest(describe_engine_error(str(exc))) from exc
