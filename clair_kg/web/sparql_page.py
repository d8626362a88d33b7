"""What the /sparql query page shows: example queries over the real graph, and a query's results.

The page is a plain HTML form (GET /sparql?query=…) that works without JavaScript; a browser that
submits it gets the results as a table on the same page. Yasgui is an optional enhancement loaded
only when the reader asks for it (see ``templates/sparql.html``).
"""

from __future__ import annotations

__all__ = ["page_context"]

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ..errors import ClairKgError
from ..namespaces import SPARQL_PREFIXES
from ..store.base import QueryForm
from .examples import EXAMPLES
from .linked_data.result_cells import DatasetLabels, iri_cell

if TYPE_CHECKING:
    from ..settings import Settings
    from ..sparql.protocol import QueryRequest
    from ..sparql.service import SparqlService

#: rows shown in the page's table; the full result is one click away in any format
PAGE_ROWS = 500

DOWNLOAD_FORMATS = {
    QueryForm.SELECT: [("JSON", "json"), ("XML", "xml"), ("CSV", "csv"), ("TSV", "tsv")],
    QueryForm.ASK: [("JSON", "json"), ("XML", "xml")],
    QueryForm.CONSTRUCT: [("Turtle", "ttl"), ("N-Triples", "nt"), ("JSON-LD", "jsonld"), ("RDF/XML", "rdf")],
}


def _cell(term: dict[str, str] | None, names: DatasetLabels, lang: str, link_lang: str | None) -> dict[str, Any]:
    if term is None:
        return {"text": "", "kind": "unbound"}
    kind = term.get("type", "")
    value = term.get("value", "")
    if kind == "uri":
        return iri_cell(value, names, lang, link_lang)
    if kind == "bnode":
        return {"text": "_:" + value, "kind": "bnode"}
    note = "@" + term["xml:lang"] if "xml:lang" in term else ""
    if not note and term.get("datatype"):
        note = "^^" + term["datatype"].rsplit("#", 1)[-1]
    return {"text": value, "kind": "literal", "note": note}


async def page_context(
    settings: Settings, request: QueryRequest, form: QueryForm | None, service: SparqlService, lang: str = "en",
    link_lang: str | None = None,
) -> dict[str, Any]:
    """Template variables for ``sparql.html`` in the reader's language ``lang``; runs
    ``request.query`` when there is one."""
    context: dict[str, Any] = {
        "examples": EXAMPLES,
        "query": request.query or EXAMPLES[0].query,
        "yasgui_url": settings.yasgui_url,
        "predeclared": SPARQL_PREFIXES,  # issue 9: listed on the page
        "max_rows": settings.max_rows,
        "timeout": settings.query_timeout,
        "ran": request.query is not None,
    }
    if request.query is None:
        return context
    graph = form is not None and form.returns_graph
    media = "text/turtle" if graph else "application/sparql-results+json"
    try:
        facts = service.inspect(request.query)
        reply = await service.answer(request.query, facts, request.dataset, media)
    except ClairKgError as exc:
        return {**context, "error": exc.message, "status": exc.status}
    base = [("query", request.query)]
    base += [("default-graph-uri", g) for g in request.dataset.default_graphs]
    base += [("named-graph-uri", g) for g in request.dataset.named_graphs]
    downloads = DOWNLOAD_FORMATS[QueryForm.CONSTRUCT if graph else (form or QueryForm.SELECT)]
    context["downloads"] = [(label, "/sparql?" + urlencode([*base, ("format", f)])) for label, f in downloads]
    context["truncated"] = reply.truncated
    if graph:
        context["graph_text"] = reply.body.decode("utf-8")
        return context
    data = json.loads(reply.body)
    if "boolean" in data:
        context["boolean"] = bool(data["boolean"])
        return context
    variables: list[str] = data["head"]["vars"]
    bindings = data["results"]["bindings"]
    context["variables"] = variables
    names = DatasetLabels.load(service.store, settings.base_iri)
    context["rows"] = [[_cell(b.get(v), names, lang, link_lang) for v in variables] for b in bindings[:PAGE_ROWS]]
    context["row_count"] = len(bindings)
    context["rows_shown"] = min(len(bindings), PAGE_ROWS)
    return context
