"""Start the servers under test on loopback ports, wait until they answer, and always stop them.

Each server runs in its own session (process group), so stopping it also stops the worker
processes it forked (uvicorn workers, query workers). :class:`Servers` is a context manager whose
exit stops every group it started, also on Ctrl-C or an error.
"""

from __future__ import annotations

__all__ = ["Memory", "Server", "ServerFailed", "Servers", "free_port", "tree_memory", "tree_pids"]

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

from clair_kg.errors import ClairKgError
from clair_kg.store import RemoteStore

from .queries import QUERIES


@dataclass(frozen=True)
class Memory:
    """Memory of a process tree, in bytes: the sum of each process's PSS and of its RSS.

    PSS (proportional set size, ``/proc/PID/smaps_rollup``) divides each shared page between the
    processes that map it, so the PSS sum is what the tree really costs the machine; the RSS sum
    counts a page shared copy-on-write by N processes N times.
    """

    pss: int
    rss: int
    processes: int


def proc_stats() -> list[tuple[int, list[bytes]]]:
    """Every process's ``/proc/PID/stat`` fields after the command name (state first), Linux only;
    empty where there is no ``/proc``. Processes that end while being read are left out."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    out: list[tuple[int, list[bytes]]] = []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                out.append((int(entry), f.read().rsplit(b")", 1)[1].split()))
        except (OSError, IndexError):
            continue
    return out


def tree_pids(root: int) -> list[int]:
    """``root`` and every live process descended from it or in its process group (Linux ``/proc``)."""
    parents: dict[int, int] = {}
    groups: dict[int, int] = {}
    for pid, fields in proc_stats():
        if fields[0] == b"Z":  # a zombie holds no memory
            continue
        parents[pid] = int(fields[1])
        groups[pid] = int(fields[2])
    found = {pid for pid, group in groups.items() if group == root}
    if root in parents:
        found.add(root)
    grew = True
    while grew:  # children of what is found (a process may have left the group with setsid)
        new = {pid for pid, parent in parents.items() if parent in found and pid not in found}
        found |= new
        grew = bool(new)
    return sorted(found)


def tree_memory(root: int) -> Memory:
    """PSS and RSS summed over :func:`tree_pids` of ``root``."""
    pss = rss = count = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                text = f.read()
        except OSError:
            continue
        values = {}
        for line in text.splitlines():
            key, _, rest = line.partition(":")
            if key in ("Pss", "Rss"):
                values[key] = int(rest.split()[0]) * 1024
        if values:
            pss += values.get("Pss", 0)
            rss += values.get("Rss", 0)
            count += 1
    return Memory(pss, rss, count)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _venv_tool(name: str) -> str | None:
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


@dataclass
class Server:
    name: str
    base: str  # http://127.0.0.1:PORT
    query_path: str  # /sparql or /query
    proc: subprocess.Popen[bytes]
    log: Path
    notes: list[str] = field(default_factory=list)

    @property
    def query_url(self) -> str:
        return self.base + self.query_path

    def alive(self) -> bool:
        return self.proc.poll() is None

    def connections_per_process(self) -> dict[str, int]:
        """Established client connections per server process (pid), from ``ss``; {} if unavailable.

        Several HTTP worker processes share one listening socket and the kernel does not balance
        accepts: 16 connections opened at once may all land in one process.
        """
        ss = shutil.which("ss")
        if ss is None:
            return {}
        port = self.base.rsplit(":", 1)[1]
        try:
            out = subprocess.run([ss, "-tnpH", "state", "established", f"( sport = :{port} )"],
                                 capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.TimeoutExpired):
            return {}
        counts: dict[str, int] = {}
        for line in out.splitlines():
            for pid in set(re.findall(r"pid=(\d+)", line)):  # a socket may be listed once per fd
                counts[pid] = counts.get(pid, 0) + 1
        return counts

    def cpu_seconds(self) -> float | None:
        """User + system CPU seconds of every live process in this server's process group, plus what
        its children that have ended used (Linux ``/proc``), or None elsewhere. The difference over a
        run, per request, is what a request costs the machine, which a shared machine's noise moves
        much less than req/s.

        The ended children count because clair-kg replaces query workers while it serves (a worker
        stopped at the time limit, or recycled once it has copied too much of the shared store): a
        reaped process leaves ``/proc``, and its CPU time moves into its parent's ``cutime``/``cstime``.
        """
        ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        total = 0.0
        if not os.path.isdir("/proc"):
            return None
        for _pid, fields in proc_stats():
            if len(fields) > 14 and int(fields[2]) == self.proc.pid:  # field 5 of stat: the process group
                # fields 14-17 of stat: utime, stime, and the waited-for children's cutime, cstime
                total += sum(int(f) for f in fields[11:15]) / ticks
        return total

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(line[:300] for line in text.splitlines()[-lines:])


class ServerFailed(RuntimeError):
    pass


class Servers:
    """Owns every server process the bench starts."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._started: list[Server] = []

    @property
    def started(self) -> tuple[Server, ...]:
        """Every server started so far (stopped ones too)."""
        return tuple(self._started)

    def __enter__(self) -> Servers:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_all()

    # --- lifecycle -----------------------------------------------------------------------------

    def _spawn(
        self, name: str, argv: list[str], env: dict[str, str] | None = None
    ) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=env, start_new_session=True, cwd=self.workdir,
            )
        return proc, log

    def stop(self, server: Server) -> None:
        if server.proc.poll() is not None:
            return
        try:
            os.killpg(server.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            server.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(server.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            server.proc.wait(timeout=10)
        # workers left in the group after the leader exited
        try:
            os.killpg(server.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def stop_all(self) -> None:
        for server in reversed(self._started):
            self.stop(server)

    def _wait(self, server: Server, probe: str, timeout: float, *, any_status: bool = False) -> None:
        """Bounded wait until ``probe`` (a URL) answers 2xx (or anything, with ``any_status``)."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while True:
                if not server.alive():
                    raise ServerFailed(
                        f"{server.name} exited with {server.proc.returncode}:\n{server.log_tail()}"
                    )
                try:
                    response = client.get(probe)
                    if response.is_success or any_status:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise ServerFailed(f"{server.name} did not answer within {timeout:.0f} s:\n{server.log_tail()}")
                time.sleep(0.2)

    # --- the three servers ---------------------------------------------------------------------

    def start_ours(self, project_root: Path, *, workers: int, name: str = "ours",
                   env_overrides: dict[str, str] | None = None, timeout: float = 180.0,
                   extra_args: tuple[str, ...] = ()) -> Server:
        """``clair-kg serve --workers N`` (plus ``extra_args``, e.g. ``--load FILE=IRI``), healthy."""
        port = free_port()
        cli = _venv_tool("clair-kg")
        argv = [cli] if cli else [sys.executable, "-m", "clair_kg"]
        argv += ["--project", str(project_root), "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--workers", str(workers), *extra_args]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIR_KG_")}
        env.update(env_overrides or {})
        proc, log = self._spawn(name, argv, env)
        notes = [" ".join(["clair-kg serve --workers", str(workers), *extra_args])]
        notes += [f"{k}={v}" for k, v in (env_overrides or {}).items()]
        server = Server(name, f"http://127.0.0.1:{port}", "/sparql", proc, log, notes=notes)
        self._started.append(server)
        self._wait(server, server.base + "/health", timeout)
        return server

    def start_oxigraph(self, nquads: Path | bytes, *, timeout: float = 60.0, load_timeout: float = 60.0,
                       union_default_graph: bool = False) -> Server:
        """``oxigraph serve`` in memory, loaded with ``nquads`` (a file, or its bytes).

        By default it is loaded the way clair-kg loads a remote store (the source graphs and their
        set-merge as the real default graph), so both servers hold the same dataset. With
        ``union_default_graph`` it is started the plain way (``--union-default-graph``) and the N-Quads
        are one Graph Store ``POST``: what a user of oxigraph alone would do, the fair peer of a start time.
        """
        cli = _venv_tool("oxigraph")
        if cli is None:
            raise ServerFailed("the `oxigraph` CLI is missing: pip install -e '.[dev]'")
        port = free_port()
        data = nquads if isinstance(nquads, bytes) else nquads.read_bytes()
        name = "oxigraph-union" if union_default_graph else "oxigraph"
        argv = [cli, "serve", "--bind", f"127.0.0.1:{port}"]
        if union_default_graph:
            argv.append("--union-default-graph")
        proc, log = self._spawn(name, argv)
        note = ("oxigraph serve --union-default-graph (in memory; POST /store)" if union_default_graph else
                "oxigraph serve (in memory; source graphs + their merge as default graph, POST /store)")
        server = Server(name, f"http://127.0.0.1:{port}", "/query", proc, log, notes=[note])
        self._started.append(server)
        self._wait(server, server.query_url + "?query=ASK%7B%7D", timeout)
        if union_default_graph:
            try:
                with httpx.Client(timeout=load_timeout) as client:
                    response = client.post(server.base + "/store", content=data,
                                           headers={"Content-Type": "application/n-quads"})
            except httpx.HTTPError as exc:
                raise ServerFailed(f"loading oxigraph failed: {exc}") from exc
            if not response.is_success:
                raise ServerFailed(f"loading oxigraph failed: {response.status_code} {response.text[:300]}")
            return server
        store = RemoteStore(server.query_url, data_url=server.base + "/store", timeout=load_timeout)
        try:
            store.load_nquads(data)
        except ClairKgError as exc:
            raise ServerFailed(f"loading oxigraph failed: {exc.message}") from exc
        finally:
            store.close()
        return server

    def start_rdflib_endpoint(self, nquads: Path, *, timeout: float = 120.0) -> Server:
        cli = _venv_tool("rdflib-endpoint")
        if cli is None:
            raise ServerFailed("the `rdflib-endpoint` CLI is missing: pip install -e '.[dev]'")
        port = free_port()
        # `rdflib-endpoint serve` loads the files into a Dataset(default_union=True).
        proc, log = self._spawn(
            "rdflib-endpoint", [cli, "serve", str(nquads), "--host", "127.0.0.1", "--port", str(port)]
        )
        # SparqlEndpoint's path defaults to "/" (the CLI's help text says /sparql, but the app serves /).
        server = Server("rdflib-endpoint", f"http://127.0.0.1:{port}", "/", proc, log,
                        notes=["rdflib-endpoint serve graph.nq (rdflib Dataset, default_union=True)"])
        self._started.append(server)
        probe = httpx.URL(server.query_url, params={"query": QUERIES[-1].text})
        self._wait(server, str(probe), timeout, any_status=True)  # it listens only once loaded
        return server

