"""The landing page ``/`` (HTML, or the VoID/DCAT description as RDF), ``/.well-known/void``, and the
``/ontology`` and ``/shapes`` documentation pages (HTML, or the graph as RDF).

Term IRIs are hash IRIs (``{base}ontology#Term``, ``{base}shapes#XShape``): a client fetches the
document and each term has an anchor of the same name on the page.
"""

from __future__ import annotations

__all__ = ["router"]

import json
from collections import defaultdict
from typing import Any

from fastapi import APIRouter
from pyoxigraph import BlankNode, Literal, NamedNode, Triple
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...entity_graph import label_language, pick_label
from ...errors import InvalidParameter
from ...namespaces import PREFIXES, RDF_TYPE
from ...provenance import SourceInfo
from ...publish.rdfio import compact_iri
from ...store import Term
from ..context import get_context
from ..examples import EXAMPLES
from ..http import not_modified, not_modified_response, standard_headers
from ..i18n import LANG_COOKIE, SUPPORTED_LANGUAGES, explicit_language, ui
from ..negotiate import MEDIA_EXTENSIONS
from ..templating import pick_language, render
from .common import (
    DOC_FORMATS,
    FORMAT_NAMES,
    RDF_FORMATS,
    alternates,
    etag,
    local_href,
    negotiate_doc,
    publication,
    rdf_document_response,
)
from .diagram import org_diagram, render_svg
from .terms import TermLabels, term_labels

router = APIRouter(tags=["linked data"])

RDF_FIRST = PREFIXES["rdf"] + "first"
RDF_REST = PREFIXES["rdf"] + "rest"
RDF_NIL = PREFIXES["rdf"] + "nil"
LABELS = ("http://www.w3.org/2004/02/skos/core#prefLabel", "http://www.w3.org/2000/01/rdf-schema#label",
          "http://www.w3.org/ns/shacl#name")
DEFINITIONS = ("http://www.w3.org/2004/02/skos/core#definition", "http://www.w3.org/2000/01/rdf-schema#comment",
               "http://www.w3.org/ns/shacl#description")
SH = PREFIXES["sh"]
_SHAPE_CLASSES = (SH + "NodeShape", SH + "PropertyShape")
_GRAPH = "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"

# ---------------------------------------------------------------------------------------------
# landing page and dataset description
# ---------------------------------------------------------------------------------------------

@router.head("/", include_in_schema=False)
@router.get("/", summary="Landing page; as RDF, the VoID/DCAT description")
def landing(request: Request) -> Response:
    media = negotiate_doc(request)
    pub = publication(request)
    if media != "text/html":
        return rdf_document_response(
            request, list(pub.distribution.void), media, etag=etag(request, media),
            link=alternates(request, "/.well-known/void", media, RDF_FORMATS), context_url=_context_url(request),
        )
    ctx = get_context(request)
    lang = pick_language(request)
    tag = etag(request, media, lang)
    headers = {**standard_headers(tag, vary="Accept, Accept-Language, Cookie"), "Content-Language": lang,
               "Link": ", ".join(
                   f'<{str(request.base_url).rstrip("/")}/.well-known/void.{MEDIA_EXTENSIONS[m]}>; '
                   f'rel="alternate describedby"; type="{m}"' for m in RDF_FORMATS)}
    if not_modified(request, tag):
        return not_modified_response(tag, headers)
    meta = pub.distribution.metadata
    base = ctx.settings.base_iri
    diagram = org_diagram(ctx.store, lang)
    svg = render_svg(diagram, base=base, title=ui(lang).diagram_title,
                     link_lang=explicit_language(request)) if diagram else None
    terms = term_labels(request)
    kinds = [
        {**terms.link(c.iri, lang, local_href(c.iri, base), external=not c.iri.startswith(base)),
         "count": c.entities, "local": c.iri.startswith(base)}
        for c in meta.classes
    ]
    infos = ctx.sources.get()
    context = {

        "meta": meta,
        "title": meta.title[lang],
        "description": meta.description[lang],
        "kinds_main": [k for k in kinds if k["local"]],
        "kinds_other": [k for k in kinds if not k["local"]],
        "svg": svg,
        "sources": [_source_line(s.iri, s.name, s.triples, infos, lang, base) for s in meta.sources],
        "linksets": meta.linksets,
        "examples": [{"title": e.title_in(lang), "query": e.query, "href": e.href} for e in EXAMPLES if e.on_landing],
        "example_resources": [{"href": local_href(e, base), "text": e[len(base):]} for e in meta.example_resources],
        "schema_json": json.dumps(pub.schema_org, ensure_ascii=False, indent=1).replace("</", "<\\/"),
    }
    return render(request, "landing.html", context, headers=headers)


