"""clair-kg: the CLAIR knowledge graph, validated with SHACL and served as linked data."""

__version__ = "0.1.0"
