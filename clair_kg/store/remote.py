"""The remote store: any SPARQL 1.1 Protocol endpoint (Oxigraph server, Fuseki, Virtuoso, ...).

Queries go over the SPARQL Protocol on one pooled HTTP client; loading uses the Graph Store
Protocol (``POST`` of N-Quads to the store's data endpoint, which Oxigraph server and Fuseki accept
for a whole dataset, then the merge of the named graphs as N-Triples into its default graph, so the
remote default graph is the same set-merge as the embedded one). The remote server must serve its
real default graph (``oxigraph serve`` without ``--union-default-graph``: a union there would count
a triple once per source that states it). Bindings become an inline ``VALUES`` block built from serialized RDF terms
(:func:`~clair_kg.store.bindings.bind_in_text`), so user input never enters query text as raw
characters.

Where a server differs from the standard (Virtuoso: its default graph, Graph Store path, result
formats, blank nodes, errors) a :mod:`~clair_kg.store.dialects` object chosen by probing the server
handles it, so callers see the same store whichever server is behind it.
"""

from __future__ import annotations

__all__ = ["RemoteStore"]

from collections.abc import Mapping, Sequence

import httpx
import pyoxigraph
from pyoxigraph import QueryBoolean, QueryResultsFormat, QuerySolutions, RdfFormat

from ..errors import ConfigError, QuerySyntaxError, StoreUnavailable
from .analysis import query_form
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
from .diagnostics import check_depth, declare_prefixes
from .dialects import Dialect, Virtuoso, detect, without_password


