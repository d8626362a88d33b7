"""The Wikidata exports, read with each consumer's own rules.

- The Mix'n'match catalogue is parsed the way Mix'n'match's importer reads a catalogue file
  (magnusmanske/mixnmatch_rs, ``MetaEntry::process_cell`` and ``DataSource::new``): a header of
  known column labels (an unknown one stops the import), ``id`` and ``name`` mandatory, ``type`` a
  ``Q…`` item, ``q`` an item number, ``A<lang>``/``D<lang>`` an alias/description in a language.
- The QuickStatements are parsed the way QuickStatements V1 reads a command line
  (magnusmanske/quickstatements_rs, ``QuickStatementsParser::new_from_line``): TAB-separated
  fields, an item, a property, a value (somevalue, novalue, a quantity, a time ``+…/precision``, a
  monolingual text, a string, an item), then ``S``/``P`` key-value pairs (references, qualifiers).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

import pyoxigraph
import pytest

from clair_kg.cli import main
from clair_kg.errors import InvalidParameter
from clair_kg.project import Project
from clair_kg.release import prepare_release
from clair_kg.search import LabelIndex
from clair_kg.store import EmbeddedStore
from clair_kg.wikidata import catalogue_entries, mixnmatch_tsv, property_proposal, quickstatements

BASE = "https://w3id.org/clair-kg/"
ARTICLE = "https://en.wikipedia.org/wiki/Council_of_Local_Authorities_for_International_Relations"
SANDBOX = "Q4115189"  # Wikidata's sandbox item: a stand-in QID for tests only, never in the data
READ = date(2026, 12, 1)

# --- Mix'n'match ---------------------------------------------------------------------------------

_MNM_LABELS = {"id", "name", "desc", "url", "q", "autoq", "type", "born", "died"}
_MNM_PATTERNS = (re.compile(r"^P(\d+)$"), re.compile(r"^A([a-z]+)$"), re.compile(r"^D([a-z]+)$"))


class ImportRejected(Exception):
    pass


@dataclass
class MnmEntry:
    ext_id: str
    name: str = ""
    desc: str = ""
    url: str = ""
    q: int | None = None
    type_name: str | None = None
    aliases: list[tuple[str, str]] = field(default_factory=list)
    descriptions: dict[str, str] = field(default_factory=dict)


def parse_mixnmatch(text: str) -> list[MnmEntry]:
    """Read a TSV catalogue as Mix'n'match's importer does; raise ImportRejected where it would stop."""
    rows = list(csv.reader(io.StringIO(text), delimiter="\t"))
    header = [label.strip() for label in rows[0]]
    for label in header:
        if label not in _MNM_LABELS and not any(p.match(label) for p in _MNM_PATTERNS):
            raise ImportRejected(f"Don't understand label '{label}'")
    if "id" not in header or "name" not in header:
        raise ImportRejected("missing id or name column")
    entries = []
    for n, row in enumerate(rows[1:], start=2):
        if len(row) < len(header):
            raise ImportRejected(f"line {n}: {len(row)} columns, fewer than the header's {len(header)}")
        cells = dict(zip(header, row, strict=False))
        entry = MnmEntry(cells["id"])
        for label, cell in cells.items():
            if m := _MNM_PATTERNS[1].match(label):
                if cell:
                    entry.aliases.append((m.group(1), cell))
            elif m := _MNM_PATTERNS[2].match(label):
                if cell:
                    entry.descriptions[m.group(1)] = cell
            elif label in ("q", "autoq"):
                number = int(cell.replace("Q", "")) if cell.replace("Q", "").isdigit() else 0
                entry.q = number if number > 0 else None
            elif label == "type":
                entry.type_name = cell if re.fullmatch(r"Q\d+", cell) else None
            elif label in ("name", "desc", "url"):
                setattr(entry, label, cell)
        entries.append(entry)
    return entries


@pytest.fixture(scope="module")
def index(embedded_store: EmbeddedStore) -> LabelIndex:
    return LabelIndex.build(embedded_store, BASE)


