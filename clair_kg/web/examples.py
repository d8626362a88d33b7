"""The example queries: one list for the query page and the landing page.

Relative IRIs (``<id/org/clair>``) resolve against the dataset's base IRI on this server, so the
examples work whatever ``base_iri`` a deployment uses.
"""

from __future__ import annotations

__all__ = ["EXAMPLES", "Example"]

from dataclasses import dataclass
from urllib.parse import urlencode

_PREFIXES = """PREFIX clair:  <https://w3id.org/clair-kg/ontology#>
PREFIX org:    <http://www.w3.org/ns/org#>
PREFIX rdfs:   <http://www.w3.org/2000/01/rdf-schema#>
PREFIX schema: <https://schema.org/>
PREFIX skos:   <http://www.w3.org/2004/02/skos/core#>
"""


@dataclass(frozen=True)
class Example:
    title: str
    query: str
    title_ja: str = ""
    #: also shown on the landing page
    on_landing: bool = False

    def title_in(self, lang: str) -> str:
        return self.title_ja if lang == "ja" and self.title_ja else self.title

    @property
    def href(self) -> str:
        return "/sparql?" + urlencode({"query": self.query})


EXAMPLES: tuple[Example, ...] = (
    Example("CLAIR's overseas offices and where they are", title_ja="CLAIRの海外事務所と所在地", on_landing=True,
            query=_PREFIXES + """
SELECT ?office ?name ?place WHERE {
  ?office a clair:OverseasOffice ;
          rdfs:label ?name ;
          schema:location ?place .
  FILTER(LANG(?name) = "en")
}
ORDER BY ?name"""),
    Example("Branch offices in Japan, with Japanese names where known",
            title_ja="国内支部（日本語名があれば併記）", query=_PREFIXES + """
SELECT ?branch ?en ?ja WHERE {
  ?branch a clair:BranchOffice ; rdfs:label ?en .
  FILTER(LANG(?en) = "en")
  OPTIONAL { ?branch rdfs:label ?ja FILTER(LANG(?ja) = "ja") }
}
ORDER BY ?en"""),
    Example("JET Programme positions", title_ja="JETプログラムの職種", query=_PREFIXES + """
SELECT ?position ?label ?abbreviation ?definition WHERE {
  ?position skos:inScheme <id/scheme/jet-positions> ;
            skos:prefLabel ?label ;
            skos:altLabel ?abbreviation ;
            skos:definition ?definition .
}
ORDER BY ?abbreviation"""),
    Example("Ministries, in English and Japanese", title_ja="関係省庁（英語・日本語）", query=_PREFIXES + """
SELECT ?ministry ?label WHERE {
  ?ministry a clair:Ministry ; rdfs:label ?label .
}
ORDER BY ?ministry ?label"""),
    Example("Statements per source (named graph)", title_ja="出典（名前付きグラフ）ごとの記述数", on_landing=True,
            query="""SELECT ?graph (COUNT(*) AS ?statements)
WHERE { GRAPH ?graph { ?s ?p ?o } }
GROUP BY ?graph ORDER BY DESC(?statements)"""),
    Example("How many things of each type, per source graph",
            title_ja="出典グラフごとの種類別件数", query="""SELECT ?graph ?type (COUNT(?s) AS ?n) WHERE {
  GRAPH ?graph { ?s a ?type }
}
GROUP BY ?graph ?type
ORDER BY ?graph DESC(?n)"""),
    Example("Everything said about CLAIR (DESCRIBE)",
            title_ja="CLAIRについてのすべての記述（DESCRIBE）",
            query="DESCRIBE <id/org/clair>"),
)
