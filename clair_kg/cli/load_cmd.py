"""``clair-kg load``: publish a validated release to a remote store, for stateless web processes.

Many ``clair-kg serve --remote-query-url URL`` processes (on as many machines) can then start
without loading anything. The release replaces the remote dataset in one Graph Store Protocol
``PUT`` — idempotent, and applied by the store in one transaction, so a failure part-way leaves the
previous release queryable; the command then says so and what to run again.
"""

from __future__ import annotations

__all__ = ["register"]

import argparse
import sys
from typing import Any

from ..errors import StoreUnavailable
from ..release import prepare_release
from ..store import RemoteStore
from ..store.dialects import without_password
from .common import project_from_args


def register(sub: Any) -> None:
    p = sub.add_parser(
        "load", help="validate, then make a remote SPARQL store hold exactly this release",
        description="Validate the sources and replace the remote store's dataset with the release "
                    "(its source graphs and their merge as the default graph).",
    )
    p.add_argument("--query-url", required=True, help="the store's SPARQL query endpoint (http://host:7878/query)")
    p.add_argument("--data-url", required=True, help="the store's Graph Store Protocol endpoint (http://host:7878/store)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds the upload may take (default 300)")
    p.set_defaults(handler=run_load)


def run_load(args: argparse.Namespace) -> int:
    project = project_from_args(args)
    sys.stderr.write("clair-kg: validating…\n")
    release = prepare_release(project)  # ValidationFailed -> exit 1, the store untouched
    store = RemoteStore(args.query_url, data_url=args.data_url, timeout=args.timeout, base_iri=project.base_iri)
    # the rerun line is printed, so a password in a URL is replaced by a placeholder for the user to fill in
    again = f"clair-kg load --query-url {without_password(args.query_url)} --data-url {without_password(args.data_url)}"
    try:
        store.load_nquads(release.nquads, replace=True)
        quads, statements = len(store), store.statements()
    except StoreUnavailable as exc:
        held = ("The store still holds what it held before (the upload replaces the dataset in one transaction)."
                if store.replace_is_atomic else
                "This store is loaded graph by graph, not in one transaction: it may hold part of this release.")
        raise StoreUnavailable(f"{exc.message}\n{held} When it answers again, run: {again}") from exc
    finally:
        store.close()
    if quads != release.info.quads:
        raise StoreUnavailable(f"the store holds {quads} statements in its named graphs after loading, not "
                               f"{release.info.quads}; it may not apply a Graph Store PUT of a whole dataset. "
                               f"Check it, then run: {again}")
    sys.stderr.write(
        f"clair-kg: {without_password(args.query_url)} now holds release {release.info.sha256[:12]}: "
        f"{statements} statements in the merged graph, {quads} across {len(release.info.graphs)} source graphs\n"
    )
    return 0
