"""The embedded store: pyoxigraph, in memory (the default) or in a folder on disk."""

from __future__ import annotations

__all__ = ["EmbeddedStore"]

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph
from pyoxigraph import NamedNode, QueryBoolean, QuerySolutions, QueryTriples, RdfFormat

from ..errors import BadRequest, ForbiddenOperation, NotAcceptable, QuerySyntaxError
from ..namespaces import SPARQL_PREFIXES
from ..sparql.diagnostics import check_depth, describe_engine_error, describe_syntax_error
from .base import (
    DEFAULT_DATASET,
    GRAPH_FORMATS,
    RESULT_FORMATS,
    DatasetSpec,
    QueryForm,
    SerializedResult,
    Term,
    has_dataset_clause,
    looks_like_update,
)
from .bindings import bind_in_text


class EmbeddedStore:
    """A :class:`~clair_kg.store.base.Store` over a ``pyoxigraph.Store``."""

    def __init__(self, inner: pyoxigraph.Store | None = None) -> None:
        self._inner = inner if inner is not None else pyoxigraph.Store()

    @classmethod
    def open(cls, path: Path) -> EmbeddedStore:
        """A store in ``path`` (created if missing), writable by this process only."""
        return cls(pyoxigraph.Store(str(path)))

    @classmethod
    def open_read_only(cls, path: Path) -> EmbeddedStore:
        """A store in ``path`` opened read-only; several processes may do this at once."""
        return cls(pyoxigraph.Store.read_only(str(path)))

    @property
    def inner(self) -> pyoxigraph.Store:
        return self._inner

    def _run(
        self,
        query: str,
        *,
        dataset: DatasetSpec = DEFAULT_DATASET,
        bindings: Mapping[str, Term] | None = None,
    ) -> QuerySolutions | QueryBoolean | QueryTriples:
        kwargs: dict[str, Any] = {}
        if dataset.is_default:
            if not has_dataset_clause(query):
                kwargs["use_default_graph_as_union"] = True
        else:
            # A protocol dataset is exactly the graphs it names (SPARQL 1.1 Query 13.2, as for
            # FROM / FROM NAMED): named graphs alone leave the default graph empty, default graphs
            # alone leave no named graphs. Oxigraph server and Fuseki do the same.
            try:
                kwargs["default_graph"] = [NamedNode(g) for g in dataset.default_graphs]
                kwargs["named_graphs"] = [NamedNode(g) for g in dataset.named_graphs]
            except ValueError as exc:
                raise QuerySyntaxError(f"not a valid graph IRI: {exc}") from exc
        # pyoxigraph's own `substitutions` only accept projected variables: bind in the text instead,
        # exactly as RemoteStore does, so both stores give the same answers.
        text = bind_in_text(query, bindings)
        check_depth(text)  # issue 9: too-deep nesting overflows the engine's stack (diagnostics.py)
        try:
            return self._inner.query(text, prefixes=dict(SPARQL_PREFIXES), **kwargs)
        except SyntaxError as exc:
            if looks_like_update(query):
                raise ForbiddenOperation(
                    "this endpoint is read-only: SPARQL Update is not accepted"
                ) from exc
            raise QuerySyntaxError(describe_syntax_error(text, str(exc))) from exc  # issue 9
        except RuntimeError as exc:  # issue 9: a valid query the engine cannot run (unknown function)
            raise BadRequest(describe_engine_error(str(exc))) from exc
        except ValueError as exc:  # e.g. an invalid IRI in default-graph-uri
            raise QuerySyntaxError(str(exc)) from exc

    def select(
        self, query: str, *, bindings: Mapping[str, Term] | None = None
    ) -> list[dict[str, Term]]:
        result = self._run(query, bindings=bindings)
        if not isinstance(result, QuerySolutions):
            raise QuerySyntaxError("expected a SELECT query")
        names = [v.value for v in result.variables]
        rows: list[dict[str, Term]] = []
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

    def graphs(self) -> Sequence[str]:
        return sorted(g.value for g in self._inner.named_graphs() if isinstance(g, NamedNode))

    def __len__(self) -> int:
        return len(self._inner)
