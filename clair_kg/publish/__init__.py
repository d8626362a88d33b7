"""Publishing: dumps in every RDF format, the dataset description (VoID, DCAT, schema.org),
checksums, and the diff between two releases.

Everything here works on quads (``pyoxigraph.Quad``) and returns values; the CLI writes files and
the web layer serves them. Nothing here parses source Turtle or runs SHACL, so the server can
build the same downloads from the store it was given.
"""

from .distribution import (
    DUMP_FORMATS,
    Distribution,
    build_distribution,
    quads_from_nquads,
    quads_from_store,
    release_distribution,
    write_distribution,
)
from .metadata import DatasetMetadata, dataset_metadata, release_date

__all__ = [
    "DUMP_FORMATS",
    "DatasetMetadata",
    "Distribution",
    "build_distribution",
    "dataset_metadata",
    "quads_from_nquads",
    "quads_from_store",
    "release_date",
    "release_distribution",
    "write_distribution",
]
