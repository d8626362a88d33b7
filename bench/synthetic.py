"""A deterministic synthetic graph in the project's own shape, at any size (10^4 .. 10^7 statements).

``python -m bench.synthetic --statements 1000000 --out /tmp/syn-1e6.nq`` writes N-Quads (or Turtle
with ``--format ttl``) into the named graph ``https://w3id.org/clair-kg/graph/synthetic``. The same
size and seed always give the same bytes.

What it holds, so that search, reconciliation and the SPARQL mix see the shapes the real graph has:

- countries and cities (``place/...``: ``schema:Country``, ``schema:City`` in a country);
- organisations (``org/...``: ``org:FormalOrganization``, an abbreviation as ``skos:altLabel``, an
  English description, a founding year);
- units of those organisations (``unit/...``: ``org:OrganizationalUnit``, ``org:unitOf``, a
  ``schema:location`` city), named like the overseas offices ("<org> <city> Office");
- memberships of one organisation in another (``membership/...``: ``org:Membership``, current).

Every entity has an English and a Japanese ``rdfs:label`` and ``skos:prefLabel``. The names are
made-up words built from Japanese syllables, written in Latin letters for English and in katakana
for Japanese (``Kanori`` / ``カノリ``), so the two languages match each other and nothing is
mistaken for a real place or body; no entity claims a Wikidata item (each carries the note the
shapes ask for when none is confirmed). The graph passes the project's shapes and check queries
(``tests/test_synthetic.py`` validates it at 10^4).
"""

from __future__ import annotations

import argparse
import random
import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

BASE = "https://w3id.org/clair-kg/"
GRAPH = BASE + "graph/synthetic"
ID = BASE + "id/"

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SCHEMA = "https://schema.org/"
ORG = "http://www.w3.org/ns/org#"
CLAIR = "https://w3id.org/clair-kg/ontology#"
XSD = "http://www.w3.org/2001/XMLSchema#"
NOTE = "Wikidata item not yet confirmed"

#: (romaji, katakana): the syllables names are made of
SYLLABLES = (
    ("ka", "カ"), ("ki", "キ"), ("ku", "ク"), ("ke", "ケ"), ("ko", "コ"), ("sa", "サ"), ("shi", "シ"),
    ("su", "ス"), ("se", "セ"), ("so", "ソ"), ("ta", "タ"), ("chi", "チ"), ("tsu", "ツ"), ("te", "テ"),
    ("to", "ト"), ("na", "ナ"), ("ni", "ニ"), ("nu", "ヌ"), ("ne", "ネ"), ("no", "ノ"), ("ha", "ハ"),
    ("hi", "ヒ"), ("fu", "フ"), ("he", "ヘ"), ("ho", "ホ"), ("ma", "マ"), ("mi", "ミ"), ("mu", "ム"),
    ("me", "メ"), ("mo", "モ"), ("ya", "ヤ"), ("yu", "ユ"), ("yo", "ヨ"), ("ra", "ラ"), ("ri", "リ"),
    ("ru", "ル"), ("re", "レ"), ("ro", "ロ"), ("wa", "ワ"), ("n", "ン"),
)
#: (English, Japanese) kinds of organisation
ORG_KINDS = (
    ("Association", "協会"), ("Council", "評議会"), ("Foundation", "財団"), ("Centre", "センター"),
    ("Institute", "研究所"), ("Network", "ネットワーク"), ("Agency", "機構"), ("Society", "学会"),
)
CITIES_PER_COUNTRY = 40
ORGS_PER_CITY = 4
UNITS_PER_ORG = 2


@dataclass(frozen=True)
class Name:
    en: str
    ja: str


