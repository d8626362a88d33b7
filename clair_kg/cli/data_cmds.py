"""``clair-kg validate`` and ``clair-kg query``."""

from __future__ import annotations

__all__ = ["register"]

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import BadRequest, SourceError, ValidationFailed
from ..named_queries import bind_parameters, load_named_query
from ..release import prepare_release
from ..store import EmbeddedStore, QueryForm, query_form
from ..validate import report_to_json, report_to_text, report_to_turtle
from .common import project_from_args

_REPORTERS = {"text": report_to_text, "json": report_to_json, "turtle": report_to_turtle}
_QUERY_FORMATS = {
    "json": "application/sparql-results+json",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "xml": "application/sparql-results+xml",
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
}


def register(sub: Any) -> None:
    p = sub.add_parser("validate", help="validate ontology, shapes and data (SHACL + check queries)")
    p.add_argument("--format", choices=sorted(_REPORTERS), default="text", help="report format")
    p.set_defaults(handler=run_validate)

    q = sub.add_parser("query", help="run a SPARQL query over the built graph")
    q.add_argument("sparql", nargs="?", help="the query text (or use --file / --name)")
    q.add_argument("--file", type=Path, help="read the query from a .rq file")
    q.add_argument(
        "--format", choices=["table", *sorted(_QUERY_FORMATS)], default="table",
        help="output format (json = SPARQL 1.1 Query Results JSON)",
    )
    q.add_argument("--name", help="run the named query queries/NAME.rq")
    q.add_argument("--param", action="append", default=[], metavar="K=V", help="named-query parameter")
    q.set_defaults(handler=run_query)


def run_validate(args: argparse.Namespace) -> int:
    project = project_from_args(args)
    try:  # through the release, so an unchanged project is not validated twice (clair_kg.release_cache)
        report = prepare_release(project).report
    except ValidationFailed as exc:
        report = exc.report
    sys.stdout.write(_REPORTERS[args.format](report))
    return 0 if report.conforms else 1


def _table(rows: list[dict[str, Any]], variables: list[str]) -> str:
    cells = [[str(r[v].value) if v in r else "" for v in variables] for r in rows]
    widths = [max([len(v)] + [len(c[i]) for c in cells]) for i, v in enumerate(variables)]
    line = "  ".join(v.ljust(w) for v, w in zip(variables, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"


def run_query(args: argparse.Namespace) -> int:
    project = project_from_args(args)
    bindings: dict[str, Any] = {}
    if args.name:
        named = load_named_query(project, args.name)
        text = named.text
        raw = dict(p.split("=", 1) for p in args.param if "=" in p)
        bindings = bind_parameters(named, raw, base_iri=project.base_iri)
    elif args.file:
        try:
            text = args.file.read_text(encoding="utf-8")
        except OSError as exc:
            raise SourceError(f"cannot read query: {exc}", file=str(args.file)) from exc
    elif args.sparql:
        text = args.sparql
    else:
        raise BadRequest("give a query: clair-kg query 'SELECT …', --file q.rq or --name NAME")
    release = prepare_release(project, validate=False)
    store = EmbeddedStore(base_iri=project.base_iri)
    store.load_nquads(release.nquads)
    form = query_form(text)
    if args.format == "table":
        if form is QueryForm.SELECT:
            rows = store.select(text, bindings=bindings)
            sys.stdout.write(_table(rows, list(rows.variables)))
            return 0
        if form is QueryForm.ASK:
            sys.stdout.write(("true" if store.ask(text, bindings=bindings) else "false") + "\n")
            return 0
        media = "text/turtle"
    else:
        media = _QUERY_FORMATS[args.format]
        if form is not None and form.returns_graph and args.format in ("json", "csv", "tsv", "xml"):
            raise BadRequest(f"a {form.value} query gives a graph: use --format turtle, ntriples or jsonld")
        if form in (QueryForm.SELECT, QueryForm.ASK) and args.format in ("turtle", "ntriples", "jsonld"):
            raise BadRequest(f"a {form.value} query gives results: use --format table, json, csv, tsv or xml")
    result = store.execute(text, media_type=media, bindings=bindings)
    sys.stdout.buffer.write(result.body)
    if not result.body.endswith(b"\n"):
        sys.stdout.buffer.write(b"\n")
    return 0
