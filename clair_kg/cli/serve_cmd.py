"""``clair-kg serve``: validate, publish, load and serve the graph.

The parent validates and publishes the release once (the same code as ``clair-kg build``) and writes
the hand-over folder (:mod:`clair_kg.server.handover`). With one web process it then serves itself,
through the same code a supervised web process runs (:mod:`clair_kg.server.process`); with
``--workers N`` it supervises N web processes, each on its own ``SO_REUSEPORT`` socket. Each web
process runs its own ``query_workers`` SPARQL worker processes (started before it takes requests,
stopped with it: on Ctrl-C or SIGTERM uvicorn runs the app's shutdown, which kills them, and every
worker also dies with its parent, so none is left behind).
"""

from __future__ import annotations

__all__ = ["register"]

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..project import Project
from ..published import release_info
from ..release import prepare_release, publish_release
from ..settings import QueryIsolation, setting_docs, settings_from_env
from ..store.loading import extra_graphs
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
    p.add_argument("--query-isolation", choices=[i.value for i in QueryIsolation], help=docs["query_isolation"])
    p.add_argument("--max-query-length", type=int, help=docs["max_query_length"])
    p.add_argument("--cache-size", type=int, help=docs["cache_size"])
    p.add_argument("--service-allowlist", help=docs["service_allowlist"])
    p.add_argument("--yasgui-url", help=docs["yasgui_url"])
    p.add_argument("--base-iri", help=docs["base_iri"])
    p.add_argument("--cors-origins", help=docs["cors_origins"])
    p.add_argument(
        "--load", action="append", default=[], metavar="FILE[=GRAPH_IRI]",
        help="also serve an RDF file (repeatable): FILE goes into the default graph, FILE=IRI into the named "
             "graph IRI (which the default graph then merges too); relative IRIs resolve against the file's "
             "URL or the graph IRI, and blank nodes are the file's own",
    )
    p.set_defaults(handler=run_serve)


def _tuple(raw: str | None) -> tuple[str, ...] | None:
    return tuple(u.strip() for u in raw.split(",") if u.strip()) if raw is not None else None


def run_serve(args: argparse.Namespace) -> int:
    from ..server.handover import write_handover
    from ..server.process import build_server, serve_socket
    from ..server.sockets import listen_socket, reserve_port
    from ..server.supervisor import supervise

    project: Project = project_from_args(args)
    settings = settings_from_env().with_overrides(
        project_root=project.root,
        base_iri=args.base_iri,
        store_path=args.store_path,
        remote_query_url=args.remote_query_url,
        remote_data_url=args.remote_data_url,
        query_timeout=args.query_timeout,
        max_rows=args.max_rows,
        max_body_bytes=args.max_body_bytes,
        query_workers=args.query_workers,
        query_isolation=QueryIsolation(args.query_isolation) if args.query_isolation else None,
        max_query_length=args.max_query_length,
        cache_size=args.cache_size,
        service_allowlist=_tuple(args.service_allowlist),
        cors_origins=_tuple(args.cors_origins),
        yasgui_url=args.yasgui_url,
    )
    if args.workers < 1:
        raise ConfigError("--workers must be at least 1")
    extra = extra_graphs(args.load)  # before validating: a bad --load fails at once
    sys.stderr.write("clair-kg: validating the graph…\n")
    project = settings.project
    release = prepare_release(project)
    distribution = publish_release(release, project)
    nquads = release.nquads + extra.nquads
    served = release_info(nquads, tuple(sorted(set(release.info.graphs) | set(extra.graphs))))
    folder = write_handover(settings, nquads, served, distribution)
    # "restart" isolation replaces a web process after a runaway query: that needs the supervisor
    supervised = args.workers > 1 or settings.query_isolation is QueryIsolation.RESTART
    try:
        # one process listens itself; several each bind their own socket, the parent holds the port
        sock = listen_socket(args.host, args.port) if not supervised else reserve_port(args.host, args.port)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc}") from exc
    port = sock.getsockname()[1]
    meta = distribution.metadata
    loaded = f"; plus {extra.statements} statements from --load" if extra.statements else ""
    sys.stderr.write(
        f"clair-kg: valid: {meta.triples} statements in the merged graph ({meta.quads} across "
        f"{len(meta.sources)} source graphs){loaded}; serving on http://{args.host}:{port}/ "
        f"({args.workers} web process(es), {settings.query_workers} query "
        f"{'thread' if settings.query_isolation is QueryIsolation.RESTART else 'worker'}(s) each)\n"
    )
    try:
        if supervised:
            return supervise(folder, args.host, port, args.workers)
        from ..server.handover import read_handover

        return 0 if serve_socket(build_server(read_handover(folder)), sock) else 2
    except KeyboardInterrupt:
        return 0
    finally:
        sock.close()
        shutil.rmtree(folder, ignore_errors=True)
