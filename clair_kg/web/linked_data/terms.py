"""The runtime's words for terms, for the pages (:mod:`clair_kg.terms` builds them)."""

from __future__ import annotations

__all__ = ["TermLabels", "term_labels"]

from starlette.requests import Request

from ...terms import TermLabels
from ..context import get_context


def term_labels(request: Request) -> TermLabels:
    """The app's term labels, built once with its runtime."""
    return get_context(request).terms.get()
