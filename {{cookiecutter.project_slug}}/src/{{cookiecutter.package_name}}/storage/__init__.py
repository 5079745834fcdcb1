"""The storage interface the API is written against, and its data types.

A repository stores questions and their answers. Listing is newest first
and paginated by a ``position`` that the repository hands out and takes
back; the API signs it before it leaves the service, and the repository
checks any it is given (``InvalidPositionError``).

Ids are UUIDs in their canonical text form, lower case, made by the
repository; every store compares them byte for byte, and an id of any
other form names no question.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

Position = dict[str, Any]

ID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_ID = re.compile(ID_PATTERN)


def new_id() -> str:
    return str(uuid.uuid4())


def is_id(value: object) -> bool:
    """Whether ``value`` has the one form ids are made in (so the stores are asked only about those)."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


class InvalidPositionError(ValueError):
    """A position this repository did not hand out: from elsewhere, or from an older version."""

    def __init__(self) -> None:
        super().__init__("not a position of this store")


class QuestionNotFoundError(LookupError):
    def __init__(self, question_id: str) -> None:
        super().__init__(f"question {question_id} does not exist")
        self.question_id = question_id


@dataclass(frozen=True)
class Answer:
    id: str
    question_id: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    created_at: datetime
    answer_count: int = 0
    answers: list[Answer] = field(default_factory=list)


@dataclass(frozen=True)
class QuestionPage:
    items: list[Question]
    next_position: Position | None


class QuestionRepository(Protocol):
    def add_question(self, text: str) -> Question: ...

    def list_questions(self, limit: int, after: Position | None) -> QuestionPage:
        """A page of ``limit`` questions, newest first, after ``after`` (a page's ``next_position``).

        Raises InvalidPositionError for a position of any other shape.
        """
        ...

    def get_question(self, question_id: str) -> Question:
        """The question with its answers, oldest answer first."""
        ...

    def add_answer(self, question_id: str, text: str) -> Answer:
        """Store the answer and raise the question's answer count by one, atomically."""
        ...

    def delete_question(self, question_id: str) -> None:
        """Delete the question and all of its answers, those being posted meanwhile included."""
        ...

    def disconnect(self) -> None:
        """Close every open connection to the store; the next call opens a new one."""
        ...
