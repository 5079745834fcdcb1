"""Questions and answers in one DynamoDB table (single-table design).

==========  ==================  =========================  ====================
item        PK                  SK                         GSI1PK / GSI1SK
==========  ==================  =========================  ====================
question    ``Q#<id>``          ``QUESTION``               ``QUESTIONS`` /
                                                           ``<created_at>#<id>``
answer      ``Q#<id>``          ``A#<created_at>#<id>``    (not indexed)
==========  ==================  =========================  ====================

* One Query on ``PK`` reads a question with all its answers, in order.
* Listing newest first is a Query on the ``ByCreatedAt`` index (GSI1), never a
  Scan; ``LastEvaluatedKey`` is the position of the next page.
* Posting an answer is one transaction: put the answer, add 1 to the question's
  ``answer_count`` on the condition that the question exists and is not being
  deleted. Transactions on one question that run at the same time may cancel
  each other (``TransactionConflict``): they are tried again.
* Deleting a question takes three steps, because no transaction holds a whole
  partition. It first marks the question ``deleting`` and takes it out of the
  index: from then on it reads as missing, is not listed, and no answer can be
  added to it. Then it deletes every answer, read with a consistent Query: all
  that were posted before the mark. Then the question. Interrupted anywhere,
  it leaves a question that reads as missing, and deleting it again finishes
  the work.

Every question shares the GSI1 partition ``QUESTIONS``: enough for the
thousands of writes a second one index partition takes. Beyond that, shard
the partition key (``QUESTIONS#<n>``) and merge pages.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from . import (
    Answer,
    InvalidPositionError,
    Position,
    Question,
    QuestionNotFoundError,
    QuestionPage,
    is_id,
    new_id,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

INDEX_BY_CREATED_AT = "ByCreatedAt"
QUESTIONS_PARTITION = "QUESTIONS"
QUESTION_SK = "QUESTION"
# Set on a question whose deletion has begun.
DELETING = "deleting"
POSITION_KEYS = frozenset({"PK", "SK", "GSI1PK", "GSI1SK"})
BATCH_WRITE_LIMIT = 25  # items per BatchWriteItem call
MAX_BATCH_ATTEMPTS = 6
# Writes to one question that a concurrent transaction cancelled are tried again this
# often, after a random pause of up to this many seconds, doubled at each attempt.
MAX_CONFLICT_ATTEMPTS = 5
CONFLICT_BACKOFF_SECONDS = 0.02
# Fail fast inside a Lambda's time budget instead of botocore's 60 s defaults.
CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})


def _now() -> datetime:
    return datetime.now(UTC)


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _question_key(question_id: str) -> dict[str, Any]:
    return {"PK": _s(f"Q#{question_id}"), "SK": _s(QUESTION_SK)}


class DynamoDBQuestionRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self.client = client
        self.table = table_name

    @classmethod
    def connect(cls, table_name: str) -> DynamoDBQuestionRepository:
        return cls(boto3.client("dynamodb", config=CLIENT_CONFIG), table_name)

    def disconnect(self) -> None:
        self.client.close()  # its HTTP connection pools; the client opens new ones when next called

    def add_question(self, text: str) -> Question:
        question = Question(id=new_id(), text=text, created_at=_now())
        created = question.created_at.isoformat()
        self.client.put_item(
            TableName=self.table,
            Item={
                "PK": _s(f"Q#{question.id}"),
                "SK": _s(QUESTION_SK),
                "GSI1PK": _s(QUESTIONS_PARTITION),
                "GSI1SK": _s(f"{created}#{question.id}"),
                "id": _s(question.id),
                "text": _s(text),
                "created_at": _s(created),
                "answer_count": {"N": "0"},
            },
            ConditionExpression="attribute_not_exists(PK)",
        )
        return question

    def list_questions(self, limit: int, after: Position | None) -> QuestionPage:
        params: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": INDEX_BY_CREATED_AT,
            "KeyConditionExpression": "GSI1PK = :partition",
            "ExpressionAttributeValues": {":partition": _s(QUESTIONS_PARTITION)},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if after is not None:
            params["ExclusiveStartKey"] = _start_key(after)
        result = self.client.query(**params)
        items = [_question(item) for item in result.get("Items", [])]
        last = result.get("LastEvaluatedKey")
        next_position = {name: value["S"] for name, value in last.items()} if last else None
        return QuestionPage(items=items, next_position=next_position)

    def get_question(self, question_id: str) -> Question:
        if not is_id(question_id):
            raise QuestionNotFoundError(question_id)
        items = self._partition(question_id)
        questions = [item for item in items if item["SK"]["S"] == QUESTION_SK and DELETING not in item]
        if not questions:
            raise QuestionNotFoundError(question_id)
        answers = [_answer(item) for item in items if item["SK"]["S"] != QUESTION_SK]
        question = _question(questions[0])
        return Question(
            id=question.id,
            text=question.text,
            created_at=question.created_at,
            answer_count=question.answer_count,
            answers=answers,
        )

    def add_answer(self, question_id: str, text: str) -> Answer:
        if not is_id(question_id):
            raise QuestionNotFoundError(question_id)
        answer = Answer(id=new_id(), question_id=question_id, text=text, created_at=_now())
        created = answer.created_at.isoformat()
        key = _question_key(question_id)
        transaction: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {
                        "PK": key["PK"],
                        "SK": _s(f"A#{created}#{answer.id}"),
                        "id": _s(answer.id),
                        "question_id": _s(question_id),
                        "text": _s(text),
                        "created_at": _s(created),
                    },
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {
                "Update": {
                    "TableName": self.table,
                    "Key": key,
                    "UpdateExpression": "ADD answer_count :one",
                    "ConditionExpression": f"attribute_exists(PK) AND attribute_not_exists({DELETING})",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]
        try:
            _retry_conflicts(lambda: self.client.transact_write_items(TransactItems=transaction))
        except ClientError as exc:
            if _cancelled_by_condition(exc, item=1):
                raise QuestionNotFoundError(question_id) from exc
            raise
        return answer

    def delete_question(self, question_id: str) -> None:
        if not is_id(question_id):
            raise QuestionNotFoundError(question_id)
        key = _question_key(question_id)
        # 1. The mark: no answer can be added from now on, and the question
        # leaves the index (its keys go) and reads as missing. A question marked
        # by an interrupted delete is marked again, and the rest finishes it.
        try:
            _retry_conflicts(
                lambda: self.client.update_item(
                    TableName=self.table,
                    Key=key,
                    UpdateExpression=f"SET {DELETING} = :true REMOVE GSI1PK, GSI1SK",
                    ConditionExpression="attribute_exists(PK)",
                    ExpressionAttributeValues={":true": {"BOOL": True}},
                )
            )
        except ClientError as exc:
            if _condition_failed(exc):
                raise QuestionNotFoundError(question_id) from exc
            raise
        # 2. The answers: consistently read, so every answer posted before the mark is seen.
        keys = self._partition(question_id, ProjectionExpression="PK, SK", ConsistentRead=True)
        answers = [item for item in keys if item["SK"]["S"] != QUESTION_SK]
        for start in range(0, len(answers), BATCH_WRITE_LIMIT):
            self._delete_batch(answers[start : start + BATCH_WRITE_LIMIT])
        # 3. The question. Of deletes running at once, the one that removes it succeeds.
        try:
            _retry_conflicts(
                lambda: self.client.delete_item(
                    TableName=self.table, Key=key, ConditionExpression="attribute_exists(PK)"
                )
            )
        except ClientError as exc:
            if _condition_failed(exc):
                raise QuestionNotFoundError(question_id) from exc
            raise

    def _partition(self, question_id: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of the question's partition, in key order: the answers, then the question."""
        pages = self.client.get_paginator("query").paginate(
            TableName=self.table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": _s(f"Q#{question_id}")},
            **params,
        )
        return [item for page in pages for item in page.get("Items", [])]

    def _delete_batch(self, keys: list[dict[str, Any]]) -> None:
        requests: Sequence[Any] = [{"DeleteRequest": {"Key": key}} for key in keys]
        for attempt in range(MAX_BATCH_ATTEMPTS):
            result = self.client.batch_write_item(RequestItems={self.table: requests})
            requests = result.get("UnprocessedItems", {}).get(self.table, [])
            if not requests:
                return
            time.sleep(0.05 * 2**attempt)  # throttled: back off before retrying the rest
        raise RuntimeError(f"{len(requests)} deletes still unprocessed after {MAX_BATCH_ATTEMPTS} attempts")


