"""One content negotiation for every route: extension, then ``?format=``, then ``Accept``.

``Accept`` is parsed with q-values (RFC 9110 §12.5.1): the highest q wins, a more specific range
beats a wildcard at the same q, and ``q=0`` excludes. Ties keep the server's order of preference.
"""

from __future__ import annotations

__all__ = ["FORMAT_ALIASES", "MEDIA_EXTENSIONS", "negotiate", "parse_accept"]

from collections.abc import Sequence

from ..errors import NotAcceptable
from ..formats import FORMAT_ALIASES, MEDIA_EXTENSIONS
from ..formats import MEDIA_SYNONYMS as _SYNONYMS


def parse_accept(header: str) -> list[tuple[str, float]]:
    """``Accept`` as (media range, q) pairs in header order; malformed q-values count as 1."""
    ranges: list[tuple[str, float]] = []
    for part in header.split(","):
        bits = [b.strip() for b in part.split(";")]
        media = bits[0].lower()
        if not media or "/" not in media:
            continue
        q = 1.0
        for param in bits[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 1.0
        ranges.append((media, q))
    return ranges


def _match_score(media_range: str, offer: str) -> int:
    """How specifically ``media_range`` matches ``offer``: 3 exact, 2 type/*, 1 */*, 0 none."""
    if media_range == offer:
        return 3
    kind, _, sub = media_range.partition("/")
    if sub == "*" and offer.startswith(kind + "/"):
        return 2
    if media_range == "*/*":
        return 1
    return 0


def negotiate(
    offered: Sequence[str],
    *,
    accept: str | None = None,
    format_param: str | None = None,
    extension: str | None = None,
    synonyms: dict[str, str] | None = None,
) -> str:
    """Pick one of ``offered`` (media types, most preferred first).

    :raises NotAcceptable: an explicit extension or ``format`` names something not offered, or no
        offered type is acceptable. The message lists what is supported.
    """
    supported = list(offered)
    for explicit, what in ((extension, "extension"), (format_param, "format")):
        if explicit:
            key = explicit.strip().lower().lstrip(".")
            media = FORMAT_ALIASES.get(key, key)
            media = (synonyms or {}).get(media, _SYNONYMS.get(media, media)) if media not in supported else media
            if media in supported:
                return media
            raise NotAcceptable(f"unsupported {what} {explicit!r}", supported=supported)
    if not accept or not accept.strip():
        return supported[0]
    table = dict(_SYNONYMS)
    table.update(synonyms or {})
    best: tuple[float, int, int] | None = None
    choice: str | None = None
    for index, offer in enumerate(supported):
        offer_best: tuple[float, int] | None = None
        for media_range, q in parse_accept(accept):
            mapped = media_range if media_range in supported else table.get(media_range, media_range)
            score = _match_score(mapped, offer)
            if score and (offer_best is None or score > offer_best[1]):
                offer_best = (q, score)
        if offer_best is None or offer_best[0] <= 0:
            continue
        rank = (offer_best[0], offer_best[1], -index)
        if best is None or rank > best:
            best = rank
            choice = offer
    if choice is None:
        raise NotAcceptable(f"cannot answer with any of {accept!r}", supported=supported)
    return choice