@pytest.fixture(scope="module")
def catalogue(embedded_store: EmbeddedStore, index: LabelIndex) -> list[MnmEntry]:
    return parse_mixnmatch(mixnmatch_tsv(catalogue_entries(index, embedded_store, base_iri=BASE)))


def test_the_importer_rejects_the_old_description_column() -> None:
    with pytest.raises(ImportRejected, match="description"):
        parse_mixnmatch("id\tname\tdescription\ttype\turl\norg/x\tX\tan x\t\thttps://example.org/x\n")


def test_catalogue_imports_with_the_importers_rules(catalogue: list[MnmEntry]) -> None:
    ids = [e.ext_id for e in catalogue]
    assert len(ids) == len(set(ids)) == 70
    assert all(e.name and e.desc and e.url == f"{BASE}id/{e.ext_id}" for e in catalogue)


def test_catalogue_holds_only_what_the_dataset_is_about(catalogue: list[MnmEntry]) -> None:
    kinds = {e.ext_id.split("/", 1)[0] for e in catalogue}
    assert kinds == {"org", "office", "branch", "site", "programme", "position"}
    # no claims, memberships, instants, intervals, schemes, purposes, and no places we only refer to
    assert not kinds & {"claim", "membership", "instant", "interval", "scheme", "purpose", "place", "prefecture"}


def test_every_row_has_a_type_but_the_one_without_a_verified_class(catalogue: list[MnmEntry]) -> None:
    untyped = {e.ext_id for e in catalogue if e.type_name is None}
    assert untyped == {"programme/jet"}  # no class item for a programme could be verified offline
    types = {e.ext_id: e.type_name for e in catalogue}
    assert types["office/london"] == types["branch/tokyo"] == types["org/clair"] == "Q43229"
    assert types["site/clair-headquarters"] == "Q41176" and types["position/alt"] == "Q4164871"


def test_japanese_names_and_descriptions_are_in_their_language_columns(catalogue: list[MnmEntry]) -> None:
    by_id = {e.ext_id: e for e in catalogue}
    assert ("ja", "一般財団法人自治体国際化協会") in by_id["org/clair"].aliases
    assert ("ja", "語学指導等を行う外国青年招致事業") in by_id["programme/jet"].aliases
    assert ("en", "CLAIR") in by_id["org/clair"].aliases
    assert by_id["office/paris"].descriptions == {"ja": "海外事務所"}
    assert sum(1 for e in catalogue if any(lang == "ja" for lang, _ in e.aliases)) >= 15


def test_q_is_filled_for_exactly_the_verified_items(catalogue: list[MnmEntry]) -> None:
    qs = {e.ext_id: e.q for e in catalogue if e.q}
    assert qs == {"org/mic": 1322293, "org/mofa": 222241, "org/mext": 1054379, "org/council-of-europe": 8908}


def test_proposal_matches_the_catalogue(embedded_store: EmbeddedStore, index: LabelIndex,
                                        catalogue: list[MnmEntry]) -> None:
    proposal = property_proposal(embedded_store, index, base_iri=BASE)
    assert proposal.entity_count == len(catalogue)
    pattern = re.compile(f"^{proposal.format_regex}$")
    assert all(pattern.match(e.ext_id) for e in catalogue)
    assert not pattern.match("place/london") and not pattern.match("claim/branch-count-clair-top-message")
    linked = {f"Q{e.q}": e.ext_id for e in catalogue if e.q}
    assert {q: i for i, _, q in proposal.examples} == linked  # every example has an existing item


# --- QuickStatements -----------------------------------------------------------------------------

_QS_ITEM = re.compile(r"^[A-Z]\d+$")
_QS_PROPERTY = re.compile(r"^!?[Pp]\d+$")
_QS_KEY = re.compile(r"^(!?[PS])(\d+)$")
_QS_TIME = re.compile(r"^[+-]?\d+-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/(\d+)$")


@dataclass(frozen=True)
class QsValue:
    kind: str  # somevalue | novalue | quantity | time | monolingual | string | item
    text: str
    precision: int | None = None
    lang: str | None = None


@dataclass(frozen=True)
class QsCommand:
    item: str
    property: str
    value: QsValue
    references: tuple[tuple[str, QsValue], ...]
    qualifiers: tuple[tuple[str, QsValue], ...]


