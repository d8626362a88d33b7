"""What the dataset is: counts, sources, links, version and date, computed from its quads.

One :class:`DatasetMetadata` feeds the VoID + DCAT description (``void.ttl``, ``/.well-known/void``,
``/`` as RDF), the schema.org ``Dataset`` JSON-LD on the landing page and the landing page's counts,
so they can never disagree. The release date is derived, never "now": ``SOURCE_DATE_EPOCH`` if set
(the reproducible-builds convention), else the commit date of the project's git ``HEAD``, else the
newest source file's modification time. A rebuild of the same sources is therefore byte-identical.
"""

from __future__ import annotations

__all__ = ["dataset_metadata", "release_date"]

import datetime as dt
import os
import subprocess
from collections import Counter, defaultdict
from collections.abc import Sequence

from pyoxigraph import Literal, NamedNode, Quad

from ..namespaces import PREFIXES, RDF_TYPE
from ..project import Project
from ..published import ClassCount, DatasetMetadata, LinkCount, SourceInfo

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"
DCT = PREFIXES["dcterms"]
PROV_DERIVED = PREFIXES["prov"] + "wasDerivedFrom"
OWL_SAMEAS = "http://www.w3.org/2002/07/owl#sameAs"

#: Link targets counted as VoID linksets: name -> (namespace of their IRIs, dataset IRI).
LINK_TARGETS: dict[str, tuple[str, str]] = {
    "Wikidata": ("http://www.wikidata.org/entity/", "https://www.wikidata.org/"),
    "GeoNames": ("https://sws.geonames.org/", "https://www.geonames.org/"),
}

def release_date(project: Project, *, environ: dict[str, str] | None = None) -> str:
    """The release date (``YYYY-MM-DD``, UTC), derived from the sources, never from the clock."""
    env = os.environ if environ is None else environ
    epoch = env.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date().isoformat()
    try:
        out = subprocess.run(
            ["git", "-C", str(project.root), "log", "-1", "--format=%ct", "HEAD"],
            capture_output=True, text=True, timeout=10, check=False,
        )
        if out.returncode == 0 and out.stdout.strip().isdigit():
            return dt.datetime.fromtimestamp(int(out.stdout.strip()), tz=dt.UTC).date().isoformat()
    except (OSError, subprocess.SubprocessError):
        pass
    newest = 0.0
    for folder in (project.ontology_dir, project.data_dir):
        if folder.is_dir():
            for path in folder.rglob("*.ttl"):
                newest = max(newest, path.stat().st_mtime)
    return dt.datetime.fromtimestamp(int(newest), tz=dt.UTC).date().isoformat()


def _labels(quads: Sequence[Quad], iris: set[str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for q in quads:
        if q.predicate.value in (SKOS_PREF, RDFS_LABEL) and _v(q.subject) in iris:
            obj = q.object
            if isinstance(obj, Literal):
                lang = obj.language or "en"
                # skos:prefLabel wins over rdfs:label; otherwise the first in canonical order.
                if lang not in found[_v(q.subject)] or q.predicate.value == SKOS_PREF:
                    found[_v(q.subject)][lang] = obj.value
    return found


def dataset_metadata(
    quads: Sequence[Quad], project: Project, *, version: str, issued: str, sha256: str
) -> DatasetMetadata:
    """Describe the dataset made of ``quads`` (the whole release, every named graph)."""
    base = project.base_iri
    id_space = f"{base}id/"
    triples = {(str(q.subject), str(q.predicate), str(q.object)) for q in quads}
    subjects = {_v(q.subject) for q in quads if isinstance(q.subject, NamedNode)}
    entities = {s for s in subjects if s.startswith(id_space)}
    class_members: dict[str, set[str]] = defaultdict(set)
    for q in quads:
        if q.predicate.value == RDF_TYPE and _v(q.subject) in entities and isinstance(q.object, NamedNode):
            class_members[q.object.value].add(_v(q.subject))
    per_graph: Counter[str] = Counter(q.graph_name.value for q in quads if isinstance(q.graph_name, NamedNode))
    graph_iris = set(per_graph)
    labels = _labels(quads, set(class_members) | graph_iris)
    descriptions: dict[str, dict[str, str]] = defaultdict(dict)
    derived: dict[str, set[str]] = defaultdict(set)
    licences: dict[str, str] = {}
    for q in quads:
        s = _v(q.subject)
        if s not in graph_iris:
            continue
        p = q.predicate.value
        if p == DCT + "description" and isinstance(q.object, Literal):
            descriptions[s].setdefault(q.object.language or "en", q.object.value)
        elif p == DCT + "title" and isinstance(q.object, Literal):
            labels[s].setdefault(q.object.language or "en", q.object.value)
        elif p == PROV_DERIVED and isinstance(q.object, NamedNode):
            derived[s].add(q.object.value)
        elif p == DCT + "license" and isinstance(q.object, NamedNode):
            licences[s] = q.object.value
    sources = tuple(
        SourceInfo(
            iri=g,
            name=g.rstrip("/").rsplit("/", 1)[-1],
            labels=dict(labels.get(g, {})),
            descriptions=dict(descriptions.get(g, {})),
            derived_from=tuple(sorted(derived.get(g, ()))),
            license=licences.get(g),
            triples=per_graph[g],
        )
        for g in sorted(graph_iris)
    )
    classes = tuple(
        sorted(
            (ClassCount(c, dict(labels.get(c, {})), len(m)) for c, m in class_members.items()),
            key=lambda c: (-c.entities, c.iri),
        )
    )
    linksets = []
    for name, (namespace, dataset) in LINK_TARGETS.items():
        n = len({
            (_v(q.subject), q.object.value) for q in quads
            if q.predicate.value == OWL_SAMEAS and isinstance(q.object, NamedNode)
            and q.object.value.startswith(namespace)
        })
        linksets.append(LinkCount(name, namespace, dataset, OWL_SAMEAS, n))
    outgoing: Counter[str] = Counter(_v(q.subject) for q in quads if _v(q.subject) in entities)
    examples = tuple(s for s, _ in sorted(outgoing.items(), key=lambda kv: (-kv[1], kv[0]))[:3])
    vocabularies = sorted({
        ns for q in quads for ns in _namespaces(q.predicate.value) if not ns.startswith(base + "id")
    })
    return DatasetMetadata(
        base_iri=base,
        version=version,
        issued=issued,
        sha256=sha256,
        quads=len(quads),
        triples=len(triples),
        entities=len(entities),
        distinct_subjects=len(subjects),
        distinct_objects=len({str(q.object) for q in quads}),
        properties=len({q.predicate.value for q in quads}),
        classes=classes,
        sources=sources,
        linksets=tuple(linksets),
        example_resources=examples,
        vocabularies=tuple(vocabularies),
    )


def _v(term: object) -> str:
    """The IRI or blank node id of a subject (quoted triples as their N-Triples text)."""
    value = getattr(term, "value", None)
    return value if isinstance(value, str) else str(term)


def _namespaces(iri: str) -> tuple[str, ...]:
    for sep in ("#", "/"):
        if sep in iri:
            return (iri[: iri.rindex(sep) + 1],)
    return ()