class RemoteStore:
    """A :class:`~clair_kg.store.base.Store` over the SPARQL Protocol.

    ``query_url`` is the endpoint (``http://host:7878/query``); ``data_url`` the Graph Store
    Protocol endpoint used by :meth:`load_nquads` (``http://host:7878/store``; for Virtuoso
    ``http://dba:PASSWORD@host:8890/sparql-graph-crud-auth``, its credentials used for digest auth).
    ``dialect`` is found by asking the server once, on first use, unless given.
    """

    def __init__(self, query_url: str, *, data_url: str | None = None, timeout: float = 30.0,
                 base_iri: str | None = None, dialect: Dialect | None = None) -> None:
        self.query_url = query_url
        self.data_url = data_url
        #: the query URL as messages show it (they reach /sparql clients and logs): no password
        self.shown_url = without_password(query_url)
        # Relative IRIs in queries resolve against the dataset's base, as on the embedded store: a
        # BASE before the query's own prologue (a BASE of the query's own still wins).
        self._base = f"BASE <{base_iri}>\n" if base_iri else ""
        self._client = httpx.Client(timeout=timeout, headers={"User-Agent": "clair-kg"})
        self._dialect = dialect
        #: the source graphs a Virtuoso store holds (read once it holds some; loading forgets them)
        self._sources: tuple[str, ...] | None = None

    @property
    def dialect(self) -> Dialect:
        """The server's dialect; probed on first use (again after a failed probe: the server may be down)."""
        if self._dialect is None:
            self._dialect = detect(self._client, self.query_url)
        return self._dialect

    @property
    def replace_is_atomic(self) -> bool:
        """Whether a ``replace`` load is one transaction on this store (true too when nothing was sent)."""
        return self._dialect is None or self._dialect.atomic_replace

    def _source_graphs(self) -> tuple[str, ...]:
        if self._sources is not None:
            return self._sources
        graphs = self._read_source_graphs()
        if graphs:  # an empty store is asked again: a first `clair-kg load` may come while we serve
            self._sources = graphs
        return graphs

    def _read_source_graphs(self) -> tuple[str, ...]:
        """The source graphs as the list written at load names them (Virtuoso)."""
        text, dataset = Virtuoso.sources_query()
        parsed = self._results(self._send(text, accept="application/sparql-results+json", dataset=dataset))
        if not isinstance(parsed, QuerySolutions):
            raise StoreUnavailable("the store's list of source graphs is not a SELECT result")
        return tuple(t.value for t in (s["g"] for s in parsed) if isinstance(t, pyoxigraph.NamedNode))

    def close(self) -> None:
        self._client.close()

    def _post(
        self, query: str, *, accept: str, dataset: DatasetSpec = DEFAULT_DATASET
    ) -> httpx.Response:
        check_depth(query)  # the same guard as the embedded store's, before anything is sent
        self.dialect.check(query)
        return self._send(query, accept=accept, dataset=dataset)

    def _send(self, query: str, *, accept: str, dataset: DatasetSpec) -> httpx.Response:
        dialect = self.dialect
        params = dialect.dataset_params(query, dataset, self._source_graphs)
        # the predeclared prefixes, where the query does not declare them itself (as on the embedded store)
        text = dialect.prologue + self._base + declare_prefixes(query)
        try:
            response = dialect.send(self._client, self.query_url, text, params, accept)
        except httpx.HTTPError as exc:
            raise StoreUnavailable(f"the SPARQL store at {self.shown_url} did not answer: {exc}") from exc
        if response.status_code >= 300:
            raise dialect.error(query, response)
        return response

    def select(self, query: str, *, bindings: Mapping[str, Term] | None = None) -> Rows:
        response = self._post(self.dialect.bind(query, bindings), accept="application/sparql-results+json")
        parsed = self._results(response)
        if not isinstance(parsed, QuerySolutions):
            raise QuerySyntaxError("expected a SELECT query")
        names = [v.value for v in parsed.variables]
        rows = Rows(names)
        for solution in parsed:
            rows.append({n: solution[n] for n in names if solution[n] is not None})
        return rows

    def ask(self, query: str, *, bindings: Mapping[str, Term] | None = None) -> bool:
        response = self._post(self.dialect.bind(query, bindings), accept="application/sparql-results+json")
        parsed = self._results(response)
        if not isinstance(parsed, QueryBoolean):
            raise QuerySyntaxError("expected an ASK query")
        return bool(parsed)

    def construct(self, query: str, *, bindings: Mapping[str, Term] | None = None) -> list[pyoxigraph.Triple]:
        response = self._post(self.dialect.bind(query, bindings), accept="application/n-triples")
        try:
            return [q.triple for q in pyoxigraph.parse(response.content, format=RdfFormat.N_TRIPLES)]
        except (SyntaxError, ValueError) as exc:
            raise StoreUnavailable(f"the SPARQL store at {self.shown_url} answered something that is not "
                                   f"N-Triples: {exc}") from exc

    def _results(self, response: httpx.Response) -> QuerySolutions | QueryBoolean:
        try:
            return pyoxigraph.parse_query_results(self.dialect.results_body(response.content),
                                                  format=QueryResultsFormat.JSON)
        except (SyntaxError, ValueError) as exc:
            raise StoreUnavailable(f"the SPARQL store at {self.shown_url} answered something that is not "
                                   f"SPARQL results: {exc}") from exc

    def execute(
        self,
        query: str,
        *,
        media_type: str,
        dataset: DatasetSpec = DEFAULT_DATASET,
        bindings: Mapping[str, Term] | None = None,
    ) -> SerializedResult:
        form = query_form(query)
        dialect = self.dialect
        response = self._post(self.dialect.bind(query, bindings), accept=dialect.wire_type(form, media_type),
                              dataset=dataset)
        body = dialect.reshape(response.content, form, media_type)
        return SerializedResult(form=form or QueryForm.SELECT, media_type=media_type, body=body)

    def load_nquads(self, data: bytes, *, replace: bool = False) -> None:
        """Add ``data`` (and its merge) to the remote dataset; with ``replace``, make it the whole dataset.

        Replacing is one Graph Store Protocol ``PUT`` of the dataset, which the store applies in one
        transaction (Oxigraph server does): a failure part-way leaves the previous content queryable.
        """
        if self.data_url is None:
            raise ConfigError("this remote store has no Graph Store Protocol URL (remote_data_url) to load into")
        dialect = self.dialect
        if isinstance(dialect, Virtuoso):
            previous = self._source_graphs()
            self._sources = None  # read again after loading, whatever happens
            dialect.load(self._client, self.data_url, data, replace=replace, previous=previous)
            return
        # The merge goes in the same document as the graphs, so a blank node keeps one identity in both
        # (a second request would get fresh blank nodes). pyoxigraph's Dataset is a set: each distinct
        # triple once; parsing keeps blank node labels, so they match the graphs' lines.
        merged = pyoxigraph.Dataset(
            pyoxigraph.Quad(q.subject, q.predicate, q.object)
            for q in pyoxigraph.parse(data, format=RdfFormat.N_QUADS)
            if not isinstance(q.graph_name, pyoxigraph.DefaultGraph)
        )
        body = data + (pyoxigraph.serialize(merged, format=RdfFormat.N_QUADS) or b"")
        self._store(self.data_url, body, "application/n-quads", replace=replace)

    def _store(self, url: str, data: bytes, media_type: str, *, replace: bool = False) -> None:
        try:
            response = self._client.request("PUT" if replace else "POST", url, content=data,
                                            headers={"Content-Type": media_type})
        except httpx.HTTPError as exc:
            raise StoreUnavailable(f"the store at {without_password(url)} did not answer: {exc}") from exc
        if response.status_code >= 300:
            raise StoreUnavailable(f"loading failed with {response.status_code}: {response.text[:300]}")

    def graphs(self) -> Sequence[str]:
        if isinstance(self.dialect, Virtuoso):  # it never matches an empty GRAPH ?g { } pattern
            return sorted(self._read_source_graphs())
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } } ORDER BY ?g")
        return [t.value for t in (r.get("g") for r in rows) if isinstance(t, pyoxigraph.NamedNode)]

    def __len__(self) -> int:
        return self._count(QUADS_IN_NAMED_GRAPHS)

    def statements(self) -> int:
        return self._count(TRIPLES_IN_DEFAULT_GRAPH)

    def _count(self, query: str) -> int:
        rows = self.select(query)
        term = rows[0]["n"] if rows else None
        return int(term.value) if isinstance(term, pyoxigraph.Literal) else 0
