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
  ``answer_count`` on the condition that the question exists.

Every question shares the GSI1 partition ``QUESTIONS``: enough for the
thousands of writes a second one index partition takes. Beyond that, shard
the partition key (``QUESTIONS#<n>``) and merge pages.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from . import Answer, Position, Question, QuestionNotFoundError, QuestionPage

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

INDEX_BY_CREATED_AT = "ByCreatedAt"
QUESTIONS_PARTITION = "QUESTIONS"
QUESTION_SK = "QUESTION"
BATCH_WRITE_LIMIT = 25  # items per BatchWriteItem call
MAX_BATCH_ATTEMPTS = 6
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

    def add_question(self, text: str) -> Question:
        question = Question(id=str(uuid.uuid4()), text=text, created_at=_now())
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
        if after:
            params["ExclusiveStartKey"] = {name: _s(str(value)) for name, value in after.items()}
        result = self.client.query(**params)
        items = [_question(item) for item in result.get("Items", [])]
        last = result.get("LastEvaluatedKey")
        next_position = {name: value["S"] for name, value in last.items()} if last else None
        return QuestionPage(items=items, next_position=next_position)

    def get_question(self, question_id: str) -> Question:
        items = self._partition(question_id)
        questions = [item for item in items if item["SK"]["S"] == QUESTION_SK]
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
        answer = Answer(id=str(uuid.uuid4()), question_id=question_id, text=text, created_at=_now())
        created = answer.created_at.isoformat()
        key = _question_key(question_id)
        try:
            self.client.transact_write_items(
                TransactItems=[
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
                            "ConditionExpression": "attribute_exists(PK)",
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    },
                ]
            )
        except ClientError as exc:
            if _question_missing(exc):
                raise QuestionNotFoundError(question_id) from exc
            raise
        return answer

    def delete_question(self, question_id: str) -> None:
        keys = self._partition(question_id, ProjectionExpression="PK, SK")
        if not any(key["SK"]["S"] == QUESTION_SK for key in keys):
            raise QuestionNotFoundError(question_id)
        # Answers first, the question last: an interrupted delete leaves a
        # question with fewer answers, never answers without their question.
        answers = [key for key in keys if key["SK"]["S"] != QUESTION_SK]
        for start in range(0, len(answers), BATCH_WRITE_LIMIT):
            self._delete_batch(answers[start : start + BATCH_WRITE_LIMIT])
        self._delete_batch([_question_key(question_id)])

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


def _question_missing(exc: ClientError) -> bool:
    # The Update (second item) failed its attribute_exists condition.
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return False
    reasons = exc.response.get("CancellationReasons", [])
    return len(reasons) > 1 and reasons[1].get("Code") == "ConditionalCheckFailed"