def parse_qs_value(raw: str) -> QsValue:
    value = raw.strip()
    if value in ("somevalue", "novalue"):
        return QsValue(value, value)
    if re.fullmatch(r"[-+]?\d+\.?\d*", value):
        return QsValue("quantity", value)
    if m := _QS_TIME.match(value):
        return QsValue("time", value, precision=int(m.group(1)))
    if m := re.fullmatch(r'([a-z][a-z0-9_-]*):"(.*)"', value):
        return QsValue("monolingual", m.group(2), lang=m.group(1))
    if m := re.fullmatch(r'"(.*)"', value):
        return QsValue("string", m.group(1))
    if _QS_ITEM.match(value.upper()):
        return QsValue("item", value.upper())
    raise ValueError(f"cannot parse value {raw!r}")


def parse_qs_line(line: str) -> QsCommand:
    parts = line.strip().split("\t")
    if len(parts) < 3:
        raise ValueError("No valid command")
    if not _QS_ITEM.match(parts[0].upper()) or not parts[0].upper().startswith("Q"):
        raise ValueError(f"not an item: {parts[0]!r}")
    if not _QS_PROPERTY.match(parts[1]):
        raise ValueError(f"not a property: {parts[1]!r}")
    value = parse_qs_value(parts[2])
    references, qualifiers = [], []
    rest = parts[3:]
    if len(rest) % 2:
        raise ValueError(f"Qualifier/Reference key without value: {rest[-1]!r}")
    for key, raw in zip(rest[::2], rest[1::2], strict=True):
        m = _QS_KEY.match(key)
        if not m:
            raise ValueError(f"Bad reference/qualifier key: {key!r}")
        pair = (f"P{m.group(2)}", parse_qs_value(raw))
        (references if m.group(1).lstrip("!") == "S" else qualifiers).append(pair)
    return QsCommand(parts[0], parts[1].lstrip("!").upper(), value, tuple(references), tuple(qualifiers))


def assert_referenced(command: QsCommand) -> None:
    """A web page cited the way Wikidata editors accept: P854 address + P813 day it was read."""
    refs = dict(command.references)
    assert refs["P854"].kind == "string" and refs["P854"].text.startswith(("https://", "http://")), command
    assert refs["P813"].kind == "time" and refs["P813"].precision == 11, command


def test_quickstatements_for_the_verified_items(embedded_store: EmbeddedStore, index: LabelIndex) -> None:
    export = quickstatements(embedded_store, index, base_iri=BASE, id_property="P12345", retrieved=READ)
    commands = [parse_qs_line(line) for line in export.to_text().splitlines()]
    assert {(c.item, c.property, c.value.text) for c in commands} == {
        ("Q1322293", "P12345", "org/mic"), ("Q222241", "P12345", "org/mofa"),
        ("Q1054379", "P12345", "org/mext"), ("Q8908", "P12345", "org/council-of-europe"),
    }
    for command in commands:
        assert_referenced(command)
        assert dict(command.references)["P854"].text == f"{BASE}id/{command.value.text}"
        assert dict(command.references)["P813"].text == "+2026-12-01T00:00:00Z/11"


def test_bad_property_id_is_refused(embedded_store: EmbeddedStore, index: LabelIndex) -> None:
    with pytest.raises(InvalidParameter, match="property"):
        quickstatements(embedded_store, index, base_iri=BASE, id_property="P12 } x", retrieved=READ)
    assert main(["wikidata", "quickstatements", "--property", "12345"]) == 2


EXTRA = f"""
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix schema: <https://schema.org/> .
@prefix clair: <https://w3id.org/clair-kg/ontology#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix id: <{BASE}id/> .
<{BASE}graph/reference> {{ id:org\\/clair owl:sameAs <http://www.wikidata.org/entity/{SANDBOX}> . }}
<{BASE}graph/example-page> {{
  <{BASE}graph/example-page> prov:wasDerivedFrom <https://example.org/a-page> ;
      clair:retrieved "2026-11-30"^^xsd:date .
  id:org\\/clair schema:startDate clair:unknown .
  id:org\\/clair schema:location id:claim\\/open-ended .
  id:claim\\/open-ended schema:minValue 3 .
}}
"""


