"""Publishing: dumps in every RDF format, the dataset description (VoID, DCAT, schema.org),
checksums, and the diff between two releases.

Everything here works on quads (``pyoxigraph.Quad``) and returns values. ``clair-kg build`` writes the
files to ``dist/``; ``clair-kg serve`` writes the same files once into its hand-over folder and the web
processes read them back (:func:`read_distribution`) and serve their bytes. Nothing here parses source
Turtle or runs SHACL.
"""

from .distribution import (
    DUMP_FORMATS,
    Distribution,
    build_distribution,
    quads_from_nquads,
    read_distribution,
    release_distribution,
    write_distribution,
)
from .metadata import dataset_metadata, release_date

__all__ = [
    "DUMP_FORMATS",
    "Distribution",
    "build_distribution",
    "dataset_metadata",
    "quads_from_nquads",
    "read_distribution",
    "release_date",
    "release_distribution",
    "write_distribution",
]
