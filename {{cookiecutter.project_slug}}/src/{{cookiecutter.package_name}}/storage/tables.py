"""The SQL store's tables, as SQLAlchemy Core metadata.

Core tables rather than ORM classes: the repository hands out the dataclasses
of ``storage``, so mapped classes would only add import time to the cold
start. The migrations in ``storage/migrations`` create and change the schema;
``tests/test_migrations.py`` checks that these definitions match them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, MetaData, Table, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from .dialect import ID, TIMESTAMP

QUESTIONS_NEWEST_FIRST = "ix_questions_created_at_id"

# Constraint and index names the migrations can refer to.
metadata = MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    }
)


class UtcTimestamp(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored in UTC to the microsecond, read back in UTC.

    The same values round-trip on every database: those without an offset in
    their column type (SQLite for ``make dev``) keep the UTC wall-clock time.
    """

    impl = TIMESTAMP
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"{value!r} has no time zone; the store keeps aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


questions = Table(
    "questions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("text", Text, nullable=False),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("answer_count", Integer, nullable=False),
    # Newest first, page after page: a backward range scan of this index from
    # the last row seen (keyset pagination) reads one page, whatever the table's size.
    Index(QUESTIONS_NEWEST_FIRST, "created_at", "id"),
)

answers = Table(
    "answers",
    metadata,
    Column("id", ID, primary_key=True),
    Column("question_id", ID, ForeignKey(questions.c.id), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UtcTimestamp, nullable=False),
    # A question's answers in order, read in one range scan.
    Index(None, "question_id", "created_at", "id"),
)
