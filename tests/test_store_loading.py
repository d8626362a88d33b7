"""``--load`` files parsed once, by pyoxigraph, into the serving store; the dataset rules of a store
whose large graph is kept out of the default-graph copy; the runtime's start-up reads kept by release.

Every query here goes through the one evaluator (``EmbeddedStore`` → ``evaluate_query``) on real
pyoxigraph stores, side by side with a store loaded the plain way (the whole merge copied), and the
answers must be equal.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph
import pytest
from pyoxigraph import NamedNode, RdfFormat

from clair_kg.entity_graph import construct_document_triples, document_triples, entity_iris
from clair_kg.errors import ConfigError, SourceError
from clair_kg.publish import Distribution
from clair_kg.published import ReleaseInfo
from clair_kg.release import Release
from clair_kg.runtime import StartupReads, build_runtime
from clair_kg.server.handover import Handover
from clair_kg.server.holder import startup_reads_for
from clair_kg.settings import Settings
from clair_kg.sparql.evaluate import evaluate
from clair_kg.sparql.wire import Job
from clair_kg.store import EmbeddedStore
from clair_kg.store.base import DEFAULT_DATASET, DatasetSpec
from clair_kg.store.loading import LoadSpec, extra_graphs, load_files, load_specs, served_release

BIG = "http://example.org/graph/big"
SMALL = "http://example.org/graph/small"
EX = "http://example.org/"

# The big graph and a small one state one triple both (it must count once in the default graph), the
# big graph has a blank node (the same one in GRAPH and in the default graph), and a triple of the
# default graph only (a plain FILE) is also in the big graph.
BIG_TTL = f"""@prefix ex: <{EX}> .
ex:a ex:p ex:b . ex:a ex:p ex:shared . ex:a ex:q _:n . _:n ex:r "in big" . ex:c ex:p ex:d .
"""
SMALL_TTL = f"""@prefix ex: <{EX}> .
ex:a ex:p ex:shared . ex:s ex:p "small only" .
"""
DEFAULT_TTL = f"""@prefix ex: <{EX}> .
ex:c ex:p ex:d . ex:z ex:p "default only" .
"""


def _files(tmp_path: Path) -> list[str]:
    for name, text in (("big.ttl", BIG_TTL), ("small.ttl", SMALL_TTL), ("plain.ttl", DEFAULT_TTL)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    return [f"{tmp_path / 'big.ttl'}={BIG}", f"{tmp_path / 'small.ttl'}={SMALL}", str(tmp_path / "plain.ttl")]


def _served(tmp_path: Path, release: Release) -> EmbeddedStore:
    """As the store holder loads it: the release's N-Quads file, then the --load files."""
    graph = tmp_path / "graph.nq"
    graph.write_bytes(release.nquads)
    store = EmbeddedStore(base_iri="https://w3id.org/clair-kg/")
    store.load_served(graph, load_specs(_files(tmp_path)))
    return store


def _plain(tmp_path: Path, release: Release) -> EmbeddedStore:
    """The same dataset loaded the plain way: N-Quads, and the whole merge copied into the default graph."""
    store = EmbeddedStore(base_iri="https://w3id.org/clair-kg/")
    store.load_nquads(release.nquads + extra_graphs(_files(tmp_path)).nquads)
    return store


def _rows(store: EmbeddedStore, query: str, dataset: DatasetSpec | None = None) -> list[tuple[str, ...]]:
    """Rows as sorted tuples of values; blank nodes as one marker (their labels differ by store)."""
    body = store.execute(query, media_type="application/sparql-results+json",
                         dataset=dataset or DatasetSpec()).body
    parsed = json.loads(body)
    if "boolean" in parsed:
        return [(str(parsed["boolean"]),)]
    names = parsed["head"]["vars"]
    out = []
    for binding in parsed["results"]["bindings"]:
        out.append(tuple("_:" if binding.get(n, {}).get("type") == "bnode" else binding.get(n, {}).get("value", "")
                         for n in names))
    return sorted(out)


