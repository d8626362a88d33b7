"""Shared fixtures: the real built graph in a real pyoxigraph store, and the app over it."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyoxigraph
import pytest
from fastapi.testclient import TestClient

from clair_kg.project import Project
from clair_kg.publish import Distribution
from clair_kg.release import Release, prepare_release, publish_release
from clair_kg.runtime import Runtime, build_runtime
from clair_kg.settings import Settings
from clair_kg.store import EmbeddedStore, RemoteStore, Store
from clair_kg.web import create_app
from clair_kg.web.app import FrontDoor

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROJECT_BASE = Project(PROJECT_ROOT).base_iri


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def project() -> Project:
    return Project(PROJECT_ROOT)


@pytest.fixture()
def project_copy(tmp_path: Path, project_root: Path) -> Project:
    """A copy of the project's ontology, data and queries to change freely (what a maintainer edits)."""
    root = tmp_path / "clone"
    for folder in ("ontology", "data", "queries"):
        shutil.copytree(project_root / folder, root / folder)
    return Project(root)


@pytest.fixture(scope="session")
def release(project: Project) -> Release:
    """The real graph, parsed but not validated (validation has its own tests)."""
    return prepare_release(project, validate=False)


@pytest.fixture(scope="session")
def distribution(release: Release, project: Project) -> Distribution:
    """The release's published files, as `clair-kg build` and `clair-kg serve` make them."""
    return publish_release(release, project)


@pytest.fixture(scope="session")
def embedded_store(release: Release, project: Project) -> EmbeddedStore:
    store = EmbeddedStore(base_iri=project.base_iri)
    store.load_nquads(release.nquads)
    return store


@pytest.fixture(scope="session")
def kg_store(embedded_store: EmbeddedStore) -> pyoxigraph.Store:
    return embedded_store.inner


def _plain(term: object) -> str:
    return str(getattr(term, "value", term))


@pytest.fixture(scope="session")
def kg_select(kg_store: pyoxigraph.Store) -> Callable[[str], list[dict[str, str]]]:
    """Run a SELECT over the default graph (the merge of the source graphs); rows of plain values."""

    def select(query: str) -> list[dict[str, str]]:
        solutions = kg_store.query(query)
        assert isinstance(solutions, pyoxigraph.QuerySolutions), "kg_select needs a SELECT query"
        names = [v.value for v in solutions.variables]
        return [{n: _plain(s[n]) for n in names if s[n] is not None} for s in solutions]

    return select


@pytest.fixture(scope="session")
def kg_ask(kg_store: pyoxigraph.Store) -> Callable[[str], bool]:
    def ask(query: str) -> bool:
        result = kg_store.query(query)
        assert isinstance(result, pyoxigraph.QueryBoolean), "kg_ask needs an ASK query"
        return bool(result)

    return ask


@pytest.fixture(scope="session")
def settings(project: Project) -> Settings:
    return Settings(project_root=project.root, query_timeout=5.0, query_workers=1)


@pytest.fixture(scope="session")
def runtime(settings: Settings, embedded_store: EmbeddedStore, distribution: Distribution) -> Runtime:
    """What `clair-kg serve` builds for each web process, over the session's store."""
    return build_runtime(settings, embedded_store, distribution)


@pytest.fixture(autouse=True)
def _no_language_cookie_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    """The shared client keeps cookies; a reader's language choice in one test must not reach the next."""
    yield
    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies.clear()


def app_for(settings: Settings, store: Store, distribution: Distribution) -> FrontDoor:
    """The app ``clair-kg serve`` would build for ``store`` with these settings."""
    return create_app(build_runtime(settings, store, distribution))


@pytest.fixture(scope="session")
def client(runtime: Runtime) -> Iterator[TestClient]:
    """HTTP through the real ASGI app (the same factory `clair-kg serve` runs) over the real store."""
    with TestClient(create_app(runtime), base_url="http://testserver") as test_client:
        yield test_client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _oxigraph_cli() -> str:
    beside_python = Path(sys.executable).with_name("oxigraph")
    found = str(beside_python) if beside_python.exists() else shutil.which("oxigraph")
    if found is None:
        pytest.fail("the `oxigraph` CLI is missing: install the dev extra (pip install -e '.[dev]')")
    return found


