"""Data-quality rules over the real built graph and the curated source files.

* every entity has a type, an English label and a described source graph;
* every Wikidata link is verified (data/reference/verified-wikidata.csv, which matches the strong list
  of the project's identifier notes), and entities without one say so;
* every project ontology term has English and Japanese labels and definitions and rdfs:isDefinedBy;
* the generated prefecture and branch files are in sync with data/reference/prefectures.csv;
* every check query returns no row on the real data and at least one on a bad fixture.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pyoxigraph
import pytest
from rdflib import OWL, RDF, RDFS, SKOS, Graph, Literal, URIRef

Select = Callable[[str], list[dict[str, str]]]

ROOT = Path(__file__).resolve().parent.parent
ID = "https://w3id.org/clair-kg/id/"
GRAPH = "https://w3id.org/clair-kg/graph/"
CLAIR_NS = "https://w3id.org/clair-kg/ontology#"
ONTOLOGY = URIRef("https://w3id.org/clair-kg/ontology")
ENTITY_PATH = re.compile(r"^[a-z]+/[a-z0-9]+(-[a-z0-9]+)*$")
NOT_CONFIRMED = "Wikidata item not yet confirmed"

#: The Wikidata items marked *strong* in the project's identifier notes (IDENTIFIERS.md), besides the
#: 47 prefectures (whose items are in data/reference/prefectures.csv). Copied here, not read from
#: ../shared, so the project tests itself.
STRONG_QIDS = {
    "org/mic": "Q1322293",
    "org/mofa": "Q222241",
    "org/mext": "Q1054379",
    "org/council-of-europe": "Q8908",
    "place/japan": "Q17",
    "prefecture/tokyo": "Q1490",
    "place/chiyoda": "Q214051",
    "place/new-york-city": "Q60",
    "place/london": "Q84",
    "place/paris": "Q90",
    "place/singapore": "Q334",
    "place/seoul": "Q8684",
    "place/sydney": "Q3130",
    "place/beijing": "Q956",
}

#: Entities IDENTIFIERS.md lists as UNVERIFIED: they must carry the note and no Wikidata link.
UNVERIFIED = [
    "org/clair", "programme/jet", "org/jet-alumni-association", "org/uclg", "programme/intercultural-cities",
    "org/anmc21", "person/mitsuru-yasuda", "position/alt", "position/cir", "position/sea",
]

PREFIXES = """
PREFIX clair:  <https://w3id.org/clair-kg/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX owl:    <http://www.w3.org/2002/07/owl#>
PREFIX prov:   <http://www.w3.org/ns/prov#>
PREFIX rdfs:   <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos:   <http://www.w3.org/2004/02/skos/core#>
"""

ENTITIES = f"""
  {{ ?e ?p ?o }} UNION {{ ?s ?p ?e }}
  FILTER (isIRI(?e) && STRSTARTS(STR(?e), "{ID}"))