QUERIES = {
    "a triple two sources state counts once": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "every default-graph triple of the example":
        f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?p), '{EX}')) }}",
    "the shared triple once": f"SELECT ?o WHERE {{ <{EX}a> <{EX}p> ?o }}",
    "a blank node joins across the big graph's triples": f"SELECT ?v WHERE {{ <{EX}a> <{EX}q> ?n . ?n <{EX}r> ?v }}",
    "GRAPH ?g never sees the default graph": f"SELECT ?g ?s ?o WHERE {{ GRAPH ?g {{ ?s <{EX}p> ?o }} }}",
    "the named graphs": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
    "counts per graph": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    "a join of the default graph and a named graph":
        f"SELECT ?o WHERE {{ ?s <{EX}p> ?o . GRAPH <{SMALL}> {{ ?s ?p2 ?o }} }}",
    "FROM in the text is the query's own": f"SELECT ?s ?o FROM <{SMALL}> WHERE {{ ?s <{EX}p> ?o }}",
    "FROM NAMED in the text": f"SELECT ?g ?o FROM NAMED <{BIG}> WHERE {{ GRAPH ?g {{ <{EX}a> <{EX}p> ?o }} }}",
    "FROM NAMED alone leaves the default graph empty": f"SELECT ?o FROM NAMED <{BIG}> WHERE {{ ?s <{EX}p> ?o }}",
    "a word FROM in a string is no FROM clause": f"SELECT ?o WHERE {{ ?s <{EX}p> ?o FILTER(?o != 'FROM <x>') }}",
    "ASK over the default graph": f'ASK {{ <{EX}z> <{EX}p> "default only" }}',
    "the project's own statements": "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?t }",
}


def test_a_large_graph_kept_out_of_the_copy_gives_the_plain_answers(tmp_path: Path, release: Release) -> None:
    served, plain = _served(tmp_path, release), _plain(tmp_path, release)
    assert served.kept_out == NamedNode(BIG)
    assert plain.kept_out is None
    for what, query in QUERIES.items():
        assert _rows(served, query) == _rows(plain, query), what
    # a protocol dataset replaces the query's own, on both
    only_small = DatasetSpec(default_graphs=(SMALL,), named_graphs=(BIG,))
    for query in (QUERIES["the shared triple once"], QUERIES["GRAPH ?g never sees the default graph"]):
        assert _rows(served, query, only_small) == _rows(plain, query, only_small)
    # and the rules hold as stated, not only as the plain store has them
    assert _rows(served, QUERIES["the shared triple once"]) == [(f"{EX}b",), (f"{EX}shared",)]
    in_graphs = _rows(served, QUERIES["GRAPH ?g never sees the default graph"])
    assert (BIG, f"{EX}c", f"{EX}d") in in_graphs and all(row[0] in (BIG, SMALL) for row in in_graphs)
    assert "default only" not in {row[2] for row in in_graphs}
    assert served.statements() == plain.statements() and len(served) == len(plain)


def test_every_reader_of_the_default_graph_reads_the_kept_out_graph(tmp_path: Path, release: Release) -> None:
    """Entity documents (pattern reads), a query worker's and a query thread's evaluation read what the
    plain store's default graph holds: they are handed the kept-out graph with the store."""
    served, plain = _served(tmp_path, release), _plain(tmp_path, release)
    entities = [f"{EX}{name}" for name in ("a", "b", "c", "d", "s", "z", "shared")]
    entities += sorted(entity_iris(plain, "https://w3id.org/clair-kg/"))[:40]
    def without_blank_nodes(triples: list[pyoxigraph.Triple]) -> set[str]:  # labels differ between stores
        return {str(t) for t in triples if not isinstance(t.subject, pyoxigraph.BlankNode)
                and not isinstance(t.object, pyoxigraph.BlankNode)}

    for iri in entities:
        document = document_triples(served, iri)
        assert set(document) == set(construct_document_triples(served, iri)), iri
        on_plain = construct_document_triples(plain, iri)
        assert len(document) == len(on_plain) and without_blank_nodes(document) == without_blank_nodes(on_plain), iri
    query = f"SELECT ?s ?o WHERE {{ ?s <{EX}p> ?o }} ORDER BY ?s ?o"
    job = Job(query=query, media_type="application/sparql-results+json", dataset=DEFAULT_DATASET, max_rows=100)
    worker = evaluate(served.inner, job, kept_out=served.kept_out)
    assert worker.body == evaluate(plain.inner, job).body
    assert json.loads(worker.body)["results"]["bindings"], "the big graph's statements are read"
    assert worker.body != evaluate(served.inner, job).body, "without the kept-out graph the answer differs"


