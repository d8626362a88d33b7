"""The landing page's picture of the organisation, drawn as SVG on the server (no JavaScript).

Read generically from the graph: the organisation with the most ``org:hasUnit`` links is drawn at
the top with its primary site (headquarters); its units are grouped by class (overseas office,
branch office, ...), one column per group. A small group shows a labelled box per unit; a large one
a compact grid ordered by the code of the unit's location (north to south for prefectures). Every
box is a link to the unit's page.
"""

from __future__ import annotations

__all__ = ["OrgDiagram", "org_diagram", "render_svg"]

import html
import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode

from ...entity_graph import pick_label
from ...store import Store
from ..i18n import ui, with_lang
from .common import local_href

_MAIN_ORG = """
PREFIX org: <http://www.w3.org/ns/org#>
SELECT ?org (COUNT(DISTINCT ?u) AS ?n) WHERE { ?org org:hasUnit ?u } GROUP BY ?org ORDER BY DESC(?n) ?org LIMIT 1
"""
_UNITS = """
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX schema: <https://schema.org/>
SELECT ?u ?type ?code ?loc WHERE {
  ?org org:hasUnit ?u .
  OPTIONAL { ?u schema:location ?loc }
  OPTIONAL { ?u a ?type FILTER(?type != org:OrganizationalUnit) }
  OPTIONAL { ?u schema:location ?loc . ?loc ?codep ?code .
             FILTER(?codep = <https://w3id.org/clair-kg/ontology#isoCode>) }
}
"""
_LABELS = """
PREFIX org: <http://www.w3.org/ns/org#>
SELECT ?x ?l WHERE {
  { ?org org:hasUnit ?x } UNION { ?org org:hasUnit ?u . ?u a ?x } UNION { ?org org:hasPrimarySite ?x }
  UNION { ?x org:hasUnit ?org } UNION { ?org org:hasUnit ?u . ?u <https://schema.org/location> ?x }
  ?x <http://www.w3.org/2004/02/skos/core#prefLabel>|<http://www.w3.org/2000/01/rdf-schema#label> ?l
}
"""
_ORG_LABELS = """
PREFIX org: <http://www.w3.org/ns/org#>
SELECT ?l ?alt ?site WHERE {
  ?org <http://www.w3.org/2004/02/skos/core#prefLabel>|<http://www.w3.org/2000/01/rdf-schema#label> ?l .
  OPTIONAL { ?org <http://www.w3.org/2004/02/skos/core#altLabel> ?alt }
  OPTIONAL { ?org org:hasPrimarySite ?site }
}
"""


@dataclass(frozen=True)
class Unit:
    iri: str
    label: str
    short: str


@dataclass(frozen=True)
class Group:
    cls: str
    label: str
    units: tuple[Unit, ...]


@dataclass(frozen=True)
class OrgDiagram:
    org: str
    org_label: str
    org_short: str
    site_label: str | None
    groups: tuple[Group, ...]


def _labels(rows: Sequence[Mapping[str, object]], key: str = "x") -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for r in rows:
        x, lit = r.get(key), r.get("l")
        if isinstance(x, NamedNode) and isinstance(lit, Literal):
            out[x.value].setdefault(lit.language or "", lit.value)
    return out


def _shorten(labels: list[str]) -> list[str]:
    """Drop the words (or, for Japanese, characters) every label shares at its start and end."""
    if len(labels) < 2:
        return labels
    spaced = all(" " in lab for lab in labels)
    parts = [lab.split(" ") if spaced else list(lab) for lab in labels]
    head = len(os.path.commonprefix(parts))
    tail = len(os.path.commonprefix([list(reversed(p)) for p in parts]))
    joiner = " " if spaced else ""
    out = []
    for p, lab in zip(parts, labels, strict=True):
        core = p[head: len(p) - tail if tail else None]
        out.append(joiner.join(core) if core else lab)
    return out


def org_diagram(store: Store, lang: str) -> OrgDiagram | None:
    rows = store.select(_MAIN_ORG)
    if not rows or not isinstance(rows[0].get("org"), NamedNode):
        return None
    org = rows[0]["org"]
    assert isinstance(org, NamedNode)
    labels = _labels(store.select(_LABELS, bindings={"org": org}))
    org_rows = store.select(_ORG_LABELS, bindings={"org": org})
    org_labels = _labels([{"x": org, "l": r.get("l")} for r in org_rows])
    alts = _labels([{"x": org, "l": r.get("alt")} for r in org_rows if r.get("alt") is not None])
    site = next((r["site"] for r in org_rows if isinstance(r.get("site"), NamedNode)), None)
    members: dict[str, dict[str, str]] = defaultdict(dict)  # class -> unit -> sort code
    located: dict[str, str] = {}  # unit -> the place it is in
    for r in store.select(_UNITS, bindings={"org": org}):
        u, ty, code, loc = r.get("u"), r.get("type"), r.get("code"), r.get("loc")
        if not isinstance(u, NamedNode):
            continue
        if isinstance(loc, NamedNode):
            located.setdefault(u.value, loc.value)
        cls = ty.value if isinstance(ty, NamedNode) else ""
        members[cls].setdefault(u.value, code.value if isinstance(code, Literal) else "")
    # a unit typed with several classes goes into the smallest of them only
    placed: set[str] = set()
    groups = []
    for cls in sorted(members, key=lambda c: (c == "", len(members[c]), c)):
        units = [u for u in members[cls] if u not in placed]
        if not units:
            continue
        placed.update(units)
        full = [pick_label(labels.get(u, {}), lang) or u.rsplit("/", 1)[-1] for u in units]
        short = _shorten(full)
        # A unit without a name in the reader's language is shown by its place's name in it
        # (the branches have English names only; their prefectures have Japanese ones).
        for i, unit in enumerate(units):
            place = labels.get(located.get(unit, ""), {})
            if lang not in labels.get(unit, {}) and lang in place:
                short[i] = place[lang]
                full[i] = f"{full[i]} ({place[lang]})"
        items = sorted(
            (Unit(u, f, s) for u, f, s in zip(units, full, short, strict=True)),
            key=lambda x: (members[cls][x.iri] or "~", x.short),
        )
        group_label = pick_label(labels.get(cls, {}), lang) or (cls.rsplit("#", 1)[-1] if cls else "unit")
        group_label = group_label[:1].upper() + group_label[1:]
        groups.append(Group(cls, group_label, tuple(items)))
    org_label = pick_label(org_labels.get(org.value, {}), lang) or org.value
    org_short = pick_label(alts.get(org.value, {}), "en") or org_label
    site_label = pick_label(labels.get(site.value, {}), lang) if isinstance(site, NamedNode) else None
    if site_label:
        site_label = ui(lang).headquarters + (": " if lang == "en" else "：") + site_label
    return OrgDiagram(org.value, org_label, org_short, site_label, tuple(groups))


