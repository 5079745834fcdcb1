"""The configured store: the DynamoDB table named by ``TABLE_NAME``."""

from __future__ import annotations

import os

from . import QuestionRepository
from .dynamodb import DynamoDBQuestionRepository


def make_repository() -> QuestionRepository:
    table_name = os.environ.get("TABLE_NAME")
    if not table_name:
        raise RuntimeError("TABLE_NAME is not set: it names the DynamoDB table of this stage")
    return DynamoDBQuestionRepository.connect(table_name)
