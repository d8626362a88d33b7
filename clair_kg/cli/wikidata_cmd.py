"""``clair-kg wikidata export-mixnmatch | property-proposal | check``: the Wikidata linking kit.

Exit codes: 0 ok (for ``check``: nothing to act on), 1 ``check`` found problems (label mismatches,
linked items that are gone, candidates for unlinked entities, or items pointing to us that we do
not link back), 2 usage or runtime error (e.g. the endpoint did not answer).
"""

from __future__ import annotations

__all__ = ["register"]

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..release import prepare_release
from ..search import LabelIndex
from ..store import EmbeddedStore
from .common import project_from_args


def register(sub: Any) -> None:
    wd = sub.add_parser("wikidata", help="Wikidata linking kit: Mix'n'match catalogue, property proposal, check")
    commands = wd.add_subparsers(dest="wikidata_command", required=True, metavar="SUBCOMMAND")

    mnm = commands.add_parser("export-mixnmatch", help="write a Mix'n'match catalogue (TSV: id, name, "
                                                       "description, type, url) of every entity")
    mnm.add_argument("--out", type=Path, help="file to write (default: standard output)")
    mnm.add_argument("--type", action="append", default=[], metavar="KIND",
                     help="only entities of this kind (office, org, …); repeatable")
    mnm.set_defaults(handler=run_export_mixnmatch)

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

    _, index, base = _load(args)
    text = mixnmatch_tsv(catalogue_entries(index, base_iri=base, kinds=args.type))
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
