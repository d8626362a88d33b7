"""Every setting is documented (docs/settings.md) and has help text; the environment reaches it."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from clair_kg.settings import Settings, setting_docs, settings_from_env

DOCS = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for f in fields(Settings):
        assert f"`{f.name}`" in text, f"docs/settings.md does not list {f.name}"
        assert f"`CLAIR_KG_{f.name.upper()}`" in text
        assert setting_docs()[f.name], f"{f.name} has no help text"


def test_environment_overrides_settings() -> None:
    s = settings_from_env(
        {"CLAIR_KG_QUERY_TIMEOUT": "2.5", "CLAIR_KG_MAX_ROWS": "7", "CLAIR_KG_SERVICE_ALLOWLIST": "http://a/, http://b/"}
    )
    assert s.query_timeout == 2.5
    assert s.max_rows == 7
    assert s.service_allowlist == ("http://a/", "http://b/")
    assert settings_from_env({}).query_timeout == Settings().query_timeout


def test_bad_environment_values_are_clear_errors() -> None:
    import pytest

    from clair_kg.errors import BadRequest, ConfigError

    with pytest.raises(ConfigError, match="CLAIR_KG_QUERY_TIMEOUT"):
        settings_from_env({"CLAIR_KG_QUERY_TIMEOUT": "soon"})
    assert not issubclass(ConfigError, BadRequest)  # a configuration mistake is not an HTTP error
    with pytest.raises(ConfigError, match="query_isolation must be one of process, restart"):
        settings_from_env({"CLAIR_KG_QUERY_ISOLATION": "threads"})
