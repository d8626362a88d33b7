"""Data flows one way: sources -> validate -> release -> store -> web/CLI.

A module imports only from layers below it; the server never parses source Turtle or runs SHACL.
This test reads every module's imports (with ast, so nothing is executed) and checks the rules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "clair_kg"

# module prefix -> imports it must not make (package-relative names or third-party roots)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "clair_kg.errors": ("clair_kg.",),
    "clair_kg.project": ("clair_kg.sources", "clair_kg.store", "clair_kg.web", "clair_kg.cli"),
    "clair_kg.sources": ("clair_kg.store", "clair_kg.web", "clair_kg.cli", "clair_kg.serving"),
    "clair_kg.validate": ("clair_kg.store", "clair_kg.web", "clair_kg.cli", "clair_kg.serving"),
    "clair_kg.release": ("clair_kg.store", "clair_kg.web", "clair_kg.cli", "clair_kg.serving"),
    "clair_kg.store": (
        "clair_kg.sources", "clair_kg.validate", "clair_kg.release", "clair_kg.web", "clair_kg.cli",
        "rdflib", "pyshacl",
    ),
    "clair_kg.web": ("clair_kg.cli", "clair_kg.sources", "clair_kg.validate", "pyshacl"),
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


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module_name(p))
def test_imports_respect_layers(path: Path) -> None:
    module = _module_name(path)
    imports = _imports(path)
    for prefix, banned in FORBIDDEN.items():
        if module == prefix or module.startswith(prefix + "."):
            bad = sorted(
                i for i in imports for b in banned
                if (i == b.rstrip(".") or i.startswith(b if b.endswith(".") else b + ".") or i == b)
                and not i.startswith(prefix)
            )
            assert not bad, f"{module} imports {bad}, which its layer must not use"


def test_nothing_imports_the_cli() -> None:
    for path in MODULES:
        module = _module_name(path)
        if module.startswith("clair_kg.cli") or module == "clair_kg.__main__":
            continue
        assert not any(i.startswith("clair_kg.cli") for i in _imports(path)), module
