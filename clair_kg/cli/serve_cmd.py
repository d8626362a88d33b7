"""``clair-kg serve``: validate, load and serve the graph."""

from __future__ import annotations

__all__ = ["register"]

import argparse
import sys
from pathlib import Path
from typing import Any

from ..project import Project
from ..release import prepare_release
from ..settings import setting_docs, settings_from_env
from .common import project_from_args


def register(sub: Any) -> None:
    docs = setting_docs()
    p = sub.add_parser("serve", help="validate the graph and serve it over HTTP")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=int, default=1, help="HTTP server processes (default 1)")
    p.add_argument("--store-path", type=Path, help=docs["store_path"])
    p.add_argument("--remote-query-url", help=docs["remote_query_url"])
    p.add_argument("--remote-data-url", help=docs["remote_data_url"])
    p.add_argument("--query-timeout", type=float, help=docs["query_timeout"])
    p.add_argument("--max-rows", type=int, help=docs["max_rows"])
    p.add_argument("--max-body-bytes", type=int, help=docs["max_body_bytes"])
    p.add_argument("--query-workers", type=int, help=docs["query_workers"])
    p.add_argument(
        "--load", action="append", default=[], metavar="FILE=GRAPH_IRI",
        help="also load an RDF file as a named graph (repeatable; for conformance suites)",
    )
    p.set_defaults(handler=run_serve)


def _extra_graphs(specs: list[str]) -> bytes:
    import pyoxigraph

    from ..errors import BadRequest, SourceError

    out = bytearray()
    for spec in specs:
        file, sep, graph = spec.partition("=")
        if not sep or not graph:
            raise BadRequest(f"--load takes FILE=GRAPH_IRI, got {spec!r}")
        path = Path(file)
        try:
            fmt = pyoxigraph.RdfFormat.from_extension(path.suffix.lstrip(".")) or pyoxigraph.RdfFormat.TURTLE
            dataset = pyoxigraph.Dataset()
            target = pyoxigraph.NamedNode(graph)
            for quad in pyoxigraph.parse(path=str(path), format=fmt):
                dataset.add(pyoxigraph.Quad(quad.subject, quad.predicate, quad.object, target))
            out += pyoxigraph.serialize(dataset, format=pyoxigraph.RdfFormat.N_QUADS) or b""
        except (OSError, SyntaxError, ValueError) as exc:
            raise SourceError(f"cannot load: {exc}", file=file) from exc
    return bytes(out)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ..serving import write_handover

    project: Project = project_from_args(args)
    settings = settings_from_env().with_overrides(
        project_root=project.root,
        store_path=args.store_path,
        remote_query_url=args.remote_query_url,
        remote_data_url=args.remote_data_url,
        query_timeout=args.query_timeout,
        max_rows=args.max_rows,
        max_body_bytes=args.max_body_bytes,
        query_workers=args.query_workers,
    )
    sys.stderr.write("clair-kg: validating the graph…\n")
    release = prepare_release(project)
    nquads = release.nquads + _extra_graphs(args.load)
    graphs = tuple(sorted(set(release.info.graphs) | {s.partition("=")[2] for s in args.load}))
    write_handover(settings, nquads, graphs)
    sys.stderr.write(f"clair-kg: {release.info.quads} quads valid; serving on http://{args.host}:{args.port}/\n")
    uvicorn.run(
        "clair_kg.serving:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers if args.workers > 1 else None,
        log_level="warning",
        access_log=False,
    )
    return 0