def test_the_copy_is_small_and_the_big_graph_is_not_in_it(tmp_path: Path, release: Release) -> None:
    served, plain = _served(tmp_path, release), _plain(tmp_path, release)
    real_default = pyoxigraph.DefaultGraph()
    copied = {q.triple for q in served.inner.quads_for_pattern(None, None, None, real_default)}
    assert pyoxigraph.Triple(NamedNode(f"{EX}a"), NamedNode(f"{EX}p"), NamedNode(f"{EX}b")) not in copied
    assert pyoxigraph.Triple(NamedNode(f"{EX}c"), NamedNode(f"{EX}p"), NamedNode(f"{EX}d")) not in copied
    plain_copy = sum(1 for _ in plain.inner.quads_for_pattern(None, None, None, real_default))
    assert len(copied) < plain_copy


def test_why_not_pyoxigraphs_union_default_graph(tmp_path: Path, release: Release) -> None:
    """pyoxigraph's own union counts a triple once per graph that states it: not an RDF merge."""
    plain = _plain(tmp_path, release)
    only_graphs = pyoxigraph.Store()  # the source graphs, no copy: what the union would be asked over
    only_graphs.bulk_load(extra_graphs(_files(tmp_path)[:2]).nquads, format=RdfFormat.N_QUADS)
    shared = f"SELECT ?o WHERE {{ <{EX}a> <{EX}p> ?o }}"
    union = [str(r["o"]) for r in only_graphs.query(shared, use_default_graph_as_union=True)]  # type: ignore[index,union-attr]
    assert union.count(f"<{EX}shared>") == 2
    assert _rows(plain, shared).count((f"{EX}shared",)) == 1


def test_load_files_puts_every_statement_into_its_target(tmp_path: Path) -> None:
    """A quad of a TriG or N-Quads file goes into the file's target graph, as it did when the CLI parsed it;
    relative IRIs resolve against the graph IRI; each file has its own blank nodes."""
    first = tmp_path / "first.trig"
    first.write_text('<http://elsewhere> { <rel> <http://p> _:x . }\n<http://s> <http://p> "plain" .\n')
    second = tmp_path / "second.nq"  # goes through a scratch store: the main one is not empty then
    second.write_text('<http://s2> <http://p> _:x <http://other> .\n')
    third = tmp_path / "third.ttl"
    third.write_text('<http://s3> <http://p> _:x .\n')
    store = pyoxigraph.Store()
    load_files(store, load_specs([f"{first}={BIG}", str(second), f"{third}={SMALL}"]))
    graphs = {q.graph_name for q in store}
    assert graphs == {NamedNode(BIG), pyoxigraph.DefaultGraph(), NamedNode(SMALL)}
    assert any(q.subject == NamedNode("http://example.org/graph/rel") and q.graph_name == NamedNode(BIG)
               for q in store)
    assert {q.subject for q in store.quads_for_pattern(None, None, None, pyoxigraph.DefaultGraph())} == {
        NamedNode("http://s2")}
    blanks = {q.object for q in store if isinstance(q.object, pyoxigraph.BlankNode)}
    assert len(blanks) == 3  # `_:x` in three files: three blank nodes


