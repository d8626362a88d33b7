"""What reconciliation reads from the label index instead of the store, and the search lane.

Property values come from the index only for the very query they were stored under (a changed
pattern, or a property given by IRI, goes to the store); searches of one process take turns on one
lane, and waiting for it counts against the time limit.
"""

from __future__ import annotations

import threading

import pytest

from clair_kg.errors import QueryTimeout
from clair_kg.reconcile import CATALOGUE, ReconcileService, fetch_values, parse_batch
from clair_kg.reconcile.properties import indexed_queries, values_query
from clair_kg.search import LabelIndex
from clair_kg.store import EmbeddedStore

PROJECT_BASE = "https://w3id.org/clair-kg/"

BY_ID = {p.id: p for p in CATALOGUE}


@pytest.fixture(scope="module")
def index(embedded_store: EmbeddedStore) -> LabelIndex:
    return LabelIndex.build(embedded_store, PROJECT_BASE)


def test_every_catalogue_property_is_indexed_with_the_values_the_store_gives(
        index: LabelIndex, embedded_store: EmbeddedStore) -> None:
    entities = index.entities()
    ids = [e.id for e in entities]
    non_empty = 0
    for prop in CATALOGUE:
        indexed = index.property_values(prop.id, values_query(prop), ids)
        assert indexed is not None, prop.id
        from_store = fetch_values(embedded_store, prop, [e.iri for e in entities])
        assert {e.iri: [v.term for v in indexed[e.id]] for e in entities if e.id in indexed} == from_store, prop.id
        non_empty += bool(from_store)
    assert non_empty >= 10  # the real graph has values for most of the catalogue


def test_an_entity_value_carries_the_labels_of_the_entity_it_names(index: LabelIndex) -> None:
    values = index.property_values("location", values_query(BY_ID["location"]), ["office/london"])
    assert values is not None
    (value,) = values["office/london"]
    city = index.get(value.term.value)
    assert city is not None and "london" in value.labels
    assert set(value.labels) == {label.norm for label in city.labels}


def test_a_property_is_read_from_the_index_only_under_its_own_query(index: LabelIndex) -> None:
    prop = BY_ID["location"]
    assert index.property_values(prop.id, values_query(prop) + " ", ["office/london"]) is None
    assert index.property_values("https://schema.org/location", values_query(prop), ["office/london"]) is None
    assert index.property_values(prop.id, values_query(prop), []) == {}
    assert set(indexed_queries()) == {p.id for p in CATALOGUE}


def test_an_index_built_without_properties_scores_them_from_the_store(
        index: LabelIndex, embedded_store: EmbeddedStore) -> None:
    bare = LabelIndex.build(embedded_store, PROJECT_BASE, properties={})
    assert bare.property_values("location", values_query(BY_ID["location"]), ["office/london"]) is None
    batch = parse_batch({
        "q0": {"query": "CLAIR London", "properties": [{"pid": "city", "v": "London"}, {"pid": "wikidata", "v": "Q0"}]},
        "q1": {"query": "Sydney", "properties": [{"pid": "https://schema.org/location", "v": "Sydney"}]},
    })
    with_index = ReconcileService(embedded_store, index, base_iri=PROJECT_BASE).reconcile(batch)
    from_store = ReconcileService(embedded_store, bare, base_iri=PROJECT_BASE).reconcile(batch)
    assert with_index == from_store
    top = with_index["q0"]["result"][0]
    assert top["id"] == "office/london"
    assert {"id": "property:city", "value": 1.0} in top["features"]


def test_searches_take_turns_and_the_wait_counts_against_the_time_limit(index: LabelIndex) -> None:
    failures: list[BaseException] = []

    def search() -> None:
        try:
            index.search("London", timeout=0.2)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            failures.append(exc)

    with index.turn(None):  # another request of this process is searching
        waiting = threading.Thread(target=search)
        waiting.start()
        waiting.join(timeout=10)
    assert len(failures) == 1 and isinstance(failures[0], QueryTimeout)
    assert "busy" in failures[0].message
    # the lane is free again, and a thread holding it may search inside its own turn
    with index.turn(0.5):
        assert index.search("London", timeout=0.5)
    assert index.search("London", timeout=0.5)[0].entity.id == "place/london"
