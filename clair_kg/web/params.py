"""Query-string values every route reads the same way: integers (``limit``, ``offset``, ``cursor``).

An integer is ASCII digits with an optional sign — not ``1e3``, not full-width ``１``, not ``²`` —
checked against its range before it is converted, so no value can make ``int()`` fail or a
thousand-digit number reach a slice.
"""

from __future__ import annotations

__all__ = ["int_param"]

import re

from ..errors import InvalidParameter

_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_MAX_DIGITS = 18


def int_param(raw: str | None, name: str, *, default: int, low: int, high: int) -> int:
    """``raw`` as an integer in ``[low, high]``; ``default`` when absent or empty.

    :raises InvalidParameter: not an integer, or out of range (the message says which).
    """
    if raw is None or not raw.strip():
        return default
    text = raw.strip()
    if not _INTEGER.fullmatch(text):
        raise InvalidParameter(name, f"expected an integer, got {raw[:40]!r}")
    if len(text.lstrip("+-")) > _MAX_DIGITS or not low <= int(text) <= high:
        raise InvalidParameter(name, f"must be between {low} and {high}")
    return int(text)
