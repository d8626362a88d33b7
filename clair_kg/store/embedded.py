"""The embedded store: pyoxigraph, in memory (the default) or in a folder on disk."""

from __future__ import annotations

__all__ = ["EmbeddedStore"]

from collections.abc import Mapping, Sequence
from pathlib import Path

import pyoxigraph
from pyoxigraph import NamedNode, QueryBoolean, QuerySolutions, QueryTriples, RdfFormat

from ..errors import NotAcceptable, QuerySyntaxError
from ..formats import GRAPH_FORMATS, RESULT_FORMATS
from ..settings import MAX_QUERY_DEPTH
from .base import (
    DEFAULT_DATASET,
    QUADS_IN_NAMED_GRAPHS,
    TRIPLES_IN_DEFAULT_GRAPH,
    DatasetSpec,
    QueryForm,
    Rows,
    SerializedResult,
    Term,
)
from .evaluation import QueryResult, evaluate_query, merged_default_graph
from .loading import LoadSpec, load_files


class EmbeddedStore:
    """A :class:`~clair_kg.store.base.Store` over a ``pyoxigraph.Store``.

    ``base_iri`` is what relative IRIs in queries resolve against (the dataset's base).
    """

    def __init__(self, inner: pyoxigraph.Store | None = None, *, base_iri: str | None = None) -> None:
        self._inner = inner if inner is not None else pyoxigraph.Store()
        self.base_iri = base_iri
        #: the large ``--load`` graph left out of the default-graph copy (None: the copy is whole);
        #: every read of the default graph reads it too (:func:`.evaluation.merged_default_graph`)
        self.kept_out: NamedNode | None = None

    @classmethod
    def open(cls, path: Path, *, base_iri: str | None = None) -> EmbeddedStore:
        """A store in ``path`` (created if missing), writable by this process only."""
        return cls(pyoxigraph.Store(str(path)), base_iri=base_iri)

    @classmethod
    def open_read_only(cls, path: Path, *, base_iri: str | None = None) -> EmbeddedStore:
        """A store in ``path`` opened read-only; several processes may do this at once."""
        return cls(pyoxigraph.Store.read_only(str(path)), base_iri=base_iri)

    @property
    def inner(self) -> pyoxigraph.Store:
        return self._inner

    def _run(
        self,
        query: str,
        *,
        dataset: DatasetSpec = DEFAULT_DATASET,
        bindings: Mapping[str, Term] | None = None,
    ) -> QueryResult:
        return evaluate_query(self._inner, query, dataset=dataset, base_iri=self.base_iri, bindings=bindings,
                              max_depth=MAX_QUERY_DEPTH, kept_out=self.kept_out)

    def select(self, query: str, *, bindings: Mapping[str, Term] | None = None) -> Rows:
        result = self._run(query, bindings=bindings)
        if not isinstance(result, QuerySolutions):
            raise QuerySyntaxError("expected a SELECT query")
        names = [v.value for v in result.variables]
        rows = Rows(names)
        for solution in result:
            row: dict[str, Term] = {}
            for name in names:
                term = solution[name]
                if term is not None:
                    row[name] = term
            rows.append(row)
        return rows

    def ask(self, query: str, *, bindings: Mapping[str, Term] | None = None) -> bool:
        result = self._run(query, bindings=bindings)
        if not isinstance(result, QueryBoolean):
            raise QuerySyntaxError("expected an ASK query")
        return bool(result)

    def construct(self, query: str, *, bindings: Mapping[str, Term] | None = None) -> list[pyoxigraph.Triple]:
        result = self._run(query, bindings=bindings)
        if not isinstance(result, QueryTriples):
            raise QuerySyntaxError("expected a CONSTRUCT or DESCRIBE query")
        return list(result)

    def execute(
        self,
        query: str,
        *,
        media_type: str,
        dataset: DatasetSpec = DEFAULT_DATASET,
        bindings: Mapping[str, Term] | None = None,
    ) -> SerializedResult:
        result = self._run(query, dataset=dataset, bindings=bindings)
        if isinstance(result, QueryTriples):
            fmt = GRAPH_FORMATS.get(media_type)
            if fmt is None:
                raise NotAcceptable("a graph result cannot be written as " + media_type,
                                    supported=list(GRAPH_FORMATS))
            if fmt in (RdfFormat.TRIG, RdfFormat.N_QUADS):
                # A query result is one graph; in a dataset format it is the default graph.
                fmt = RdfFormat.TURTLE if fmt is RdfFormat.TRIG else RdfFormat.N_TRIPLES
            form = QueryForm.CONSTRUCT
            body = result.serialize(format=fmt)
        else:
            rfmt = RESULT_FORMATS.get(media_type)
            if rfmt is None:
                raise NotAcceptable("a query result cannot be written as " + media_type,
                                    supported=list(RESULT_FORMATS))
            form = QueryForm.ASK if isinstance(result, QueryBoolean) else QueryForm.SELECT
            body = result.serialize(format=rfmt)
        return SerializedResult(form=form, media_type=media_type, body=body or b"")

    def load_nquads(self, data: bytes) -> None:
        self._inner.bulk_load(data, format=RdfFormat.N_QUADS)
        merged_default_graph(self._inner)

    def load_served(self, nquads: Path, loads: Sequence[LoadSpec] = ()) -> int:
        """Load a release's N-Quads file and the ``--load`` files (:func:`.loading.load_files`), then the
        merge; the number of quads the sources hold (counted before the merge is added).

        pyoxigraph parses both in Rust, straight from the files: no statement becomes a Python object.
        """
        load_files(self._inner, loads)  # first: the first N-Quads or TriG file goes into an empty store
        self._inner.bulk_load(path=str(nquads), format=RdfFormat.N_QUADS)
        quads = len(self._inner)
        self.kept_out = _largest_graph(loads)
        merged_default_graph(self._inner, keep_out=self.kept_out)
        return quads

    def graphs(self) -> Sequence[str]:
        return sorted(g.value for g in self._inner.named_graphs() if isinstance(g, NamedNode))

    def __len__(self) -> int:
        return _count(self._run(QUADS_IN_NAMED_GRAPHS))

    def statements(self) -> int:
        return _count(self._run(TRIPLES_IN_DEFAULT_GRAPH))


def _largest_graph(loads: Sequence[LoadSpec]) -> NamedNode | None:
    """The named graph the most bytes of ``loads`` fill (None: they fill none): the one graph whose
    triples need not be copied into the default graph (:func:`.evaluation.merged_default_graph`)."""
    sizes: dict[str, int] = {}
    for spec in loads:
        if spec.graph is not None:
            sizes[spec.graph] = sizes.get(spec.graph, 0) + spec.path.stat().st_size
    return NamedNode(max(sizes, key=lambda g: sizes[g])) if sizes else None


def _count(result: object) -> int:
    assert isinstance(result, QuerySolutions)
    for solution in result:
        term = solution["n"]
        return int(term.value) if isinstance(term, pyoxigraph.Literal) else 0
    return 0