def wait_for_sparql(proc: subprocess.Popen[bytes], query_url: str, what: str, log: Path, *, timeout: float,
                    interval: float = 0.1, request_timeout: float = 1.0) -> None:
    """Wait until the server ``proc`` runs answers ``ASK {}`` at ``query_url``; fail the test, naming
    ``log``, if it exits first or is still silent after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}; see {log}")
        try:
            if httpx.get(query_url, params={"query": "ASK {}"}, timeout=request_timeout).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not answer within {timeout:g} s; see {log}")
        time.sleep(interval)


@contextmanager
def oxigraph_serve(location: Path, *, union_default_graph: bool) -> Iterator[str]:
    """Run a real ``oxigraph serve`` on a free loopback port; yields its base URL."""
    log_path = location.parent / f"{location.name}-oxigraph.log"
    port = free_port()
    args = [_oxigraph_cli(), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"]
    if union_default_graph:
        args.append("--union-default-graph")
    with log_path.open("wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_sparql(proc, base + "/query", "oxigraph serve", log_path, timeout=30)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``oxigraph serve`` serving its real default graph (which loading fills with the merge)."""
    with oxigraph_serve(tmp_path_factory.mktemp("oxigraph-store"), union_default_graph=False) as base:
        yield base


@pytest.fixture(scope="session")
def remote_store(oxigraph_server: str, release: Release) -> Iterator[RemoteStore]:
    """The real graph in a real ``oxigraph serve``, behind :class:`RemoteStore`."""
    store = RemoteStore(oxigraph_server + "/query", data_url=oxigraph_server + "/store", base_iri=PROJECT_BASE)
    store.load_nquads(release.nquads)
    yield store
    store.close()


# --- Virtuoso: a second real triplestore ------------------------------------------------------------
# A private instance per session (Debian's virtuoso-opensource, installed by `make system-deps`): its own
# virtuoso.ini, database and logs in a tmp folder, both ports free ones on 127.0.0.1, a fresh dba
# password; never the system instance. Started on first use, stopped (and waited for) at session end.

VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
MaxClientConnections = 8
CheckpointInterval = 0
CaseMode = 2
DirsAllowed = {dir}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ThreadsPerQuery = 2
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
MaxClientConnections = 8
ServerThreads = 8
Charset = UTF-8
EnabledGzipContent = 0
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
"""


@dataclass(frozen=True)
class VirtuosoServer:
    base: str
    password: str

    @property
    def query_url(self) -> str:
        return self.base + "/sparql"

    @property
    def data_url(self) -> str:
        """The authenticated Graph Store endpoint, credentials in the URL (digest auth)."""
        return self.base.replace("http://", f"http://dba:{self.password}@") + "/sparql-graph-crud-auth"


@contextmanager
def virtuoso_serve(folder: Path) -> Iterator[VirtuosoServer]:
    """Run a private ``virtuoso-t`` on free loopback ports with its files in ``folder``."""
    binary, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if binary is None or isql is None:
        pytest.fail("Virtuoso is missing: run `make system-deps` (Debian's virtuoso-opensource)")
    sql_port, http_port = free_port(), free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(dir=folder, sql_port=sql_port, http_port=http_port), encoding="utf-8")
    base = f"http://127.0.0.1:{http_port}"
    log = folder / "virtuoso.log"
    with (folder / "stdout.log").open("wb") as out:
        proc = subprocess.Popen([binary, "-f", "-c", str(ini)], cwd=folder, stdout=out, stderr=subprocess.STDOUT)
    try:
        # a fresh database builds its system tables first (~10-20 s)
        wait_for_sparql(proc, base + "/sparql", "Virtuoso", log, timeout=120, interval=0.2, request_timeout=2)
        # a new database's dba password is "dba": change it (a letter first, or isql reads a number)
        password = "kg" + secrets.token_hex(12)
        subprocess.run([isql, f"127.0.0.1:{sql_port}", "dba", "dba", f"EXEC=SET PASSWORD dba {password};"],
                       check=True, capture_output=True, timeout=30)
        yield VirtuosoServer(base, password)
    finally:
        proc.terminate()  # Virtuoso checkpoints and exits on SIGTERM
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        for database in folder.glob("*.db"):  # 50 MB each; pytest keeps the last runs' folders (logs stay)
            database.unlink()


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtuosoServer]:
    with virtuoso_serve(tmp_path_factory.mktemp("virtuoso")) as server:
        yield server


@pytest.fixture(scope="session")
def virtuoso_store(virtuoso_server: VirtuosoServer, release: Release) -> Iterator[RemoteStore]:
    """The real graph in a real Virtuoso, behind :class:`RemoteStore` (its dialect found by probing)."""
    store = RemoteStore(virtuoso_server.query_url, data_url=virtuoso_server.data_url, base_iri=PROJECT_BASE)
    store.load_nquads(release.nquads, replace=True)
    yield store
    store.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the shared live server, whichever module started it (no process outlives the suite)."""
    live = sys.modules.get("test_sparql_live")
    if live is not None:
        live.stop_shared_server()