def test_the_cli_checks_without_parsing_and_the_holder_names_the_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ttl"
    broken.write_text("<http://a> <http://b> <http://c> .\n<a> <b> .\n")
    specs = load_specs([str(broken)])  # readable: the CLI does not parse it
    with pytest.raises(SourceError) as raised:
        load_files(pyoxigraph.Store(), specs)
    assert raised.value.file == str(broken) and raised.value.line == 2 and "not valid Turtle" in raised.value.message
    with pytest.raises(SourceError, match="cannot read"):
        load_specs([str(tmp_path / "missing.ttl")])
    with pytest.raises(SourceError, match="cannot read"):
        load_specs([str(tmp_path)])  # a folder
    with pytest.raises(ConfigError, match="not an absolute IRI"):
        load_specs([f"{broken}=not an iri"])


def test_a_load_spec_survives_the_hand_over(tmp_path: Path) -> None:
    (tmp_path / "g.trig").write_text("")
    for spec in load_specs([f"{tmp_path / 'g.trig'}={BIG}", str(tmp_path / "g.trig")]):
        assert LoadSpec.from_json(json.loads(json.dumps(spec.to_json()))) == spec


def test_the_served_release_is_named_by_the_files_bytes(tmp_path: Path) -> None:
    release = ReleaseInfo("1", "ab" * 32, 10, ("urn:b", "urn:a"))
    assert served_release(release, ()) == ReleaseInfo("1", "ab" * 32, 10, ("urn:a", "urn:b"))
    data = tmp_path / "data.ttl"
    data.write_text("<http://a> <http://b> <http://c> .\n")
    one = served_release(release, load_specs([f"{data}={BIG}"]))
    assert one.sha256 != release.sha256 and one.graphs == (BIG, "urn:a", "urn:b")
    assert served_release(release, load_specs([f"{data}={BIG}"])) == one  # the same bytes: the same release
    assert served_release(release, load_specs([f"{data}={SMALL}"])).sha256 != one.sha256  # another graph
    data.write_text("<http://a> <http://b> <http://d> .\n")
    assert served_release(release, load_specs([f"{data}={BIG}"])).sha256 != one.sha256


def test_startup_reads_are_kept_with_the_release(tmp_path: Path, settings: Settings, embedded_store: EmbeddedStore,
                                                 distribution: Distribution) -> None:
    kept = tmp_path / "startup" / "reads.json"
    first = build_runtime(settings, embedded_store, distribution, startup=kept)
    assert kept.is_file()
    saved = StartupReads.read(kept)
    assert saved is not None and saved.entities == first.entities.get()
    assert saved.graph_sizes == first.graph_sizes.get() and saved.terms == first.terms.get().labels
    # a second start reads the file, not the store: what the file says is what it serves
    marked = StartupReads({**saved.graph_sizes, "urn:marked": 1}, saved.terms, saved.entities | {"urn:marked"})
    marked.write(kept)
    second = build_runtime(settings, embedded_store, distribution, startup=kept)
    assert "urn:marked" in second.entities.get() and second.graph_sizes.get()["urn:marked"] == 1
    assert second.terms.get().labels == first.terms.get().labels
    # a file that cannot be read is read from the store again, and rewritten
    kept.write_text("{not json")
    third = build_runtime(settings, embedded_store, distribution, startup=kept)
    assert third.entities.get() == first.entities.get() and StartupReads.read(kept) == saved


def test_startup_reads_are_named_by_the_release(tmp_path: Path, settings: Settings, distribution: Distribution) -> None:
    def handover(sha: str) -> Handover:
        return Handover(tmp_path, settings, ReleaseInfo("1", sha, 1, ()), distribution)

    one, other = startup_reads_for(handover("a" * 64), tmp_path), startup_reads_for(handover("b" * 64), tmp_path)
    assert one is not None and other is not None and one != other
    assert startup_reads_for(handover("a" * 64), tmp_path) == one
    assert startup_reads_for(handover("a" * 64), None) is None


def test_extra_graphs_as_nquads(tmp_path: Path) -> None:
    extra = extra_graphs(_files(tmp_path))
    assert extra.graphs == (BIG, SMALL)
    quads = list(pyoxigraph.parse(extra.nquads, format=RdfFormat.N_QUADS))
    assert len(quads) == extra.statements == 9
