"""The store interface: what the web tier and the CLI need from a triple store, and no more.

Two implementations: :class:`~clair_kg.store.embedded.EmbeddedStore` (pyoxigraph, in memory or on
disk) and :class:`~clair_kg.store.remote.RemoteStore` (any SPARQL 1.1 Protocol endpoint). Both speak
in pyoxigraph terms (``NamedNode``, ``Literal``, ``BlankNode``), so callers never depend on the
backend. The default graph of every query is the union of the named graphs unless a request names
its own dataset (``default-graph-uri`` / ``named-graph-uri``).
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_DATASET",
    "GRAPH_FORMATS",
    "RESULT_FORMATS",
    "DatasetSpec",
    "QueryForm",
    "SerializedResult",
    "Store",
    "Term",
    "query_form",
]

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from pyoxigraph import BlankNode, Literal, NamedNode, QueryResultsFormat, RdfFormat, Triple

Term = NamedNode | BlankNode | Literal | Triple

#: media type -> pyoxigraph writer, for SELECT/ASK results (the order is the order of preference)
RESULT_FORMATS: dict[str, QueryResultsFormat] = {
    "application/sparql-results+json": QueryResultsFormat.JSON,
    "application/sparql-results+xml": QueryResultsFormat.XML,
    "text/csv": QueryResultsFormat.CSV,
    "text/tab-separated-values": QueryResultsFormat.TSV,
}
#: media type -> pyoxigraph writer, for CONSTRUCT/DESCRIBE results and RDF documents
GRAPH_FORMATS: dict[str, RdfFormat] = {
    "text/turtle": RdfFormat.TURTLE,
    "application/n-triples": RdfFormat.N_TRIPLES,
    "application/ld+json": RdfFormat.JSON_LD,
    "application/rdf+xml": RdfFormat.RDF_XML,
    "application/trig": RdfFormat.TRIG,
    "application/n-quads": RdfFormat.N_QUADS,
}


class QueryForm(Enum):
    SELECT = "SELECT"
    ASK = "ASK"
    CONSTRUCT = "CONSTRUCT"
    DESCRIBE = "DESCRIBE"

    @property
    def returns_graph(self) -> bool:
        return self in (QueryForm.CONSTRUCT, QueryForm.DESCRIBE)


# Comments and strings, long (which may span lines) before short: their characters never count as
# syntax.
_COMMENT_OR_STRING = (
    r'#[^\n]*|"""(?:[^"\\]|\\.|"(?!""))*"""|' + r"'''(?:[^'\\]|\\.|'(?!''))*'''|"
    r'"(?:[^"\\\n]|\\.)*"|' + r"'(?:[^'\\\n]|\\.)*'"
)
_OPAQUE = re.compile(_COMMENT_OR_STRING + r"|<[^<>\s{}]*>")
_COMMENT_OR_STRING_ONLY = re.compile(_COMMENT_OR_STRING)
_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


def mask_opaque(query: str) -> str:
    """``query`` with every comment, string and IRI blanked out (same length, same offsets)."""
    return _OPAQUE.sub(lambda m: " " * len(m.group(0)), query)


def query_form(query: str) -> QueryForm | None:
    """The form of a query, from its text (comments, strings and IRIs ignored); None if unknown."""
    cleaned = mask_opaque(query)
    match = _FORM.search(cleaned)
    return QueryForm(match.group(1).upper()) if match else None


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


@dataclass(frozen=True)
class SerializedResult:
    form: QueryForm
    media_type: str
    body: bytes


class Store(Protocol):
    """A read-mostly RDF store. Implementations raise only :mod:`clair_kg.errors` exceptions."""

    def select(
        self, query: str, *, bindings: Mapping[str, Term] | None = None
    ) -> list[dict[str, Term]]:
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
        """Add N-Quads (the handover format from the build) to the store."""
        ...

    def graphs(self) -> Sequence[str]:
        """The IRIs of the named graphs in the store, sorted."""
        ...

    def __len__(self) -> int:
        """The number of quads in the store."""
        ...


_UPDATE = re.compile(
    r"\b(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD)\b(\s+(DATA|WHERE|SILENT|GRAPH|DEFAULT|NAMED|ALL|INTO|TO)\b|\s*\{|\s*<)",
    re.IGNORECASE,
)


_DATASET_CLAUSE = re.compile(r"(?<![:\w])FROM\b", re.IGNORECASE)


def has_dataset_clause(query: str) -> bool:
    """True when the query names its own dataset with ``FROM`` / ``FROM NAMED``.

    Such a query must not also get the union default graph: pyoxigraph's
    ``use_default_graph_as_union`` would override the query's own ``FROM``.
    """
    return bool(_DATASET_CLAUSE.search(mask_opaque(query)))


def looks_like_update(text: str) -> bool:
    """True when ``text`` reads as a SPARQL Update request (so it gets "read-only", not "syntax")."""
    # IRIs are kept here (unlike query_form): `LOAD <iri>` is recognised by the `<` after LOAD.
    return query_form(text) is None and bool(_UPDATE.search(_COMMENT_OR_STRING_ONLY.sub(" ", text)))


__all__ += ["has_dataset_clause", "looks_like_update", "mask_opaque"]
