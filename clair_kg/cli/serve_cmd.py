"""``clair-kg serve``: validate, load and serve the graph.

The parent validates once and writes the hand-over (N-Quads + settings). With one web process it
then serves itself; with ``--workers N`` it supervises N web processes, each on its own
``SO_REUSEPORT`` socket (:func:`clair_kg.serving.supervise`). Each web process builds the app from
the hand-over and runs its own ``query_workers`` SPARQL worker processes (started on the first
query, stopped with the web process: on Ctrl-C or SIGTERM uvicorn runs the app's shutdown, which
kills them, and every worker also dies with its parent, so none is left behind).
"""

from __future__ import annotations

__all__ = ["register"]

import argparse
import shutil
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
    p.add_argument("--query-isolation", choices=("restart", "process"), help=docs["query_isolation"])
    p.add_argument("--max-query-length", type=int, help=docs["max_query_length"])
    p.add_argument("--cache-size", type=int, help=docs["cache_size"])
    p.add_argument("--service-allowlist", help=docs["service_allowlist"])
    p.add_argument("--yasgui-url", help=docs["yasgui_url"])
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

    from ..errors import BadRequest
    from ..serving import listen_socket, reserve_port, supervise, uvicorn_config, write_handover

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
        query_isolation=args.query_isolation,
        max_query_length=args.max_query_length,
        cache_size=args.cache_size,
        service_allowlist=(
            tuple(u.strip() for u in args.service_allowlist.split(",") if u.strip())
            if args.service_allowlist is not None else None
        ),
        yasgui_url=args.yasgui_url,
    )
    if args.workers < 1:
        raise BadRequest("--workers must be at least 1")
    extra = _extra_graphs(args.load)  # before validating: a bad --load fails at once
    sys.stderr.write("clair-kg: validating the graph…\n")
    release = prepare_release(project)
    nquads = release.nquads + extra
    graphs = tuple(sorted(set(release.info.graphs) | {s.partition("=")[2] for s in args.load}))
    folder = write_handover(settings, nquads, graphs)
    # "restart" isolation replaces a web process after a runaway query: that needs the supervisor
    supervised = args.workers > 1 or settings.query_isolation == "restart"
    try:
        # one process listens itself; several each bind their own socket, the parent holds the port
        sock = listen_socket(args.host, args.port) if not supervised else reserve_port(args.host, args.port)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise BadRequest(f"cannot listen on {args.host}:{args.port}: {exc}") from exc
    port = sock.getsockname()[1]
    sys.stderr.write(
        f"clair-kg: {release.info.quads} quads valid; serving on http://{args.host}:{port}/ "
        f"({args.workers} web process(es), {settings.query_workers} query "
        f"{'thread' if settings.query_isolation == 'restart' else 'worker'}(s) each)\n"
    )
    try:
        if supervised:
            return supervise(args.host, port, args.workers)
        server = uvicorn.Server(uvicorn_config(settings))
        server.run(sockets=[sock])
        if not server.started:
            return 2
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
        shutil.rmtree(folder, ignore_errors=True)
    return 0
