"""Linked data over HTTP: every entity dereferences (303, then 200) in every format, negotiation by
Accept / suffix / ?format= agrees, ETag and 304, CORS, Link alternates, 404 and 406 bodies."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, URIRef

BASE = "https://w3id.org/clair-kg/"
RDF_FORMATS = {
    "text/turtle": ("ttl", "turtle"),
    "application/ld+json": ("jsonld", "json-ld"),
    "application/n-triples": ("nt", "nt"),
    "application/rdf+xml": ("rdf", "xml"),
}


@pytest.fixture(scope="module")
def context(client: TestClient) -> dict[str, object]:
    response = client.get("/context.jsonld")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    body = response.json()
    assert isinstance(body["@context"], dict)
    return body


def parse(body: bytes, media: str, context: dict[str, object]) -> Graph:
    """Parse a served document; JSON-LD carries the published context inline (issue 9), nothing to fetch."""
    g = Graph()
    if media == "application/ld+json":
        doc = json.loads(body)
        assert doc["@context"] == context["@context"]
        g.parse(data=json.dumps(doc), format="json-ld")
    else:
        g.parse(data=body.decode("utf-8"), format=RDF_FORMATS[media][1])
    return g


@pytest.fixture(scope="module")
def entity_paths(kg_select: Callable[[str], list[dict[str, str]]]) -> list[str]:
    rows = kg_select(
        f'SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{BASE}id/")) }} ORDER BY ?s'
    )
    paths = [r["s"][len(BASE) + 3:] for r in rows]
    assert len(paths) > 50, "the graph should have many entities"
    return paths


def test_every_entity_dereferences_in_every_format(
    client: TestClient, entity_paths: list[str], context: dict[str, object]
) -> None:
    for path in entity_paths:
        iri = URIRef(BASE + "id/" + path)
        r = client.get(f"/id/{path}", headers={"accept": "text/turtle"}, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"] == f"/doc/{path}"
        assert "Accept" in r.headers["vary"]
        for media in RDF_FORMATS:
            doc = client.get(r.headers["location"], headers={"accept": media})
            assert doc.status_code == 200, (path, media)
            assert doc.headers["content-type"].split(";")[0] == media
            g = parse(doc.content, media, context)
            assert (iri, None, None) in g or (None, None, iri) in g, (path, media)
            assert len(list(g.triples((iri, None, None)))) + len(list(g.triples((None, None, iri)))) > 0
        html = client.get(r.headers["location"], headers={"accept": "text/html"})
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html"), path
        assert f"<code>{iri}</code>" in html.text


@pytest.mark.parametrize("path", ["office/london", "branch/hokkaido", "org/clair"])
def test_suffix_and_format_parameter_agree_with_accept(client: TestClient, path: str) -> None:
    for media, (ext, _) in RDF_FORMATS.items():
        by_accept = client.get(f"/doc/{path}", headers={"accept": media})
        by_suffix = client.get(f"/doc/{path}.{ext}")
        by_param = client.get(f"/doc/{path}?format={ext}")
        assert by_accept.status_code == by_suffix.status_code == by_param.status_code == 200
        assert by_accept.content == by_suffix.content == by_param.content, media
        assert by_suffix.headers["content-type"].split(";")[0] == media
    html = client.get(f"/doc/{path}.html")
    assert html.status_code == 200 and "<html" in html.text


def test_q_values_pick_the_preferred_format(client: TestClient) -> None:
    r = client.get("/doc/office/london", headers={"accept": "text/html;q=0.5, application/n-triples;q=0.9"})
    assert r.headers["content-type"].startswith("application/n-triples")
    r = client.get("/doc/office/london", headers={"accept": "application/json"})
    assert r.headers["content-type"].startswith("application/ld+json")
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get("/doc/office/london", headers={"accept": browser}).headers["content-type"].startswith("text/html")


def test_link_alternates_etag_304_and_cors(client: TestClient) -> None:
    r = client.get("/doc/office/london", headers={"accept": "text/turtle", "origin": "https://example.org"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    link = r.headers["link"]
    for media in ("text/html", "application/ld+json", "application/n-triples", "application/rdf+xml"):
        assert f'type="{media}"' in link
    assert 'type="text/turtle"' not in link
    assert "/doc/office/london.jsonld>" in link
    tag = r.headers["etag"]
    again = client.get("/doc/office/london", headers={"accept": "text/turtle", "if-none-match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["vary"] == r.headers["vary"], "a 304 carries the headers the 200 would"
    other = client.get("/doc/office/london", headers={"accept": "application/ld+json", "if-none-match": tag})
    assert other.status_code == 200, "each representation has its own ETag"
    html = client.get("/doc/office/london", headers={"accept": "text/html"})
    assert client.get("/doc/office/london", headers={"accept": "text/html", "if-none-match": html.headers["etag"]}
                      ).status_code == 304
    assert "Accept-Language" in html.headers["vary"]


def test_unknown_id_is_404_in_the_asked_format(client: TestClient) -> None:
    html = client.get("/id/office/atlantis", headers={"accept": "text/html"}, follow_redirects=False)
    assert html.status_code == 404 and html.headers["content-type"].startswith("text/html")
    assert 'action="/search"' in html.text and 'href="/"' in html.text
    assert "/id/office/london" in html.text, "the 404 page suggests existing identifiers of the same type"
    js = client.get("/doc/office/atlantis", headers={"accept": "application/ld+json"})
    assert js.status_code == 404 and js.json() == {
        "error": f"no resource <{BASE}id/office/atlantis> in this dataset", "status": 404}
    ttl = client.get("/doc/office/atlantis.ttl")
    assert ttl.status_code == 404 and ttl.headers["content-type"].startswith("text/turtle")
    assert len(Graph().parse(data=ttl.text, format="turtle")) == 0
    rdf = client.get("/id/office/atlantis.rdf", follow_redirects=False)
    assert rdf.status_code == 404
    assert len(Graph().parse(data=rdf.text, format="xml")) == 0
    assert client.get("/id/Office/BAD_slug", headers={"accept": "text/html"}).status_code == 404
    assert client.get("/graph/nope", headers={"accept": "application/json"}).status_code == 404


def test_unsupported_format_is_406_listing_supported(client: TestClient) -> None:
    for response in (
        client.get("/doc/office/london", headers={"accept": "image/png"}),
        client.get("/doc/office/london?format=csv"),
        client.get("/id/office/london", headers={"accept": "application/pdf"}, follow_redirects=False),
    ):
        assert response.status_code == 406
        body = response.json()
        assert body["status"] == 406
        assert set(body["supported"]) >= {"text/html", "text/turtle", "application/ld+json",
                                          "application/n-triples", "application/rdf+xml"}


def test_id_redirect_keeps_suffix_and_query(client: TestClient) -> None:
    r = client.get("/id/office/london.ttl", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/doc/office/london.ttl"
    r = client.get("/id/office/london?lang=ja", follow_redirects=False)
    assert r.headers["location"] == "/doc/office/london?lang=ja"
    assert client.head("/id/office/london", follow_redirects=False).status_code == 303


def test_document_has_own_triples_labels_of_links_and_incoming(
    client: TestClient, context: dict[str, object]
) -> None:
    g = parse(client.get("/doc/office/london.jsonld").content, "application/ld+json", context)
    london = URIRef(BASE + "id/office/london")
    clair = URIRef(BASE + "id/org/clair")
    assert (london, URIRef("http://www.w3.org/ns/org#unitOf"), clair) in g
    assert (clair, URIRef("http://www.w3.org/ns/org#hasUnit"), london) in g, "incoming link"
    label = URIRef("http://www.w3.org/2000/01/rdf-schema#label")
    pref = URIRef("http://www.w3.org/2004/02/skos/core#prefLabel")
    assert list(g.objects(clair, label)) or list(g.objects(clair, pref)), "label of a linked entity"
    doc = client.get("/doc/office/london.jsonld").json()
    keys = {k for node in doc["@graph"] for k in node}
    assert "label" in keys and "org:unitOf" in keys, "readable keys from the published context"


def test_entity_page_language_sources_and_external_links(client: TestClient) -> None:
    ja = client.get("/doc/prefecture/hokkaido?lang=ja")
    client.cookies.clear()  # ?lang= stores the choice in a cookie; the shared client must not keep it
    assert '<html lang="ja">' in ja.text and "北海道</h1>" in ja.text
    assert ja.headers["content-language"] == "ja" and "lang=ja" in ja.headers["set-cookie"]
    ja2 = client.get("/doc/prefecture/hokkaido", headers={"accept-language": "ja,en;q=0.5"})
    assert "北海道</h1>" in ja2.text
    en = client.get("/doc/prefecture/hokkaido", headers={"accept-language": "en"})
    assert "Hokkaido</h1>" in en.text
    refused = client.get("/doc/prefecture/hokkaido", headers={"accept-language": "ja;q=0"})
    assert refused.headers["content-language"] == "en", "q=0 excludes a language"
    assert 'href="/graph/reference"' in en.text, "each statement shows its source graph"
    assert "wikidata.org/entity/Q" in en.text and 'rel="external noopener"' in en.text
    assert '<script type="application/ld+json">' in en.text
    start = en.text.index('<script type="application/ld+json">') + len('<script type="application/ld+json">')
    data = json.loads(en.text[start:en.text.index("</script>", start)])
    assert data["@context"] == "https://schema.org/" and data["@id"] == BASE + "id/prefecture/hokkaido"
    assert any("wikidata" in s for s in data["sameAs"])
    for ext in ("ttl", "jsonld", "nt", "rdf"):
        assert f'href="/doc/prefecture/hokkaido.{ext}"' in en.text


def test_conflicting_claims_are_shown_side_by_side(
    client: TestClient, kg_select: Callable[[str], list[dict[str, str]]]
) -> None:
    rows = kg_select(f"""
        SELECT ?s ?p WHERE {{
          GRAPH ?g1 {{ ?s ?p ?o1 }} GRAPH ?g2 {{ ?s ?p ?o2 }}
          FILTER(?g1 != ?g2 && isLiteral(?o1) && isLiteral(?o2) && ?o1 != ?o2 && lang(?o1) = lang(?o2)
                 && STRSTARTS(STR(?s), "{BASE}id/"))
        }} ORDER BY ?s LIMIT 1""")
    if not rows:
        pytest.skip("no conflicting literal claims in the data")
    page = client.get("/doc/" + rows[0]["s"][len(BASE) + 3:], headers={"accept": "text/html"})
    assert 'class="differs' in page.text and 'class="by-source"' in page.text
    assert 'class="differ" role="note"' in page.text, "one line says how the sources differ"


def test_named_graph_documents(client: TestClient) -> None:
    r = client.get("/graph/wikipedia-article", headers={"accept": "text/turtle"})
    assert r.status_code == 200
    g = Graph().parse(data=r.text, format="turtle")
    assert (URIRef(BASE + "graph/wikipedia-article"), URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"), None) in g
    assert client.get("/graph/wikipedia-article").status_code == 200


def test_landing_page(client: TestClient) -> None:
    r = client.get("/", headers={"accept": "text/html"})
    assert r.status_code == 200
    html = r.text
    assert "<svg" in html and 'role="img"' in html and 'href="/doc/office/london"' not in html
    assert 'href="/id/office/london"' in html and 'href="/id/branch/hokkaido"' in html
    for href in ('href="/sparql"', 'href="/downloads/"', 'href="/ontology"', "/sparql?query="):
        assert href in html
    start = html.index('<script type="application/ld+json">') + len('<script type="application/ld+json">')
    data = json.loads(html[start:html.index("</script>", start)])
    assert data["@type"] == "Dataset" and data["license"].startswith("https://creativecommons.org/")
    assert any(d["contentUrl"].endswith("clair-kg.nt") for d in data["distribution"])


@pytest.mark.parametrize("url", ["/", "/.well-known/void", "/.well-known/void.ttl"])
def test_dataset_description_as_rdf(client: TestClient, url: str, context: dict[str, object]) -> None:
    for media in RDF_FORMATS:
        headers = {"accept": media} if not url.endswith(".ttl") else {}
        r = client.get(url, headers=headers)
        assert r.status_code == 200
        got = r.headers["content-type"].split(";")[0]
        g = parse(r.content, got, context)
        dataset = URIRef(BASE + "dataset")
        assert (dataset, None, URIRef("http://rdfs.org/ns/void#Dataset")) in g
        assert (dataset, URIRef("http://rdfs.org/ns/void#sparqlEndpoint"), URIRef(BASE + "sparql")) in g
        if url.endswith(".ttl"):
            break


def test_dataset_iri_redirects_to_landing(client: TestClient) -> None:
    r = client.get("/dataset", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_ontology_page_documents_every_term(
    client: TestClient, kg_select: Callable[[str], list[dict[str, str]]]
) -> None:
    terms = kg_select(f"""SELECT DISTINCT ?t WHERE {{ GRAPH <{BASE}graph/ontology> {{ ?t ?p ?o }}
                         FILTER(STRSTARTS(STR(?t), "{BASE}ontology#")) }}""")
    assert terms
    page = client.get("/ontology", headers={"accept": "text/html"}).text
    for row in terms:
        local = row["t"].split("#", 1)[1]
        assert f'id="{local}"' in page, local
    labels = kg_select(f"""SELECT ?l WHERE {{ GRAPH <{BASE}graph/ontology> {{
                          ?t <http://www.w3.org/2000/01/rdf-schema#label> ?l }} FILTER(lang(?l) = "ja") }}""")
    for row in labels:
        assert row["l"] in page
    r = client.get("/ontology", headers={"accept": "text/turtle"})
    g = Graph().parse(data=r.text, format="turtle")
    assert (URIRef(BASE + "ontology"), None, URIRef("http://www.w3.org/2002/07/owl#Ontology")) in g
    assert client.get("/ontology.rdf").headers["content-type"].startswith("application/rdf+xml")


def test_shapes_page_documents_every_shape(
    client: TestClient, kg_select: Callable[[str], list[dict[str, str]]]
) -> None:
    shapes = kg_select(f"""SELECT DISTINCT ?s WHERE {{ GRAPH <{BASE}graph/shapes> {{
                          ?s a <http://www.w3.org/ns/shacl#NodeShape> }} FILTER(isIRI(?s)) }}""")
    page = client.get("/shapes", headers={"accept": "text/html"})
    assert page.status_code == 200
    for row in shapes:
        assert f'id="{row["s"].rsplit("#", 1)[-1]}"' in page.text
    g = Graph().parse(data=client.get("/shapes.ttl").text, format="turtle")
    assert len(g) > 0 or not shapes


def test_downloads_served_with_types_lengths_and_checksums(client: TestClient) -> None:
    import hashlib

    listing = client.get("/downloads/", headers={"accept": "text/html"})
    assert listing.status_code == 200 and "SHA256SUMS" in listing.text
    assert client.get("/downloads", follow_redirects=False).status_code == 308
    index = client.get("/downloads/", headers={"accept": "application/json"}).json()
    sums = client.get("/downloads/SHA256SUMS").text
    expected = {line.split("  ")[1]: line.split("  ")[0] for line in sums.splitlines()}
    types = {"ttl": "text/turtle", "nt": "application/n-triples", "jsonld": "application/ld+json",
             "rdf": "application/rdf+xml", "trig": "application/trig", "nq": "application/n-quads",
             "gz": "application/gzip"}
    names = {f["name"] for f in index["files"]}
    assert {"clair-kg.ttl", "clair-kg.nq.gz", "void.ttl", "SHA256SUMS"} <= names
    for f in index["files"]:
        r = client.get(f["href"])
        assert r.status_code == 200
        assert int(r.headers["content-length"]) == len(r.content) == f["size"]
        ext = f["name"].rsplit(".", 1)[-1]
        if ext in types:
            assert r.headers["content-type"].split(";")[0] == types[ext], f["name"]
        if f["name"] != "SHA256SUMS":
            assert hashlib.sha256(r.content).hexdigest() == expected[f["name"]]
        assert client.get(f["href"], headers={"if-none-match": r.headers["etag"]}).status_code == 304
    assert client.get("/downloads/nothing.ttl").status_code == 404


def test_server_dumps_equal_a_build_of_the_same_release(client: TestClient, release, project) -> None:  # type: ignore[no-untyped-def]
    from clair_kg.publish import build_distribution, quads_from_nquads, release_date

    dist = build_distribution(quads_from_nquads(release.nquads), project, version=release.info.version,
                              issued=release_date(project), sha256=release.info.sha256)
    for name in ("clair-kg.nq", "clair-kg.ttl", "clair-kg.jsonld", "void.ttl"):
        served = client.get(f"/downloads/{name}").content
        built = dist.get(name)
        assert built is not None and served == built.data, name


def test_openapi_operation_ids_are_unique_and_head_still_works(client: TestClient) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FastAPI warns on a duplicate operation id
        client.app.openapi_schema = None  # type: ignore[attr-defined]
        doc = client.get("/openapi.json").json()
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values() if "operationId" in op]
    assert len(ids) == len(set(ids))
    assert "/doc/{kind}/{slug}" in doc["paths"]
    head = client.head("/doc/office/london.ttl")
    assert head.status_code == 200
    assert head.headers["content-type"].startswith("text/turtle")
    assert head.content == b""


def test_a_server_sends_the_handed_over_files_from_disk_with_ranges(  # type: ignore[no-untyped-def]
    tmp_path, settings, embedded_store, distribution
) -> None:
    """What `clair-kg serve`'s web processes do: the files stay on disk, none is held in memory."""
    from conftest import app_for

    from clair_kg.publish import read_distribution, write_distribution

    write_distribution(distribution, tmp_path / "dist", manifest=True)
    on_disk = read_distribution(tmp_path / "dist")
    assert all(f.path is not None for f in on_disk.files)
    def listing(dist):  # type: ignore[no-untyped-def]
        return [(f.name, f.sha256, f.size) for f in dist.files]

    assert listing(on_disk) == listing(distribution)
    with TestClient(app_for(settings, embedded_store, on_disk)) as disk_client:
        for built in distribution.files:
            r = disk_client.get(f"/downloads/{built.name}")
            assert r.status_code == 200 and r.content == built.data, built.name
            assert r.headers["etag"] == f'"{built.sha256[:32]}"'
            assert disk_client.get(f"/downloads/{built.name}",
                                   headers={"if-none-match": r.headers["etag"]}).status_code == 304
        big = max(distribution.files, key=lambda f: f.size)
        part = disk_client.get(f"/downloads/{big.name}", headers={"range": "bytes=10-19"})
        assert part.status_code == 206 and part.content == big.data[10:20]
        assert part.headers["content-range"] == f"bytes 10-19/{big.size}"
        head = disk_client.head(f"/downloads/{big.name}")
        assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) == big.size