def _source_line(iri: str, name: str, triples: int, infos: dict[str, SourceInfo], lang: str,
                 base: str) -> dict[str, Any]:
    info = infos.get(iri)
    label, label_lang = info.label(lang) if info else (name, "en")
    return {"label": label, "label_lang": label_lang, "href": local_href(iri, base), "triples": triples,
            "name": name, "date": info.retrieved if info else None}


@router.head("/.well-known/void", include_in_schema=False)
@router.get("/.well-known/void", summary="The VoID/DCAT dataset description")
def well_known_void(request: Request) -> Response:
    return _void(request, None)


@router.head("/.well-known/void.{ext}", include_in_schema=False)
@router.get("/.well-known/void.{ext}", include_in_schema=False)
def well_known_void_ext(ext: str, request: Request) -> Response:
    return _void(request, ext)


def _void(request: Request, ext: str | None) -> Response:
    media = negotiate_doc(request, RDF_FORMATS, extension=ext)
    pub = publication(request)
    return rdf_document_response(
        request, list(pub.distribution.void), media, etag=etag(request, media),
        link=alternates(request, "/.well-known/void", media, RDF_FORMATS), context_url=_context_url(request),
        vary=None if ext else "Accept",
    )


def _context_url(request: Request) -> str:
    return get_context(request).settings.base_iri + "context.jsonld"


# ---------------------------------------------------------------------------------------------
# ontology and shapes
# ---------------------------------------------------------------------------------------------

@router.head("/ontology", include_in_schema=False)
@router.get("/ontology", summary="The ontology: documentation page or RDF")
def ontology(request: Request) -> Response:
    return _schema_doc(request, "ontology", None)


@router.head("/ontology.{ext}", include_in_schema=False)
@router.get("/ontology.{ext}", include_in_schema=False)
def ontology_ext(ext: str, request: Request) -> Response:
    return _schema_doc(request, "ontology", ext)


@router.head("/shapes", include_in_schema=False)
@router.get("/shapes", summary="The SHACL shapes: documentation page or RDF")
def shapes(request: Request) -> Response:
    return _schema_doc(request, "shapes", None)


@router.head("/shapes.{ext}", include_in_schema=False)
@router.get("/shapes.{ext}", include_in_schema=False)
def shapes_ext(ext: str, request: Request) -> Response:
    return _schema_doc(request, "shapes", ext)


def _graph_triples(request: Request, name: str) -> list[Triple]:
    ctx = get_context(request)
    rows = ctx.store.select(_GRAPH, bindings={"g": NamedNode(ctx.project.graph_iri(name))})
    return [Triple(r["s"], r["p"], r["o"]) for r in rows]  # type: ignore[arg-type]


def _schema_doc(request: Request, name: str, ext: str | None) -> Response:
    media = negotiate_doc(request, extension=ext)
    lang = pick_language(request)
    tag = etag(request, media, lang if media == "text/html" else "")
    path = f"/{name}"
    link = alternates(request, path, media)
    html_vary = "Accept-Language, Cookie"  # the language comes from the cookie or Accept-Language
    vary = (html_vary if media == "text/html" else None) if ext else "Accept, " + html_vary
    if media != "text/html":
        return rdf_document_response(request, _graph_triples(request, name), media, etag=tag, link=link,
                                     context_url=_context_url(request), vary=vary)
    headers = {**standard_headers(tag, vary=vary), "Link": link, "Content-Language": lang}
    if not_modified(request, tag):
        return not_modified_response(tag, headers)
    ctx = get_context(request)
    triples = _graph_triples(request, name)
    doc_iri = ctx.project.ontology_iri if name == "ontology" else ctx.project.shapes_iri
    formats = [{"href": f"{path}.{MEDIA_EXTENSIONS[m]}", "name": FORMAT_NAMES[m], "type": m}
               for m in DOC_FORMATS if m != "text/html"]
    page = _DocPage(triples, doc_iri, ctx.settings.base_iri, lang, term_labels(request))
    context: dict[str, Any] = {"formats": formats, "header": page.header(),
                               "path": path}
    if name == "ontology":
        context["sections"] = page.ontology_sections()
        return render(request, "ontology.html", context, headers=headers)
    context["shapes"] = page.shapes()
    return render(request, "shapes.html", context, headers=headers)


