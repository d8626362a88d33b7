"""The one table of formats: every media type the project reads or writes, and what it is called.

Each row ties a media type to its file extension (URLs and downloads), the words ``?format=``
accepts, the name people read, the W3C formats IRI (Service Description, VoID) and pyoxigraph's
own writer (:class:`~pyoxigraph.RdfFormat` or :class:`~pyoxigraph.QueryResultsFormat`). Every other
table in the package is derived from this one, so a format added here is negotiated, written,
described and listed everywhere at once.
"""

from __future__ import annotations

__all__ = [
    "DATASET_MEDIA_TYPES",
    "DOCUMENT_MEDIA_TYPES",
    "FORMATS",
    "FORMAT_ALIASES",
    "FORMAT_IRIS",
    "FORMAT_NAMES",
    "GRAPH_FORMATS",
    "GRAPH_SYNONYMS",
    "MEDIA_EXTENSIONS",
    "MEDIA_SYNONYMS",
    "RESULT_FORMATS",
    "Format",
    "content_type",
]

from dataclasses import dataclass

from pyoxigraph import QueryResultsFormat, RdfFormat

_W3C = "http://www.w3.org/ns/formats/"


@dataclass(frozen=True)
class Format:
    media_type: str
    extension: str
    name: str
    #: the other words ``?format=`` and URL suffixes accept for it
    aliases: tuple[str, ...] = ()
    #: the W3C formats IRI naming it (``http://www.w3.org/ns/formats/…``)
    iri: str | None = None
    rdf: RdfFormat | None = None
    results: QueryResultsFormat | None = None

    @property
    def holds_datasets(self) -> bool:
        """True for formats that keep named graphs (TriG, N-Quads; JSON-LD may)."""
        return self.rdf is not None and self.rdf.supports_datasets


#: in order of the server's preference where a client accepts several
FORMATS: tuple[Format, ...] = (
    Format("application/sparql-results+json", "srj", "SPARQL Results JSON", ("json",), _W3C + "SPARQL_Results_JSON",
           results=QueryResultsFormat.JSON),
    Format("application/sparql-results+xml", "srx", "SPARQL Results XML", ("xml",), _W3C + "SPARQL_Results_XML",
           results=QueryResultsFormat.XML),
    Format("text/csv", "csv", "CSV", (), _W3C + "SPARQL_Results_CSV", results=QueryResultsFormat.CSV),
    Format("text/tab-separated-values", "tsv", "TSV", (), _W3C + "SPARQL_Results_TSV",
           results=QueryResultsFormat.TSV),
    Format("text/turtle", "ttl", "Turtle", ("turtle",), _W3C + "Turtle", rdf=RdfFormat.TURTLE),
    Format("application/n-triples", "nt", "N-Triples", ("ntriples", "n-triples"), _W3C + "N-Triples",
           rdf=RdfFormat.N_TRIPLES),
    Format("application/ld+json", "jsonld", "JSON-LD", ("json-ld",), _W3C + "JSON-LD", rdf=RdfFormat.JSON_LD),
    Format("application/rdf+xml", "rdf", "RDF/XML", ("rdfxml", "rdf-xml", "owl"), _W3C + "RDF_XML",
           rdf=RdfFormat.RDF_XML),
    Format("application/trig", "trig", "TriG", (), _W3C + "TriG", rdf=RdfFormat.TRIG),
    Format("application/n-quads", "nq", "N-Quads", ("nquads", "n-quads"), _W3C + "N-Quads", rdf=RdfFormat.N_QUADS),
    Format("text/html", "html", "HTML", ("htm",)),
    Format("text/plain", "txt", "plain text"),
)

#: media type -> pyoxigraph writer, for SELECT/ASK results (in order of preference)
RESULT_FORMATS: dict[str, QueryResultsFormat] = {f.media_type: f.results for f in FORMATS if f.results}
#: media type -> pyoxigraph writer, for CONSTRUCT/DESCRIBE results and RDF documents
GRAPH_FORMATS: dict[str, RdfFormat] = {f.media_type: f.rdf for f in FORMATS if f.rdf}
#: the graph formats that keep named graphs (dumps in these keep every source apart)
DATASET_MEDIA_TYPES: tuple[str, ...] = ("application/trig", "application/n-quads", "application/ld+json")
#: the formats of an entity document (HTML first: a browser's Accept lists it)
DOCUMENT_MEDIA_TYPES: tuple[str, ...] = (
    "text/html", "text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml",
)
#: media type -> file extension
MEDIA_EXTENSIONS: dict[str, str] = {f.media_type: f.extension for f in FORMATS if f.media_type != "text/plain"}
#: media type -> the name people read
FORMAT_NAMES: dict[str, str] = {f.media_type: f.name for f in FORMATS}
#: media type -> W3C formats IRI
FORMAT_IRIS: dict[str, str] = {f.media_type: f.iri for f in FORMATS if f.iri}
#: ``?format=`` words and URL suffixes -> media type
FORMAT_ALIASES: dict[str, str] = {
    word: f.media_type for f in FORMATS for word in (f.extension, *f.aliases)
}
#: media types clients send that mean one of ours (for results, and by default)
MEDIA_SYNONYMS: dict[str, str] = {
    "application/json": "application/sparql-results+json",
    "application/xml": "application/sparql-results+xml",
    "text/xml": "application/sparql-results+xml",
    "application/x-turtle": "text/turtle",
    "text/n3": "text/turtle",
    "text/plain": "application/n-triples",
    "application/xhtml+xml": "text/html",
    "text/x-nquads": "application/n-quads",
}
#: what a client's result-format words mean for a graph (CONSTRUCT/DESCRIBE, documents)
GRAPH_SYNONYMS: dict[str, str] = {
    "application/sparql-results+json": "application/ld+json",
    "application/json": "application/ld+json",
    "application/sparql-results+xml": "application/rdf+xml",
    "application/xml": "application/rdf+xml",
    "text/xml": "application/rdf+xml",
}


def content_type(media_type: str) -> str:
    """The Content-Type header for ``media_type``: text types say they are UTF-8."""
    return f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type
