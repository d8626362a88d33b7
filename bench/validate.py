"""``clair-kg validate`` at scale: time and peak memory, cold and after a one-file change.

``python -m bench.validate --size 1000000`` builds a project in a temporary folder — a copy of this
project's ontology, shapes, check queries and data, plus the deterministic synthetic graph
(:mod:`bench.synthetic`) as ``data/synthetic/part-NN.ttl`` — and runs ``clair-kg validate`` on it
under ``/usr/bin/time -v``, each run in a fresh process:

1. **cold**: no release cache, the whole graph is validated;
2. **curated file changed**: one statement added at the end of ``data/clair-offices-en/offices.ttl``;
3. **synthetic part changed**: one organisation's English label changed in one part;
4. **planted error**: one country's type changed in one part, so its forty cities (described after
   it, some in the next part) violate ``CityShape``'s ``sh:class`` — each finding names its file and line;
5. **shapes changed**: a comment added to a shapes file, so the whole graph is validated again.

Runs 2–5 are never cache hits (the data or the shapes changed); they validate again only the focus
nodes the change can affect (:mod:`clair_kg.validate_scope`). ``--compare`` also validates each
changed project from scratch (``CLAIR_KG_NO_CACHE=1``) and checks that the reports are identical.
``--pyshacl-cold N`` first validates the project cold N times with pyshacl and N times with
:mod:`clair_kg.shacl`, alternating, and checks that their reports are identical; and validates the
planted error from scratch with pyshacl too, whose report (40 findings, located) must be the same.
Prints one row per run: wall time, CPU time (user + system), peak resident memory (max RSS), exit
status, the verdict.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import synthetic

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Run:
    name: str
    seconds: float
    max_rss_mb: float
    status: int
    verdict: str
    report: str
    cpu_seconds: float = float("nan")  # user + system: what the run costs whatever the machine's load


def make_project(folder: Path, size: int, parts: int) -> int:
    """A copy of this project plus the synthetic graph in ``parts`` files; returns its statements."""
    for part in ("ontology", "data", "queries"):
        shutil.copytree(ROOT / part, folder / part)
    text = io.StringIO()
    statements = synthetic.write_turtle(text, size)
    blocks = text.getvalue().split(" .\n")
    per_part = -(-len(blocks) // parts)
    target = folder / "data" / "synthetic"
    target.mkdir(parents=True)
    for n in range(parts):
        chunk = [b for b in blocks[n * per_part:(n + 1) * per_part] if b.strip()]
        (target / f"part-{n:02d}.ttl").write_text("".join(b + " .\n" for b in chunk), encoding="utf-8")
    return statements


def validate(project: Path, name: str, *, no_cache: bool = False, engine: str | None = None) -> Run:
    env = dict(os.environ)
    env.pop("CLAIR_KG_PROJECT", None)
    env.pop("CLAIR_KG_SHACL_ENGINE", None)
    if engine:
        env["CLAIR_KG_SHACL_ENGINE"] = engine
    if no_cache:
        env["CLAIR_KG_NO_CACHE"] = "1"
    else:
        env.pop("CLAIR_KG_NO_CACHE", None)
    command = ["/usr/bin/time", "-v", sys.executable, "-m", "clair_kg.cli", "--project", str(project),
               "validate", "--format", "json"]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - started
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    text = subprocess.run([sys.executable, "-c", "import json,sys; r=json.load(sys.stdin); "
                           "print(('conforms' if r['conforms'] else 'does NOT conform: %d finding(s)' "
                           "% len(r['findings'])) + ', %d statements' % r['triples'])"],
                          input=done.stdout, capture_output=True, text=True).stdout.strip() if done.stdout else ""
    error = done.stderr.split("\tCommand being timed")[0].strip().splitlines()
    cpu = [float(m) for m in re.findall(r"(?:User|System) time \(seconds\): ([0-9.]+)", done.stderr)]
    return Run(name, seconds, int(rss.group(1)) / 1024 if rss else float("nan"), done.returncode,
               text or (error[-1] if error else "no output"), done.stdout, sum(cpu) if cpu else float("nan"))


def _edit(path: Path, old: str, new: str) -> None:
    body = path.read_text(encoding="utf-8")
    if old not in body:
        raise SystemExit(f"{path}: {old!r} not found")
    path.write_text(body.replace(old, new, 1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.validate", description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="synthetic statements (at least)")
    parser.add_argument("--parts", type=int, default=10, help="files the synthetic graph is split into")
    parser.add_argument("--compare", action="store_true",
                        help="also validate each changed project from scratch and compare the reports")
    parser.add_argument("--skip-shapes", action="store_true", help="leave out the shapes-changed run")
    parser.add_argument("--workdir", type=Path, help="where to build the project (default: a temporary folder)")
    parser.add_argument("--save", type=Path, help="write each run's JSON report into this folder")
    parser.add_argument("--pyshacl-cold", type=int, default=0, metavar="N",
                        help="first run N cold validations with pyshacl (CLAIR_KG_SHACL_ENGINE=pyshacl) and N with "
                             "clair_kg.shacl, alternating (ABAB), and check their reports are identical")
    parser.add_argument("--final-from-scratch", action="store_true",
                        help="make every change first, then validate once from scratch (to compare with "
                             "a --save'd planted-error report, from another process)")
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="clair-kg-validate-"))
    project = work / "project"
    if project.exists():
        shutil.rmtree(project)
    statements = make_project(project, args.size, args.parts)
    print(f"project: {project} ({statements:,} synthetic statements in {args.parts} files); "
          f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}", flush=True)
    runs: list[Run] = []
    mismatches: list[str] = []

    def step(name: str) -> None:
        if args.final_from_scratch:
            return
        run = validate(project, name)
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            (args.save / (re.sub(r"[^a-z0-9]+", "-", name).strip("-") + ".json")).write_text(run.report)
        runs.append(run)
        print(f"  {name}: {run.seconds:.1f} s ({run.cpu_seconds:.1f} s CPU), {run.max_rss_mb:,.0f} MB, "
              f"exit {run.status}, {run.verdict}; load average {os.getloadavg()[0]:.2f}", flush=True)
        if args.compare and name != "cold":
            from_scratch(run, name, "from scratch", engine=None)
        if args.pyshacl_cold and name.startswith("planted"):  # findings to compare, not only "conforms"
            from_scratch(run, name, "from scratch, pyshacl", engine="pyshacl")

    def from_scratch(run: Run, name: str, how: str, *, engine: str | None) -> None:
        """``name`` validated again with no cache (and ``engine``); its report must equal ``run``'s."""
        whole = validate(project, f"{name} ({how})", no_cache=True, engine=engine)
        runs.append(whole)
        same = whole.report == run.report
        print(f"  {whole.name}: {whole.seconds:.1f} s ({whole.cpu_seconds:.1f} s CPU), {whole.max_rss_mb:,.0f} MB, "
              f"exit {whole.status}, {whole.verdict}; report identical: {same}", flush=True)
        if not same:
            mismatches.append(name if engine is None else f"{name} ({engine})")

    for n in range(args.pyshacl_cold):
        for engine in ("pyshacl", "clair_kg.shacl"):
            run = validate(project, f"cold, {engine} ({n + 1})", no_cache=True,
                           engine="pyshacl" if engine == "pyshacl" else None)
            runs.append(run)
            print(f"  {run.name}: {run.seconds:.1f} s ({run.cpu_seconds:.1f} s CPU), {run.max_rss_mb:,.0f} MB, "
                  f"exit {run.status}, {run.verdict}; load average {os.getloadavg()[0]:.2f}", flush=True)
        if runs[-1].report != runs[-2].report:
            mismatches.append(f"cold, pyshacl and clair_kg.shacl ({n + 1})")
    step("cold")
    offices = project / "data" / "clair-offices-en" / "offices.ttl"
    offices.write_text(offices.read_text(encoding="utf-8") + '\n<office/london> skos:altLabel "JLGC London"@en .\n',
                       encoding="utf-8")
    step("curated file changed")
    part = project / "data" / "synthetic" / "part-03.ttl"
    label = re.search(r'<http://www.w3.org/2000/01/rdf-schema#label> "([^"]+)"@en', part.read_text(encoding="utf-8"))
    assert label is not None
    _edit(part, f'"{label.group(1)}"@en', f'"{label.group(1)} Renamed"@en')
    step("synthetic part changed")
    country_type = re.compile(r"(<https://w3id.org/clair-kg/id/place/country-\d+>) "
                              r"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://schema.org/Country>")
    # part-03 holds countries from 10^5 statements up; at smaller sizes they are in an earlier part
    parts = project / "data" / "synthetic"
    for part in [parts / "part-03.ttl", *sorted(parts.glob("part-*.ttl"))]:
        if country := country_type.search(part.read_text(encoding="utf-8")):
            break
    assert country is not None, "the synthetic graph has no country"
    _edit(part, country.group(0), f"{country.group(1)} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
          "<https://schema.org/Place>")
    step("planted error (a country's type)")
    if args.final_from_scratch:
        run = validate(project, "planted error, from scratch", no_cache=True)
        runs.append(run)
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            (args.save / "planted-error-from-scratch.json").write_text(run.report)
        args.skip_shapes = True
    if not args.skip_shapes:
        shapes = project / "ontology" / "shapes" / "places.ttl"
        shapes.write_text(shapes.read_text(encoding="utf-8") + "\n# a comment changes the bytes\n", encoding="utf-8")
        step("shapes changed")
    print("\n| run | time | CPU time | peak RSS | verdict |\n|---|---|---|---|---|")
    for run in runs:
        print(f"| {run.name} | {run.seconds:.1f} s | {run.cpu_seconds:.1f} s | {run.max_rss_mb:,.0f} MB | "
              f"{run.verdict} |")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    if mismatches:
        print(f"REPORTS DIFFER for: {', '.join(mismatches)}")
        return 1
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
