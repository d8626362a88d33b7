"""The remote store: any SPARQL 1.1 Protocol endpoint (Oxigraph server, Fuseki, QLever, ...).

Queries go over the SPARQL Protocol on one pooled HTTP client; loading uses the Graph Store
Protocol (``POST`` of N-Quads to the store's data endpoint, which Oxigraph server and Fuseki accept
for a whole dataset). Bindings become an inline ``VALUES`` block built from serialized RDF terms
(:func:`~clair_kg.store.bindings.bind_in_text`), so user input never enters query text as raw
characters.
"""

from __future__ import annotations

__all__ = ["RemoteStore"]

from collections.abc import Mapping, Sequence

import httpx
import pyoxigraph
from pyoxigraph import QueryBoolean, QueryResultsFormat, QuerySolutions, RdfFormat

from ..errors import ClairKgError, ForbiddenOperation, QuerySyntaxError, StoreUnavailable
from ..sparql.diagnostics import check_depth, declare_prefixes, explain_rejected
from .base import DEFAULT_DATASET, DatasetSpec, QueryForm, SerializedResult, Term, looks_like_update, query_form
from .bindings import bind_in_text


class RemoteStore:
    """A :class:`~clair_kg.store.base.Store` over the SPARQL Protocol.

    ``query_url`` is the endpoint (``http://host:7878/query``); ``data_url`` the Graph Store
    Protocol endpoint used by :meth:`load_nquads` (``http://host:7878/store``).
    """

    def __init__(self, query_url: str, *, data_url: str | None = None, timeout: float = 30.0) -> None:
        self.query_url = query_url
        self.data_url = data_url
        self._client = httpx.Client(timeout=timeout, headers={"User-Agent": "clair-kg"})

    def close(self) -> None:
        self._client.close()

    def _post(
        self, query: str, *, accept: str, dataset: DatasetSpec = DEFAULT_DATASET
    ) -> httpx.Response:
        params = httpx.QueryParams([("default-graph-uri", g) for g in dataset.default_graphs])
        params = params.merge([("named-graph-uri", g) for g in dataset.named_graphs])
        check_depth(query)  # issue 9: the same guard and prefixes as the embedded store
        try:
            response = self._client.post(
                self.query_url,
                params=params,
                content=declare_prefixes(query).encode("utf-8"),
                headers={"Content-Type": "application/sparql-query", "Accept": accept},
            )
        except httpx.HTTPError as exc:
            raise StoreUnavailable(f"the SPARQL store at {self.query_url} did not answer: {exc}") from exc
        if response.status_code == 400:
            if looks_like_update(query):
                raise ForbiddenOperation("this endpoint is read-only: SPARQL Update is not accepted")
            raise QuerySyntaxError(explain_rejected(query, response.text))  # issue 9
        if response.status_code >= 300:
            raise StoreUnavailable(
                f"the SPARQL store answered {response.status_code}: {response.text.strip()[:300]}"
            )
        return response

    def select(self, query: str, *, bindings: Mapping[str, Term] | None = None) -> list[dict[str, Term]]:
        response = self._post(bind_in_text(query, bindings), accept="application/sparql-results+json")
        parsed = pyoxigraph.parse_query_results(response.content, format=QueryResultsFormat.JSON)
        if not isinstance(parsed, QuerySolutions):
            raise QuerySyntaxError("expected a SELECT query")
        names = [v.value for v in parsed.variables]
        rows: list[dict[str, Term]] = []
        for solution in parsed:
            rows.append({n: solution[n] for n in names if solution[n] is not None})
        return rows

    def ask(self, query: str, *, bindings: Mapping[str, Term] | None = None) -> bool:
        response = self._post(bind_in_text(query, bindings), accept="application/sparql-results+json")
        parsed = pyoxigraph.parse_query_results(response.content, format=QueryResultsFormat.JSON)
        if not isinstance(parsed, QueryBoolean):
            raise QuerySyntaxError("expected an ASK query")
        return bool(parsed)

    def construct(self, query: str, *, bindings: Mapping[str, Term] | None = None) -> list[pyoxigraph.Triple]:
        response = self._post(bind_in_text(query, bindings), accept="application/n-triples")
        return [q.triple for q in pyoxigraph.parse(response.content, format=RdfFormat.N_TRIPLES)]

    def execute(
        self,
        query: str,
        *,
        media_type: str,
        dataset: DatasetSpec = DEFAULT_DATASET,
        bindings: Mapping[str, Term] | None = None,
    ) -> SerializedResult:
        response = self._post(bind_in_text(query, bindings), accept=media_type, dataset=dataset)
        form = query_form(query) or QueryForm.SELECT
        return SerializedResult(form=form, media_type=media_type, body=response.content)

    def load_nquads(self, data: bytes) -> None:
        if self.data_url is None:
            raise ClairKgError("this remote store has no Graph Store Protocol URL to load into")
        try:
            response = self._client.post(
                self.data_url, content=data, headers={"Content-Type": "application/n-quads"}
            )
        except httpx.HTTPError as exc:
            raise StoreUnavailable(f"the store at {self.data_url} did not answer: {exc}") from exc
        if response.status_code >= 300:
            raise StoreUnavailable(f"loading failed with {response.status_code}: {response.text[:300]}")

    def graphs(self) -> Sequence[str]:
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } } ORDER BY ?g")
        return [t.value for t in (r.get("g") for r in rows) if isinstance(t, pyoxigraph.NamedNode)]

    def __len__(self) -> int:
        rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        term = rows[0]["n"] if rows else None
        return int(term.value) if isinstance(term, pyoxigraph.Literal) else 0