def _question(item: dict[str, Any]) -> Question:
    return Question(
        id=item["id"]["S"],
        text=item["text"]["S"],
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
        answer_count=int(item["answer_count"]["N"]),
    )


def _answer(item: dict[str, Any]) -> Answer:
    return Answer(
        id=item["id"]["S"],
        question_id=item["question_id"]["S"],
        text=item["text"]["S"],
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
    )


def _start_key(position: Position) -> dict[str, Any]:
    """The ``ExclusiveStartKey`` of a position ``list_questions`` made; InvalidPositionError otherwise."""
    if set(position) != POSITION_KEYS or not all(isinstance(value, str) for value in position.values()):
        raise InvalidPositionError
    created, _, question_id = position["GSI1SK"].rpartition("#")
    try:
        aware = datetime.fromisoformat(created).tzinfo is not None
    except ValueError:
        aware = False
    if not (
        aware
        and is_id(question_id)
        and position["PK"] == f"Q#{question_id}"
        and position["SK"] == QUESTION_SK
        and position["GSI1PK"] == QUESTIONS_PARTITION
    ):
        raise InvalidPositionError
    return {name: _s(value) for name, value in position.items()}


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _cancellation_reasons(exc: ClientError) -> list[str]:
    if _error_code(exc) != "TransactionCanceledException":
        return []
    return [str(reason.get("Code", "None")) for reason in exc.response.get("CancellationReasons", [])]


def _cancelled_by_condition(exc: ClientError, item: int) -> bool:
    """Whether the transaction's ``item``-th action failed its condition."""
    reasons = _cancellation_reasons(exc)
    return len(reasons) > item and reasons[item] == "ConditionalCheckFailed"


def _condition_failed(exc: ClientError) -> bool:
    return _error_code(exc) == "ConditionalCheckFailedException"


def _conflicted(exc: ClientError) -> bool:
    """A write cancelled by another transaction on the same item, at the same time: worth trying again.

    A transaction reports it as a cancellation reason, a single write as its error code.
    """
    return _error_code(exc) == "TransactionConflictException" or "TransactionConflict" in (
        _cancellation_reasons(exc)
    )


def _retry_conflicts[Result](write: Callable[[], Result]) -> Result:
    """``write()``, tried again after a conflict, with a jittered exponential backoff.

    botocore retries throttling and transient errors, not these: a cancelled
    transaction wrote nothing, so trying it again is safe.
    """
    for attempt in range(1, MAX_CONFLICT_ATTEMPTS + 1):
        try:
            return write()
        except ClientError as exc:
            if attempt == MAX_CONFLICT_ATTEMPTS or not _conflicted(exc):
                raise
        pause = random.uniform(0, CONFLICT_BACKOFF_SECONDS * 2**attempt)  # noqa: S311 -- jitter, no secret
        time.sleep(pause)
    raise AssertionError("unreachable")
