"""How one kind of SPARQL server differs from the standard, kept behind :class:`RemoteStore`.

:class:`RemoteStore` speaks the SPARQL 1.1 Protocol; a *dialect* is the few things a server does its
own way: how a query is sent, which protocol dataset a query gets, what its results look like, how its
errors read and how a release is loaded into it. Two dialects:

- :data:`STANDARD` — Oxigraph server, Fuseki, …: the query as an ``application/sparql-query`` body,
  the dataset passed through, results as asked, a whole dataset in one Graph Store ``PUT``/``POST``.
- :class:`Virtuoso` — OpenLink Virtuoso 7 (see docs/stores.md), chosen by probing (its ``Server``
  header). Its default graph is the union of *every* graph, its own system graphs included, so each
  query gets an explicit protocol dataset: the merged graph as default graph and the release's source
  graphs as named graphs (read from a small graph written at load). The query text is never changed
  beyond a fixed prologue; user input only ever travels as protocol dataset arguments.

The dialect objects are frozen and hold no connection: the store passes its HTTP client in.
"""

from __future__ import annotations

__all__ = ["MERGED_GRAPH", "NO_GRAPH", "SOURCES_GRAPH", "STANDARD", "Dialect", "Virtuoso", "detect"]

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pyoxigraph
from pyoxigraph import QueryBoolean, QueryResultsFormat, QuerySolutions, RdfFormat

from ..errors import (
    BadRequest,
    ClairKgError,
    ForbiddenOperation,
    NotAcceptable,
    QuerySyntaxError,
    QueryTimeout,
    StoreUnavailable,
)
from ..formats import GRAPH_FORMATS, RESULT_FORMATS
from .analysis import analyse, mask_opaque
from .base import DatasetSpec, QueryForm, Term
from .bindings import _group_end, _values_block, _where_brace, bind_in_text
from .diagnostics import explain_rejected
from .evaluation import READ_ONLY

#: the graph a Virtuoso store holds the set-merge of the source graphs in (its default graph for us)
MERGED_GRAPH = "urn:x-clair-kg:merged"
#: the graph naming the release's source graphs (one ``<g> a sd:NamedGraph`` triple each)
SOURCES_GRAPH = "urn:x-clair-kg:source-graphs"
#: a graph nothing is ever loaded into: how a dataset part is made empty where a server would widen it
NO_GRAPH = "urn:x-clair-kg:no-graph"
_NAMED_GRAPH = "http://www.w3.org/ns/sparql-service-description#NamedGraph"
_SOURCES_QUERY = f"SELECT ?g WHERE {{ GRAPH <{SOURCES_GRAPH}> {{ ?g a <{_NAMED_GRAPH}> }} }} ORDER BY ?g"

#: the protocol parameters of one query: (name, value) pairs, ``default-graph-uri`` / ``named-graph-uri``
Params = list[tuple[str, str]]


@dataclass(frozen=True)
class Dialect:
    """The standard SPARQL 1.1 Protocol and Graph Store Protocol, as Oxigraph server speaks them."""

    name: str = "standard"
    #: text put before every query (before the store's ``BASE``): fixed, never user input
    prologue: str = ""
    #: a ``replace`` load is one transaction: a failure part-way leaves the previous release whole
    atomic_replace: bool = True

    def check(self, query: str) -> None:
        """Refuse, before sending, what this server must never be sent. The standard server refuses itself."""

    def bind(self, query: str, bindings: Mapping[str, Term] | None) -> str:
        """``query`` with ``bindings`` pre-bound (:func:`~clair_kg.store.bindings.bind_in_text`)."""
        return bind_in_text(query, bindings)

    def dataset_params(self, query: str, dataset: DatasetSpec, sources: Callable[[], Sequence[str]]) -> Params:
        """The protocol dataset of ``query``: ``dataset`` as given (the server's default graph is ours)."""
        return [("default-graph-uri", g) for g in dataset.default_graphs] + [
            ("named-graph-uri", g) for g in dataset.named_graphs]

    def send(self, client: httpx.Client, url: str, text: str, params: Params, accept: str) -> httpx.Response:
        return client.post(url, params=httpx.QueryParams(_grouped(params)), content=text.encode("utf-8"),
                           headers={"Content-Type": "application/sparql-query", "Accept": accept})

    def wire_type(self, form: QueryForm | None, media_type: str) -> str:
        """The media type to ask the server for, when the caller wants ``media_type``."""
        return media_type

    def reshape(self, body: bytes, form: QueryForm | None, media_type: str) -> bytes:
        """``body`` (in :meth:`wire_type`) as ``media_type``."""
        return body

    def results_body(self, body: bytes) -> bytes:
        """A SPARQL JSON results body as pyoxigraph reads it."""
        return body

    def error(self, query: str, response: httpx.Response) -> ClairKgError:
        """The package's error for a status of 300 or more."""
        if response.status_code == 400:
            if analyse(query).is_update:
                return ForbiddenOperation(READ_ONLY)
            return QuerySyntaxError(explain_rejected(query, response.text))
        return StoreUnavailable(f"the SPARQL store answered {response.status_code}: {response.text.strip()[:300]}")