"""


def verified_csv() -> dict[str, str]:
    with (ROOT / "data" / "reference" / "verified-wikidata.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["entity", "qid"]
        rows = [(r["entity"], r["qid"]) for r in reader]
    assert len({e for e, _ in rows}) == len(rows), "an entity is listed twice"
    return dict(rows)


# --- entities -------------------------------------------------------------------------------------


def test_entities_exist(kg_select: Select) -> None:
    rows = kg_select(PREFIXES + f"SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{ {ENTITIES} }}")
    assert int(rows[0]["n"]) > 150


def test_every_entity_iri_matches_the_identifier_pattern(kg_select: Select) -> None:
    rows = kg_select(PREFIXES + f"SELECT DISTINCT ?e WHERE {{ {ENTITIES} }}")
    bad = [r["e"] for r in rows if not ENTITY_PATH.match(r["e"].removeprefix(ID))]
    assert bad == []


def test_every_entity_has_a_type(kg_select: Select) -> None:
    rows = kg_select(PREFIXES + f"SELECT DISTINCT ?e WHERE {{ {ENTITIES} FILTER NOT EXISTS {{ ?e a ?t }} }}")
    assert rows == []


def test_every_entity_has_one_english_label(kg_select: Select) -> None:
    rows = kg_select(PREFIXES + f"""
        SELECT ?e (COUNT(DISTINCT ?l) AS ?n) WHERE {{
          {ENTITIES}
          OPTIONAL {{ ?e rdfs:label ?l FILTER (LANG(?l) = "en") }}
        }} GROUP BY ?e HAVING (COUNT(DISTINCT ?l) != 1)""")
    assert rows == []


def test_every_entity_is_stated_in_a_described_source_graph(kg_select: Select) -> None:
    # described = a cited document with its page address, or a curators' graph with its creator
    rows = kg_select(PREFIXES + f"""
        SELECT DISTINCT ?e WHERE {{
          {ENTITIES}
          FILTER NOT EXISTS {{
            GRAPH ?g {{ ?e a ?type . ?g a clair:SourceGraph .
                        {{ ?g prov:wasDerivedFrom ?source }} UNION {{ ?g dcterms:creator ?who }} }}
          }}
        }}""")
    assert rows == []


#: the curators' own graphs: no page address, no reading date, a creator instead
CURATED = {"curation", "reference"}


def test_every_source_folder_describes_its_graph(kg_select: Select) -> None:
    folders = sorted(p.name for p in (ROOT / "data").iterdir() if p.is_dir())
    assert set(folders) >= CURATED | {"wikipedia-article"}
    for folder in folders:
        assert (ROOT / "data" / folder / "source.ttl").is_file()
        graph = f"https://w3id.org/clair-kg/graph/{folder}"
        rows = kg_select(PREFIXES + f"""
            SELECT ?page ?date ?creator WHERE {{ GRAPH <{graph}> {{ <{graph}> a clair:SourceGraph .
              OPTIONAL {{ <{graph}> prov:wasDerivedFrom ?page ; dcterms:source ?page ; clair:retrieved ?date }}
              OPTIONAL {{ <{graph}> dcterms:creator ?creator }} }} }}""")
        assert len(rows) == 1, f"{graph} is not described in its own graph as one document"
        if folder in CURATED:
            assert rows[0].keys() == {"creator"}, f"{graph} is the curators' own: no page, no date"
        else:
            assert {"page", "date"} <= rows[0].keys() and "creator" not in rows[0], f"{graph}: page and date"


def test_each_cited_page_is_one_graph_with_the_date_it_was_read(kg_select: Select) -> None:
    """docs/CITATIONS.md: every page read on 2026-11-29, the article copy received on 2026-11-27."""
    rows = kg_select(PREFIXES + """
        SELECT ?g ?page ?date ?revision WHERE { GRAPH ?g { ?g a clair:SourceGraph ; prov:wasDerivedFrom ?page ;
          clair:retrieved ?date OPTIONAL { ?g clair:revision ?revision } } }""")
    pages = [r["page"] for r in rows]
    assert len(pages) == len(set(pages)), "one graph per document"
    citations = (ROOT / "docs" / "CITATIONS.md").read_text(encoding="utf-8")
    cited = set(re.findall(r"\| (https://[^ ]+) \|", citations))
    article = "https://en.wikipedia.org/wiki/Council_of_Local_Authorities_for_International_Relations"
    assert set(pages) == cited | {article}
    for r in rows:
        expected = "2026-11-27" if r["page"] == article else "2026-11-29"
        assert r["date"] == expected, r
        assert ("revision" in r) == (r["page"] == article), "only the article records its (unknown) revision"


def test_curators_notes_are_not_in_a_source_graph(kg_select: Select) -> None:
    """Judgements such as 'weak claim' or 'no official page found' are the curators', not a source's."""
    rows = kg_select(PREFIXES + f"""
        SELECT DISTINCT ?g ?note WHERE {{ GRAPH ?g {{ ?s skos:note ?note }}
          FILTER (REGEX(STR(?note), "weak claim|no official page|no second source|both a 会長", "i"))
          FILTER (?g != <{GRAPH}curation>) }}""")
    assert rows == []
    weak = kg_select(PREFIXES + f"""SELECT DISTINCT ?s WHERE {{ GRAPH <{GRAPH}curation> {{ ?s skos:note ?n }}
        FILTER (CONTAINS(STR(?n), "Weak claim")) }}""")
    assert {r["s"].removeprefix(ID) for r in weak} >= {"post/clair-chairman", "site/clair-headquarters"}


def test_the_article_claims_no_branch_count(kg_select: Select) -> None:
    """'in each prefecture' is at least 47, not a count: only the 47 branch entities state it."""
    rows = kg_select(PREFIXES + f"""
        SELECT ?c WHERE {{ GRAPH <{GRAPH}wikipedia-article> {{ ?x clair:branchCount ?c }} }}""")
    assert rows == []


# --- identity links -------------------------------------------------------------------------------


def test_verified_csv_matches_the_strong_list() -> None:
    with (ROOT / "data" / "reference" / "prefectures.csv").open(encoding="utf-8", newline="") as f:
        prefectures = {f"prefecture/{r['name_en'].lower()}": r["wikidata"] for r in csv.DictReader(f)}
    assert len(prefectures) == 47
    expected = {ID + k: v for k, v in {**prefectures, **STRONG_QIDS}.items()}
    assert verified_csv() == expected


def test_every_wikidata_link_is_verified_and_every_verified_item_is_linked(kg_select: Select) -> None:
    rows = kg_select(PREFIXES + f"""
        SELECT DISTINCT ?e ?p ?wd WHERE {{
          ?e ?p ?wd FILTER (isIRI(?wd) && CONTAINS(STR(?wd), "wikidata.org") && STRSTARTS(STR(?e), "{ID}"))
        }}""")
    links = {(r["e"], r["p"], r["wd"]) for r in rows}
    expected = {(e, str(OWL.sameAs), f"http://www.wikidata.org/entity/{q}") for e, q in verified_csv().items()}
    assert links == expected


def test_check_query_embeds_the_same_verified_list() -> None:
    text = (ROOT / "queries" / "checks" / "unverified-wikidata-link.rq").read_text(encoding="utf-8")
    pairs = re.findall(r"\(<([^>]+)> owl:sameAs <http://www\.wikidata\.org/entity/(Q[0-9]+)>\)", text)
    assert dict(pairs) == verified_csv()
    assert len(pairs) == len(verified_csv())


@pytest.mark.parametrize("entity", UNVERIFIED)
def test_unverified_entities_carry_the_note_and_no_link(kg_select: Select, entity: str) -> None:
    rows = kg_select(PREFIXES + f"""
        SELECT ?note ?lang WHERE {{ <{ID}{entity}> skos:note ?note BIND (LANG(?note) AS ?lang) }}""")
    assert {"note": NOT_CONFIRMED, "lang": "en"} in rows
    links = kg_select(PREFIXES + f"SELECT ?x WHERE {{ <{ID}{entity}> owl:sameAs ?x }}")
    assert links == []


def test_entities_without_a_wikidata_link_say_so(kg_select: Select) -> None:
    text = (ROOT / "queries" / "checks" / "wikidata-status-missing.rq").read_text(encoding="utf-8")
    assert kg_select(text) == []
    # and the note is only ever the exact agreed literal, so a query can find them all
    notes = kg_select(PREFIXES + """
        SELECT DISTINCT ?n WHERE { ?e skos:note ?n FILTER (CONTAINS(LCASE(STR(?n)), "wikidata")) }""")
    assert notes == [{"n": NOT_CONFIRMED}]


# --- ontology -------------------------------------------------------------------------------------


def ontology() -> Graph:
    return Graph().parse(ROOT / "ontology" / "clair.ttl", format="turtle")


def project_terms(graph: Graph) -> list[URIRef]:
    return sorted({s for s in graph.subjects() if isinstance(s, URIRef) and str(s).startswith(CLAIR_NS)})


def test_ontology_header() -> None:
    g = ontology()
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in g
    for p in ("http://purl.org/dc/terms/title", "http://purl.org/dc/terms/description",
              str(OWL.versionIRI), str(OWL.versionInfo)):
        assert g.value(ONTOLOGY, URIRef(p)) is not None, p
    assert (ONTOLOGY, URIRef("http://purl.org/dc/terms/license"),
            URIRef("https://creativecommons.org/licenses/by-sa/4.0/")) in g


@pytest.mark.parametrize("term", project_terms(ontology()), ids=lambda t: str(t).rsplit("#", 1)[1])
def test_every_project_term_is_documented(term: URIRef) -> None:
    g = ontology()

    def langs(*predicates: URIRef) -> set[str | None]:
        return {o.language for p in predicates for o in g.objects(term, p) if isinstance(o, Literal)}

    assert {"en", "ja"} <= langs(RDFS.label)
    assert {"en", "ja"} <= langs(SKOS.definition, RDFS.comment)
    assert (term, RDFS.isDefinedBy, ONTOLOGY) in g
    assert g.value(term, RDF.type) is not None


def test_every_project_term_used_is_defined() -> None:
    defined = set(project_terms(ontology()))
    used: set[URIRef] = set()
    for path in [*(ROOT / "data").rglob("*.ttl"), *(ROOT / "ontology" / "shapes").glob("*.ttl")]:
        for triple in Graph().parse(path, format="turtle"):
            used |= {t for t in triple if isinstance(t, URIRef) and str(t).startswith(CLAIR_NS)}
    assert used - defined == set()


# --- generated files ------------------------------------------------------------------------------


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_prefectures", ROOT / "scripts" / "generate_prefectures.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


def test_generated_prefecture_and_branch_files_are_in_sync(tmp_path: Path) -> None:
    generator = load_generator()
    written = generator.generate(ROOT, tmp_path)
    assert len(written) == 3
    for path in written:
        rel = path.relative_to(tmp_path)
        assert (ROOT / rel).read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), (
            f"{rel} is out of date: run python scripts/generate_prefectures.py")


def test_generator_rejects_a_wrong_check_digit(tmp_path: Path) -> None:
    generator = load_generator()
    text = (ROOT / "data" / "reference" / "prefectures.csv").read_text(encoding="utf-8")
    bad = tmp_path / "data" / "reference" / "prefectures.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text(text.replace("JP-13,Tokyo,東京都,東京,130001", "JP-13,Tokyo,東京都,東京,130002"), encoding="utf-8")
    with pytest.raises(ValueError, match="check digit"):
        generator.generate(tmp_path, tmp_path)


# --- check queries --------------------------------------------------------------------------------

CHECKS = sorted((ROOT / "queries" / "checks").glob("*.rq"))

#: check query -> entities its bad fixture (tests/checks/<name>.ttl) must be reported for
EXPECTED_ROWS = {
    "entity-iri-pattern": {"office/New_York"},
    "entity-without-english-label": {"org/mic"},
    "entity-without-type": {"org/clar"},
    "forbidden-literals": {"org/example"},
    "local-government-codes": {"prefecture/aomori", "place/chiyoda"},
    "membership-status": {"membership/clair-anmc21"},
    "unverified-geonames-link": {"place/singapore"},
    "unverified-wikidata-link": {"org/clair", "org/mic"},
    "wikidata-status-missing": {"org/example", "org/mic"},
    "source-without-address-or-date": {"source/no-date", "source/no-address"},
}


def test_every_check_has_a_bad_fixture() -> None:
    assert sorted(p.stem for p in CHECKS) == sorted(EXPECTED_ROWS)
    assert sorted(p.stem for p in (ROOT / "tests" / "checks").glob("*.ttl")) == sorted(EXPECTED_ROWS)


@pytest.mark.parametrize("check", CHECKS, ids=lambda p: p.stem)
def test_check_query_has_a_summary_header(check: Path) -> None:
    first = check.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("#+ summary: ") and len(first) > 20


@pytest.mark.parametrize("check", CHECKS, ids=lambda p: p.stem)
def test_check_query_passes_on_the_real_data(kg_select: Select, check: Path) -> None:
    assert kg_select(check.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("check", CHECKS, ids=lambda p: p.stem)
def test_check_query_reports_the_bad_fixture(check: Path) -> None:
    store = pyoxigraph.Store()
    store.load(path=ROOT / "tests" / "checks" / f"{check.stem}.ttl", format=pyoxigraph.RdfFormat.TURTLE,
               to_graph=pyoxigraph.NamedNode("https://w3id.org/clair-kg/graph/fixture"))
    solutions = store.query(check.read_text(encoding="utf-8"), use_default_graph_as_union=True)
    assert isinstance(solutions, pyoxigraph.QuerySolutions)
    rows = list(solutions)
    assert rows, f"{check.name} found nothing wrong in its bad fixture"
    assert all(row["entity"] is not None and row["message"] is not None for row in rows)
    reported = {str(row["entity"].value).removeprefix(ID) for row in rows}
    assert reported == EXPECTED_ROWS[check.stem]
