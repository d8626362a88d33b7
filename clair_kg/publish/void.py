"""The dataset description as VoID + DCAT 3 triples, and as a schema.org ``Dataset`` for search engines.

Both are made from the same :class:`~clair_kg.publish.metadata.DatasetMetadata` and the list of
files actually published, so counts, sizes and checksums always match what is served.
"""

from __future__ import annotations

__all__ = ["FileEntry", "schema_org_dataset", "void_triples"]

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyoxigraph import Literal, NamedNode, Triple

from ..project import ENTITY_PATH_PATTERN
from ..published import DatasetMetadata
from .rdfio import PREFIXES, compact_iri

VOID = "http://rdfs.org/ns/void#"
DCAT = PREFIXES["dcat"]
DCT = PREFIXES["dcterms"]
XSD = PREFIXES["xsd"]
RDF_TYPE = NamedNode(PREFIXES["rdf"] + "type")
SPDX = PREFIXES["spdx"]


@dataclass(frozen=True)
class FileEntry:
    """One published file: name under ``downloads/``, media type, size and SHA-256."""

    name: str
    media_type: str
    size: int
    sha256: str
    compressed: bool = False


def _n(iri: str) -> NamedNode:
    return NamedNode(iri)


def _int(value: int) -> Literal:
    return Literal(str(value), datatype=_n(XSD + "integer"))


def void_triples(meta: DatasetMetadata, files: Sequence[FileEntry]) -> list[Triple]:
    """VoID + DCAT 3 description of the dataset, its release, sources, linksets and downloads."""
    base = meta.base_iri
    ds = _n(meta.dataset_iri)
    rel = _n(meta.release_iri)
    out: list[Triple] = []

    def add(s: NamedNode, p: str, o: NamedNode | Literal) -> None:
        out.append(Triple(s, _n(p), o))

    for cls in (VOID + "Dataset", DCAT + "Dataset"):
        out.append(Triple(ds, RDF_TYPE, _n(cls)))
    for lang, text in meta.title.items():
        add(ds, DCT + "title", Literal(text, language=lang))
    for lang, text in meta.description.items():
        add(ds, DCT + "description", Literal(text, language=lang))
    for word in meta.keywords:
        add(ds, DCAT + "keyword", Literal(word, language="en"))
    add(ds, DCT + "license", _n(meta.license))
    add(ds, DCT + "issued", Literal(meta.issued, datatype=_n(XSD + "date")))
    add(ds, DCT + "modified", Literal(meta.issued, datatype=_n(XSD + "date")))
    add(ds, DCAT + "version", Literal(meta.version))
    add(ds, DCAT + "hasCurrentVersion", rel)
    add(ds, DCAT + "hasVersion", rel)
    add(ds, DCAT + "landingPage", _n(base))
    for lang in ("en", "ja"):
        add(ds, DCT + "language", _n(f"http://id.loc.gov/vocabulary/iso639-1/{lang}"))
    add(ds, VOID + "triples", _int(meta.triples))
    add(ds, VOID + "entities", _int(meta.entities))
    add(ds, VOID + "distinctSubjects", _int(meta.distinct_subjects))
    add(ds, VOID + "distinctObjects", _int(meta.distinct_objects))
    add(ds, VOID + "properties", _int(meta.properties))
    add(ds, VOID + "classes", _int(len(meta.classes)))
    add(ds, VOID + "uriSpace", Literal(f"{base}id/"))
    pattern = ENTITY_PATH_PATTERN.pattern.removeprefix("^")
    add(ds, VOID + "uriRegexPattern", Literal(f"^{base}id/{pattern}"))
    add(ds, VOID + "sparqlEndpoint", _n(meta.sparql_endpoint))
    for example in meta.example_resources:
        add(ds, VOID + "exampleResource", _n(example))
    for vocabulary in meta.vocabularies:
        add(ds, VOID + "vocabulary", _n(vocabulary))
    for fmt in sorted({f.media_type for f in files if not f.compressed}):
        add(ds, VOID + "feature", _n(f"http://www.w3.org/ns/formats/{_FORMAT_NAMES.get(fmt, 'Turtle')}"))

    # the release
    for cls in (DCAT + "Dataset", VOID + "Dataset"):
        out.append(Triple(rel, RDF_TYPE, _n(cls)))
    add(rel, DCAT + "isVersionOf", ds)
    add(rel, DCAT + "version", Literal(meta.version))
    add(rel, DCT + "issued", Literal(meta.issued, datatype=_n(XSD + "date")))
    add(rel, DCT + "identifier", Literal(f"sha256:{meta.sha256}"))
    add(rel, DCT + "title", Literal(f"{meta.title['en']} {meta.version} ({meta.issued})", language="en"))

    # the SPARQL service
    service = _n(meta.sparql_endpoint)
    out.append(Triple(service, RDF_TYPE, _n(DCAT + "DataService")))
    add(service, DCAT + "endpointURL", service)
    add(service, DCAT + "servesDataset", ds)
    add(service, DCT + "conformsTo", _n("https://www.w3.org/TR/sparql11-protocol/"))
    add(service, DCT + "title", Literal("SPARQL 1.1 endpoint", language="en"))
    add(ds, DCAT + "accessService", service)

    # sources: one named graph each, a subset of the dataset
    for source in meta.sources:
        g = _n(source.iri)
        add(ds, VOID + "subset", g)
        out.append(Triple(g, RDF_TYPE, _n(VOID + "Dataset")))
        add(g, VOID + "triples", _int(source.triples))
        for derived in source.derived_from:
            add(g, DCT + "source", _n(derived))
        if source.license:
            add(g, DCT + "license", _n(source.license))
        for lang, text in source.labels.items():
            add(g, DCT + "title", Literal(text, language=lang))

    # classes
    for partition in sorted(meta.classes, key=lambda c: c.iri):
        slug = re.sub(r"[^A-Za-z0-9]+", "-", compact_iri(partition.iri)).strip("-")
        part = _n(f"{base}dataset#class-{slug}")
        add(ds, VOID + "classPartition", part)
        add(part, VOID + "class", _n(partition.iri))
        add(part, VOID + "entities", _int(partition.entities))

    # linksets
    for link in meta.linksets:
        ls = _n(f"{base}dataset#links-{link.target.lower()}")
        out.append(Triple(ls, RDF_TYPE, _n(VOID + "Linkset")))
        add(ls, VOID + "subjectsTarget", ds)
        add(ls, VOID + "objectsTarget", _n(link.target_dataset))
        add(ls, VOID + "linkPredicate", _n(link.predicate))
        add(ls, VOID + "triples", _int(link.links))
        add(ls, DCT + "title", Literal(f"owl:sameAs links to {link.target}", language="en"))
        add(ds, VOID + "subset", ls)

    # downloads
    for f in files:
        url = _n(meta.downloads_url + f.name)
        out.append(Triple(url, RDF_TYPE, _n(DCAT + "Distribution")))
        add(ds, DCAT + "distribution", url)
        add(url, DCAT + "downloadURL", url)
        add(url, DCAT + "accessURL", _n(meta.downloads_url))
        media = "application/gzip" if f.compressed else f.media_type
        add(url, DCAT + "mediaType", _n(f"https://www.iana.org/assignments/media-types/{media}"))
        if f.compressed:
            add(url, DCAT + "compressFormat", _n("https://www.iana.org/assignments/media-types/application/gzip"))
            add(url, DCAT + "packageFormat", _n(f"https://www.iana.org/assignments/media-types/{f.media_type}"))
        add(url, DCAT + "byteSize", Literal(str(f.size), datatype=_n(XSD + "nonNegativeInteger")))
        add(url, DCT + "license", _n(meta.license))
        checksum = _n(meta.downloads_url + f.name + "#sha256")
        add(url, SPDX + "checksum", checksum)
        out.append(Triple(checksum, RDF_TYPE, _n(SPDX + "Checksum")))
        add(checksum, SPDX + "algorithm", _n(SPDX + "checksumAlgorithm_sha256"))
        add(checksum, SPDX + "checksumValue", Literal(f.sha256, datatype=_n(XSD + "hexBinary")))
        if not f.compressed:
            add(ds, VOID + "dataDump", url)
    return out


