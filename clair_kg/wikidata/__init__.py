"""The Wikidata linking kit: Mix'n'match catalogue, property proposal, link count and link check."""

from .catalogue import (
    CatalogueEntry,
    PropertyProposal,
    catalogue_entries,
    count_wikidata_links,
    mixnmatch_tsv,
    property_proposal,
    wikidata_links,
)
from .check import DEFAULT_ENDPOINT, USER_AGENT, CheckReport, WikidataUnavailable, check_against_wikidata, run_sparql

__all__ = [
    "DEFAULT_ENDPOINT",
    "USER_AGENT",
    "CatalogueEntry",
    "CheckReport",
    "PropertyProposal",
    "WikidataUnavailable",
    "catalogue_entries",
    "check_against_wikidata",
    "count_wikidata_links",
    "mixnmatch_tsv",
    "property_proposal",
    "run_sparql",
    "wikidata_links",
]
