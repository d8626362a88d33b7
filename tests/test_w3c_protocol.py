"""The W3C SPARQL 1.1 Protocol and Service Description tests, run against a live ``clair-kg serve``.

The manifests (``tests/w3c/``, a copy of w3c/rdf-tests) describe raw HTTP requests and the
expected responses. Each request is sent as written (path, method, headers, body in its declared
character encoding) with :mod:`http.client`, so no client library adds an ``Accept`` or a media
type the test did not ask for. The endpoint is read-only: the 20 query tests must pass as the
manifest says, and every update request of the 14 update tests must get a 4xx (never 5xx); the
queries that follow an update in those tests must still be answered (2xx).
"""

from __future__ import annotations

import http.client
import io
import json
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node
from test_sparql_live import PROTOCOL_MANIFEST, W3C, LiveServer, shared_server, stop_shared_server

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
SD_MANIFEST = W3C / "service-description" / "manifest.ttl"

RESULT_TYPES = {"application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values"}
RDF_TYPES = {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml",
             "application/ld+json": "json-ld"}


@dataclass(frozen=True)
class W3CRequest:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    statuses: frozenset[str]  # "2xx", "3xx", "4xx"
    result_format: str | None  # "boolean", "tabular", "RDF"
    boolean: bool | None

    @property
    def expects_results(self) -> bool:
        return self.result_format is not None


@dataclass(frozen=True)
class W3CTest:
    iri: str
    name: str
    requests: tuple[W3CRequest, ...]

    @property
    def is_update_test(self) -> bool:
        local = self.iri.rsplit("#", 1)[-1]
        return local.startswith(("update_", "bad_update")) or local == "bad_multiple_updates"


def _list(graph: Graph, head: Node | None) -> list[Node]:
    return list(Collection(graph, head)) if head is not None else []


def _load_tests() -> list[W3CTest]:
    graph = Graph().parse(PROTOCOL_MANIFEST, publicID=PROTOCOL_MANIFEST.as_uri())
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    tests = []
    for entry in _list(graph, graph.value(manifest, MF.entries)):
        assert (entry, RDF.type, MF.ProtocolTest) in graph
        action = graph.value(entry, MF.action)
        requests = []
        for req in _list(graph, graph.value(action, HT.requests)):
            headers = tuple(
                (str(graph.value(h, HT.fieldName)).lower(), str(graph.value(h, HT.fieldValue)))
                for h in _list(graph, graph.value(req, HT.headers))
            )
            body_node = graph.value(req, HT.body)
            body = None
            if body_node is not None:
                encoding = str(graph.value(body_node, CNT.characterEncoding) or "UTF-8")
                body = str(graph.value(body_node, CNT.chars)).encode(encoding.lower())
            resp = graph.value(req, HT.resp)
            statuses = frozenset(str(s).rsplit("StatusCode", 1)[-1] for s in graph.objects(resp, MF.expectedStatus))
            fmt = graph.value(resp, MF.expectedFormat)
            boolean = graph.value(resp, MF.expectedBoolean)
            requests.append(W3CRequest(
                method=str(graph.value(req, HT.methodName)),
                path=str(graph.value(req, HT.absolutePath)),
                headers=headers,
                body=body,
                statuses=statuses,
                result_format=str(fmt) if fmt is not None else None,
                boolean=boolean.toPython() if isinstance(boolean, Literal) else None,
            ))
        tests.append(W3CTest(str(entry), str(graph.value(entry, MF.name)), tuple(requests)))
    return tests


TESTS = _load_tests()


def test_the_manifest_has_20_query_and_14_update_tests() -> None:
    assert sum(not t.is_update_test for t in TESTS) == 20
    assert sum(t.is_update_test for t in TESTS) == 14


@pytest.fixture(scope="session")
def server(request: pytest.FixtureRequest) -> LiveServer:
    request.addfinalizer(stop_shared_server)  # runs at session end if no other module still needs it
    return shared_server()


def _send(server: LiveServer, req: W3CRequest) -> tuple[int, str, bytes]:
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        conn.putrequest(req.method, req.path, skip_accept_encoding=True)
        for name, value in req.headers:
            conn.putheader(name, value)
        if req.body is not None:
            conn.putheader("Content-Length", str(len(req.body)))
        conn.endheaders(req.body)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        conn.close()


