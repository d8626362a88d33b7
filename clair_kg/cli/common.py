"""Helpers shared by the subcommands."""

from __future__ import annotations

__all__ = ["project_from_args"]

import argparse
from pathlib import Path

from ..project import Project, default_project_root


def project_from_args(args: argparse.Namespace) -> Project:
    root = Path(args.project).resolve() if getattr(args, "project", None) else default_project_root()
    return Project(root)
