"""What only the DynamoDB store promises: Query not Scan, pages that cost O(page), atomic answers."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest

from {{ cookiecutter.package_name }}.storage import QuestionNotFoundError
from {{ cookiecutter.package_name }}.storage.dynamodb import DynamoDBQuestionRepository


class RecordingClient:
    """Wraps the boto3 client and records each operation with its response."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)

        def call(*args: Any, **params: Any) -> Any:
            result = method(*args, **params)
            self.calls.append((name, params, result))
            return result

        return call


@pytest.fixture
def recorded(stage: str) -> tuple[DynamoDBQuestionRepository, RecordingClient]:
    client = RecordingClient(boto3.client("dynamodb"))
    return DynamoDBQuestionRepository(client, os.environ["TABLE_NAME"]), client  # type: ignore[arg-type]


def test_listing_queries_the_index_and_reads_one_page(
    recorded: tuple[DynamoDBQuestionRepository, RecordingClient],
) -> None:
    repository, client = recorded
    for n in range(30):
        repository.add_question(f"question {n}")
    client.calls.clear()

    page = repository.list_questions(limit=5, after=None)
    assert [question.text for question in page.items] == [f"question {n}" for n in range(29, 24, -1)]
    second = repository.list_questions(limit=5, after=page.next_position)
    assert [question.text for question in second.items] == [f"question {n}" for n in range(24, 19, -1)]

    assert [name for name, _, _ in client.calls] == ["query", "query"]
    for _, params, result in client.calls:
        assert params["IndexName"] == "ByCreatedAt"
        assert result["ScannedCount"] == 5  # items read: the page, not the table


def test_answer_and_count_are_one_transaction(
    recorded: tuple[DynamoDBQuestionRepository, RecordingClient],
) -> None:
    repository, client = recorded
    question = repository.add_question("atomic?")
    client.calls.clear()
    repository.add_answer(question.id, "yes")
    assert [name for name, _, _ in client.calls] == ["transact_write_items"]
    assert repository.get_question(question.id).answer_count == 1


def test_answer_to_missing_question_writes_nothing(
    recorded: tuple[DynamoDBQuestionRepository, RecordingClient],
) -> None:
    repository, _ = recorded
    with pytest.raises(QuestionNotFoundError):
        repository.add_answer("missing", "orphan?")
    items = boto3.client("dynamodb").query(
        TableName=repository.table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "Q#missing"}},
    )["Items"]
    assert items == []


def test_question_with_many_answers_is_read_and_deleted_whole(
    recorded: tuple[DynamoDBQuestionRepository, RecordingClient],
) -> None:
    repository, _ = recorded
    question = repository.add_question("popular")
    for n in range(60):
        repository.add_answer(question.id, f"answer {n:02}")
    read = repository.get_question(question.id)
    assert read.answer_count == 60
    assert [answer.text for answer in read.answers] == [f"answer {n:02}" for n in range(60)]
    repository.delete_question(question.id)
    with pytest.raises(QuestionNotFoundError):
        repository.get_question(question.id)