def _boolean(media: str, body: bytes) -> bool:
    if media == "application/sparql-results+json":
        value = json.loads(body)["boolean"]
        assert isinstance(value, bool)
        return value
    assert media == "application/sparql-results+xml", media
    root = ElementTree.fromstring(body)
    element = root.find("{http://www.w3.org/2005/sparql-results#}boolean")
    assert element is not None and element.text in ("true", "false")
    return element.text == "true"


def _check_format(req: W3CRequest, content_type: str, body: bytes) -> None:
    media = content_type.split(";")[0].strip()
    if req.result_format == "boolean":
        value = _boolean(media, body)
        if req.boolean is not None:
            assert value is req.boolean
    elif req.result_format == "tabular":
        assert media in RESULT_TYPES
        if media == "application/sparql-results+json":
            assert "bindings" in json.loads(body)["results"]
    elif req.result_format == "RDF":
        assert media in RDF_TYPES, media
        Graph().parse(io.BytesIO(body), format=RDF_TYPES[media])


@pytest.mark.parametrize("test", TESTS, ids=[t.iri.rsplit("#", 1)[-1] for t in TESTS])
def test_protocol(test: W3CTest, server: LiveServer) -> None:
    for req in test.requests:
        status, content_type, body = _send(server, req)
        assert status < 500, f"{req.method} {req.path}: {status} {body[:300]!r}"
        if test.is_update_test and not req.expects_results:
            assert 400 <= status < 500, f"update got {status}: {body[:300]!r}"
            continue
        if test.is_update_test:
            # the query after a refused update: answered, but the update did not happen
            assert 200 <= status < 300, body[:300]
            continue
        assert f"{status // 100}xx" in req.statuses, f"{status}: {body[:300]!r}"
        if 200 <= status < 300:
            _check_format(req, content_type, body)


def _sd_graph(server: LiveServer, path: str) -> tuple[Graph, str]:
    status, content_type, body = _send(server, W3CRequest("GET", path, (), None, frozenset(), None, None))
    assert status == 200
    media = content_type.split(";")[0].strip()
    assert media in RDF_TYPES, media
    return Graph().parse(io.BytesIO(body), format=RDF_TYPES[media]), media


def _sd_tests() -> list[str]:
    graph = Graph().parse(SD_MANIFEST, publicID=SD_MANIFEST.as_uri())
    entries = graph.value(next(graph.subjects(RDF.type, MF.Manifest)), MF.entries)
    return [str(t).rsplit("#", 1)[-1] for t in _list(graph, entries)]


SD_TESTS = _sd_tests()


def test_the_service_description_manifest_has_three_tests() -> None:
    assert SD_TESTS == ["has-endpoint-triple", "returns-rdf", "conforms-to-schema"]


@pytest.mark.parametrize("name", SD_TESTS)
@pytest.mark.parametrize("path", ["/sparql", "/sparql/"])
def test_service_description(name: str, path: str, server: LiveServer) -> None:
    graph, media = _sd_graph(server, path)
    endpoint = URIRef(server.url + path)
    services = list(graph.subjects(RDF.type, SD.Service))
    if name == "returns-rdf":
        assert media == "text/turtle" and len(graph) > 10
    elif name == "has-endpoint-triple":
        assert list(graph.subjects(SD.endpoint, endpoint)) == services
    else:
        assert len(services) == 1
        service = services[0]
        assert (service, SD.supportedLanguage, SD.SPARQL11Query) in graph
        assert (service, SD.feature, SD.UnionDefaultGraph) in graph
        formats = {str(o).rsplit("/", 1)[-1] for o in graph.objects(service, SD.resultFormat)}
        assert {"SPARQL_Results_JSON", "SPARQL_Results_XML", "Turtle", "RDF_XML"} <= formats
        dataset = graph.value(service, SD.defaultDataset)
        assert (dataset, RDF.type, SD.Dataset) in graph
        assert (graph.value(dataset, SD.defaultGraph), RDF.type, SD.Graph) in graph
        names = {str(graph.value(n, SD.name)) for n in graph.objects(dataset, SD.namedGraph)}
        assert "http://kasei.us/2009/09/sparql/data/data1.rdf" in names
        assert "https://w3id.org/clair-kg/graph/wikipedia-article" in names
