"""deploy/w3id/.htaccess: the identifier space's redirects, checked by applying its rules.

w3id.org runs Apache mod_rewrite; the rules here are plain ``RewriteRule PATTERN TARGET [FLAGS]``
lines over the path after ``clair-kg/``, so applying them in order with Python's ``re`` (the
patterns use only the syntax both share) gives what the redirect service will answer.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clair_kg.project import ENTITY_PATH_PATTERN

HTACCESS = Path(__file__).resolve().parent.parent / "deploy" / "w3id" / ".htaccess"


def _rules() -> tuple[str, list[tuple[re.Pattern[str], str, str]]]:
    host, rules = "", []
    for line in HTACCESS.read_text(encoding="utf-8").splitlines():
        if not line.startswith("RewriteRule "):
            continue
        _, pattern, target, flags = shlex.split(line)
        if target == "-":
            host = re.fullmatch(r"\[E=CLAIR_KG_HOST:([^\]]+)\]", flags).group(1)  # type: ignore[union-attr]
            continue
        rules.append((re.compile(pattern), target, flags))
    return host, rules


def redirect(path: str) -> tuple[int, str] | None:
    host, rules = _rules()
    for pattern, target, flags in rules:
        match = pattern.search(path)
        if match:
            status = int(re.search(r"R=(\d+)", flags).group(1))  # type: ignore[union-attr]
            location = match.expand(target.replace("$", "\\")).replace("%{ENV:CLAIR_KG_HOST}", host)
            return status, location
    return None


@pytest.mark.parametrize("path", ["id/office/london", "id/org/clair", "id/branch/hokkaido"])
def test_entity_iris_get_303_to_their_document(path: str) -> None:
    status, location = redirect(path)  # type: ignore[misc]
    assert status == 303
    assert location == "https://clair-kg.example.org/doc/" + path.removeprefix("id/")


def test_the_id_pattern_is_the_datasets_identifier_pattern() -> None:
    ours = ENTITY_PATH_PATTERN.pattern.strip("^$").replace("(-", "(?:-")
    assert f"^id/({ours})$" in HTACCESS.read_text(encoding="utf-8")
    assert redirect("id/Office/London") is None  # not an identifier: no redirect
    assert redirect("id/office/london/../x") is None


def test_the_redirect_keeps_negotiation_to_the_host(client: TestClient) -> None:
    """The target has no extension, so the host answers by Accept: the same as our own /id/ route."""
    _, location = redirect("id/office/london")  # type: ignore[misc]
    local = location.replace("https://clair-kg.example.org", "")
    for accept, media in [("text/turtle", "text/turtle"), ("application/ld+json", "application/ld+json")]:
        response = client.get(local, headers={"Accept": accept})
        assert response.status_code == 200 and response.headers["content-type"].startswith(media)


def test_vocabulary_and_dataset_redirect() -> None:
    assert redirect("ontology") == (303, "https://clair-kg.example.org/ontology")
    assert redirect("dataset") == (303, "https://clair-kg.example.org/")
    assert redirect("context.jsonld") == (302, "https://clair-kg.example.org/context.jsonld")
