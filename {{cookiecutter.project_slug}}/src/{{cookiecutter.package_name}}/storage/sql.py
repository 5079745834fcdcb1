"""Questions and answers in a SQL database (SQLAlchemy Core; tables in ``tables.py``).

* Listing newest first is keyset pagination on the index ``(created_at, id)``:
  a page starts after the position ``(created_at, id)`` of the last row of the
  page before, so every page reads about ``limit`` rows whatever the size of
  the table (no ``OFFSET``, which reads and discards every row before the page).
  The query names that index (``dialect.through_index``) where the engine's
  planner could otherwise choose to scan and sort the table.
* Posting an answer is one transaction: a single ``UPDATE`` raises the
  question's ``answer_count`` (and locks its row until commit), then the answer
  is inserted. When the question does not exist the update matches no row and
  nothing is written.
* A question is read with its answers in one statement, so the count and the
  answers come from the same snapshot.
* Deleting a question locks its row first: an answer being posted either
  committed before (and is deleted with it) or waits and finds no question.
  The foreign key from answers to questions makes an orphan impossible anyway.
* Ids are compared byte for byte on every engine (``dialect.ID``), and a
  string that is not an id is never sent (``is_id``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.engine import Engine, Row

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
from .dialect import through_index
from .tables import QUESTIONS_NEWEST_FIRST, answers, questions


def _now() -> datetime:
    return datetime.now(UTC)


class SqlQuestionRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def disconnect(self) -> None:
        self.engine.dispose()  # the pool's connections; the engine opens new ones when next used

    def add_question(self, text: str) -> Question:
        question = Question(id=new_id(), text=text, created_at=_now())
        with self.engine.begin() as connection:
            connection.execute(
                insert(questions).values(
                    id=question.id, text=text, created_at=question.created_at, answer_count=0
                )
            )
        return question

    def list_questions(self, limit: int, after: Position | None) -> QuestionPage:
        query = (
            through_index(select(questions), questions, QUESTIONS_NEWEST_FIRST)
            .order_by(questions.c.created_at.desc(), questions.c.id.desc())
            # One row more than the page tells whether another page follows.
            .limit(limit + 1)
        )
        if after is not None:
            created_at, last_id = _after(after)
            # Rows before (created_at, id) in the listing's order. Written as a range
            # on created_at plus a tie-break on id, which every engine's planner turns
            # into one index range scan (not all of them do for a row comparison).
            query = query.where(
                questions.c.created_at <= created_at,
                or_(questions.c.created_at < created_at, questions.c.id < last_id),
            )
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        items = [_question(row) for row in rows[:limit]]
        next_position = _position(items[-1]) if len(rows) > limit else None
        return QuestionPage(items=items, next_position=next_position)

    def get_question(self, question_id: str) -> Question:
        if not is_id(question_id):
            raise QuestionNotFoundError(question_id)
        query = (
            select(
                questions,
                answers.c.id.label("answer_id"),
                answers.c.text.label("answer_text"),
                answers.c.created_at.label("answer_created_at"),
            )
            .outerjoin(answers, answers.c.question_id == questions.c.id)
            .where(questions.c.id == question_id)
            .order_by(answers.c.created_at, answers.c.id)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        if not rows:
            raise QuestionNotFoundError(question_id)
        question = _question(rows[0])
        return Question(
            id=question.id,
            text=question.text,
            created_at=question.created_at,
            answer_count=question.answer_count,
            answers=[
                Answer(
                    id=row.answer_id,
                    question_id=question.id,
                    text=row.answer_text,
                    created_at=row.answer_created_at,
                )
                for row in rows
                if row.answer_id is not None
            ],
        )

    def add_answer(self, question_id: str, text: str) -> Answer:
        if not is_id(question_id):
            raise QuestionNotFoundError(question_id)
        answer = Answer(id=new_id(), question_id=question_id, text=text, created_at=_now())
        with self.engine.begin() as connection:
            raised = connection.execute(
                update(questions)
                .where(questions.c.id == question_id)
                .values(answer_count=questions.c.answer_count + 1)
            )
            if raised.rowcount != 1:
                raise QuestionNotFoundError(question_id)  # leaving the block rolls back
            connection.execute(
                insert(answers).values(
                    id=answer.id, question_id=question_id, text=text, created_at=answer.created_at
                )
            )
        return answer

    def delete_question(self, question_id: str) -> None:
        if not is_id(question_id):
            raise QuestionNotFoundError(question_id)
        with self.engine.begin() as connection:
            # Lock the question first: an answer posted meanwhile waits, then finds it gone.
            locked = connection.execute(
                select(questions.c.id).where(questions.c.id == question_id).with_for_update()
            ).first()
            if locked is None:
                raise QuestionNotFoundError(question_id)
            connection.execute(delete(answers).where(answers.c.question_id == question_id))
            connection.execute(delete(questions).where(questions.c.id == question_id))


def _question(row: Row[Any]) -> Question:
    return Question(id=row.id, text=row.text, created_at=row.created_at, answer_count=row.answer_count)


def _position(question: Question) -> Position:
    return {"created_at": question.created_at.isoformat(), "id": question.id}


def _after(position: Position) -> tuple[datetime, str]:
    """The ``(created_at, id)`` a position of ``_position`` holds; InvalidPositionError for anything else."""
    if set(position) != {"created_at", "id"} or not is_id(position["id"]):
        raise InvalidPositionError
    created_at = position["created_at"]
    try:
        parsed = datetime.fromisoformat(created_at) if isinstance(created_at, str) else None
        # In UTC, as stored: a time without an offset, or beyond the range once in UTC, is no position.
        in_utc = parsed.astimezone(UTC) if parsed is not None and parsed.tzinfo is not None else None
    except (ValueError, OverflowError):
        in_utc = None
    if in_utc is None:
        raise InvalidPositionError
    return in_utc, position["id"]
