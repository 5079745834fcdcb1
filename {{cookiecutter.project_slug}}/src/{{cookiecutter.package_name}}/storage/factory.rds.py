"""The configured store: the SQL database of ``DATABASE_URL`` (see ``database.py``)."""

from __future__ import annotations

from functools import cache

from sqlalchemy.engine import Engine

from . import QuestionRepository
from .database import EngineSettings, make_engine
from .sql import SqlQuestionRepository


@cache
def container_engine() -> Engine:
    """The process's one engine, made on first use: its pool outlives requests in a warm container."""
    return make_engine(EngineSettings.from_env())


def make_repository() -> QuestionRepository:
    return SqlQuestionRepository(container_engine())
