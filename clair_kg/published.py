"""What a release is, as plain values: its identity and its dataset description.

These frozen dataclasses are the hand-over between the build side (which computes them from the
validated sources, :mod:`clair_kg.release`, :mod:`clair_kg.publish`) and the serving side (which
only reads them). They live on the ground floor so that the server imports no parser, no SHACL
engine and no git: a web process gets them from the hand-over folder (:func:`metadata_from_json`).
"""

from __future__ import annotations

__all__ = [
    "CC_BY_SA", "ClassCount", "DatasetMetadata", "LinkCount", "ReleaseInfo", "SourceInfo",
    "metadata_from_json", "metadata_to_json", "release_info",
]

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

from . import __version__

CC_BY_SA = "https://creativecommons.org/licenses/by-sa/4.0/"


@dataclass(frozen=True)
class ReleaseInfo:
    """What identifies one release of the data: a content hash and counts."""

    version: str
    sha256: str  # of the sorted N-Quads of the source graphs
    #: statements across the source graphs (one per graph that states it)
    quads: int
    graphs: tuple[str, ...]

    @property
    def etag_seed(self) -> str:
        return self.sha256[:16]


def release_info(nquads: bytes, graphs: tuple[str, ...]) -> ReleaseInfo:
    """The identity of the release whose source-graph N-Quads are ``nquads``."""
    return ReleaseInfo(
        version=__version__,
        sha256=hashlib.sha256(nquads).hexdigest(),
        quads=nquads.count(b"\n"),
        graphs=graphs,
    )


TITLE = {
    "en": "CLAIR knowledge graph",
    "ja": "CLAIR（自治体国際化協会）ナレッジグラフ",
}
DESCRIPTION = {
    "en": (
        "A curated, source-cited knowledge graph about the Council of Local Authorities for "
        "International Relations (CLAIR): its headquarters, its branch office in every prefecture of "
        "Japan, its overseas offices, the ministries it works with, the JET Programme and its positions, "
        "and the international networks it belongs to. Every statement sits in a named graph that says "
        "which source it comes from; labels are in English and Japanese."
    ),
    "ja": (
        "一般財団法人自治体国際化協会（CLAIR）に関する、出典付きのナレッジグラフ。本部、各都道府県の支部、"
        "海外事務所、関係省庁、JETプログラムとその職種、加盟する国際ネットワークを収める。"
        "すべての記述は出典ごとの名前付きグラフに置かれ、ラベルは英語と日本語で付されている。"
    ),
}
KEYWORDS = ("CLAIR", "JET Programme", "local government", "Japan", "international exchange", "linked data")


@dataclass(frozen=True)
class ClassCount:
    iri: str
    labels: dict[str, str]
    entities: int


@dataclass(frozen=True)
class SourceInfo:
    iri: str
    name: str
    labels: dict[str, str]
    descriptions: dict[str, str]
    derived_from: tuple[str, ...]
    license: str | None
    triples: int


@dataclass(frozen=True)
class LinkCount:
    target: str
    namespace: str
    target_dataset: str
    predicate: str
    links: int


@dataclass(frozen=True)
class DatasetMetadata:
    base_iri: str
    version: str
    issued: str  # YYYY-MM-DD
    sha256: str
    quads: int
    triples: int  # distinct triples over all graphs
    entities: int  # distinct subjects under {base}id/
    distinct_subjects: int
    distinct_objects: int
    properties: int
    classes: tuple[ClassCount, ...]
    sources: tuple[SourceInfo, ...]
    linksets: tuple[LinkCount, ...]
    example_resources: tuple[str, ...]
    vocabularies: tuple[str, ...]
    license: str = CC_BY_SA

    @property
    def dataset_iri(self) -> str:
        return f"{self.base_iri}dataset"

    @property
    def release_iri(self) -> str:
        return f"{self.base_iri}dataset/{self.version}"

    @property
    def sparql_endpoint(self) -> str:
        return f"{self.base_iri}sparql"

    @property
    def downloads_url(self) -> str:
        return f"{self.base_iri}downloads/"

    @property
    def title(self) -> dict[str, str]:
        return TITLE

    @property
    def description(self) -> dict[str, str]:
        return DESCRIPTION

    @property
    def keywords(self) -> tuple[str, ...]:
        return KEYWORDS


def metadata_to_json(meta: DatasetMetadata) -> dict[str, Any]:
    return asdict(meta)


def metadata_from_json(data: dict[str, Any]) -> DatasetMetadata:
    """The inverse of :func:`metadata_to_json`."""
    values = dict(data)
    values["classes"] = tuple(ClassCount(**c) for c in data["classes"])
    values["sources"] = tuple(
        SourceInfo(**{**s, "derived_from": tuple(s["derived_from"])}) for s in data["sources"]
    )
    values["linksets"] = tuple(LinkCount(**link) for link in data["linksets"])
    values["example_resources"] = tuple(data["example_resources"])
    values["vocabularies"] = tuple(data["vocabularies"])
    return DatasetMetadata(**values)
