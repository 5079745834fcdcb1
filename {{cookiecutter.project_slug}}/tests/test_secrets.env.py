"""Secrets from environment variables."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from {{ cookiecutter.package_name }}.secrets import (
    MissingSecretError,
{%- if has('sql_store') %}
    database_url,
{%- endif %}
    find_secret,
    get_secret,
)


def test_reads_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_TOKEN", "from-env")
    assert get_secret("admin-token") == "from-env"


def test_missing_required_secret_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CURSOR_SIGNING_KEY", raising=False)
    with pytest.raises(MissingSecretError, match="CURSOR_SIGNING_KEY"):
        get_secret("cursor-signing-key")


def test_empty_optional_secret_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_TOKEN", "")
    assert find_secret("admin-token") is None


def test_without_admin_token_delete_is_forbidden(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADMIN_TOKEN", "")
    question = client.post("/questions", json={"text": "Moderated?"}).get_json()
    response = client.delete(f"/questions/{question['id']}", headers={"Authorization": "Bearer anything"})
    assert response.status_code == 403
    assert "no admin token" in response.get_json()["message"]


def test_missing_cursor_key_fails_listing_and_logs_its_name(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CURSOR_SIGNING_KEY")
    client.post("/questions", json={"text": "one"})
    client.post("/questions", json={"text": "two"})
    response = client.get("/questions", query_string={"limit": 1})
    assert response.status_code == 500
    assert "CURSOR_SIGNING_KEY" in capsys.readouterr().out
{%- if has('sql_store') %}


def test_database_url_is_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///local.sqlite3")
    assert database_url().render_as_string() == "sqlite:///local.sqlite3"


def test_missing_database_url_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(MissingSecretError, match="DATABASE_URL"):
        database_url()
{%- endif %}
