"""CORS: the single-page app's origin may call the API, and no other origin."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.cors import site_origins
from {{ cookiecutter.package_name }}.settings import Settings

from .conftest import Invoke
from .events import http_api_v2

# As the stack sets it: the stage's CloudFront domain.
SITE = "https://d111111abcdef8.cloudfront.net"
FOREIGN = "https://elsewhere.example"
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}


@pytest.fixture
def site(stage: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SITE_ORIGINS", SITE)
    return SITE


@pytest.fixture
def client(site: str) -> FlaskClient:
    return create_app(Settings.from_env()).test_client()


def test_preflight_for_a_json_post_from_the_site(client: FlaskClient) -> None:
    response = client.options("/questions", headers={"Origin": SITE, **PREFLIGHT})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_requests_from_the_site_may_be_read(client: FlaskClient) -> None:
    created = client.post("/questions", json={"text": "Across origins?"}, headers={"Origin": SITE})
    assert created.status_code == 201
    assert created.headers["Access-Control-Allow-Origin"] == SITE
    question_id = created.get_json()["id"]
    answered = client.post(
        f"/questions/{question_id}/answers", json={"text": "Yes."}, headers={"Origin": SITE}
    )
    assert answered.headers["Access-Control-Allow-Origin"] == SITE


def test_error_answers_reach_the_site_too(client: FlaskClient) -> None:
    """The app shows the API's validation message, so errors carry the CORS header as well."""
    invalid = client.post("/questions", json={"text": "  "}, headers={"Origin": SITE})
    assert invalid.status_code == 400
    assert invalid.headers["Access-Control-Allow-Origin"] == SITE
    missing = client.get("/questions/no-such-id", headers={"Origin": SITE})
    assert missing.status_code == 404
    assert missing.headers["Access-Control-Allow-Origin"] == SITE


@pytest.mark.parametrize("origin", [FOREIGN, "http://d111111abcdef8.cloudfront.net", SITE + ".evil.example"])
def test_other_origins_get_no_cors_headers(client: FlaskClient, origin: str) -> None:
    preflight = client.options("/questions", headers={"Origin": origin, **PREFLIGHT})
    read = client.get("/questions", headers={"Origin": origin})
    for response in (preflight, read):
        assert not [name for name, _value in response.headers if name.lower().startswith("access-control-")]


def test_without_site_origins_no_origin_is_allowed(stage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SITE_ORIGINS", raising=False)
    client = create_app(Settings.from_env()).test_client()
    response = client.options("/questions", headers={"Origin": SITE, **PREFLIGHT})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_the_preflight_passes_through_the_lambda_handler(site: str, invoke: Invoke) -> None:
    """The HTTP API sends OPTIONS to the function like any other method (no CORS configured on it)."""
    response = invoke(http_api_v2("OPTIONS", "/questions", headers={"origin": SITE, **PREFLIGHT}))
    assert response["statusCode"] == 200
    headers = {name.lower(): value for name, value in response["headers"].items()}
    assert headers["access-control-allow-origin"] == SITE
    assert "POST" in headers["access-control-allow-methods"]


def test_site_origins_reads_a_list() -> None:
    assert site_origins({"SITE_ORIGINS": " http://localhost:5173 , http://127.0.0.1:5173,"}) == [
        "http://localhost:5173",
        "http://127.0.0.1:5173",
    ]
    assert site_origins({}) == []


@pytest.mark.parametrize(
    "value",
    ["*", "https://*.cloudfront.net", "d111111abcdef8.cloudfront.net", f"{SITE}/", f"{SITE}/app", "ftp://x"],
)
def test_site_origins_refuses_what_is_not_an_origin(value: str) -> None:
    with pytest.raises(ValueError, match="SITE_ORIGINS"):
        site_origins({"SITE_ORIGINS": value})
