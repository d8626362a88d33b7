"""The ``clair-kg`` command: a thin shell over the package.

Exit codes: 0 ok, 1 validation failed (or a check found problems), 2 usage or runtime error.
Each subcommand lives in its own module with ``register(subparsers)``.
"""

from __future__ import annotations

__all__ = ["main"]

import argparse
import sys
from collections.abc import Sequence

from ..errors import ClairKgError, SourceError, ValidationFailed
from . import build_cmd, data_cmds, load_cmd, serve_cmd, wikidata_cmd

EXIT_OK, EXIT_INVALID, EXIT_ERROR = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clair-kg", description="Build, validate, query and serve the CLAIR knowledge graph."
    )
    parser.add_argument("--project", help="project folder (default: the package's own, or $CLAIR_KG_PROJECT)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (data_cmds, serve_cmd, build_cmd, load_cmd, wikidata_cmd):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
    except ValidationFailed as exc:
        from ..validate import report_to_text

        sys.stderr.write(report_to_text(exc.report))
        sys.stderr.write(f"clair-kg: {exc.message}\n")
        return EXIT_INVALID
    except SourceError as exc:
        sys.stderr.write(f"clair-kg: {exc.message}\n")
        return EXIT_ERROR
    except ClairKgError as exc:
        sys.stderr.write(f"clair-kg: {exc.message}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_ERROR


