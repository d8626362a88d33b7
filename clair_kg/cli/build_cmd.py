"""Placeholder: filled in by its feature."""

from __future__ import annotations

__all__ = ["register"]

from typing import Any


def register(sub: Any) -> None:
    """No subcommands yet."""
