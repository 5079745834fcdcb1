"""The storage interface the API is written against, and its data types.

A repository stores questions and their answers. Listing is newest first
and paginated by an opaque ``position`` that the repository hands out and
takes back; the API signs it before it leaves the service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

Position = dict[str, Any]


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

    def list_questions(self, limit: int, after: Position | None) -> QuestionPage: ...

    def get_question(self, question_id: str) -> Question:
        """The question with its answers, oldest answer first."""
        ...

    def add_answer(self, question_id: str, text: str) -> Answer:
        """Store the answer and raise the question's answer count by one, atomically."""
        ...

    def delete_question(self, question_id: str) -> None:
        """Delete the question and all of its answers."""
        ...
