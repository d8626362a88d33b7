"""SPARQL query execution for /sparql: protocol parsing, guardrails, a result cache and workers.

Modules: :mod:`.protocol` reads a SPARQL 1.1 Protocol request; :mod:`.analysis` reads a query's
form, SERVICE targets and dataset clauses; :mod:`.executor` runs queries in worker processes that
are killed when they overrun (:mod:`.worker` is their main, :mod:`.wire` their framing,
:mod:`.evaluate` what they run); :mod:`.service` ties these together behind ``answer()``;
:mod:`.description` writes the SPARQL 1.1 Service Description.

This package is imported lazily by the worker processes, so it imports nothing heavy here.
"""
