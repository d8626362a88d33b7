"""Shared fixtures: the real built graph in a real pyoxigraph store, and the app over it."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph
import pytest
from fastapi.testclient import TestClient

from clair_kg.project import Project
from clair_kg.release import Release, prepare_release
from clair_kg.settings import Settings
from clair_kg.store import EmbeddedStore
from clair_kg.web import create_app

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def project() -> Project:
    return Project(PROJECT_ROOT)


@pytest.fixture(scope="session")
def release(project: Project) -> Release:
    """The real graph, parsed but not validated (validation has its own tests)."""
    return prepare_release(project, validate=False)


@pytest.fixture(scope="session")
def embedded_store(release: Release) -> EmbeddedStore:
    store = EmbeddedStore()
    store.load_nquads(release.nquads)
    return store


@pytest.fixture(scope="session")
def kg_store(embedded_store: EmbeddedStore) -> pyoxigraph.Store:
    return embedded_store.inner


def _plain(term: object) -> str:
    return str(getattr(term, "value", term))


@pytest.fixture(scope="session")
def kg_select(kg_store: pyoxigraph.Store) -> Callable[[str], list[dict[str, str]]]:
    """Run a SELECT over the union of the named graphs; rows of plain values (no tags)."""

    def select(query: str) -> list[dict[str, str]]:
        solutions = kg_store.query(query, use_default_graph_as_union=True)
        assert isinstance(solutions, pyoxigraph.QuerySolutions), "kg_select needs a SELECT query"
        names = [v.value for v in solutions.variables]
        return [{n: _plain(s[n]) for n in names if s[n] is not None} for s in solutions]

    return select


@pytest.fixture(scope="session")
def kg_ask(kg_store: pyoxigraph.Store) -> Callable[[str], bool]:
    def ask(query: str) -> bool:
        result = kg_store.query(query, use_default_graph_as_union=True)
        assert isinstance(result, pyoxigraph.QueryBoolean), "kg_ask needs an ASK query"
        return bool(result)

    return ask


@pytest.fixture(scope="session")
def settings(project: Project) -> Settings:
    return Settings(project_root=project.root, query_timeout=5.0, query_workers=1)


@pytest.fixture(scope="session")
def client(settings: Settings, embedded_store: EmbeddedStore, release: Release) -> Iterator[TestClient]:
    """HTTP through the real ASGI app over the real store (lifespan events run)."""
    app = create_app(settings, embedded_store, release.info)
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