STANDARD = Dialect()

# "Virtuoso 37000 Error SP030: SPARQL compiler, line 1: syntax error …": the SQL state says what kind
_VIRTUOSO_ERROR = re.compile(r"Virtuoso (?P<state>[0-9A-Z]{5}) Error")
_VIRTUOSO_BNODE = "nodeID://"


@dataclass(frozen=True)
class Virtuoso(Dialect):
    """OpenLink Virtuoso 7: the differences docs/stores.md lists, each handled here."""

    name: str = "virtuoso"
    # DESCRIBE as oxigraph answers it (the resource's concise bounded description, subject side only);
    # Virtuoso's own default also lists the triples the resource is the object of.
    prologue: str = 'define sql:describe-mode "CBD"\n'
    atomic_replace: bool = False  # graph by graph (see load)

    def check(self, query: str) -> None:
        # Virtuoso runs an update sent to a query endpoint whenever its user may (and answers 500 for
        # some other texts, the empty one included), so the read-only rule is kept here, not left to it.
        facts = analyse(query)
        if facts.is_update:
            raise ForbiddenOperation(READ_ONLY)
        if facts.form is None:
            raise QuerySyntaxError("not a SPARQL query: it has no SELECT, ASK, CONSTRUCT or DESCRIBE")

    def bind(self, query: str, bindings: Mapping[str, Term] | None) -> str:
        # The same inline VALUES block, one group deeper: Virtuoso lifts a VALUES that opens the WHERE
        # group to the top level, which it refuses outside SELECT ("BINDINGS is not supported at top
        # level"). A group `{ VALUES … }` first in the WHERE group joins the same way: later patterns,
        # BIND and aggregates still see the variables bound.
        if not bindings:
            return query
        block = "{ " + _values_block(bindings) + " }"
        mask = mask_opaque(query)
        brace = _where_brace(mask)
        if brace is not None:
            return query[: brace + 1] + " " + block + " " + query[brace + 1 :]
        form = analyse(query).form
        short = re.search(r"\bCONSTRUCT\s*WHERE\s*\{", mask, re.IGNORECASE)
        if form is QueryForm.CONSTRUCT and short is not None:
            # CONSTRUCT WHERE { P }: P is a plain triple pattern, so it is also the template
            end = _group_end(mask, short.end() - 1)
            pattern = query[short.end() : end - 1]
            return (query[: short.start()] + "CONSTRUCT {" + pattern + "} WHERE { " + block + " " + pattern + "}"
                    + query[end:])
        return query + "\nWHERE " + block if form is QueryForm.DESCRIBE else bind_in_text(query, bindings)

    def dataset_params(self, query: str, dataset: DatasetSpec, sources: Callable[[], Sequence[str]]) -> Params:
        if dataset.is_default:
            if analyse(query).has_dataset_clause:
                return []  # the query's own FROM / FROM NAMED (Virtuoso adds protocol graphs to them)
            graphs = list(sources()) or [NO_GRAPH]
            return [("default-graph-uri", MERGED_GRAPH)] + [("named-graph-uri", g) for g in graphs]
        if analyse(query).has_dataset_clause:
            # Virtuoso adds the request's graphs to the query's FROM instead of replacing them (SPARQL
            # 1.1 Protocol §2.1.4): a different answer, so none at all.
            raise BadRequest("this store cannot replace a query's FROM / FROM NAMED with the request's "
                             "default-graph-uri / named-graph-uri: give the dataset in one place only")
        # A part the request leaves out is empty (SPARQL 1.1 Protocol §2.1.4); Virtuoso would make an
        # absent named part every graph, so it gets a graph that holds nothing.
        default = dataset.default_graphs or (NO_GRAPH,)
        named = dataset.named_graphs or (NO_GRAPH,)
        return [("default-graph-uri", g) for g in default] + [("named-graph-uri", g) for g in named]

    def send(self, client: httpx.Client, url: str, text: str, params: Params, accept: str) -> httpx.Response:
        # Virtuoso 7.2 does not answer a direct `application/sparql-query` POST (the request hangs):
        # the form-encoded POST of the same protocol.
        return client.post(url, data={"query": text, **_grouped(params)}, headers={"Accept": accept})

    def wire_type(self, form: QueryForm | None, media_type: str) -> str:
        # Its TSV and CSV are not the W3C ones (quoted IRIs, no language tags, ASK as "bool"/1) and it
        # writes no TriG or N-Quads: ask for JSON or N-Triples and let pyoxigraph write what was asked.
        if form is not None and form.returns_graph:
            return "application/n-triples"
        return "application/sparql-results+json"

    def reshape(self, body: bytes, form: QueryForm | None, media_type: str) -> bytes:
        try:
            if form is not None and form.returns_graph:
                if media_type not in GRAPH_FORMATS:
                    raise NotAcceptable(f"{media_type} is not a graph format", supported=list(GRAPH_FORMATS))
                triples = pyoxigraph.parse(body, format=RdfFormat.N_TRIPLES)
                return pyoxigraph.serialize(triples, format=GRAPH_FORMATS[media_type]) or b""
            if media_type not in RESULT_FORMATS:
                raise NotAcceptable(f"{media_type} is not a results format", supported=list(RESULT_FORMATS))
            parsed = pyoxigraph.parse_query_results(self.results_body(body), format=QueryResultsFormat.JSON)
            if not isinstance(parsed, QuerySolutions | QueryBoolean):
                raise StoreUnavailable("the SPARQL store answered something that is not SPARQL results")
            return parsed.serialize(format=RESULT_FORMATS[media_type]) or b""
        except (SyntaxError, ValueError) as exc:
            raise StoreUnavailable(f"the SPARQL store answered something that is not a result: {exc}") from exc

    def results_body(self, body: bytes) -> bytes:
        # Its blank nodes are "nodeID://b10012", which is no blank node label: keep the part after the
        # scheme, as its N-Triples writer does (`_:b10012`), so both forms name the same node.
        if _VIRTUOSO_BNODE.encode() not in body:
            return body
        try:
            document = json.loads(body)
        except ValueError:
            return body  # let the results parser say what is wrong
        for row in document.get("results", {}).get("bindings", []):
            for term in row.values():
                _strip_bnode(term)
        return json.dumps(document).encode("utf-8")

    def error(self, query: str, response: httpx.Response) -> ClairKgError:
        text = response.text.strip()
        found = _VIRTUOSO_ERROR.search(text)
        state = found.group("state") if found else ""
        message = text.split("\n\nSPARQL query:", 1)[0][:300] or f"the store answered {response.status_code}"
        if response.status_code == 400 or state == "37000":  # 37000: the SPARQL compiler's syntax errors
            return QuerySyntaxError(message)
        if state == "S1T00":
            return QueryTimeout(f"the store stopped the query at its time limit: {message}")
        if state.startswith(("42", "22")):  # an undefined function, a bad argument: the query, not the store
            return BadRequest(f"this query cannot be run here: {message}")
        return StoreUnavailable(f"the SPARQL store answered {response.status_code}: {message}")

    # --- loading ------------------------------------------------------------------------------------

    def load(self, client: httpx.Client, data_url: str, nquads: bytes, *, replace: bool,
             previous: Sequence[str]) -> None:
        """Load ``nquads`` graph by graph, then the merge and the list of source graphs.

        Virtuoso's Graph Store endpoint takes one graph per request (``?graph-uri=``), so loading is a
        sequence, not one transaction: each ``PUT`` replaces one graph atomically. The merge is made by
        the server from the graphs it holds (a SPARQL Update on the same authenticated endpoint), so
        each blank node keeps one identity in its source graph and in the merge. With ``replace``,
        graphs of the ``previous`` release that this one lacks are dropped.
        """
        by_graph: dict[str, list[pyoxigraph.Triple]] = {}
        default: list[pyoxigraph.Triple] = []
        for quad in pyoxigraph.parse(nquads, format=RdfFormat.N_QUADS):
            if isinstance(quad.graph_name, pyoxigraph.NamedNode):
                by_graph.setdefault(quad.graph_name.value, []).append(quad.triple)
            else:
                default.append(quad.triple)
        auth, plain_url = _credentials(data_url)
        for graph, triples in sorted(by_graph.items()):
            body = pyoxigraph.serialize(triples, format=RdfFormat.N_TRIPLES) or b""
            _write(client, "PUT" if replace else "POST", plain_url, graph, body, auth)
        graphs = sorted(set(by_graph) | (set() if replace else set(previous)))
        listing = "".join(f"<{g}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{_NAMED_GRAPH}> .\n"
                          for g in graphs).encode("utf-8")
        update = [f"DROP SILENT GRAPH <{g}>" for g in (sorted(set(previous) - set(by_graph)) if replace else [])]
        if replace:
            update.append(f"DROP SILENT GRAPH <{MERGED_GRAPH}>")
        if graphs:
            listed = ", ".join(f"<{g}>" for g in graphs)  # Virtuoso takes no VALUES in an update's WHERE
            update.append(f"INSERT {{ GRAPH <{MERGED_GRAPH}> {{ ?s ?p ?o }} }} "
                          f"WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g IN ({listed})) }}")
        for operation in update:  # one request each: Virtuoso reads some sequences (`;`) otherwise
            _update(client, _update_url(plain_url), operation, auth)
        if default:  # what the release states in the default graph itself goes into the merge as well
            body = pyoxigraph.serialize(default, format=RdfFormat.N_TRIPLES) or b""
            _write(client, "POST", plain_url, MERGED_GRAPH, body, auth)
        # the list last: a store whose list names the new graphs holds them
        _write(client, "PUT", plain_url, SOURCES_GRAPH, listing, auth)

    @staticmethod
    def sources_query() -> tuple[str, DatasetSpec]:
        return _SOURCES_QUERY, DatasetSpec(default_graphs=(NO_GRAPH,), named_graphs=(SOURCES_GRAPH,))


def _grouped(params: Params) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in params:
        grouped.setdefault(name, []).append(value)
    return grouped


def _strip_bnode(term: Any) -> None:
    if isinstance(term, dict) and term.get("type") == "bnode":
        value = str(term.get("value", ""))
        if value.startswith(_VIRTUOSO_BNODE):
            term["value"] = value[len(_VIRTUOSO_BNODE):]


def _credentials(url: str) -> tuple[httpx.DigestAuth | None, str]:
    """Digest credentials from ``http://user:password@host/…`` (Virtuoso's write endpoints need them)."""
    parts = urlsplit(url)
    if parts.username is None:
        return None, url
    netloc = parts.hostname or ""
    if parts.port is not None:
        netloc += f":{parts.port}"
    plain = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return httpx.DigestAuth(parts.username, parts.password or ""), plain


def without_password(url: str) -> str:
    """``url`` fit to print: a password in it becomes ``PASSWORD`` (messages end up in logs and terminals)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:PASSWORD@{parts.hostname or ''}" + (f":{parts.port}" if parts.port is not None else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _update_url(data_url: str) -> str:
    """The SPARQL Update endpoint beside a Graph Store endpoint: /sparql-graph-crud-auth -> /sparql-auth."""
    parts = urlsplit(data_url)
    path = re.sub(r"sparql-graph-crud(-auth)?$", lambda m: "sparql" + (m.group(1) or ""), parts.path)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _write(client: httpx.Client, method: str, url: str, graph: str, body: bytes,
           auth: httpx.DigestAuth | None) -> None:
    try:
        response = client.request(method, url, params={"graph-uri": graph}, content=body,
                                  auth=auth or httpx.USE_CLIENT_DEFAULT, headers={"Content-Type": "text/turtle"})
    except httpx.HTTPError as exc:
        raise StoreUnavailable(f"the store at {without_password(url)} did not answer: {exc}") from exc
    if response.status_code == 401:
        raise StoreUnavailable(f"loading <{graph}> was refused (401): the store wants a user and password "
                               "(digest auth) in the data URL, http://USER:PASSWORD@host:8890/sparql-graph-crud-auth")
    if response.status_code >= 300:
        raise StoreUnavailable(f"loading <{graph}> failed with {response.status_code}: {response.text[:300]}")


def _update(client: httpx.Client, url: str, update: str, auth: httpx.DigestAuth | None) -> None:
    try:
        response = client.post(url, data={"query": update}, auth=auth or httpx.USE_CLIENT_DEFAULT,
                               headers={"Accept": "application/sparql-results+json"})
    except httpx.HTTPError as exc:
        raise StoreUnavailable(f"the store at {without_password(url)} did not answer: {exc}") from exc
    if response.status_code >= 300:
        raise StoreUnavailable(f"making the merged graph failed with {response.status_code}: {response.text[:300]}")


def detect(client: httpx.Client, query_url: str) -> Dialect:
    """The dialect of the server at ``query_url``, from its ``Server`` header (one ``ASK {}``)."""
    try:
        response = client.get(query_url, params={"query": "ASK {}"},
                              headers={"Accept": "application/sparql-results+json"})
    except httpx.HTTPError as exc:
        raise StoreUnavailable(f"the SPARQL store at {without_password(query_url)} did not answer: {exc}") from exc
    if response.headers.get("server", "").startswith("Virtuoso"):
        return Virtuoso()
    return STANDARD
