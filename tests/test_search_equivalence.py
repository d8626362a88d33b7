"""Search and reconciliation answer exactly what they answered before the index changes of issue 12's
item 1 (property values in the index, one search lane per process): hits, match classes, scores,
candidates, features and extension values for a few hundred requests over the 10^4 synthetic graph
plus a few hand-made entities (Wikidata items, local names, full-width and half-width names).

The expected answers (``tests/fixtures/search-equivalence.json.gz``) were written by the code before
the change, with this file run as a script::

    git archive <before> clair_kg | tar -x -C /tmp/base
    PYTHONPATH=/tmp/base .venv/bin/python tests/test_search_equivalence.py --write

Regenerate them the same way only when a change of the answers is intended (and say so in the commit).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/ is importable from the checkout
    sys.path.append(str(ROOT))

from bench import synthetic  # noqa: E402
from clair_kg.reconcile import ReconcileService, parse_batch, parse_extend  # noqa: E402
from clair_kg.search import LabelIndex  # noqa: E402
from clair_kg.store import EmbeddedStore  # noqa: E402

EXPECTED = Path(__file__).parent / "fixtures" / "search-equivalence.json.gz"
BASE = synthetic.BASE
STATEMENTS = 10_000
ID = synthetic.ID
ONT = synthetic.CLAIR
GRAPH = "https://w3id.org/clair-kg/graph/equivalence"
#: entities the synthetic graph has no example of: Wikidata items, local names, width variants
EXTRA = f"""
<{ID}office/london> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{ONT}OverseasOffice> <{GRAPH}> .
<{ID}office/london> <http://www.w3.org/2004/02/skos/core#prefLabel> "CLAIR London"@en <{GRAPH}> .
<{ID}office/london> <http://www.w3.org/2004/02/skos/core#prefLabel> "クレア・ロンドン事務所"@ja <{GRAPH}> .
<{ID}office/london> <http://www.w3.org/2004/02/skos/core#altLabel> "ＣＬＡＩＲ　ロンドン"@ja <{GRAPH}> .
<{ID}office/london> <{ONT}localName> "Japan Local Government Centre"@en <{GRAPH}> .
<{ID}office/london> <https://schema.org/location> <{ID}place/london> <{GRAPH}> .
<{ID}office/london> <http://www.w3.org/2002/07/owl#sameAs> <http://www.wikidata.org/entity/Q5012345> <{GRAPH}> .
<{ID}office/london> <https://schema.org/url> <https://www.jlgc.org.uk/> <{GRAPH}> .
<{ID}place/london> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://schema.org/City> <{GRAPH}> .
<{ID}place/london> <http://www.w3.org/2000/01/rdf-schema#label> "London"@en <{GRAPH}> .
<{ID}place/london> <http://www.w3.org/2000/01/rdf-schema#label> "ロンドン"@ja <{GRAPH}> .
<{ID}place/london> <https://schema.org/containedInPlace> <{ID}place/uk> <{GRAPH}> .
<{ID}place/uk> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://schema.org/Country> <{GRAPH}> .
<{ID}place/uk> <http://www.w3.org/2000/01/rdf-schema#label> "United Kingdom"@en <{GRAPH}> .
<{ID}place/uk> <{ONT}isoCode> "GB" <{GRAPH}> .
<{ID}office/sydney> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{ONT}OverseasOffice> <{GRAPH}> .
<{ID}office/sydney> <http://www.w3.org/2004/02/skos/core#prefLabel> "CLAIR Sydney"@en <{GRAPH}> .
<{ID}office/sydney> <http://www.w3.org/2004/02/skos/core#prefLabel> "ｸﾚｱ・シドニー事務所"@ja <{GRAPH}> .
<{ID}office/sydney> <https://schema.org/location> <{ID}place/sydney> <{GRAPH}> .
<{ID}office/sydney> <https://schema.org/foundingDate> "1994-04-01"^^<http://www.w3.org/2001/XMLSchema#date> <{GRAPH}> .
<{ID}place/sydney> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://schema.org/City> <{GRAPH}> .
<{ID}place/sydney> <http://www.w3.org/2004/02/skos/core#prefLabel> "Sydney"@en <{GRAPH}> .
<{ID}place/sydney> <https://schema.org/containedInPlace> <{ID}place/australia> <{GRAPH}> .
<{ID}place/australia> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://schema.org/Country> <{GRAPH}> .
<{ID}place/australia> <http://www.w3.org/2000/01/rdf-schema#label> "Australia"@en <{GRAPH}> .
<{ID}place/australia> <http://www.w3.org/2002/07/owl#sameAs> <http://www.wikidata.org/entity/Q408> <{GRAPH}> .
"""
UNIT = "http://www.w3.org/ns/org#OrganizationalUnit"
ORG = "http://www.w3.org/ns/org#FormalOrganization"
CITY = "https://schema.org/City"


def make_store() -> EmbeddedStore:
    store = EmbeddedStore(base_iri=BASE)
    lines = [f"{s} {p} {o} <{synthetic.GRAPH}> .\n" for s, p, o in synthetic.triples(STATEMENTS)]
    store.load_nquads("".join(lines).encode() + EXTRA.encode())
    return store


def _typo(word: str, n: int) -> str:
    """A deterministic one- or two-edit variant of ``word``."""
    if len(word) < 4:
        return word + "a"
    i = 1 + n % (len(word) - 2)
    kinds = (word[:i] + word[i + 1:],  # a character dropped
             word[:i] + word[i + 1] + word[i] + word[i + 2:],  # two swapped
             word[:i] + "x" + word[i + 1:],  # one changed
             word[:i] + "o" + word[i:],  # one added
             word[:1] + word[2:i] + "e" + word[i + 1:])  # two edits
    return kinds[n % len(kinds)]


def requests(index: LabelIndex) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(searches, reconciliation batches, extension queries), built from the index's own entities."""
    entities = index.entities()
    step = max(1, len(entities) // 45)
    picked = entities[::step][:45] + [e for e in entities if e.id.startswith(("office/", "place/london"))]
    searches: list[dict[str, Any]] = []
    batches: list[dict[str, Any]] = []
    for n, entity in enumerate(picked):
        en, ja = entity.name("en"), entity.name("ja")
        words = en.split()
        first = words[0]
        searches += [
            {"q": en}, {"q": ja}, {"q": en.upper()}, {"q": first[:5]}, {"q": en[:3]}, {"q": ja[:1]},
            {"q": ja[1:4]}, {"q": en[2:9]}, {"q": _typo(first, n)}, {"q": _typo(first, n + 2), "limit": 50},
            {"q": f"{en} Office"}, {"q": " ".join(_typo(w, n) for w in words)},
            {"q": en, "types": [entity.kind]}, {"q": first, "types": [UNIT], "limit": 20},
            {"q": first, "types": [ORG, CITY]}, {"q": first, "lang": "ja"}, {"q": ja, "lang": "en"},
            {"q": first, "limit": 1}, {"q": words[-1][:4] if len(words) > 1 else ja[-2:]},
        ]
        location = "place/london" if n % 7 == 0 else f"place/city-{1 + n % 30}"
        batch: dict[str, Any] = {
            "q0": {"query": en},
            "q1": {"query": f"{en} Office", "type": UNIT},
            "q2": {"query": first, "properties": [{"pid": "location", "v": {"id": location}}]},
            "q3": {"query": _typo(en, n), "type": [ORG, UNIT], "type_strict": "all", "limit": 5},
            "q4": {"query": first, "type": CITY, "type_strict": "should"},
            "q5": {"query": en, "properties": [{"pid": "label_ja", "v": ja}, {"pid": "city", "v": "London"}]},
            "q6": {"query": first[:4], "properties": [{"pid": "parent", "v": {"id": "org/org-1", "name": "x"}},
                                                      {"pid": "country", "v": "United Kingdom"}]},
            "q7": {"query": ja, "properties": [{"pid": "nosuchproperty", "v": "x"},
                                               {"pid": "https://schema.org/location", "v": {"id": location}}]},
            "q8": {"query": en, "properties": [{"pid": "foundingDate", "v": "1994-04-01"},
                                               {"pid": "wikidata", "v": "Q5012345"}, {"pid": "altLabel", "v": first}]},
        }
        if n % 5 == 0:
            batch["q9"] = {"properties": [{"pid": "location", "v": {"id": "place/city-2"}}]}
            batch["q10"] = {"properties": [{"pid": "wikidata", "v": "Q408"}], "type": "place"}
        batches.append(batch)
    batches.append({"q0": {"query": "CLAIR London", "properties": [{"pid": "city", "v": "ロンドン"},
                                                                   {"pid": "wikidata", "v": "Q5012345"},
                                                                   {"pid": "website", "v": "https://www.jlgc.org.uk/"}]},
                    "q1": {"query": "ｸﾚｱ", "properties": [{"pid": "localName", "v": "japan local government centre"}]},
                    "q2": {"query": "Sydney", "properties": [{"pid": "country", "v": {"id": "Q408"}}]}})
    ids = [e.id for e in picked[::3]] + ["office/london", "office/sydney", "no/such-entity"]
    extends = [{"ids": ids, "properties": [{"id": p} for p in (
        "location", "city", "country", "parent", "label_en", "label_ja", "altLabel", "foundingDate", "description",
        "wikidata", "website", "localName", "isoCode", "https://schema.org/location", "nosuchproperty")]},
        {"ids": ids[:5], "properties": [{"id": "location", "settings": {"lang": "ja"}},
                                        {"id": "label_en", "settings": {"limit": 1}}]}]
    return searches, batches, extends


def answers(store: EmbeddedStore, index: LabelIndex) -> dict[str, Any]:
    searches, batches, extends = requests(index)
    service = ReconcileService(store, index, base_iri=BASE)
    found = []
    for search in searches:
        hits = index.search(search["q"], types=search.get("types", ()), lang=search.get("lang"),
                            limit=search.get("limit", 10))
        found.append({"request": search, "hits": [h.to_json() for h in hits]})
    reconciled = [{"request": b, "answer": service.reconcile(parse_batch(b))} for b in batches]
    extended = [{"request": e, "answer": service.extend(parse_extend(e))} for e in extends]
    return {"search": found, "reconcile": reconciled, "extend": extended}


def test_answers_are_those_of_the_code_before() -> None:
    expected = json.loads(gzip.decompress(EXPECTED.read_bytes()))
    store = make_store()
    got = json.loads(json.dumps(answers(store, LabelIndex.build(store, BASE)), ensure_ascii=False))
    # the requests are built from the index: the same ones, or the comparison means nothing
    assert [s["request"] for s in got["search"]] == [s["request"] for s in expected["search"]]
    assert len(got["search"]) >= 400 and len(got["reconcile"]) >= 40
    for kind in ("search", "reconcile", "extend"):
        for mine, theirs in zip(got[kind], expected[kind], strict=True):
            assert mine == theirs, mine["request"]
    # and the requests reach every match class and both outcomes of a reconciliation
    classes = {hit["match"] for s in got["search"] for hit in s["hits"]}
    assert classes == {"exact", "prefix", "word", "substring", "fuzzy"}
    results = [r for b in got["reconcile"] for q in b["answer"].values() for r in q["result"]]
    assert any(r["match"] for r in results) and not all(r["match"] for r in results)
    features = {f["id"] for r in results for f in r["features"] if f["value"]}
    assert {"property:location", "property:city", "property:wikidata", "property:label_ja"} <= features


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {EXPECTED.name} with the clair_kg imported")
    args = parser.parse_args()
    import clair_kg
    store = make_store()
    result = answers(store, LabelIndex.build(store, BASE))
    print(f"clair_kg from {clair_kg.__file__}: {len(result['search'])} searches, "
          f"{len(result['reconcile'])} batches, {len(result['extend'])} extensions", file=sys.stderr)
    if args.write:
        EXPECTED.parent.mkdir(exist_ok=True)
        EXPECTED.write_bytes(gzip.compress(json.dumps(result, ensure_ascii=False, sort_keys=True).encode(), mtime=0))
