"""The query mix every server is driven with: six everyday queries over the real CLAIR graph."""

from __future__ import annotations

__all__ = ["QUERIES", "BenchQuery"]

from dataclasses import dataclass

PREFIXES = (
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
    "PREFIX schema: <https://schema.org/> "
    "PREFIX org: <http://www.w3.org/ns/org#> "
    "PREFIX clair: <https://w3id.org/clair-kg/ontology#> "
)

JSON_RESULTS = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"


@dataclass(frozen=True)
class BenchQuery:
    name: str
    text: str
    accept: str

    @property
    def is_graph(self) -> bool:
        return self.accept == N_TRIPLES


QUERIES: tuple[BenchQuery, ...] = (
    BenchQuery("describe", "DESCRIBE <https://w3id.org/clair-kg/id/org/clair>", N_TRIPLES),
    BenchQuery("labels-ordered", PREFIXES + "SELECT ?s ?l WHERE { ?s rdfs:label ?l } ORDER BY ?l ?s", JSON_RESULTS),
    BenchQuery(
        "counts-by-type",
        PREFIXES + "SELECT ?t (COUNT(*) AS ?n) WHERE { ?s a ?t } GROUP BY ?t ORDER BY DESC(?n) ?t",
        JSON_RESULTS,
    ),
    BenchQuery(
        "two-hop-join",
        PREFIXES
        + "SELECT ?office ?city ?country WHERE { ?office a clair:OverseasOffice ; schema:location ?city . "
        "?city schema:containedInPlace ?country . ?country rdfs:label ?name } ORDER BY ?office",
        JSON_RESULTS,
    ),
    BenchQuery(
        "text-filter",
        PREFIXES + 'SELECT ?s ?l WHERE { ?s rdfs:label ?l FILTER(CONTAINS(LCASE(STR(?l)), "office")) }',
        JSON_RESULTS,
    ),
    BenchQuery(
        "ask",
        PREFIXES + "ASK { <https://w3id.org/clair-kg/id/office/london> org:unitOf ?o . ?o rdfs:label ?l }",
        JSON_RESULTS,
    ),
)
