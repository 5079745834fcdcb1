"""The app behind Zappa's Lambda handler (as packed by ``make build``), with API Gateway and ALB events.

Zappa deploys an HTTP API (payload 2.0) with a named stage: the stage arrives
as a prefix of ``rawPath``, which Zappa moves to ``SCRIPT_NAME``, so routes
match and links keep it. REST (1.0) and ALB events work too.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, request

from {{ cookiecutter.package_name }}.app import create_app

from .conftest import Invoke
from .events import FakeLambdaContext, alb, http_api_v2, json_body, rest_v1
from .zappa_handler import SETTINGS_STAGE, make_handler

EVENTS = Path(__file__).resolve().parent.parent / "events"


def header(response: dict[str, Any], name: str) -> str | None:
    """A response header, whatever its case (Zappa keeps the app's)."""
    found = [value for key, value in response.get("headers", {}).items() if key.lower() == name.lower()]
    return found[0] if found else None


def test_v2_named_stage_ask_list_and_read(invoke: Invoke) -> None:
    created = invoke(http_api_v2("POST", "/dev/questions", body={"text": "Through Zappa?"}, stage="dev"))
    assert created["statusCode"] == 201
    question = json_body(created)
    assert header(created, "Location") == f"/dev/questions/{question['id']}"

    listed = invoke(http_api_v2("GET", "/dev/questions", query="limit=5", stage="dev"))
    assert listed["statusCode"] == 200
    assert [item["id"] for item in json_body(listed)["items"]] == [question["id"]]

    read = invoke(http_api_v2("GET", f"/dev/questions/{question['id']}", stage="dev"))
    assert read["statusCode"] == 200
    assert json_body(read)["text"] == "Through Zappa?"


def test_v2_default_stage_and_custom_domain(invoke: Invoke) -> None:
    assert invoke(http_api_v2("GET", "/health"))["statusCode"] == 200
    # Custom domains map the stage away: the path is the app's own.
    response = invoke(http_api_v2("GET", "/health", stage="dev", domain="api.example.com"))
    assert response["statusCode"] == 200


def test_v1_ask_and_read_with_the_stage_in_links(invoke: Invoke) -> None:
    ask = rest_v1("POST", "/questions", body={"text": "Through a REST API?"}, stage=SETTINGS_STAGE)
    created = invoke(ask)
    assert created["statusCode"] == 201
    question_id = json_body(created)["id"]
    assert created["multiValueHeaders"]["Location"] == [f"/{SETTINGS_STAGE}/questions/{question_id}"]
    read = invoke(rest_v1("GET", f"/questions/{question_id}", stage=SETTINGS_STAGE))
    assert json_body(read)["id"] == question_id


def test_alb_ask_and_list(invoke: Invoke) -> None:
    created = invoke(alb("POST", "/questions", body={"text": "Behind a load balancer?"}))
    assert created["statusCode"] == 201
    listed = invoke(alb("GET", "/questions", query={"limit": ["5"]}))
    assert listed["statusCode"] == 200
    assert len(json_body(listed)["items"]) == 1


def test_errors_are_json_through_the_handler(invoke: Invoke) -> None:
    invalid = invoke(http_api_v2("POST", "/questions", body={"text": " "}))
    assert invalid["statusCode"] == 400
    assert header(invalid, "Content-Type") == "application/json"
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


def test_no_response_sets_a_cookie(invoke: Invoke) -> None:
    """Zappa's handler doubles every Set-Cookie header; the app sets none, so it is not affected.

    Its WSGI middleware appends a lower-cased copy of each Set-Cookie header
    and keeps the original: two of each in HTTP API's ``cookies``, four in
    REST's ``multiValueHeaders`` (test_zappa_doubles_set_cookie_headers).
    Should the app ever set cookies (a Flask session), this test fails first:
    work around the doubling then.
    """
    created = json_body(invoke(http_api_v2("POST", "/questions", body={"text": "Any cookie?"})))
    events = [
        http_api_v2("GET", "/health"),
        http_api_v2("GET", "/questions"),
        http_api_v2("GET", f"/questions/{created['id']}"),
        http_api_v2("POST", f"/questions/{created['id']}/answers", body={"text": "None."}),
        http_api_v2("DELETE", f"/questions/{created['id']}"),
        http_api_v2("GET", "/openapi.json"),
        http_api_v2("GET", "/no/such/route"),
        rest_v1("GET", "/questions"),
    ]
    for event in events:
        response = invoke(event)
        headers = {**response.get("headers", {}), **response.get("multiValueHeaders", {})}
        assert not response.get("cookies"), response
        assert not [name for name in headers if name.lower() == "set-cookie"], response


# --- what Zappa's handler does with what an app sends ---------------------------------------------


def _probe_app() -> Flask:
    """The real app plus a route that echoes what the WSGI layer delivered, and sets two cookies."""
    app = create_app()

    @app.route("/probe/<path:rest>", methods=["GET", "POST"])
    def probe(rest: str) -> Response:
        response = app.response_class(
            json.dumps(
                {
                    "rest": rest,
                    "args": request.args.to_dict(flat=False),
                    "cookies": request.cookies.to_dict(),
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
def probe(stage: str) -> Any:
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


def test_zappa_doubles_set_cookie_headers(probe: Any) -> None:
    """Why test_no_response_sets_a_cookie matters: two cookies set, each sent twice."""
    v2 = probe(http_api_v2("GET", "/probe/x", cookies=["a=1", "b=2"]))
    assert json_body(v2)["cookies"] == {"a": "1", "b": "2"}
    assert sorted(v2["cookies"]) == 2 * ["first=1; Path=/"] + 2 * ["second=2; Path=/"]
    v1 = probe(rest_v1("GET", "/probe/x"))
    assert sorted(v1["multiValueHeaders"]["Set-Cookie"]) == sorted(v1["multiValueHeaders"]["set-cookie"])
    assert len(v1["multiValueHeaders"]["Set-Cookie"]) == 4


def test_multi_value_query(probe: Any) -> None:
    response = probe(rest_v1("GET", "/probe/x", query={"tag": ["a", "b"], "q": ["x y&z"]}))
    assert json_body(response)["args"] == {"tag": ["a", "b"], "q": ["x y&z"]}
    response = probe(http_api_v2("GET", "/probe/x", query="tag=a&tag=b&q=x%20y%26z"))
    assert json_body(response)["args"] == {"tag": ["a", "b"], "q": ["x y&z"]}


def test_binary_request_and_response_bodies(probe: Any) -> None:
    payload = bytes(range(256))
    response = probe(http_api_v2("POST", "/probe/x", body=payload, binary=True))
    assert base64.b64decode(json_body(response)["body"]) == payload
    out = probe(http_api_v2("GET", "/probe-binary"))
    assert out["isBase64Encoded"] is True
    assert base64.b64decode(out["body"]) == payload
