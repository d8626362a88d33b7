"""How a route reaches the :class:`~clair_kg.runtime.Runtime` its app was built with."""

from __future__ import annotations

__all__ = ["get_context"]

from starlette.requests import Request

from ..runtime import Runtime


def get_context(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime
