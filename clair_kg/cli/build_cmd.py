"""``clair-kg build`` (validate, then write the release's files) and ``clair-kg diff`` (compare two).

``build`` writes every file into a temporary folder next to ``--out`` and renames it into place only
when all are written: on a validation failure (exit 1, report on stderr) or any error, ``--out``
keeps what it had. The same sources always give byte-identical files: the release date comes from
``SOURCE_DATE_EPOCH`` or the git commit date, never from the clock.
"""

from __future__ import annotations

__all__ = ["register"]

import argparse
import sys
from pathlib import Path
from typing import Any

from ..publish import write_distribution
from ..publish.diff import diff_releases, diff_to_json, diff_to_text
from ..release import prepare_release, publish_release
from .common import project_from_args


def register(sub: Any) -> None:
    b = sub.add_parser(
        "build",
        help="validate, then write dumps (ttl nt jsonld rdf trig nq + .gz), void.ttl, the report and SHA256SUMS",
        description="Validate the sources and write a release into --out, atomically and reproducibly.",
    )
    b.add_argument("--out", type=Path, default=Path("dist"), help="output folder (default: dist)")
    b.set_defaults(handler=run_build)

    d = sub.add_parser(
        "diff",
        help="statements added and removed per entity between two builds",
        description="Compare two releases: build folders, or .nq/.nt files (optionally .gz).",
    )
    d.add_argument("old", type=Path, help="the earlier build folder or dump")
    d.add_argument("new", type=Path, help="the later build folder or dump")
    d.add_argument("--format", choices=["text", "json"], default="text", help="output format (default: text)")
    d.add_argument("--exit-code", action="store_true", help="exit 1 when the releases differ (like git diff)")
    d.set_defaults(handler=run_diff)


def run_build(args: argparse.Namespace) -> int:
    project = project_from_args(args)
    sys.stderr.write("clair-kg: validating…\n")
    release = prepare_release(project)  # raises ValidationFailed -> exit 1, dist/ untouched
    dist = publish_release(release, project)
    write_distribution(dist, args.out)
    meta = dist.metadata
    sys.stderr.write(
        f"clair-kg: wrote {len(dist.files)} files to {args.out}/ (release {meta.version} of {meta.issued}: "
        f"{meta.triples} statements in the merged graph, {meta.quads} across {len(meta.sources)} source graphs)\n"
    )
    return 0


def run_diff(args: argparse.Namespace) -> int:
    diff = diff_releases(args.old, args.new)
    sys.stdout.write(diff_to_json(diff) if args.format == "json" else diff_to_text(diff))
    return 1 if args.exit_code and diff.changed else 0
