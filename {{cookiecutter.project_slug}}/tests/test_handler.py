"""The Lambda entry point, driven by API Gateway (v1 and v2) and ALB events against the emulator."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, request

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.handler import make_handler

from .conftest import Invoke
from .events import FakeLambdaContext, alb, http_api_v2, json_body, rest_v1

EVENTS = Path(__file__).resolve().parent.parent / "events"


def test_v2_ask_list_and_read(invoke: Invoke) -> None:
    created = invoke(http_api_v2("POST", "/questions", body={"text": "Through HTTP API?"}))
    assert created["statusCode"] == 201
    question = json_body(created)
    assert created["headers"]["location"] == f"/questions/{question['id']}"

    listed = invoke(http_api_v2("GET", "/questions", query="limit=5"))
    assert listed["statusCode"] == 200
    assert [item["id"] for item in json_body(listed)["items"]] == [question["id"]]

    read = invoke(http_api_v2("GET", f"/questions/{question['id']}"))
    assert read["statusCode"] == 200
    assert json_body(read)["text"] == "Through HTTP API?"


def test_v1_ask_list_and_read(invoke: Invoke) -> None:
    created = invoke(rest_v1("POST", "/questions", body={"text": "Through a REST API?"}))
    assert created["statusCode"] == 201
    question = json_body(created)
    listed = invoke(rest_v1("GET", "/questions", query={"limit": ["5"]}))
    assert listed["statusCode"] == 200
    assert [item["id"] for item in json_body(listed)["items"]] == [question["id"]]
    read = invoke(rest_v1("GET", f"/questions/{question['id']}"))
    assert json_body(read)["id"] == question["id"]


def test_alb_ask_and_list(invoke: Invoke) -> None:
    created = invoke(alb("POST", "/questions", body={"text": "Behind a load balancer?"}))
    assert created["statusCode"] == 201
    listed = invoke(alb("GET", "/questions", query={"limit": ["5"]}))
    assert listed["statusCode"] == 200
    assert len(json_body(listed)["items"]) == 1


def test_v2_named_stage_prefix_is_routed_and_kept_in_links(invoke: Invoke) -> None:
    created = invoke(http_api_v2("POST", "/dev/questions", body={"text": "Named stage?"}, stage="dev"))
    assert created["statusCode"] == 201
    question_id = json_body(created)["id"]
    assert created["headers"]["location"] == f"/dev/questions/{question_id}"
    assert invoke(http_api_v2("GET", f"/dev/questions/{question_id}", stage="dev"))["statusCode"] == 200
    assert invoke(http_api_v2("GET", "/dev", stage="dev"))["statusCode"] == 404


def test_v2_stage_on_a_custom_domain_is_not_stripped(invoke: Invoke) -> None:
    # Custom domains map the stage away: the path is the app's own path.
    response = invoke(http_api_v2("GET", "/health", stage="dev", domain="api.example.com"))
    assert response["statusCode"] == 200


def test_v1_stage_is_in_links(invoke: Invoke) -> None:
    created = invoke(rest_v1("POST", "/questions", body={"text": "REST stage?"}, stage="prod"))
    question_id = json_body(created)["id"]
    assert created["multiValueHeaders"]["Location"] == [f"/prod/questions/{question_id}"]


def test_openapi_and_health_through_each_event_kind(invoke: Invoke) -> None:
    for event in (http_api_v2("GET", "/health"), rest_v1("GET", "/health"), alb("GET", "/health")):
        response = invoke(event)
        assert response["statusCode"] == 200
        assert json_body(response)["status"] == "ok"
    spec = json_body(invoke(http_api_v2("GET", "/openapi.json")))
    assert "/questions" in spec["paths"]


def test_errors_are_json_through_the_handler(invoke: Invoke) -> None:
    invalid = invoke(http_api_v2("POST", "/questions", body={"text": " "}))
    assert invalid["statusCode"] == 400
    assert invalid["headers"]["content-type"] == "application/json"
    assert json_body(invalid)["errors"]["json"]["text"] == ["Must not be blank."]
    too_big = invoke(rest_v1("POST", "/questions", body={"text": "x" * 70_000}))
    assert too_big["statusCode"] == 413
    assert json_body(too_big)["code"] == 413


def test_base64_encoded_request_body(invoke: Invoke) -> None:
    response = invoke(http_api_v2("POST", "/questions", body={"text": "Sent base64?"}, binary=True))
    assert response["statusCode"] == 201
    assert json_body(response)["text"] == "Sent base64?"


def test_sample_events_are_answered(invoke: Invoke) -> None:
    samples = sorted(EVENTS.glob("*.json"))
    assert samples, f"no sample events in {EVENTS}"
    for sample in samples:
        response = invoke(json.loads(sample.read_text()))
        # The get-question samples name a question a fresh stage does not have.
        expected = 404 if "get-question" in sample.name else 200 if "create" not in sample.name else 201
        assert response["statusCode"] == expected, (sample.name, response)
        json_body(response)


def _probe_app() -> Flask:
    """The real app plus a route that echoes what the WSGI layer delivered."""
    app = create_app()

    @app.route("/probe/<path:rest>", methods=["GET", "POST"])
    def probe(rest: str) -> Response:
        response = app.response_class(
            json.dumps(
                {
                    "rest": rest,
                    "args": request.args.to_dict(flat=False),
                    "cookies": request.cookies.to_dict(),
                    "accept": request.headers.get("Accept"),
                    "body": base64.b64encode(request.get_data()).decode(),
                }
            ),
            mimetype="application/json",
        )
        response.set_cookie("first", "1")
        response.set_cookie("second", "2")
        return response

    @app.route("/probe-binary")
    def binary() -> Response:
        return app.response_class(bytes(range(256)), mimetype="application/octet-stream")

    return app


@pytest.fixture
def probe() -> Any:
    handler = make_handler(_probe_app())
    return lambda event: handler(event, FakeLambdaContext())


def test_v2_non_ascii_path(probe: Any) -> None:
    for raw_path in ("/probe/café/日本", "/probe/caf%C3%A9/%E6%97%A5%E6%9C%AC"):
        response = probe(http_api_v2("GET", raw_path))
        assert response["statusCode"] == 200, raw_path
        assert json_body(response)["rest"] == "café/日本"


def test_v1_non_ascii_path(probe: Any) -> None:
    response = probe(rest_v1("GET", "/probe/café"))
    assert response["statusCode"] == 200
    assert json_body(response)["rest"] == "café"


def test_v2_cookies_in_and_out(probe: Any) -> None:
    response = probe(http_api_v2("GET", "/probe/x", cookies=["a=1", "b=2"]))
    assert json_body(response)["cookies"] == {"a": "1", "b": "2"}
    assert sorted(response["cookies"]) == ["first=1; Path=/", "second=2; Path=/"]


def test_v1_multi_value_headers_query_and_cookies(probe: Any) -> None:
    event = rest_v1(
        "GET",
        "/probe/x",
        query={"tag": ["a", "b"], "q": ["x y&z"]},
        headers={"Accept": ["application/json", "text/plain"], "Cookie": ["a=1; b=2"]},
    )
    response = probe(event)
    body = json_body(response)
    assert body["args"] == {"tag": ["a", "b"], "q": ["x y&z"]}
    assert body["accept"] == "application/json,text/plain"
    assert body["cookies"] == {"a": "1", "b": "2"}
    assert sorted(response["multiValueHeaders"]["Set-Cookie"]) == ["first=1; Path=/", "second=2; Path=/"]


def test_alb_multi_value_query(probe: Any) -> None:
    response = probe(alb("GET", "/probe/x", query={"tag": ["a", "b"], "q": ["x y"]}))
    assert json_body(response)["args"] == {"tag": ["a", "b"], "q": ["x y"]}


def test_binary_request_and_response_bodies(probe: Any) -> None:
    payload = bytes(range(256))
    response = probe(http_api_v2("POST", "/probe/x", body=payload, binary=True))
    assert base64.b64decode(json_body(response)["body"]) == payload
    out = probe(http_api_v2("GET", "/probe-binary"))
    assert out["isBase64Encoded"] is True
    assert base64.b64decode(out["body"]) == payload
