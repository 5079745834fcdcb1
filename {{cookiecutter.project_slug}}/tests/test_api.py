"""The HTTP API's behaviour, whatever the store behind it."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dev.local_secrets import ADMIN_TOKEN

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.storage import QuestionRepository

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def ask(client: FlaskClient, text: str = "What is a cold start?") -> dict[str, Any]:
    response = client.post("/questions", json={"text": text})
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def answer(client: FlaskClient, question_id: str, text: str = "The first invocation of a container.") -> Any:
    return client.post(f"/questions/{question_id}/answers", json={"text": text})


def test_health(client: FlaskClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_openapi_document_describes_every_route(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) >= {
        "/health",
        "/questions",
        "/questions/{question_id}",
        "/questions/{question_id}/answers",
    }
    assert set(spec["paths"]["/questions"]) >= {"get", "post"}


def test_ask_question(client: FlaskClient) -> None:
    response = client.post("/questions", json={"text": "  How do I deploy?  "})
    assert response.status_code == 201
    question = response.get_json()
    assert question["text"] == "How do I deploy?"
    assert question["answer_count"] == 0
    assert question["id"]
    assert question["created_at"]
    assert response.headers["Location"].endswith(f"/questions/{question['id']}")


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({}, "text", "Missing data for required field."),
        ({"text": "   "}, "text", "Must not be blank."),
        ({"text": 42}, "text", "Not a valid string."),
        ({"text": "x" * 2001}, "text", "Length must be between 1 and 2000."),
        ({"text": "ok", "extra": 1}, "extra", "Unknown field."),
    ],
)
def test_invalid_question_is_400_with_field_message(
    client: FlaskClient, payload: dict[str, Any], field: str, message: str
) -> None:
    response = client.post("/questions", json=payload)
    assert response.status_code == 400
    assert response.get_json()["errors"]["json"][field] == [message]


def test_malformed_json_is_400(client: FlaskClient) -> None:
    response = client.post("/questions", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.is_json


def test_oversized_body_is_413(client: FlaskClient) -> None:
    response = client.post("/questions", json={"text": "x" * 70_000})
    assert response.status_code == 413
    assert response.get_json()["code"] == 413


def test_unknown_route_is_json_404(client: FlaskClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.get_json()["code"] == 404


def test_wrong_method_is_json_405_with_the_allowed_ones(client: FlaskClient) -> None:
    response = client.put("/questions", json={"text": "x"})
    assert response.status_code == 405
    assert response.get_json()["code"] == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}


def test_list_is_newest_first_and_paginated(client: FlaskClient) -> None:
    asked = [ask(client, f"question {n}")["id"] for n in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = client.get("/questions", query_string=query)
        assert response.status_code == 200
        page = response.get_json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        pages += 1
        if cursor is None:
            break
    assert seen == list(reversed(asked))
    assert pages in (3, 4)  # a store may only learn it reached the end on an empty page


def test_list_default_page_size(client: FlaskClient) -> None:
    for n in range(3):
        ask(client, f"question {n}")
    page = client.get("/questions").get_json()
    assert len(page["items"]) == 3
    assert page["next_cursor"] is None


@pytest.mark.parametrize("limit", ["0", "101", "many"])
def test_invalid_limit_is_400(client: FlaskClient, limit: str) -> None:
    response = client.get("/questions", query_string={"limit": limit})
    assert response.status_code == 400
    assert "limit" in response.get_json()["errors"]["query"]


def test_forged_cursor_is_400(client: FlaskClient) -> None:
    for n in range(3):
        ask(client, f"question {n}")
    cursor = client.get("/questions", query_string={"limit": 1}).get_json()["next_cursor"]
    forged = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    response = client.get("/questions", query_string={"cursor": forged})
    assert response.status_code == 400
    assert response.get_json()["errors"]["query"]["cursor"] == ["Invalid cursor."]


def test_read_question_with_answers_oldest_first(client: FlaskClient) -> None:
    question = ask(client)
    for text in ("first", "second", "third"):
        assert answer(client, question["id"], text).status_code == 201
    response = client.get(f"/questions/{question['id']}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["answer_count"] == 3
    assert [item["text"] for item in body["answers"]] == ["first", "second", "third"]
    assert {item["question_id"] for item in body["answers"]} == {question["id"]}


def test_answer_raises_count_by_exactly_one(client: FlaskClient) -> None:
    question = ask(client)
    response = answer(client, question["id"])
    assert response.status_code == 201
    assert response.get_json()["text"] == "The first invocation of a container."
    assert client.get(f"/questions/{question['id']}").get_json()["answer_count"] == 1
    listed = client.get("/questions").get_json()["items"]
    assert [item["answer_count"] for item in listed if item["id"] == question["id"]] == [1]


def test_answers_posted_concurrently_are_all_counted(app: Flask) -> None:
    client = app.test_client()
    question = ask(client)
    app.extensions["repository"]()  # build the store client once, before the threads share it

    def post(n: int) -> int:
        return int(answer(app.test_client(), question["id"], f"answer {n}").status_code)

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(post, range(50)))
    assert statuses == [201] * 50
    body = client.get(f"/questions/{question['id']}").get_json()
    assert body["answer_count"] == 50
    assert len(body["answers"]) == 50


def test_invalid_answer_is_400(client: FlaskClient) -> None:
    question = ask(client)
    response = client.post(f"/questions/{question['id']}/answers", json={"text": ""})
    assert response.status_code == 400
    assert "text" in response.get_json()["errors"]["json"]


def test_unknown_question_is_404(client: FlaskClient) -> None:
    unknown = str(uuid.uuid4())
    response = client.get(f"/questions/{unknown}")
    assert response.status_code == 404
    assert response.get_json()["message"] == f"question {unknown} does not exist"


def test_what_is_not_an_id_is_no_route(client: FlaskClient) -> None:
    response = client.get("/questions/does-not-exist")
    assert response.status_code == 404
    assert response.get_json() == {"code": 404, "status": "Not Found"}


def test_answering_unknown_question_is_404_and_stores_nothing(client: FlaskClient) -> None:
    unknown = str(uuid.uuid4())
    response = answer(client, unknown)
    assert response.status_code == 404
    assert client.get(f"/questions/{unknown}").status_code == 404


def test_delete_needs_the_admin_token(client: FlaskClient) -> None:
    question = ask(client)
    missing = client.delete(f"/questions/{question['id']}")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    wrong = client.delete(f"/questions/{question['id']}", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    assert client.get(f"/questions/{question['id']}").status_code == 200


def test_delete_removes_question_and_answers(client: FlaskClient) -> None:
    question = ask(client)
    other = ask(client, "another question")
    for n in range(3):
        answer(client, question["id"], f"answer {n}")
    response = client.delete(f"/questions/{question['id']}", headers=ADMIN)
    assert response.status_code == 204
    assert client.get(f"/questions/{question['id']}").status_code == 404
    assert answer(client, question["id"]).status_code == 404
    assert [item["id"] for item in client.get("/questions").get_json()["items"]] == [other["id"]]
    assert client.delete(f"/questions/{question['id']}", headers=ADMIN).status_code == 404


class BrokenRepository:
    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("secret internal detail")


def broken() -> QuestionRepository:
    repository: QuestionRepository = BrokenRepository()
    return repository


def test_unexpected_error_is_500_without_internals(stage: str, capsys: pytest.CaptureFixture[str]) -> None:
    response = create_app(repository=broken).test_client().get("/questions")
    assert response.status_code == 500
    assert response.get_json() == {
        "code": 500,
        "status": "Internal Server Error",
        "message": "Internal server error.",
    }
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert "secret internal detail" in capsys.readouterr().out  # logged, with its trace


def test_the_error_log_holds_no_text_the_client_sent(stage: str, capsys: pytest.CaptureFixture[str]) -> None:
    client = create_app(repository=broken).test_client()
    response = client.post("/questions?limit=7", json={"text": "my private question"})
    assert response.status_code == 500
    logged = capsys.readouterr().out
    assert '"level": "ERROR"' in logged
    assert '"path": "/questions"' in logged  # where it failed, for the operator
    assert "my private question" not in logged
    assert "limit=7" not in logged
