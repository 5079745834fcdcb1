"""No request gets a 500: what the API refuses, how, and what it keeps exactly, the same on every store.

Each test sends its requests through the Flask client and through the Lambda
handler with REST (payload 1.0) and HTTP API (payload 2.0) events, and runs on
each store the project runs on (``local_store.TEST_STORES``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask

from dev import local_store

from {{ cookiecutter.package_name }}.api import MAX_JSON_DEPTH
from {{ cookiecutter.package_name }}.api.cursor import encode_cursor
from {{ cookiecutter.package_name }}.api.schemas import MAX_QUESTION_LENGTH
from {{ cookiecutter.package_name }}.storage import QuestionRepository

from .conftest import Invoke
from .events import http_api_v2, json_body, rest_v1

TRANSPORTS = ("flask", "rest-v1", "http-v2")


@dataclass(frozen=True)
class Answered:
    status: int
    headers: dict[str, str]  # names in lower case
    body: Any  # the JSON document; every response is one


class Client:
    """One API, reached one way: ``transport`` of TRANSPORTS."""

    def __init__(self, transport: str, app: Flask, invoke: Invoke) -> None:
        self.transport = transport
        self.flask = app.test_client()
        self.invoke = invoke

    def send(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> Answered:
        """``body``: bytes as they are, anything else as JSON; ``path`` percent-encoded, as sent."""
        raw = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        if self.transport == "flask":
            response = self.flask.open(
                path, method=method, data=raw, query_string=query, content_type="application/json"
            )
            headers = {name.lower(): value for name, value in response.headers.items()}
            return Answered(response.status_code, headers, json.loads(response.get_data()))
        if self.transport == "rest-v1":
            multi = {name: [value] for name, value in (query or {}).items()}
            event = rest_v1(method, path, body=raw, query=multi or None)
        else:
            event = http_api_v2(method, path, body=raw, query=urlencode(query or {}, quote_via=quote))
        result = self.invoke(event)
        headers = {name.lower(): value for name, value in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name.lower()] = ", ".join(values)
        return Answered(result["statusCode"], headers, json_body(result))

    def ask(self, text: str = "What is in a name?") -> dict[str, Any]:
        answered = self.send("POST", "/questions", {"text": text})
        assert answered.status == 201, answered
        question: dict[str, Any] = answered.body
        return question


@pytest.fixture(params=local_store.TEST_STORES)
def store(
    request: pytest.FixtureRequest, stage: str, tmp_path: Path
) -> Iterator[Callable[[], QuestionRepository] | None]:
    """Each store in turn: conftest's ``store`` is the stage's own only."""
    with local_store.store_for(request.param, tmp_path) as repository:
        yield repository


@pytest.fixture
def apis(app: Flask, invoke: Invoke) -> list[Client]:
    """The API through each of TRANSPORTS, on one store."""
    return [Client(transport, app, invoke) for transport in TRANSPORTS]


def assert_json_error(answered: Answered, status: int) -> Any:
    assert answered.status == status, answered
    assert answered.headers["content-type"] == "application/json", answered
    assert answered.body["code"] == status, answered
    return answered.body


# --- bodies nested deeper than any request needs ------------------------------------------------


def test_deep_nesting_is_refused_before_parsing(apis: list[Client]) -> None:
    for api in apis:
        for opening, closing in (("[", "]"), ('{"a":', "}")):
            body = (opening * 10_000 + closing * 10_000).encode()  # 20 KB of arrays
            error = assert_json_error(api.send("POST", "/questions", body), 400)
            refused = {"json": [f"Nested deeper than {MAX_JSON_DEPTH} levels."]}
            assert error["errors"] == refused, api.transport


def test_nesting_up_to_the_limit_is_parsed_and_brackets_in_strings_do_not_count(apis: list[Client]) -> None:
    nested = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    for api in apis:
        error = assert_json_error(api.send("POST", "/questions", ('{"text": ' + nested + "}").encode()), 400)
        assert error["errors"] == {"json": {"text": ["Not a valid string."]}}
        assert api.ask("[" * 100 + '"{' * 50)["text"] == "[" * 100 + '"{' * 50


# --- text: what is refused, what every store keeps ----------------------------------------------

REFUSED = {
    "\\u0000": "U+0000",  # NUL: some databases cannot store it
    "\\ud800": "U+D800",  # a lone high surrogate: there is no UTF-8 for it
    "\\udfff": "U+DFFF",  # a lone low surrogate
    "\\udc00\\ud800": "U+DC00",  # a pair in the wrong order
    "\\u001b": "U+001B",  # ESC, as in terminal escape sequences
    "\\u007f": "U+007F",
    "\\u0085": "U+0085",
}
KEPT = [
    "an emoji 😀, a surrogate pair in JSON",
    "a noncharacter \ufffe and the last code point \U0010ffff",
    "tab\tline feed\ncarriage return\r inside",
    "日本語 العربية עברית",
    "\u200b zero-width, not white space",
    "x" * MAX_QUESTION_LENGTH,
    "😀" * MAX_QUESTION_LENGTH,  # lengths are in code points, as JSON Schema counts them
]


def test_text_with_a_character_no_store_should_keep_is_a_400_naming_the_field(apis: list[Client]) -> None:
    for api in apis:
        question_id = api.ask()["id"]
        for path in ("/questions", f"/questions/{question_id}/answers"):
            for escaped, code_point in REFUSED.items():
                body = ('{"text": "before ' + escaped + ' after"}').encode()
                error = assert_json_error(api.send("POST", path, body), 400)
                (message,) = error["errors"]["json"]["text"]
                assert message.startswith(f"Must not contain {code_point}"), (api.transport, path, message)


def test_text_of_any_character_allowed_reads_back_exactly(apis: list[Client]) -> None:
    for api in apis:
        for text in KEPT:
            question = api.ask(text)
            assert question["text"] == text
            answered = api.send("POST", f"/questions/{question['id']}/answers", {"text": text})
            assert (answered.status, answered.body["text"]) == (201, text), api.transport
            read = api.send("GET", f"/questions/{question['id']}")
            assert read.status == 200
            assert (read.body["text"], read.body["answers"][0]["text"]) == (text, text), api.transport


def test_blank_text_is_a_400(apis: list[Client]) -> None:
    for api in apis:
        for text in ("", " ", "\t\n\r", "\u3000\u00a0\u2028"):
            error = assert_json_error(api.send("POST", "/questions", {"text": text}), 400)
            assert "Must not be blank." in error["errors"]["json"]["text"], (api.transport, text)


def test_length_is_measured_as_sent_then_white_space_is_stripped(apis: list[Client]) -> None:
    for api in apis:
        padded = " " + "x" * MAX_QUESTION_LENGTH
        error = assert_json_error(api.send("POST", "/questions", {"text": padded}), 400)
        assert error["errors"]["json"]["text"] == [f"Length must be between 1 and {MAX_QUESTION_LENGTH}."]
        stripped = "x" * (MAX_QUESTION_LENGTH - 2)
        assert api.ask("\u3000" + stripped + "\n")["text"] == stripped


# --- ids match byte for byte --------------------------------------------------------------------


def test_an_id_matches_only_as_it_was_made(apis: list[Client]) -> None:
    for api in apis:
        question_id = api.ask()["id"]
        for variant in (question_id.upper(), question_id + "%20", "%20" + question_id, "a%00b", "%00"):
            for method, path in [
                ("GET", f"/questions/{variant}"),
                ("POST", f"/questions/{variant}/answers"),
                ("DELETE", f"/questions/{variant}"),
            ]:
                body = {"text": "Through another spelling?"} if method == "POST" else None
                error = assert_json_error(api.send(method, path, body), 404)
                assert error == {"code": 404, "status": "Not Found"}, (api.transport, method, path)
        read = api.send("GET", f"/questions/{question_id}")
        assert (read.status, read.body["answer_count"], read.body["answers"]) == (200, 0, [])
        unknown = str(uuid.uuid4())
        assert_json_error(api.send("GET", f"/questions/{unknown}"), 404)
        assert_json_error(api.send("POST", f"/questions/{unknown}/answers", {"text": "Anyone?"}), 404)


# --- cursors ------------------------------------------------------------------------------------

WELL_SIGNED_NONSENSE: list[Any] = [
    {},
    {"a": 1},
    {"created_at": "x", "id": 1},
    {"created_at": "2026-01-01T00:00:00+00:00", "id": None},
    {"created_at": "2026-01-01T00:00:00", "id": "00000000-0000-4000-8000-000000000000"},
    {"PK": {"S": "Q#x"}},
    {"PK": "Q#x", "SK": "QUESTION"},
    [],
    "a string",
]


def test_a_cursor_the_api_did_not_make_is_a_400(apis: list[Client]) -> None:
    signed = [encode_cursor(position) for position in WELL_SIGNED_NONSENSE]
    for api in apis:
        api.ask()
        for cursor in [*signed, "", "no-dot", "a.b.c", "\x00", "é.é"]:
            error = assert_json_error(api.send("GET", "/questions", query={"cursor": cursor}), 400)
            assert error["errors"] == {"query": {"cursor": ["Invalid cursor."]}}, (api.transport, cursor)


def test_a_cursor_the_api_made_reads_on(apis: list[Client]) -> None:
    for api in apis:
        asked = [api.ask(f"question {n}")["id"] for n in range(3)]
        first = api.send("GET", "/questions", query={"limit": "2"})
        second = api.send("GET", "/questions", query={"limit": "2", "cursor": first.body["next_cursor"]})
        listed = [item["id"] for item in first.body["items"] + second.body["items"]]
        assert listed[:3] == asked[::-1], api.transport


# --- methods ------------------------------------------------------------------------------------


def test_a_method_a_route_does_not_take_is_a_405_saying_which_it_takes(apis: list[Client]) -> None:
    question_path = f"/questions/{uuid.uuid4()}"
    for api in apis:
        for method, path, allowed in [
            ("PUT", "/questions", {"GET", "HEAD", "OPTIONS", "POST"}),
            ("DELETE", "/health", {"GET", "HEAD", "OPTIONS"}),
            ("PATCH", question_path, {"GET", "HEAD", "OPTIONS", "DELETE"}),
            ("GET", f"{question_path}/answers", {"OPTIONS", "POST"}),
        ]:
            answered = api.send(method, path)
            assert_json_error(answered, 405)
            assert set(answered.headers["allow"].split(", ")) == allowed, (api.transport, method, path)
