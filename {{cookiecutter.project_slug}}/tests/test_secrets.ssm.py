"""Secrets from SSM Parameter Store, against the emulator."""

from __future__ import annotations

{% if has('sql_store') -%}
import json
{% endif -%}
import os

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from flask.testing import FlaskClient
{%- if has('sql_store') %}
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
{%- endif %}

from {{ cookiecutter.package_name }}.secrets import (
    MissingSecretError,
{%- if has('sql_store') %}
    database_url,
{%- endif %}
    find_secret,
    get_secret,
)
{%- if has('sql_store') %}
from {{ cookiecutter.package_name }}.storage.database import EngineSettings, make_engine
{%- endif %}

SLUG = "{{ cookiecutter.project_slug }}"


def delete_parameter(name: str) -> None:
    boto3.client("ssm").delete_parameter(Name=os.environ["SECRETS_PATH"] + name)
    parameters.clear_caches()


def test_reads_secure_string_under_the_stage_path(stage: str) -> None:
    assert os.environ["SECRETS_PATH"] == f"/{SLUG}/{stage}/"
    assert get_secret("admin-token") == "local-admin-token"


def test_missing_required_secret_names_the_parameter(stage: str) -> None:
    delete_parameter("cursor-signing-key")
    with pytest.raises(MissingSecretError, match=f"/{SLUG}/{stage}/cursor-signing-key"):
        get_secret("cursor-signing-key")


def test_missing_optional_secret_is_none(stage: str) -> None:
    delete_parameter("admin-token")
    assert find_secret("admin-token") is None


def test_value_is_cached_per_container(stage: str) -> None:
    assert get_secret("admin-token") == "local-admin-token"
    boto3.client("ssm").put_parameter(
        Name=os.environ["SECRETS_PATH"] + "admin-token", Value="rotated", Type="SecureString", Overwrite=True
    )
    assert get_secret("admin-token") == "local-admin-token"
    parameters.clear_caches()
    assert get_secret("admin-token") == "rotated"


def test_without_admin_token_delete_is_forbidden(client: FlaskClient) -> None:
    delete_parameter("admin-token")
    question = client.post("/questions", json={"text": "Moderated?"}).get_json()
    response = client.delete(f"/questions/{question['id']}", headers={"Authorization": "Bearer anything"})
    assert response.status_code == 403
    assert "no admin token" in response.get_json()["message"]


def test_missing_cursor_key_fails_listing_and_logs_its_name(
    client: FlaskClient, stage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    delete_parameter("cursor-signing-key")
    client.post("/questions", json={"text": "one"})
    client.post("/questions", json={"text": "two"})
    response = client.get("/questions", query_string={"limit": 1})
    assert response.status_code == 500
    assert f"/{SLUG}/{stage}/cursor-signing-key" in capsys.readouterr().out
{%- if has('sql_store') %}


def test_database_credentials_come_from_the_rds_secret(stage: str) -> None:
    assert make_url(os.environ["DATABASE_URL"]).username is None, "deployed, the URL holds no credentials"
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=os.environ["DATABASE_SECRET_ARN"])
    credentials = json.loads(secret["SecretString"])
    url = database_url()
    assert (url.username, url.password or "") == (credentials["username"], credentials["password"])


def test_missing_database_url_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(MissingSecretError, match="DATABASE_URL"):
        database_url()


def test_rotated_credentials_are_read_again_when_the_server_refuses_them(stage: str) -> None:
    secret_id = os.environ["DATABASE_SECRET_ARN"]
    secrets = boto3.client("secretsmanager")
    current = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
    stale = json.dumps({**json.loads(current), "username": "rotated_away"})
    engine = make_engine(EngineSettings(pool_size=1))
    try:
        secrets.put_secret_value(SecretId=secret_id, SecretString=stale)
        parameters.clear_caches()
        # Refused, read again, refused again: the error stands (and the stale value stays cached).
        with pytest.raises(OperationalError), engine.connect():
            pass
        secrets.put_secret_value(SecretId=secret_id, SecretString=current)
        # The cached credentials are refused, read again past the cache, and accepted.
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        secrets.put_secret_value(SecretId=secret_id, SecretString=current)
        parameters.clear_caches()
        engine.dispose()
{%- endif %}
