"""The HTTP layer: the only place that builds HTTP responses."""

from .app import create_app

__all__ = ["create_app"]
