"""``python -m bench.paired --baseline-src DIR``: a code change against the code before it, loaded at once.

On a shared machine the load moves by the second, so two servers measured one after the other
(even ABAB) can differ by 2x for no reason of their own. Here ``ours`` (this checkout) and
``base`` (``clair-kg serve`` with DIR first on ``PYTHONPATH``, e.g. ``git archive HEAD clair_kg |
tar -x -C DIR`` before the change) are driven *at the same time* by two wrk processes with the same
mix, so both see the same noise; each round reports req/s, p99 and each server's own CPU time per
request (all its processes), the steadiest of the three. Answers are checked equal first.
"""

from __future__ import annotations

__all__ = ["main"]

import argparse
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .load import MIXES, RunResult, find_wrk, run_wrk
from .queries import QUERIES
from .run import ROOT, verify, warm_up
from .servers import Server, Servers


def _parser() -> argparse.ArgumentParser:
    summary = __doc__.split("\n\n")[0] if __doc__ else None
    p = argparse.ArgumentParser(prog="python -m bench.paired", description=summary)
    p.add_argument("--baseline-src", type=Path, required=True, help="source folder of the code to compare against")
    p.add_argument("--rounds", type=int, default=5, help="rounds, both servers loaded at once in each (default 5)")
    p.add_argument("--duration", type=float, default=8.0, help="seconds per round (default 8)")
    p.add_argument("--connections", type=int, default=8, help="connections per server (default 8)")
    p.add_argument("--workers", type=int, default=2, help="HTTP workers of each server (default 2)")
    p.add_argument("--mix", choices=MIXES, default="distinct", help="query mix (default distinct)")
    return p


def _round(wrk: str, servers: dict[str, Server], args: argparse.Namespace, run: int,
           workdir: Path) -> dict[str, tuple[RunResult, float | None]]:
    before = {name: s.cpu_seconds() for name, s in servers.items()}

    def one(name: str) -> RunResult:
        s = servers[name]
        return run_wrk(wrk, server=name, run=run, base_url=s.base, query_path=s.query_path, queries=QUERIES,
                       connections=args.connections, duration=args.duration, threads=1, timeout=10.0,
                       workdir=workdir, mix=args.mix)

    with ThreadPoolExecutor(len(servers)) as pool:
        results = dict(zip(servers, pool.map(one, servers), strict=True))
    out: dict[str, tuple[RunResult, float | None]] = {}
    for name, result in results.items():
        start, end = before[name], servers[name].cpu_seconds()
        cpu = None if start is None or end is None or not result.requests else 1e6 * (end - start) / result.requests
        out[name] = (result, cpu)
    return out


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    wrk = find_wrk()
    if wrk is None:
        raise SystemExit("bench.paired: needs wrk (apt-get install wrk)")
    from clair_kg.project import Project
    from clair_kg.release import prepare_release

    workdir = Path(tempfile.mkdtemp(prefix="clair-kg-paired-"))
    try:
        release = prepare_release(Project(ROOT), validate=False)
        (workdir / "graph.nq").write_bytes(release.nquads)
        with Servers(workdir) as started:
            servers = {
                "ours": started.start_ours(ROOT, workers=args.workers),
                "base": started.start_ours(ROOT, workers=args.workers, name="base",
                                           env_overrides={"PYTHONPATH": str(args.baseline_src.resolve())}),
            }
            answers = verify(list(servers.values()), {}, (args.mix,))
            if answers["ours"] != answers["base"]:
                print(f"bench.paired: the two answer differently: {answers}")
                return 1
            for server in servers.values():
                warm_up(server, QUERIES)
            _round(wrk, servers, argparse.Namespace(**{**vars(args), "duration": 2.0}), 0, workdir)
            totals: dict[str, list[tuple[float, float, float | None]]] = {name: [] for name in servers}
            for run in range(1, args.rounds + 1):
                time.sleep(1.0)
                load = os.getloadavg()[0]
                got = _round(wrk, servers, args, run, workdir)
                cells = []
                for name, (result, cpu) in got.items():
                    totals[name].append((result.rps, result.p99_ms, cpu))
                    cells.append(f"{name}: {result.rps:7.1f} req/s, p99 {result.p99_ms:7.1f} ms, "
                                 f"{'?' if cpu is None else f'{cpu:.0f}'} CPU us/request")
                print(f"round {run} (load {load:.2f}): " + " | ".join(cells), flush=True)

            def mean(name: str, index: int) -> float:
                values = [float(v) for row in totals[name] if (v := row[index]) is not None]
                return sum(values) / len(values) if values else float("nan")

            for name in servers:
                print(f"mean {name}: {mean(name, 0):.1f} req/s, p99 {mean(name, 1):.1f} ms, "
                      f"{mean(name, 2):.0f} CPU us/request")
            print(f"ours / base: req/s {mean('ours', 0) / mean('base', 0):.2f}, "
                  f"p99 {mean('ours', 1) / mean('base', 1):.2f}, "
                  f"CPU per request {mean('ours', 2) / mean('base', 2):.2f}")
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
