"""What every route needs, held on ``app.state.ctx``: settings, the store and the release."""

from __future__ import annotations

__all__ = ["AppContext", "get_context"]

from dataclasses import dataclass

from starlette.requests import Request

from ..project import Project
from ..release import ReleaseInfo
from ..settings import Settings
from ..store import Store


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    store: Store
    release: ReleaseInfo

    @property
    def project(self) -> Project:
        return Project(self.settings.project_root, self.settings.base_iri)


def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx
