"""Linked data: /id -> /doc dereferencing, entity pages, ontology, shapes, downloads, landing page.

The routes live in three modules mounted here: ``entity_document`` (``/id``, ``/doc``, ``/graph``,
``/context.jsonld``), ``pages`` (``/``, ``/.well-known/void``, ``/ontology``, ``/shapes``) and
``downloads`` (``/downloads/``). ``common`` holds what they share, ``view`` and ``diagram`` compute
what the entity page and the landing diagram show.
"""

from __future__ import annotations

__all__ = ["router"]

from fastapi import APIRouter

from . import downloads, entity_document, pages

router = APIRouter()
router.include_router(entity_document.router)
router.include_router(pages.router)
router.include_router(downloads.router)
