"""Benchmarks of clair-kg's SPARQL endpoint against its peers (``python -m bench``, ``make bench``)."""
