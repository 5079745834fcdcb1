"""Fixtures: the local stand-ins per session (see dev/local.py), a fresh stage per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dev import local

from {{ cookiecutter.package_name }}.app import create_app
{%- if has('sam_built') %}
from {{ cookiecutter.package_name }}.handler import make_handler
{%- endif %}
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.storage import QuestionRepository

from . import aws_calls
from .events import FakeLambdaContext
{%- if has('zappa_built') %}
from .zappa_handler import make_handler
{%- endif %}

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


def pytest_configure(config: pytest.Config) -> None:
    """Record the AWS calls the tests make when AWS_CALL_LOG names a file (aws_calls.py)."""
    aws_calls.record_if_asked()


@pytest.fixture(scope="session")
def local_services() -> Iterator[None]:
    """What the app stores in and reads secrets from, as the test run's own (``local.services``)."""
    saved = dict(os.environ)
    # Real credentials or profiles of the developer must never be used by tests.
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    with local.services("test"):
        yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def stage(local_services: None, monkeypatch: pytest.MonkeyPatch) -> str:
    """A stage of its own for this test: its own data and secrets, in its environment."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    for key, value in local.environment(name).items():
        monkeypatch.setenv(key, value)
    return name


@pytest.fixture
def store(stage: str) -> Callable[[], QuestionRepository] | None:
    """What the app is given to make its repository: None, the stage's own store.

    A module that runs on each store the project has overrides it (see test_bad_requests.py).
    """
    return None


@pytest.fixture
def app(store: Callable[[], QuestionRepository] | None) -> Flask:
    # Not TESTING: errors must be handled exactly as in production.
    return create_app(Settings.from_env(), repository=store)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def invoke(store: Callable[[], QuestionRepository] | None) -> Invoke:
    """Send an event through the real Lambda handler, as Lambda would."""
    handler = make_handler(create_app(Settings.from_env(), repository=store))

    def call(event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = handler(event, FakeLambdaContext())
        return response

    return call
