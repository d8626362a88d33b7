"""``clair-kg wikidata export-mixnmatch | property-proposal | quickstatements | check``: the Wikidata
linking kit (docs/wikidata.md).

Exit codes: 0 ok (for ``check``: nothing to act on), 1 ``check`` found problems (label mismatches,
linked items that are gone, candidates for unlinked entities, or items pointing to us that we do
not link back), 2 usage or runtime error (e.g. the endpoint did not answer, a bad ``--property``).
"""

from __future__ import annotations

__all__ = ["register"]

import argparse
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ..release import prepare_release
from ..search import LabelIndex
from ..store import EmbeddedStore
from ..wikidata.catalogue import CATALOGUE_KINDS
from .common import project_from_args


def register(sub: Any) -> None:
    wd = sub.add_parser("wikidata", help="Wikidata linking kit: Mix'n'match catalogue, property proposal, "
                                         "QuickStatements, check")
    commands = wd.add_subparsers(dest="wikidata_command", required=True, metavar="SUBCOMMAND")

    mnm = commands.add_parser("export-mixnmatch", help="write a Mix'n'match catalogue (TSV: id, name, desc, type, "
                                                       "q, url, Aen, Aja, Dja) of the entities the dataset is about")
    mnm.add_argument("--out", type=Path, help="file to write (default: standard output)")
    mnm.add_argument("--type", action="append", default=[], metavar="KIND", choices=CATALOGUE_KINDS,
                     help=f"only entities of this kind ({', '.join(CATALOGUE_KINDS)}); repeatable")
    mnm.set_defaults(handler=run_export_mixnmatch)

    qs = commands.add_parser("quickstatements", help="write QuickStatements (V1) for the entities with a verified "
                                                     "QID: our identifier and the sourced strong statements")
    qs.add_argument("--property", required=True, metavar="PID",
                    help="the Wikidata property for clair-kg identifiers (P…), once it exists")
    qs.add_argument("--out", type=Path, help="file to write (default: standard output)")
    qs.add_argument("--report", type=Path, help="also write the report of what was left out to this file")
    qs.add_argument("--retrieved", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                    help="the date cited for our own record pages (default: today, UTC)")
    qs.add_argument("--include-wikipedia", action="store_true",
                    help="also write statements whose only source is the Wikipedia article (Wikidata "
                         "reviewers treat it as no source)")
    qs.set_defaults(handler=run_quickstatements)

    prop = commands.add_parser("property-proposal", help="draft a Wikidata external-identifier property proposal")
    prop.add_argument("--format", choices=["text", "wikitext", "json"], default="text", help="output format")
    prop.add_argument("--examples", type=int, default=5, help="how many examples to include (default 5)")
    prop.set_defaults(handler=run_property_proposal)

    check = commands.add_parser("check", help="compare our Wikidata links and names with a Wikidata SPARQL endpoint")
    check.add_argument("--endpoint", default=None,
                       help="Wikidata-compatible SPARQL endpoint (default: the public Wikidata Query Service)")
    check.add_argument("--property", help="a Wikidata property holding clair-kg IDs (P…), once there is one")
    check.add_argument("--format", choices=["text", "json"], default="text", help="report format")
    check.set_defaults(handler=run_check)


def _load(args: argparse.Namespace) -> tuple[EmbeddedStore, LabelIndex, str]:
    project = project_from_args(args)
    release = prepare_release(project, validate=False)
    store = EmbeddedStore()
    store.load_nquads(release.nquads)
    return store, LabelIndex.build(store, project.base_iri), project.base_iri


def run_export_mixnmatch(args: argparse.Namespace) -> int:
    from ..wikidata import catalogue_entries, mixnmatch_tsv

    store, index, base = _load(args)
    text = mixnmatch_tsv(catalogue_entries(index, store, base_iri=base, kinds=args.type))
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        sys.stderr.write(f"clair-kg: wrote {text.count(chr(10)) - 1} entries to {args.out}\n")
    else:
        sys.stdout.write(text)
    return 0


def run_property_proposal(args: argparse.Namespace) -> int:
    from ..wikidata import property_proposal

    store, index, base = _load(args)
    proposal = property_proposal(store, index, base_iri=base, examples=args.examples)
    if args.format == "json":
        sys.stdout.write(json.dumps(proposal.to_json(), ensure_ascii=False, indent=2) + "\n")
    elif args.format == "wikitext":
        sys.stdout.write(proposal.to_wikitext())
    else:
        sys.stdout.write(proposal.to_text())
    return 0


def run_quickstatements(args: argparse.Namespace) -> int:
    from ..wikidata import quickstatements

    store, index, base = _load(args)
    retrieved = args.retrieved or datetime.now(UTC).date()
    export = quickstatements(store, index, base_iri=base, id_property=args.property, retrieved=retrieved,
                             include_wikipedia=args.include_wikipedia)
    text = export.to_text()
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if args.report:
        args.report.write_text(export.report(), encoding="utf-8")
    sys.stderr.write(export.report())
    return 0


def run_check(args: argparse.Namespace) -> int:
    from ..wikidata import DEFAULT_ENDPOINT, check_against_wikidata

    store, index, base = _load(args)
    endpoint = args.endpoint or DEFAULT_ENDPOINT
    sys.stderr.write(f"clair-kg: asking {endpoint} (one query)…\n")
    report = check_against_wikidata(store, index, base_iri=base, endpoint=endpoint, id_property=args.property)
    if args.format == "json":
        sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(report.to_text())
    return 1 if report.problems else 0