def _href(iri: str, base: str, link_lang: str | None) -> str:
    href = local_href(iri, base)
    return with_lang(href, link_lang) if link_lang else href


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def render_svg(d: OrgDiagram, *, base: str, title: str, link_lang: str | None = None) -> str:
    """The diagram as an inline, accessible SVG (links are plain ``<a href>``)."""
    width = 960
    top = 20
    org_w, org_h = 420, 64
    org_x = (width - org_w) / 2
    groups = d.groups
    col_w = width / max(1, len(groups))
    head_y = top + org_h + 70
    out: list[str] = []
    heights = [head_y + 40]
    for gi, g in enumerate(groups):
        cx = col_w * gi + col_w / 2
        mid = width / 2
        out.append(f'<path d="M{mid:.0f},{top + org_h} C{mid:.0f},{head_y - 30} {cx:.0f},{top + org_h + 20} '
                   f'{cx:.0f},{head_y - 18}" class="edge"/>')
        out.append(f'<text x="{cx:.0f}" y="{head_y}" class="ghead" text-anchor="middle">{_e(g.label)} '
                   f'({len(g.units)})</text>')
        y0 = head_y + 16
        if len(g.units) <= 12:
            box_w, box_h = min(col_w - 40, 220), 30
            for i, u in enumerate(g.units):
                y = y0 + i * (box_h + 8)
                out.append(
                    f'<a href="{_e(_href(u.iri, base, link_lang))}"><title>{_e(u.label)}</title>'
                    f'<rect x="{cx - box_w / 2:.0f}" y="{y:.0f}" width="{box_w:.0f}" height="{box_h}" rx="6" '
                    'class="unit"/>'
                    f'<text x="{cx:.0f}" y="{y + 20:.0f}" text-anchor="middle" class="ulabel">{_e(u.short)}</text></a>'
                )
            heights.append(y0 + len(g.units) * (box_h + 8))
        else:
            cols = max(3, min(6, int((col_w - 20) // 78)))
            cell_w = min(76.0, (col_w - 20) / cols)
            cell_h = 22
            x0 = cx - cols * cell_w / 2
            for i, u in enumerate(g.units):
                x = x0 + (i % cols) * cell_w
                y = y0 + (i // cols) * (cell_h + 4)
                out.append(
                    f'<a href="{_e(_href(u.iri, base, link_lang))}"><title>{_e(u.label)}</title>'
                    f'<rect x="{x + 1:.0f}" y="{y:.0f}" width="{cell_w - 3:.0f}" height="{cell_h}" rx="4" '
                    'class="cell"/>'
                    f'<text x="{x + cell_w / 2:.0f}" y="{y + 15:.0f}" text-anchor="middle" class="clabel">'
                    f'{_e(u.short[:11])}</text></a>'
                )
            heights.append(y0 + ((len(g.units) + cols - 1) // cols) * (cell_h + 4))
    height = int(max(heights) + 20)
    org_href = _e(_href(d.org, base, link_lang))
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="diagram-title diagram-desc">',
        f'<title id="diagram-title">{_e(title)}</title>',
        f'<desc id="diagram-desc">{_e(d.org_label)}: '
        + "; ".join(f"{len(g.units)} × {g.label}" for g in groups) + "</desc>",
        "<style>.edge{fill:none;stroke:#9aa7b4;stroke-width:1.5}.ghead{font:600 15px system-ui,sans-serif;"
        "fill:#1b1f23}.unit{fill:#e8f1fb;stroke:#0b5cad}.cell{fill:#eef6ee;stroke:#2f7d32}"
        ".ulabel{font:13px system-ui,sans-serif;fill:#0b3d73}.clabel{font:10.5px system-ui,sans-serif;fill:#1e4d20}"
        ".org{fill:#0b5cad}.olabel{font:700 18px system-ui,sans-serif;fill:#fff}"
        ".osub{font:12px system-ui,sans-serif;fill:#dbe9f8}a:hover rect,a:focus rect{stroke-width:3}</style>",
        f'<a href="{org_href}"><title>{_e(d.org_label)}</title>'
        f'<rect x="{org_x:.0f}" y="{top}" width="{org_w}" height="{org_h}" rx="10" class="org"/>'
        f'<text x="{width / 2:.0f}" y="{top + 28}" text-anchor="middle" class="olabel">{_e(d.org_short)}</text>'
        + (f'<text x="{width / 2:.0f}" y="{top + 48}" text-anchor="middle" class="osub">{_e(d.site_label)}</text>'
           if d.site_label else "")
        + "</a>",
    ]
    return "\n".join(head + out + ["</svg>"])
