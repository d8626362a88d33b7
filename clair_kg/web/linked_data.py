"""Linked data: /id -> /doc dereferencing, entity pages, ontology, shapes, downloads, landing page.

The routes live in three modules mounted here: ``ld_entity`` (``/id``, ``/doc``, ``/graph``,
``/context.jsonld``), ``ld_pages`` (``/``, ``/.well-known/void``, ``/ontology``, ``/shapes``) and
``ld_downloads`` (``/downloads/``).
"""

from __future__ import annotations

__all__ = ["router"]

from fastapi import APIRouter

from . import ld_downloads, ld_entity, ld_pages

router = APIRouter()
router.include_router(ld_entity.router)
router.include_router(ld_pages.router)
router.include_router(ld_downloads.router)
