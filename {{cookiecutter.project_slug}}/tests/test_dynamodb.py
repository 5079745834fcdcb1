"""What only the DynamoDB store promises: Query not Scan, pages that cost O(page), atomic answers,
deletes that leave no answer behind (raced, or interrupted half-way), conflicts tried again.

The races run threads against the emulator, which serves one request at a
time, as DynamoDB's own consistency would have it (see dev/local_aws.py).
"""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from {{ cookiecutter.package_name }}.storage import (
    InvalidPositionError,
    QuestionNotFoundError,
    new_id,
)
from {{ cookiecutter.package_name }}.storage import dynamodb as store
from {{ cookiecutter.package_name }}.storage.dynamodb import DynamoDBQuestionRepository

from .races import delete_while_answering

RACE_TRIALS = 10


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


def partition(repository: DynamoDBQuestionRepository, question_id: str) -> list[dict[str, Any]]:
    """Every item under the question's key, read consistently: the question and its answers."""
    items: list[dict[str, Any]] = boto3.client("dynamodb").query(
        TableName=repository.table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"Q#{question_id}"}},
        ConsistentRead=True,
    )["Items"]
    return items


def test_deleting_while_answers_are_posted_leaves_no_answer_behind(
    recorded: tuple[DynamoDBQuestionRepository, RecordingClient],
) -> None:
    repository = DynamoDBQuestionRepository(boto3.client("dynamodb"), recorded[0].table)
    posted = 0
    left: dict[str, list[dict[str, Any]]] = {}
    for trial in range(RACE_TRIALS):
        question = repository.add_question(f"trial {trial}")
        posted += delete_while_answering(repository, question.id)
        left[question.id] = partition(repository, question.id)
    assert posted >= RACE_TRIALS  # the deletes did race with answers
    assert {question_id: items for question_id, items in left.items() if items} == {}


class Interrupted(Exception):
    """The function stopped here: a timeout, a crash."""


class InterruptedAt:
    """The boto3 client, until the first call of ``operation``, which raises instead."""

    def __init__(self, client: Any, operation: str) -> None:
        self.client = client
        self.operation = operation

    def __getattr__(self, name: str) -> Any:
        if name == self.operation:
            raise Interrupted(name)
        return getattr(self.client, name)


@pytest.mark.parametrize("operation", ["batch_write_item", "delete_item"])
def test_a_delete_interrupted_half_way_reads_as_done_and_is_finished_by_the_next(
    recorded: tuple[DynamoDBQuestionRepository, RecordingClient], operation: str
) -> None:
    repository, _ = recorded
    question = repository.add_question("going")
    other = repository.add_question("staying")
    for n in range(3):
        repository.add_answer(question.id, f"answer {n}")
    interrupted = DynamoDBQuestionRepository(
        InterruptedAt(boto3.client("dynamodb"), operation),  # type: ignore[arg-type]
        repository.table,
    )
    with pytest.raises(Interrupted):
        interrupted.delete_question(question.id)
    assert partition(repository, question.id), "the interruption left nothing to finish"

    # Meanwhile, readers see it gone, and nothing can be added to it.
    with pytest.raises(QuestionNotFoundError):
        repository.get_question(question.id)
    assert [listed.id for listed in repository.list_questions(limit=10, after=None).items] == [other.id]
    with pytest.raises(QuestionNotFoundError):
        repository.add_answer(question.id, "too late")

    repository.delete_question(question.id)
    assert partition(repository, question.id) == []
    with pytest.raises(QuestionNotFoundError):
        repository.delete_question(question.id)
    assert repository.get_question(other.id).text == "staying"


def test_of_two_deletes_of_one_question_one_succeeds(
    recorded: tuple[DynamoDBQuestionRepository, RecordingClient],
) -> None:
    repository, _ = recorded
    question = repository.add_question("twice?")
    repository.delete_question(question.id)
    with pytest.raises(QuestionNotFoundError):
        repository.delete_question(question.id)


def conflict(operation: str) -> ClientError:
    """What DynamoDB answers when another transaction holds the item at the same moment."""
    if operation == "transact_write_items":
        response: Any = {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
            "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}],
        }
    else:
        response = {"Error": {"Code": "TransactionConflictException", "Message": "conflict"}}
    return ClientError(response, operation)


class ConflictingAt:
    """The boto3 client, whose ``operation`` conflicts ``times`` times before going through."""

    def __init__(self, client: Any, operation: str, times: int) -> None:
        self.client = client
        self.operation = operation
        self.left = times

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)
        if name != self.operation:
            return method

        def call(**params: Any) -> Any:
            if self.left:
                self.left -= 1
                raise conflict(name)
            return method(**params)

        return call