@pytest.fixture(scope="module")
def linked_clair(project: Project) -> tuple[EmbeddedStore, LabelIndex]:
    """The real graph plus, for this test only, a stand-in QID for CLAIR and a fixture page."""
    store = EmbeddedStore()
    store.load_nquads(prepare_release(project, validate=False).nquads)
    quads = pyoxigraph.parse(EXTRA, format=pyoxigraph.RdfFormat.TRIG)
    store.load_nquads(pyoxigraph.serialize(quads, format=pyoxigraph.RdfFormat.N_QUADS) or b"")
    return store, LabelIndex.build(store, BASE)


def test_sourced_statements_keep_their_precision_and_references(linked_clair: tuple[EmbeddedStore, LabelIndex]) -> None:
    store, index = linked_clair
    export = quickstatements(store, index, base_iri=BASE, id_property="P12345", retrieved=READ)
    commands = [parse_qs_line(line) for line in export.to_text().splitlines()]
    for command in commands:
        assert_referenced(command)
        assert "wikipedia.org" not in dict(command.references)["P854"].text  # the article is no source
    inception = [c for c in commands if c.item == SANDBOX and c.property == "P571" and c.value.kind == "time"]
    # July 1988, a month, cited to both pages that say so (one line each: QuickStatements merges them)
    assert {(c.value.text, c.value.precision) for c in inception} == {("+1988-07-00T00:00:00Z/10", 10)}
    assert {dict(c.references)["P854"].text for c in inception} == {
        "https://www.clair.or.jp/e/clair/index.html", "https://clair.org.sg/about"}
    assert {dict(c.references)["P813"].text for c in inception} == {"+2026-11-29T00:00:00Z/11"}
    website = [c for c in commands if c.item == SANDBOX and c.property == "P856"]
    assert [c.value.text for c in website] == ["https://www.clair.or.jp/"]
    # "unknown" is a value of its own
    unknown = [c for c in commands if c.item == SANDBOX and c.value.kind == "somevalue"]
    assert [(c.property, dict(c.references)["P854"].text) for c in unknown] == [("P571", "https://example.org/a-page")]
    left = {(x.entity, x.property.rsplit("/", 1)[-1].rsplit("#", 1)[-1], x.value): x.reason for x in export.left_out}
    assert "Wikipedia" in left[("org/clair", "foundingDate", '"1988"^^<http://www.w3.org/2001/XMLSchema#gYear>')]
    assert "no verified Wikidata item" in left[("org/clair", "memberOf", f"<{BASE}id/org/uclg-aspac>")]
    assert "more than" in left[("org/clair", "location", f"<{BASE}id/claim/open-ended>")]
    assert "Wikipedia" in left[("org/clair", "hasPrimarySite", f"<{BASE}id/site/clair-headquarters>")]


def test_wikipedia_only_statements_on_request_cite_the_article(linked_clair: tuple[EmbeddedStore, LabelIndex]) -> None:
    store, index = linked_clair
    export = quickstatements(store, index, base_iri=BASE, id_property="P12345", retrieved=READ,
                             include_wikipedia=True)
    commands = [parse_qs_line(line) for line in export.to_text().splitlines()]
    year = [c for c in commands if c.item == SANDBOX and c.property == "P571" and c.value.precision == 9]
    assert [c.value.text for c in year] == ["+1988-00-00T00:00:00Z/9"]
    refs = dict(year[0].references)
    assert (refs["P854"].text, refs["P813"].text) == (ARTICLE, "+2026-11-27T00:00:00Z/11")
    title = (refs["P1476"].lang, refs["P1476"].text)
    assert title == ("en", "Council of Local Authorities for International Relations")


def test_cli_writes_parseable_lines_and_a_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["wikidata", "quickstatements", "--property", "P12345", "--retrieved", "2026-12-01"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 4
    for line in lines:
        assert_referenced(parse_qs_line(line))
    assert "4 QuickStatements lines for 4 items" in captured.err
