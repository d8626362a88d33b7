"""``clair-kg serve``: validate, publish, load and serve the graph.

This process validates and publishes the release once (the same code as ``clair-kg build``), writes
the hand-over folder (:mod:`clair_kg.server.handover`) and holds the port, then replaces itself
(``os.execv``, same pid) with the store holder, ``python -m clair_kg.server.supervisor``: a fresh
interpreter that never loaded the build side (rdflib, pyshacl), so none of that memory lives on.
The holder loads the store once and forks the ``--workers`` web processes (each on its own
``SO_REUSEPORT`` socket) and their ``query_workers`` SPARQL worker processes from it, so they
share one copy of the graph (:mod:`clair_kg.server.holder`). On Ctrl-C or SIGTERM it stops every
one of them; each also dies with it, so none is left behind.
"""

from __future__ import annotations

__all__ = ["register"]

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..project import Project
from ..release import prepare_release, publish_release
from ..release_cache import cache_folder
from ..settings import QueryIsolation, setting_docs, settings_from_env
from ..store.loading import load_specs, served_release
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
    from ..server.sockets import reserve_port

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
    # before validating, a file that cannot be read or a bad graph IRI fails at once; the files are
    # parsed once, by the store holder, straight into its store (a syntax error stops it, named)
    loads = load_specs(args.load)
    sys.stderr.write("clair-kg: validating the graph…\n")
    project = settings.project
    release = prepare_release(project)
    distribution = publish_release(release, project)
    served = served_release(release.info, loads)
    folder = write_handover(settings, release.nquads, served, distribution, loads)
    try:
        # the web processes each bind their own socket; this process (then the holder) holds the port
        sock = reserve_port(args.host, args.port)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc}") from exc
    port = sock.getsockname()[1]
    meta = distribution.metadata
    loaded = f"; plus {len(loads)} file(s) from --load" if loads else ""
    sys.stderr.write(
        f"clair-kg: valid: {meta.triples} statements in the merged graph ({meta.quads} across "
        f"{len(meta.sources)} source graphs){loaded}; serving on http://{args.host}:{port}/ "
        f"({args.workers} web process(es), {settings.query_workers} query "
        f"{'thread' if settings.query_isolation is QueryIsolation.RESTART else 'worker'}(s) each)\n"
    )
    command = [sys.executable, "-m", "clair_kg.server.supervisor", "--handover", str(folder),
               "--host", args.host, "--port", str(port), "--workers", str(args.workers),
               "--held-fd", str(sock.fileno()), "--remove-handover"]
    for kind in ("labels", "startup"):  # kept by release: the search index, the runtime's start-up reads
        kept = cache_folder(project, kind)
        if kept is not None:
            command += [f"--{kind}-cache", str(kept)]
    sock.set_inheritable(True)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(sys.executable, command)  # noqa: S606 - no shell; the holder removes the folder
    except OSError as exc:
        sock.close()
        shutil.rmtree(folder, ignore_errors=True)
        raise ConfigError(f"cannot start the store holder ({sys.executable}): {exc}") from exc
    return 2  # pragma: no cover - execv only returns by raising
