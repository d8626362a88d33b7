"""``python -m bench.search_ab --baseline-src DIR``: ``/reconcile`` and ``/search`` of this checkout against
the code in DIR (a ``git archive REV clair_kg`` folder), side by side, ABAB.

For each size it writes the synthetic graph, starts ``clair-kg serve --workers 2 --load FILE=GRAPH``
twice — the code before (``PYTHONPATH=DIR``, with its own copy of the project so that each keeps its
own cached label index) and this checkout — then measures the requests of ``python -m bench.scale``
(:func:`bench.scale_stages.workload`): one at a time (median), and under ``--connections`` for
``--duration`` seconds, alternating the two servers ``--rounds`` times, with each server's CPU time
per request and the load average. Every server is stopped at the end, also on an error.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
from pathlib import Path

from . import synthetic
from .scale_stages import one_at_a_time, under_load, workload
from .servers import Server, Servers

ROOT = Path(__file__).resolve().parent.parent


def _project_copy(folder: Path) -> Path:
    for part in ("ontology", "data", "queries"):
        shutil.copytree(ROOT / part, folder / part)
    return folder


def one_size(size: int, args: argparse.Namespace, workdir: Path) -> None:
    graph = workdir / f"synthetic-{size}.nq"
    synthetic.write(graph, size)
    load = workload(size)
    paths = {"reconcile": load.reconcile_paths, "search": load.search_paths}
    extra = ("--load", f"{graph}={synthetic.GRAPH}")
    with Servers(workdir) as servers:
        started: dict[str, Server] = {
            "before": servers.start_ours(_project_copy(workdir / f"before-{size}"), workers=2, name="before",
                                         extra_args=extra, timeout=args.start_timeout,
                                         env_overrides={"PYTHONPATH": str(args.baseline_src.resolve())}),
            "after": servers.start_ours(ROOT, workers=2, name="after", extra_args=extra, timeout=args.start_timeout),
        }
        for what, wanted in paths.items():
            for name, server in started.items():
                median, errors = one_at_a_time(server.base, wanted, args.repeat)
                print(f"{size} {what} one at a time, {name}: median {median:.2f} ms, errors {errors}", flush=True)
            rps: dict[str, list[float]] = {name: [] for name in started}
            cpu: dict[str, list[float]] = {name: [] for name in started}
            for n in range(args.rounds):
                for name, server in started.items():
                    loadavg = os.getloadavg()[0]
                    before = server.cpu_seconds() or 0.0
                    result = under_load(server.base, wanted, connections=args.connections, duration=args.duration,
                                        workdir=workdir, name=f"{what}-{name}-{n}")
                    rps[name].append(result.rps)
                    cpu[name].append(((server.cpu_seconds() or 0.0) - before) * 1000 / max(1, result.requests))
                    print(f"{size} {what} round {n} {name}: {result.rps:.1f} req/s, p99 {result.p99_ms:.1f} ms, "
                          f"errors {result.errors}, CPU {cpu[name][-1]:.2f} ms/request, load {loadavg:.2f}", flush=True)
            ratios = [a / b for a, b in zip(rps["after"], rps["before"], strict=True) if b]
            print(f"{size} {what}: before {statistics.mean(rps['before']):.1f} req/s, after "
                  f"{statistics.mean(rps['after']):.1f} req/s, ratio {statistics.mean(ratios):.2f} "
                  f"(runs {', '.join(f'{r:.2f}' for r in ratios)}), CPU ratio "
                  f"{statistics.mean(cpu['after']) / max(1e-9, statistics.mean(cpu['before'])):.2f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--baseline-src", type=Path, required=True, help="folder holding the clair_kg to compare against")
    p.add_argument("--sizes", default="10000,100000,1000000", help="statements, comma-separated")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=float, default=8.0, help="seconds of each load run")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--repeat", type=int, default=5, help="requests per path one at a time")
    p.add_argument("--start-timeout", type=float, default=900.0, help="seconds a server may take to be healthy")
    args = p.parse_args(argv)
    if not (args.baseline_src / "clair_kg").is_dir():
        raise SystemExit(f"bench.search_ab: {args.baseline_src} holds no clair_kg folder")
    with tempfile.TemporaryDirectory(prefix="clair-kg-search-ab-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            one_size(size, args, Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
