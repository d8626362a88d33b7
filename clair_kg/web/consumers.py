"""Consumer services: named queries, search, reconciliation."""

from __future__ import annotations

__all__ = ["router"]

from fastapi import APIRouter

router = APIRouter()
