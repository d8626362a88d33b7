"""The Wikidata linking kit: Mix'n'match catalogue, property proposal, QuickStatements, link count
and link check."""

from .catalogue import (
    CATALOGUE_KINDS,
    MIXNMATCH_COLUMNS,
    CatalogueEntry,
    catalogue_entries,
    count_wikidata_links,
    mixnmatch_tsv,
    wikidata_links,
)
from .check import DEFAULT_ENDPOINT, USER_AGENT, CheckReport, WikidataUnavailable, check_against_wikidata, run_sparql
from .proposal import PropertyProposal, property_proposal
from .quickstatements import STRONG_PROPERTIES, LeftOut, QuickStatementsExport, Statement, quickstatements

__all__ = [
    "CATALOGUE_KINDS",
    "DEFAULT_ENDPOINT",
    "MIXNMATCH_COLUMNS",
    "STRONG_PROPERTIES",
    "USER_AGENT",
    "CatalogueEntry",
    "CheckReport",
    "LeftOut",
    "PropertyProposal",
    "QuickStatementsExport",
    "Statement",
    "WikidataUnavailable",
    "catalogue_entries",
    "check_against_wikidata",
    "count_wikidata_links",
    "mixnmatch_tsv",
    "property_proposal",
    "quickstatements",
    "run_sparql",
    "wikidata_links",
]
