"""Tested docs: every command in the README's ``sh`` blocks runs, as pasted, from the project folder
(issue 9, item 1: the README's first query had rotted).

Each line of a ```sh block is one command; it runs with ``bash -c`` exactly as written (bash drops
the trailing comment). Commands that serve are started, checked to answer, and stopped.
``make test`` is the one exception: it runs this very suite (lint, typecheck, pytest), so running
it from inside the suite would recurse without end; instead the test checks that the target exists
and that it runs ruff, mypy and this suite.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def readme_commands() -> list[str]:
    commands, inside = [], False
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("```"):
            inside = line.strip() == "```sh" if not inside else False
            continue
        if inside and line.strip():
            commands.append(line.strip())
    return commands


COMMANDS = readme_commands()
SERVING = {c for c in COMMANDS if re.match(r"(make serve|\S*clair-kg serve)\b", c)}
SUITE = {c for c in COMMANDS if re.match(r"make test\b", c)}
ONE_SHOT = [c for c in COMMANDS if c not in SERVING | SUITE]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_readme_has_the_commands_this_file_knows() -> None:
    assert len(COMMANDS) >= 7
    assert SERVING and SUITE and ONE_SHOT
    assert any("clair-kg query" in c and "rdfs:label" in c for c in ONE_SHOT)


@pytest.mark.parametrize("command", ONE_SHOT)
def test_readme_command_runs(command: str) -> None:
    done = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{command}\n{done.stderr[-2000:]}"
    assert done.stdout.strip(), command  # each one prints a report or a result


@pytest.mark.parametrize("command", sorted(SERVING))
def test_readme_serve_command_answers(command: str) -> None:
    """Started on a free port (``make serve PORT=…``; 8000 may be taken on a shared machine), asked
    for /health and a query, then stopped with SIGINT like Ctrl-C."""
    port = _free_port()
    env = {**os.environ, "PORT": str(port)}
    line = command.split("#", 1)[0].strip()
    run = f"{line} PORT={port}" if line.startswith("make ") else f"{line} --host 127.0.0.1 --port {port}"
    proc = subprocess.Popen(["bash", "-c", f"exec {run}"], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not answer within 180 s"
            time.sleep(0.5)
        answer = httpx.get(base + "/sparql", params={"query": "ASK { ?s rdfs:label ?o }"},
                           headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert answer.status_code == 200 and answer.json()["boolean"] is True
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_make_test_runs_lint_typecheck_and_this_suite() -> None:
    """``make test`` cannot run here (it would run this suite again, recursively); check its recipe."""
    assert SUITE == {c for c in COMMANDS if c.startswith("make test")}
    dry = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    assert "ruff check clair_kg tests" in dry.stdout
    assert ".venv/bin/mypy" in dry.stdout
    assert re.search(r"\.venv/bin/pytest\b", dry.stdout)
    assert "npm ci --prefix tests/js" in dry.stdout or (ROOT / "tests/js/node_modules/.installed-stamp").exists()