@pytest.mark.parametrize("operation", ["transact_write_items", "update_item", "delete_item"])
def test_writes_a_concurrent_transaction_cancelled_are_tried_again(
    recorded: tuple[DynamoDBQuestionRepository, RecordingClient],
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
) -> None:
    monkeypatch.setattr(store, "CONFLICT_BACKOFF_SECONDS", 0)
    repository, _ = recorded
    question = repository.add_question("contended")
    conflicting = ConflictingAt(boto3.client("dynamodb"), operation, times=store.MAX_CONFLICT_ATTEMPTS - 1)
    contended = DynamoDBQuestionRepository(conflicting, repository.table)  # type: ignore[arg-type]
    contended.add_answer(question.id, "through")
    contended.delete_question(question.id)
    assert conflicting.left == 0
    assert partition(repository, question.id) == []


def test_a_conflict_that_lasts_is_an_error(
    recorded: tuple[DynamoDBQuestionRepository, RecordingClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "CONFLICT_BACKOFF_SECONDS", 0)
    repository, _ = recorded
    question = repository.add_question("contended")
    conflicting = ConflictingAt(boto3.client("dynamodb"), "transact_write_items", times=100)
    contended = DynamoDBQuestionRepository(conflicting, repository.table)  # type: ignore[arg-type]
    with pytest.raises(ClientError):
        contended.add_answer(question.id, "never")
    assert conflicting.left == 100 - store.MAX_CONFLICT_ATTEMPTS


def test_ids_are_matched_exactly(recorded: tuple[DynamoDBQuestionRepository, RecordingClient]) -> None:
    repository, client = recorded
    question = repository.add_question("exact?")
    client.calls.clear()
    for variant in (question.id.upper(), question.id + " ", "a\x00b"):
        with pytest.raises(QuestionNotFoundError):
            repository.get_question(variant)
        with pytest.raises(QuestionNotFoundError):
            repository.add_answer(variant, "to which question?")
        with pytest.raises(QuestionNotFoundError):
            repository.delete_question(variant)
    assert client.calls == []  # not an id: the table is not asked
    assert repository.get_question(question.id).answer_count == 0


@pytest.mark.parametrize(
    "position",
    [
        {},
        {"created_at": "2026-01-01T00:00:00+00:00", "id": new_id()},
        {"PK": "Q#x", "SK": "QUESTION", "GSI1PK": "QUESTIONS", "GSI1SK": "2026-01-01T00:00:00+00:00#x"},
        {"PK": 1, "SK": "QUESTION", "GSI1PK": "QUESTIONS", "GSI1SK": "x"},
        {"PK": "Q#a", "SK": "A#x", "GSI1PK": "QUESTIONS", "GSI1SK": "2026-01-01T00:00:00+00:00#a"},
    ],
)
def test_positions_it_did_not_hand_out_are_refused(
    recorded: tuple[DynamoDBQuestionRepository, RecordingClient], position: Any
) -> None:
    repository, client = recorded
    with pytest.raises(InvalidPositionError):
        repository.list_questions(limit=5, after=position)
    assert client.calls == []


def test_a_position_with_another_questions_id_is_refused(
    recorded: tuple[DynamoDBQuestionRepository, RecordingClient],
) -> None:
    repository, _ = recorded
    for n in range(3):
        repository.add_question(f"question {n}")
    position = repository.list_questions(limit=1, after=None).next_position
    assert position is not None
    assert repository.list_questions(limit=1, after=position).items
    with pytest.raises(InvalidPositionError):
        repository.list_questions(limit=1, after={**position, "PK": f"Q#{new_id()}"})


def open_connections(repository: DynamoDBQuestionRepository) -> int:
    # botocore's HTTP session: urllib3 pools, each a queue of idle connections (None: a free slot).
    pools = repository.client._endpoint.http_session._manager.pools  # type: ignore[attr-defined]
    keys = pools.keys()  # urllib3's container refuses iteration over itself
    return sum(1 for key in keys for connection in pools[key].pool.queue if connection is not None)


def test_disconnect_closes_every_connection_and_the_next_call_opens_one(stage: str) -> None:
    repository = DynamoDBQuestionRepository.connect(os.environ["TABLE_NAME"])
    repository.add_question("Is a connection kept between calls?")
    assert open_connections(repository) == 1
    repository.disconnect()
    assert open_connections(repository) == 0
    assert len(repository.list_questions(limit=5, after=None).items) == 1
    assert open_connections(repository) == 1
