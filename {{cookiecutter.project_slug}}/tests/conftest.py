"""Fixtures: a local AWS emulator per session, a fresh stage (table, secrets) per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dev import local
from dev.local_aws import CLIENT_ENVIRONMENT, LocalAws
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.handler import make_handler
from {{ cookiecutter.package_name }}.settings import Settings

from .events import FakeLambdaContext

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    saved = dict(os.environ)
    os.environ.update(CLIENT_ENVIRONMENT)
    # Real credentials or profiles of the developer must never be used by tests.
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    with LocalAws() as aws:
        os.environ["AWS_ENDPOINT_URL"] = aws.url
        yield aws
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def stage(local_aws: LocalAws, monkeypatch: pytest.MonkeyPatch) -> str:
    """A stage of its own for this test: its own table and secrets in the emulator."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    for key, value in local.environment(name, local_aws.url).items():
        monkeypatch.setenv(key, value)
    return name


@pytest.fixture
def app(stage: str) -> Flask:
    # Not TESTING: errors must be handled exactly as in production.
    return create_app(Settings.from_env())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def invoke(stage: str) -> Invoke:
    """Send an event through the real Lambda handler, as Lambda would."""
    handler = make_handler(create_app(Settings.from_env()))

    def call(event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = handler(event, FakeLambdaContext())
        return response

    return call
