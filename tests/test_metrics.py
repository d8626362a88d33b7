"""``GET /metrics``: Prometheus text that moves with what the server does."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from conftest import app_for
from fastapi.testclient import TestClient

from clair_kg.publish import Distribution
from clair_kg.settings import Settings
from clair_kg.store import EmbeddedStore

HUGE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"


@pytest.fixture(scope="module")
def short_limit_client(
    settings: Settings, embedded_store: EmbeddedStore, distribution: Distribution
) -> Iterator[TestClient]:
    app = app_for(settings.with_overrides(query_timeout=1.0, query_workers=1), embedded_store, distribution)
    with TestClient(app) as client:
        yield client


def _metrics(client: TestClient) -> dict[str, float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    values = {}
    for line in response.text.splitlines():
        if line.startswith("#"):
            continue
        name, value = re.fullmatch(r"([a-z_]+)\{[^}]*\} (\S+)", line).groups()  # type: ignore[union-attr]
        values[name] = float(value)
    return values


def test_metrics_count_cache_use_and_stopped_queries(
    short_limit_client: TestClient, distribution: Distribution
) -> None:
    before = _metrics(short_limit_client)
    assert before["clair_kg_info"] == 1
    assert before["clair_kg_quads"] == distribution.metadata.quads
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?t }"
    # POST bodies skip the whole-response memo, so both requests reach the result cache
    for _ in range(2):
        r = short_limit_client.post("/sparql", data={"query": query})
        assert r.status_code == 200
    after = _metrics(short_limit_client)
    assert after["clair_kg_sparql_cache_misses_total"] == before["clair_kg_sparql_cache_misses_total"] + 1
    assert after["clair_kg_sparql_cache_hits_total"] == before["clair_kg_sparql_cache_hits_total"] + 1
    assert short_limit_client.get("/sparql", params={"query": HUGE}).status_code == 503
    assert _metrics(short_limit_client)["clair_kg_sparql_queries_stopped_total"] == (
        before["clair_kg_sparql_queries_stopped_total"] + 1
    )