def _other(texts: dict[str, str], lang: str) -> str | None:
    """The language of the text :func:`pick_label` shows, when it is not the page's."""
    key = label_language(texts, lang)
    return key if key and key != lang else None


class _DocPage:
    """Reads an ontology or shapes graph into what its documentation page lists."""

    def __init__(self, triples: list[Triple], doc_iri: str, base: str, lang: str, terms: TermLabels) -> None:
        self.terms = terms
        self.doc_iri = doc_iri
        self.base = base
        self.lang = lang
        self.props: dict[str, dict[str, list[Term]]] = defaultdict(lambda: defaultdict(list))
        for t in sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object))):
            key = t.subject.value if isinstance(t.subject, NamedNode) else "_:" + str(getattr(t.subject, "value", ""))
            self.props[key][t.predicate.value].append(t.object)

    def _texts(self, subject: str, predicates: tuple[str, ...]) -> dict[str, str]:
        out: dict[str, str] = {}
        for p in predicates:
            for o in self.props.get(subject, {}).get(p, []):
                if isinstance(o, Literal):
                    out.setdefault(o.language or "", o.value)
        return out

    def label(self, iri: str) -> str | None:
        return pick_label(self._texts(iri, LABELS), self.lang)

    def link(self, term: Term) -> dict[str, Any]:
        """A term in words (the prefixed name is the tooltip); a literal as its text."""
        if isinstance(term, NamedNode):
            iri = term.value
            if iri.startswith(self.doc_iri + "#"):
                return {**self.terms.link(iri, self.lang, "#" + iri.split("#", 1)[1], external=False)}
            internal = iri.startswith(self.base)
            if self.terms.labels.get(iri):
                return self.terms.link(iri, self.lang, local_href(iri, self.base), external=not internal)
            return {"href": local_href(iri, self.base), "text": iri, "external": not internal, "title": None,
                    "lang": None}
        if isinstance(term, Literal):
            return {"href": None, "text": term.value, "external": False, "title": None, "lang": term.language or None}
        return {"href": None, "text": self.turtle(term), "external": False, "title": None, "lang": None}

    def turtle(self, term: Term, depth: int = 0) -> str:
        """A compact Turtle-like rendering of a term, blank nodes and lists inlined."""
        if isinstance(term, NamedNode):
            return compact_iri(term.value)
        if isinstance(term, Literal):
            if term.language:
                return f'"{term.value}"@{term.language}'
            dt = term.datatype.value
            return f'"{term.value}"' if dt.endswith("#string") else term.value
        if isinstance(term, BlankNode) and depth < 6:
            props = self.props.get("_:" + term.value, {})
            if RDF_FIRST in props:
                items: list[str] = []
                node: Term | None = term
                while isinstance(node, BlankNode) and len(items) < 50:
                    p = self.props.get("_:" + node.value, {})
                    items += [self.turtle(v, depth + 1) for v in p.get(RDF_FIRST, [])]
                    rest = p.get(RDF_REST, [])
                    node = rest[0] if rest else None
                return "( " + " ".join(items) + " )"
            return "[ " + " ; ".join(
                f"{compact_iri(p)} {', '.join(self.turtle(v, depth + 1) for v in vs)}" for p, vs in props.items()
            ) + " ]"
        return str(term)

    def header(self) -> dict[str, Any]:
        p = self.props.get(self.doc_iri, {})
        titles = self._texts(self.doc_iri, ("http://purl.org/dc/terms/title", *LABELS))
        descriptions = self._texts(self.doc_iri, ("http://purl.org/dc/terms/description", *DEFINITIONS))
        return {
            "iri": self.doc_iri,
            "title": pick_label(titles, self.lang),
            "description": pick_label(descriptions, self.lang),
            "version": ", ".join(v.value for v in p.get("http://www.w3.org/2002/07/owl#versionInfo", [])
                                 if isinstance(v, Literal)),
            "title_lang": _other(titles, self.lang),
            "description_lang": _other(descriptions, self.lang),
            "license": [v.value for v in p.get("http://purl.org/dc/terms/license", []) if isinstance(v, NamedNode)],
        }

    def _term(self, iri: str, skip: set[str]) -> dict[str, Any]:
        p = self.props[iri]
        labels = self._texts(iri, LABELS)
        definitions = self._texts(iri, DEFINITIONS)
        others = [
            {"property": self.terms.link(k, self.lang, local_href(k, self.base) if k.startswith(self.base) else k,
                                         external=not k.startswith(self.base)),
             "values": [self.link(v) for v in vs]}
            for k, vs in sorted(p.items()) if k not in skip
        ]
        words = self.terms.label(iri, self.lang)
        return {
            "anchor": iri.split("#", 1)[1] if "#" in iri else iri.rsplit("/", 1)[-1],
            "iri": iri,
            "curie": compact_iri(iri),
            "words": words or labels.get(self.lang) or labels.get("en") or compact_iri(iri),
            "label_en": labels.get("en") or labels.get(""),
            "label_ja": labels.get("ja"),
            "definition_en": definitions.get("en") or definitions.get(""),
            "definition_ja": definitions.get("ja"),
            "types": [self.link(t) for t in p.get(RDF_TYPE, [])],
            "others": others,
        }

    def ontology_sections(self) -> list[dict[str, Any]]:
        owl = "http://www.w3.org/2002/07/owl#"
        kinds = (
            (owl + "Class", {"en": "Classes", "ja": "クラス"}),
            (owl + "ObjectProperty", {"en": "Object properties", "ja": "オブジェクトプロパティ"}),
            (owl + "DatatypeProperty", {"en": "Datatype properties", "ja": "データ型プロパティ"}),
            (owl + "AnnotationProperty", {"en": "Annotation properties", "ja": "注釈プロパティ"}),
        )
        skip = {RDF_TYPE, *LABELS, *DEFINITIONS, "http://www.w3.org/2000/01/rdf-schema#isDefinedBy"}
        terms = sorted(s for s in self.props if s.startswith(self.doc_iri + "#"))
        sections: list[dict[str, Any]] = []
        placed: set[str] = set()
        for kind, title in kinds:
            members = [t for t in terms if any(isinstance(v, NamedNode) and v.value == kind
                                               for v in self.props[t].get(RDF_TYPE, []))]
            placed.update(members)
            if members:
                sections.append({"id": title["en"].lower().replace(" ", "-"), "title": title[self.lang],
                                 "terms": [self._term(t, skip) for t in members]})
        rest = [t for t in terms if t not in placed]
        if rest:
            sections.append({"id": "individuals", "title": {"en": "Individuals", "ja": "個体"}[self.lang],
                             "terms": [self._term(t, skip) for t in rest]})
        return sections

    def shapes(self) -> list[dict[str, Any]]:
        shape_iris = sorted(
            s for s in self.props
            if not s.startswith("_:") and any(isinstance(v, NamedNode) and v.value in _SHAPE_CLASSES
                                              for v in self.props[s].get(RDF_TYPE, []))
        )
        out = []
        for iri in shape_iris:
            base_term = self._term(iri, {RDF_TYPE, *LABELS, *DEFINITIONS, SH + "property"})
            properties = []
            for ps in self.props[iri].get(SH + "property", []):
                key = "_:" + ps.value if isinstance(ps, BlankNode) else str(getattr(ps, "value", ps))
                p = self.props.get(key, {})
                messages = {(m.language or ""): m.value for m in p.get(SH + "message", []) if isinstance(m, Literal)}
                properties.append({
                    "path": " / ".join(self.turtle(v) for v in p.get(SH + "path", [])),
                    "message": pick_label(messages, self.lang),
                    "constraints": [f"{compact_iri(k)} {', '.join(self.turtle(v) for v in vs)}"
                                    for k, vs in sorted(p.items()) if k not in (SH + "path", SH + "message")],
                })
            properties.sort(key=lambda x: str(x["path"]))
            out.append({**base_term, "properties": properties})
        return out


# ---------------------------------------------------------------------------------------------
# the language switch for pages where ``lang`` is a parameter of the resource
# ---------------------------------------------------------------------------------------------

@router.get("/language/{code}", include_in_schema=False)
def choose_language(code: str, request: Request) -> Response:
    """Store the reader's language in the cookie and go back to ``next`` (a path of this site)."""
    if code not in SUPPORTED_LANGUAGES:
        raise InvalidParameter("code", f"expected one of {', '.join(SUPPORTED_LANGUAGES)}")
    target = request.query_params.get("next", "/")
    if (not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(c) < 0x21 or ord(c) == 0x7F for c in target)):
        target = "/"  # only this site's pages: no open redirect
    response = RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
    response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, path="/", samesite="lax")
    return response
