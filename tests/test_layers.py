"""Data flows one way: sources -> validate -> release -> store -> sparql -> runtime -> web/server/CLI.

Two checks. Each module's own imports are read with ast (nothing runs) against the rules below, so a
wrong import names its line's module. And, because a rule broken two imports away is still broken,
every package is imported in a fresh interpreter and ``sys.modules`` is read afterwards: the serving
side (store, sparql, the query worker, runtime, web, server) must not have loaded rdflib, pyshacl or
owlrl, whichever module pulled them in.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "clair_kg"

BUILD_SIDE = ("clair_kg.sources", "clair_kg.validate", "clair_kg.release", "clair_kg.release_cache")
SERVING = ("clair_kg.runtime", "clair_kg.web", "clair_kg.server")
HEAVY = ("rdflib", "pyshacl", "owlrl")
WEB_FRAMEWORK = ("fastapi", "starlette", "uvicorn", "jinja2")

# module prefix -> what it must not import, directly (ast) or through anything it imports (sys.modules)
RULES: dict[str, tuple[str, ...]] = {
    "clair_kg.errors": ("clair_kg.", *HEAVY, *WEB_FRAMEWORK),
    "clair_kg.namespaces": ("clair_kg.", *HEAVY, *WEB_FRAMEWORK, "pyoxigraph"),
    "clair_kg.formats": ("clair_kg.store", "clair_kg.sparql", *SERVING, *HEAVY, *WEB_FRAMEWORK),
    "clair_kg.project": ("clair_kg.sources", "clair_kg.store", *SERVING, "clair_kg.cli", *HEAVY),
    "clair_kg.settings": ("clair_kg.sources", "clair_kg.store", *SERVING, "clair_kg.cli", *HEAVY),
    "clair_kg.published": ("clair_kg.sources", "clair_kg.store", *SERVING, "clair_kg.cli", *HEAVY),
    "clair_kg.canonical": ("clair_kg.sources", "clair_kg.store", *SERVING, *HEAVY),
    "clair_kg.queryfile": ("clair_kg.store", *SERVING, *HEAVY),
    "clair_kg.sources": ("clair_kg.store", "clair_kg.sparql", *SERVING, "clair_kg.cli"),
    "clair_kg.validate": ("clair_kg.store", "clair_kg.sparql", *SERVING, "clair_kg.cli"),
    "clair_kg.validate_scope": ("clair_kg.store", "clair_kg.sparql", *SERVING, "clair_kg.cli"),
    "clair_kg.shacl": ("clair_kg.sources", "clair_kg.validate", "clair_kg.release", "clair_kg.store", "clair_kg.sparql",
                       *SERVING, "clair_kg.cli", *WEB_FRAMEWORK),
    "clair_kg.release": ("clair_kg.store", "clair_kg.sparql", *SERVING, "clair_kg.cli"),
    "clair_kg.release_cache": ("clair_kg.store", "clair_kg.sparql", *SERVING, "clair_kg.cli"),
    "clair_kg.publish": (*BUILD_SIDE, "clair_kg.sparql", *SERVING, "clair_kg.cli", *HEAVY, *WEB_FRAMEWORK),
    "clair_kg.store": (*BUILD_SIDE, "clair_kg.sparql", *SERVING, "clair_kg.cli", *HEAVY, *WEB_FRAMEWORK),
    "clair_kg.sparql": (*BUILD_SIDE, *SERVING, "clair_kg.cli", *HEAVY, *WEB_FRAMEWORK),
    "clair_kg.search": (*BUILD_SIDE, "clair_kg.sparql", *SERVING, "clair_kg.cli", *HEAVY, *WEB_FRAMEWORK),
    "clair_kg.reconcile": (*BUILD_SIDE, "clair_kg.sparql", *SERVING, "clair_kg.cli", *HEAVY, *WEB_FRAMEWORK),
    "clair_kg.entity_graph": (*BUILD_SIDE, "clair_kg.sparql", *SERVING, "clair_kg.cli", *HEAVY, *WEB_FRAMEWORK),
    "clair_kg.provenance": (*BUILD_SIDE, "clair_kg.sparql", *SERVING, "clair_kg.cli", *HEAVY, *WEB_FRAMEWORK),
    "clair_kg.terms": (*BUILD_SIDE, "clair_kg.sparql", *SERVING, "clair_kg.cli", *HEAVY, *WEB_FRAMEWORK),
    "clair_kg.named_queries": (*BUILD_SIDE, "clair_kg.sparql", *SERVING, "clair_kg.cli", *HEAVY, *WEB_FRAMEWORK),
    "clair_kg.runtime": (*BUILD_SIDE, "clair_kg.web", "clair_kg.server", "clair_kg.cli", *HEAVY, *WEB_FRAMEWORK),
    "clair_kg.web": (*BUILD_SIDE, "clair_kg.server", "clair_kg.cli", *HEAVY),
    "clair_kg.server": (*BUILD_SIDE, "clair_kg.cli", *HEAVY),
    "clair_kg.wikidata": (*SERVING, "clair_kg.cli", "pyshacl", "owlrl", *WEB_FRAMEWORK),
    "clair_kg.cli": (),
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _rule(module: str) -> tuple[str, tuple[str, ...]] | None:
    """The most specific rule for ``module``: (prefix, banned)."""
    best = None
    for prefix, banned in RULES.items():
        if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, banned)
    return best


def _banned(name: str, prefix: str, banned: tuple[str, ...]) -> bool:
    if name == prefix or name.startswith(prefix + ".") or name == "clair_kg":  # a module loads its package
        return False
    return any(name == b.rstrip(".") or name.startswith(b if b.endswith(".") else b + ".") for b in banned)


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_module_has_a_rule() -> None:
    missing = [_module_name(p) for p in MODULES if _rule(_module_name(p)) is None
               and _module_name(p) not in ("clair_kg", "clair_kg.__main__")]
    assert missing == [], f"add a layer rule for {missing}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module_name(p))
def test_direct_imports_respect_layers(path: Path) -> None:
    module = _module_name(path)
    rule = _rule(module)
    if rule is None:
        return
    prefix, banned = rule
    bad = sorted(i for i in _imports(path) if _banned(i, prefix, banned))
    assert not bad, f"{module} imports {bad}, which its layer must not use"


_PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("prefix", [p for p in RULES if p != "clair_kg.cli"])
def test_what_a_package_loads_respects_its_layer(prefix: str) -> None:
    """Import every module of the package in a fresh interpreter; nothing banned may be loaded."""
    names = [_module_name(p) for p in MODULES
             if _module_name(p) == prefix or _module_name(p).startswith(prefix + ".")]
    # a sub-package with a rule of its own is checked against that rule
    names = [n for n in names if (_rule(n) or ("",))[0] == prefix]
    assert names, prefix
    out = subprocess.run([sys.executable, "-c", _PROBE, *names], capture_output=True, text=True, timeout=120,
                         cwd=PACKAGE.parent, check=True)
    loaded = json.loads(out.stdout)
    banned = RULES[prefix]
    bad = sorted({m.split(".")[0] if not m.startswith("clair_kg") else m for m in loaded if _banned(m, prefix, banned)})
    assert not bad, f"importing {prefix} loads {bad}, which its layer must not use"


def test_the_query_worker_loads_no_parser_of_sources() -> None:
    out = subprocess.run([sys.executable, "-c", _PROBE, "clair_kg.sparql.worker"], capture_output=True, text=True,
                         timeout=60, cwd=PACKAGE.parent, check=True)
    loaded = set(json.loads(out.stdout))
    assert not loaded & {"rdflib", "pyshacl", "owlrl", "fastapi"}


def test_nothing_imports_the_cli() -> None:
    for path in MODULES:
        module = _module_name(path)
        if module.startswith("clair_kg.cli") or module == "clair_kg.__main__":
            continue
        assert not any(i.startswith("clair_kg.cli") for i in _imports(path)), module
