"""The store interface: what the web tier and the CLI need from a triple store, and no more.

Two implementations: :class:`~clair_kg.store.embedded.EmbeddedStore` (pyoxigraph, in memory or on
disk) and :class:`~clair_kg.store.remote.RemoteStore` (any SPARQL 1.1 Protocol endpoint). Both speak
in pyoxigraph terms (``NamedNode``, ``Literal``, ``BlankNode``), so callers never depend on the
backend. Loading makes the default graph the set-merge of the named (source) graphs, so the default
graph of every query is that merge unless the query or the request names its own dataset
(``FROM`` / ``default-graph-uri`` / ``named-graph-uri``); see :mod:`clair_kg.store.evaluation`.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_DATASET", "QUADS_IN_NAMED_GRAPHS", "TRIPLES_IN_DEFAULT_GRAPH", "DatasetSpec", "QueryForm", "Rows",
    "SerializedResult", "Store", "Term",
]

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

Term = NamedNode | BlankNode | Literal | Triple

class QueryForm(Enum):
    SELECT = "SELECT"
    ASK = "ASK"
    CONSTRUCT = "CONSTRUCT"
    DESCRIBE = "DESCRIBE"

    @property
    def returns_graph(self) -> bool:
        return self in (QueryForm.CONSTRUCT, QueryForm.DESCRIBE)


@dataclass(frozen=True)
class DatasetSpec:
    """The RDF dataset of one query (SPARQL Protocol ``default-graph-uri``/``named-graph-uri``).

    Empty means the store's default: the union of all named graphs as default graph, every named
    graph visible to ``GRAPH``.
    """

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        return not self.default_graphs and not self.named_graphs


DEFAULT_DATASET = DatasetSpec()


#: the two counts of a store: statements per source (quads) and the merged graph (distinct triples)
QUADS_IN_NAMED_GRAPHS = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
TRIPLES_IN_DEFAULT_GRAPH = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


class Rows(list[dict[str, Term]]):
    """The rows of a SELECT (variable name -> term; unbound variables absent), with its variables."""

    def __init__(self, variables: Sequence[str], rows: Sequence[dict[str, Term]] = ()) -> None:
        super().__init__(rows)
        #: the projected variables, in the query's order (also when no row binds them)
        self.variables: tuple[str, ...] = tuple(variables)


@dataclass(frozen=True)
class SerializedResult:
    form: QueryForm
    media_type: str
    body: bytes


class Store(Protocol):
    """A read-mostly RDF store. Implementations raise only :mod:`clair_kg.errors` exceptions."""

    def select(self, query: str, *, bindings: Mapping[str, Term] | None = None) -> Rows:
        """Run a SELECT; each row maps variable name to term (unbound variables are absent)."""
        ...

    def ask(self, query: str, *, bindings: Mapping[str, Term] | None = None) -> bool: ...

    def construct(
        self, query: str, *, bindings: Mapping[str, Term] | None = None
    ) -> list[Triple]:
        """Run a CONSTRUCT or DESCRIBE and return its triples."""
        ...

    def execute(
        self,
        query: str,
        *,
        media_type: str,
        dataset: DatasetSpec = DEFAULT_DATASET,
        bindings: Mapping[str, Term] | None = None,
    ) -> SerializedResult:
        """Run any query form and serialize the result in ``media_type``.

        ``media_type`` is a key of RESULT_FORMATS for SELECT/ASK or GRAPH_FORMATS for
        CONSTRUCT/DESCRIBE; the caller negotiates it.
        """
        ...

    def load_nquads(self, data: bytes) -> None:
        """Add N-Quads (the hand-over format from the build) to the store.

        Quads of named graphs also go into the default graph, which stays the set-merge of all the
        named graphs (plus what was loaded into the default graph itself).
        """
        ...

    def graphs(self) -> Sequence[str]:
        """The IRIs of the named graphs in the store, sorted."""
        ...

    def __len__(self) -> int:
        """The number of quads in the named graphs (the statements the sources make)."""
        ...

    def statements(self) -> int:
        """The number of distinct triples in the default graph (the merged graph)."""
        ...