_FORMAT_NAMES = {
    "text/turtle": "Turtle",
    "application/n-triples": "N-Triples",
    "application/ld+json": "JSON-LD",
    "application/rdf+xml": "RDF_XML",
    "application/trig": "TriG",
    "application/n-quads": "N-Quads",
}


def schema_org_dataset(meta: DatasetMetadata, files: Sequence[FileEntry]) -> dict[str, Any]:
    """The schema.org ``Dataset`` (Google Dataset Search) made from the same metadata."""
    return {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": meta.dataset_iri,
        "name": meta.title["en"],
        "alternateName": meta.title["ja"],
        "description": meta.description["en"],
        "url": meta.base_iri,
        "identifier": meta.dataset_iri,
        "version": meta.version,
        "datePublished": meta.issued,
        "dateModified": meta.issued,
        "license": meta.license,
        "isAccessibleForFree": True,
        "inLanguage": ["en", "ja"],
        "keywords": list(meta.keywords),
        "isBasedOn": sorted({d for s in meta.sources for d in s.derived_from}),
        "variableMeasured": [c.labels.get("en") or c.iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
                             for c in meta.classes[:8]],
        "distribution": [
            {
                "@type": "DataDownload",
                "encodingFormat": "application/gzip" if f.compressed else f.media_type,
                "contentUrl": meta.downloads_url + f.name,
                "contentSize": f"{f.size} B",
            }
            for f in files
            if not f.compressed
        ],
    }