class _Names:
    """Made-up words from a seeded generator: the same seed gives the same sequence of names."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def word(self, low: int = 2, high: int = 4) -> Name:
        parts = [SYLLABLES[self._rng.randrange(len(SYLLABLES) - 1)]]  # no word starts with ン
        parts += [SYLLABLES[self._rng.randrange(len(SYLLABLES))] for _ in range(self._rng.randint(low, high) - 1)]
        return Name("".join(p[0] for p in parts).capitalize(), "".join(p[1] for p in parts))

    def choice(self, n: int) -> int:
        return self._rng.randrange(n)


class _OrgNames:
    """The English and Japanese names of every organisation so far, packed: a membership names a host
    drawn from all earlier organisations, so they must be kept, but as UTF-8 bytes in one buffer (about
    60 bytes each: 17 MB at 10^7 statements) rather than as Python objects (about 450 bytes each)."""

    def __init__(self) -> None:
        self._text = bytearray()
        self._ends = array("Q")

    def __len__(self) -> int:
        return len(self._ends)

    def append(self, name: Name) -> None:
        self._text += f"{name.en}\t{name.ja}".encode()
        self._ends.append(len(self._text))

    def __getitem__(self, index: int) -> Name:
        start = self._ends[index - 1] if index else 0
        en, ja = self._text[start:self._ends[index]].decode().split("\t")
        return Name(en, ja)


def _literal(text: str, lang: str | None = None, datatype: str | None = None) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    if lang:
        return f'"{escaped}"@{lang}'
    if datatype:
        return f'"{escaped}"^^<{datatype}>'
    return f'"{escaped}"'


class _Writer:
    """Counts statements and writes them as N-Quads lines (Turtle is written from the same triples)."""

    def __init__(self) -> None:
        self.count = 0

    def triples(self, subject: str, pairs: list[tuple[str, str]]) -> Iterator[tuple[str, str, str]]:
        for predicate, obj in pairs:
            self.count += 1
            yield f"<{ID}{subject}>", f"<{predicate}>", obj


def _labelled(kind_iri: str, name: Name) -> list[tuple[str, str]]:
    return [
        (RDF_TYPE, f"<{kind_iri}>"),
        (RDFS_LABEL, _literal(name.en, "en")), (SKOS + "prefLabel", _literal(name.en, "en")),
        (RDFS_LABEL, _literal(name.ja, "ja")), (SKOS + "prefLabel", _literal(name.ja, "ja")),
    ]


def triples(statements: int, seed: int = 0) -> Iterator[tuple[str, str, str]]:
    """At least ``statements`` triples (whole entities only), deterministic for (statements, seed)."""
    names = _Names(seed)
    out = _Writer()
    note = (SKOS + "note", _literal(NOTE, "en"))
    countries = 0
    country = ""
    orgs = _OrgNames()  # org/org-{n + 1} is orgs[n]
    city_index = 0
    org_index = 0
    while out.count < statements:
        if city_index % CITIES_PER_COUNTRY == 0:
            countries += 1
            country = f"place/country-{countries}"
            country_name = names.word(3, 4)
            yield from out.triples(country, [*_labelled(SCHEMA + "Country", country_name), note])
        city_index += 1
        city = f"place/city-{city_index}"
        city_name = names.word()
        yield from out.triples(city, [
            *_labelled(SCHEMA + "City", city_name), (SCHEMA + "containedInPlace", f"<{ID}{country}>"), note,
        ])
        for _ in range(ORGS_PER_CITY):
            org_index += 1
            org = f"org/org-{org_index}"
            first, second = names.word(), names.word()
            kind_en, kind_ja = ORG_KINDS[names.choice(len(ORG_KINDS))]
            org_name = Name(f"{first.en} {second.en} {kind_en}", f"{first.ja}{second.ja}{kind_ja}")
            abbreviation = (first.en[0] + second.en[0] + kind_en[0]).upper() + str(org_index)
            year = 1900 + names.choice(125)
            yield from out.triples(org, [
                *_labelled(ORG + "FormalOrganization", org_name),
                (SKOS + "altLabel", _literal(abbreviation, "en")),
                (SCHEMA + "description", _literal(f"A synthetic organisation based in {city_name.en}.", "en")),
                (SCHEMA + "foundingDate", _literal(str(year), datatype=XSD + "gYear")),
                (SCHEMA + "location", f"<{ID}{city}>"), note,
            ])
            for u in range(1, UNITS_PER_ORG + 1):
                # a unit in its organisation's city or in one of the previous cities
                where = max(1, city_index - names.choice(8))
                where_name = f"city-{where}"
                unit_name = Name(f"{org_name.en} {where_name.replace('-', ' ').title()} Office {u}",
                                 f"{org_name.ja}第{u}事務所")
                yield from out.triples(f"unit/org-{org_index}-{u}", [
                    *_labelled(ORG + "OrganizationalUnit", unit_name),
                    (ORG + "unitOf", f"<{ID}{org}>"),
                    (SCHEMA + "description", _literal(f"Office {u} of {org_name.en}.", "en")),
                    (SCHEMA + "location", f"<{ID}place/{where_name}>"), note,
                ])
            if orgs:
                chosen = names.choice(len(orgs))
                host, host_name = f"org/org-{chosen + 1}", orgs[chosen]
                yield from out.triples(f"membership/org-{org_index}-in-{host.split('-')[-1]}", [
                    (RDF_TYPE, f"<{ORG}Membership>"),
                    (RDFS_LABEL, _literal(f"{org_name.en} in {host_name.en}", "en")),
                    (SKOS + "prefLabel", _literal(f"{org_name.en} in {host_name.en}", "en")),
                    (RDFS_LABEL, _literal(f"{org_name.ja}の{host_name.ja}加盟", "ja")),
                    (ORG + "member", f"<{ID}{org}>"), (ORG + "organization", f"<{ID}{host}>"),
                    (CLAIR + "membershipStatus", f"<{CLAIR}current>"),
                ])
            orgs.append(org_name)


def write_nquads(stream: TextIO, statements: int, seed: int = 0) -> int:
    """Write the graph as N-Quads; returns the number of statements written."""
    n = 0
    for s, p, o in triples(statements, seed):
        stream.write(f"{s} {p} {o} <{GRAPH}> .\n")
        n += 1
    return n


def write_turtle(stream: TextIO, statements: int, seed: int = 0) -> int:
    """Write the graph as Turtle (one subject per block); returns the number of statements written."""
    n = 0
    current = None
    for s, p, o in triples(statements, seed):
        if s != current:
            stream.write(" .\n" if current is not None else "")
            stream.write(f"{s} {p} {o}")
            current = s
        else:
            stream.write(f" ;\n    {p} {o}")
        n += 1
    if current is not None:
        stream.write(" .\n")
    return n


def write(path: Path, statements: int, seed: int = 0) -> int:
    """Write to ``path``: Turtle if it ends in ``.ttl``, else N-Quads."""
    with path.open("w", encoding="utf-8") as stream:
        if path.suffix == ".ttl":
            return write_turtle(stream, statements, seed)
        return write_nquads(stream, statements, seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.synthetic", description=__doc__.split("\n")[0])
    parser.add_argument("--statements", type=int, default=10_000, help="how many statements, at least")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="file to write (.nq or .ttl); default: N-Quads on stdout")
    args = parser.parse_args(argv)
    if args.out is None:
        n = write_nquads(sys.stdout, args.statements, args.seed)
    else:
        n = write(args.out, args.statements, args.seed)
    print(f"{n} statements", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
