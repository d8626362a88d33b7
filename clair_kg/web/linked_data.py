"""Linked data: /id -> /doc dereferencing, entity pages, ontology, downloads, landing page."""

from __future__ import annotations

__all__ = ["router"]

from fastapi import APIRouter

router = APIRouter()
