"""``GET /metrics``: Prometheus text exposition of what an operator watches.

Counters are per web process (each has its own cache and query workers), so a scraper that hits a
multi-process server sees one process per scrape; the ``pid`` label tells them apart.
"""

from __future__ import annotations

__all__ = ["router"]

import os

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from .context import get_context

router = APIRouter(tags=["service"])

_HELP = {
    "cache_hits": ("counter", "SPARQL results served from this process's result cache"),
    "cache_misses": ("counter", "SPARQL results that had to be evaluated"),
    "cache_entries": ("gauge", "SPARQL results held in this process's result cache"),
    "queries_stopped": ("counter", "SPARQL queries stopped at the query time limit"),
    "workers_died": ("counter", "query worker processes that died while running a query"),
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@router.get("/metrics", summary="Prometheus metrics of this server process", response_class=Response)
def metrics(request: Request) -> Response:
    ctx = get_context(request)
    pid = str(os.getpid())
    lines = [
        "# HELP clair_kg_info The release this process serves.",
        "# TYPE clair_kg_info gauge",
        f'clair_kg_info{{version="{_escape(ctx.release.version)}",release="{ctx.release.sha256[:12]}",'
        f'pid="{pid}"}} 1',
        "# HELP clair_kg_quads Quads in the served graph.",
        "# TYPE clair_kg_quads gauge",
        f'clair_kg_quads{{pid="{pid}"}} {ctx.release.quads}',
        "# HELP clair_kg_named_graphs Named graphs (sources) in the served graph.",
        "# TYPE clair_kg_named_graphs gauge",
        f'clair_kg_named_graphs{{pid="{pid}"}} {len(ctx.release.graphs)}',
    ]
    for name, value in ctx.sparql.counters().items():
        kind, text = _HELP[name]
        metric = f"clair_kg_sparql_{name}" + ("_total" if kind == "counter" else "")
        lines += [f"# HELP {metric} {text}.", f"# TYPE {metric} {kind}", f'{metric}{{pid="{pid}"}} {value}']
    return Response(
        "\n".join(lines) + "\n",
        media_type="text/plain; version=0.0.4; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )
