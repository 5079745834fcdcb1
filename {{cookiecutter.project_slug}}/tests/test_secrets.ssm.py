"""Secrets from SSM Parameter Store, against the emulator."""

from __future__ import annotations

import os

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from flask.testing import FlaskClient

from {{ cookiecutter.package_name }}.secrets import MissingSecretError, find_secret, get_secret

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
