"""The SPARQL 1.1 Protocol endpoint at /sparql (query operation, read-only)."""

from __future__ import annotations

__all__ = ["router"]

from fastapi import APIRouter

router = APIRouter()
