"""What only the SQL store promises: keyset pages, one-statement answers, exact UTC timestamps,
ids compared byte for byte, deletes that leave no answer behind, errors that quote no user's text.

The API and handler tests run against this store as well;
these look at the SQL it sends, on the test server and on SQLite (``make dev``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import QueuePool

from dev.local_store import SQLITE, TEST_STORES, store_for

from {{ cookiecutter.package_name }}.storage import (
    InvalidPositionError,
    QuestionNotFoundError,
    new_id,
)
from {{ cookiecutter.package_name }}.storage.database import EngineSettings, make_engine
from {{ cookiecutter.package_name }}.storage.factory import container_engine
from {{ cookiecutter.package_name }}.storage.sql import SqlQuestionRepository
from {{ cookiecutter.package_name }}.storage.tables import answers, questions

from .races import delete_while_answering

# Deletes raced against answers, per store (the foreign key forbids orphans besides): a few dozen writes each.
RACE_TRIALS = 5


class Statements(list[str]):
    """The SQL an engine sends (upper case, one line each) and its commits, while the block runs."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self.commits = 0

    def _statement(self, connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.append(" ".join(statement.split()).upper())

    def _commit(self, connection: Any) -> None:
        self.commits += 1

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)


def last_statement(repository: SqlQuestionRepository, call: Callable[[], object]) -> tuple[str, Any]:
    """The last statement ``call`` sent through the repository's engine, with its parameters."""
    sent: list[tuple[str, Any]] = []

    def record(connection: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        sent.append((statement, parameters))

    event.listen(repository.engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(repository.engine, "before_cursor_execute", record)
    return sent[-1]


@pytest.fixture
def repository(stage: str) -> SqlQuestionRepository:
    return SqlQuestionRepository(container_engine())


@pytest.fixture
def sqlite_repository(stage: str, tmp_path: Path) -> Iterator[SqlQuestionRepository]:
    """The store on a migrated SQLite file, as `make dev` runs it without a server."""
    with store_for(SQLITE, tmp_path) as make:
        assert make is not None
        repository = make()
        assert isinstance(repository, SqlQuestionRepository)
        yield repository


@pytest.fixture(params=TEST_STORES)
def each_store(request: pytest.FixtureRequest, stage: str, tmp_path: Path) -> Iterator[SqlQuestionRepository]:
    """The store on the test server, then on SQLite as `make dev` runs it."""
    with store_for(request.param, tmp_path) as make:
        repository = make() if make is not None else SqlQuestionRepository(container_engine())
        assert isinstance(repository, SqlQuestionRepository)
        yield repository


def test_pages_start_after_the_last_row_and_never_skip_rows(repository: SqlQuestionRepository) -> None:
    for n in range(7):
        repository.add_question(f"question {n}")
    with Statements(repository.engine) as sent:
        first = repository.list_questions(limit=3, after=None)
        second = repository.list_questions(limit=3, after=first.next_position)
        last = repository.list_questions(limit=3, after=second.next_position)
    listed = [question.text for question in first.items + second.items + last.items]
    assert listed == [f"question {n}" for n in range(6, -1, -1)]
    assert last.next_position is None
    end_of_first = first.items[-1]
    assert first.next_position == {"created_at": end_of_first.created_at.isoformat(), "id": end_of_first.id}
    selects = [sql for sql in sent if sql.startswith("SELECT")]
    assert len(selects) == 3, sent
    assert all("OFFSET" not in sql and "LIMIT" in sql for sql in selects), selects
    assert all("ORDER BY QUESTIONS.CREATED_AT DESC, QUESTIONS.ID DESC" in sql for sql in selects), selects
    assert "WHERE" not in selects[0], selects
    assert "QUESTIONS.CREATED_AT <=" in selects[1], selects


def test_questions_asked_in_the_same_microsecond_keep_their_order(repository: SqlQuestionRepository) -> None:
    same = repository.add_question("first").created_at
    with repository.engine.begin() as connection:
        for n in range(4):
            connection.execute(
                questions.insert().values(id=new_id(), text=f"tie {n}", created_at=same, answer_count=0)
            )
    seen: list[str] = []
    position = None
    while True:
        page = repository.list_questions(limit=2, after=position)
        seen += [question.id for question in page.items]
        position = page.next_position
        if position is None:
            break
    assert len(seen) == len(set(seen)) == 5


def test_answer_is_one_update_and_one_insert_in_one_transaction(repository: SqlQuestionRepository) -> None:
    question = repository.add_question("atomic?")
    with Statements(repository.engine) as sent:
        repository.add_answer(question.id, "yes")
    assert [sql.split()[0] for sql in sent] == ["UPDATE", "INSERT"], sent
    # The count is raised by the database, under the row's lock, not read and written back.
    assert "SET ANSWER_COUNT=(QUESTIONS.ANSWER_COUNT +" in sent[0], sent
    assert sent.commits == 1
    assert repository.get_question(question.id).answer_count == 1


def test_answer_to_a_missing_question_writes_nothing(repository: SqlQuestionRepository) -> None:
    with pytest.raises(QuestionNotFoundError):
        repository.add_answer("missing", "orphan?")
    with repository.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(answers)).scalar_one() == 0


def test_timestamps_round_trip_exactly_in_utc(repository: SqlQuestionRepository) -> None:
    question = repository.add_question("when?")
    answer = repository.add_answer(question.id, "now")
    read = repository.get_question(question.id)
    assert read.created_at == question.created_at
    assert read.created_at.microsecond == question.created_at.microsecond
    assert read.created_at.utcoffset() == timedelta(0)
    assert read.answers[0].created_at == answer.created_at
    assert read.created_at.tzinfo is UTC


def test_naive_timestamps_are_refused(repository: SqlQuestionRepository) -> None:
    naive = repository.add_question("aware?").created_at.replace(tzinfo=None)
    with pytest.raises(Exception, match="no time zone"), repository.engine.begin() as connection:
        connection.execute(
            questions.insert().values(id=new_id(), text="naive", created_at=naive, answer_count=0)
        )


def test_question_with_many_answers_is_read_and_deleted_whole(repository: SqlQuestionRepository) -> None:
    question = repository.add_question("popular")
    for n in range(60):
        repository.add_answer(question.id, f"answer {n:02}")
    read = repository.get_question(question.id)
    assert read.answer_count == 60
    assert [answer.text for answer in read.answers] == [f"answer {n:02}" for n in range(60)]
    repository.delete_question(question.id)
    with pytest.raises(QuestionNotFoundError):
        repository.get_question(question.id)
    with pytest.raises(QuestionNotFoundError):
        repository.delete_question(question.id)


def test_the_same_store_works_on_sqlite(sqlite_repository: SqlQuestionRepository) -> None:
    asked = [sqlite_repository.add_question(f"question {n}") for n in range(3)]
    answer = sqlite_repository.add_answer(asked[0].id, "on SQLite")
    page = sqlite_repository.list_questions(limit=2, after=None)
    assert [q.id for q in page.items] == [asked[2].id, asked[1].id]
    rest = sqlite_repository.list_questions(limit=2, after=page.next_position)
    assert [q.id for q in rest.items] == [asked[0].id]
    read = sqlite_repository.get_question(asked[0].id)
    assert read.answer_count == 1
    assert read.created_at == asked[0].created_at
    assert read.answers[0].created_at == answer.created_at
    with pytest.raises(QuestionNotFoundError):
        sqlite_repository.add_answer("missing", "orphan?")
    sqlite_repository.delete_question(asked[0].id)
    with pytest.raises(QuestionNotFoundError):
        sqlite_repository.get_question(asked[0].id)


def test_ids_compare_byte_for_byte_in_the_database(each_store: SqlQuestionRepository) -> None:
    """Not only through the repository: a case- or space-insensitive collation would match the first three."""
    question = each_store.add_question("exact?")
    with each_store.engine.connect() as connection:
        for variant in (question.id.upper(), question.id + " ", question.id + "  ", " " + question.id):
            found = connection.execute(select(questions.c.id).where(questions.c.id == variant)).first()
            assert found is None, repr(variant)
        found_id = connection.execute(
            select(questions.c.id).where(questions.c.id == question.id)
        ).scalar_one()
    assert found_id == question.id
    for variant in (question.id.upper(), question.id + " ", "a\x00b"):
        with pytest.raises(QuestionNotFoundError):
            each_store.get_question(variant)
        with pytest.raises(QuestionNotFoundError):
            each_store.add_answer(variant, "to which question?")
        with pytest.raises(QuestionNotFoundError):
            each_store.delete_question(variant)
    assert each_store.get_question(question.id).answer_count == 0


def test_ids_sort_byte_for_byte(each_store: SqlQuestionRepository) -> None:
    """Questions asked in the same microsecond are listed by id, in the same order on every store."""
    same = each_store.add_question("first").created_at
    ids = sorted(new_id() for _ in range(6))
    with each_store.engine.begin() as connection:
        for question_id in ids:
            connection.execute(
                questions.insert().values(id=question_id, text="tie", created_at=same, answer_count=0)
            )
    listed = [question.id for question in each_store.list_questions(limit=10, after=None).items]
    assert [question_id for question_id in listed if question_id in ids] == sorted(ids, reverse=True)


@pytest.mark.parametrize(
    "position",
    [
        {},
        {"id": new_id()},
        {"created_at": "2026-01-01T00:00:00+00:00", "id": "not an id"},
        {"created_at": "2026-01-01T00:00:00+00:00", "id": 7},
        {"created_at": "2026-01-01T00:00:00", "id": new_id()},  # no offset
        {"created_at": "yesterday", "id": new_id()},
        {"created_at": "0001-01-01T00:00:00+01:00", "id": new_id()},  # before year 1 in UTC
        {"created_at": None, "id": new_id()},
        {"created_at": "2026-01-01T00:00:00+00:00", "id": new_id(), "more": 1},
        {"PK": "Q#x", "SK": "QUESTION"},
    ],
)
def test_positions_it_did_not_hand_out_are_refused(each_store: SqlQuestionRepository, position: Any) -> None:
    with pytest.raises(InvalidPositionError):
        each_store.list_questions(limit=5, after=position)


def test_deleting_while_answers_are_posted_leaves_no_answer_behind(each_store: SqlQuestionRepository) -> None:
    posted = 0
    for trial in range(RACE_TRIALS):
        question = each_store.add_question(f"trial {trial}")
        posted += delete_while_answering(each_store, question.id)
        with pytest.raises(QuestionNotFoundError):
            each_store.get_question(question.id)
    assert posted >= RACE_TRIALS  # the deletes did race with answers
    with each_store.engine.connect() as connection:
        left = connection.execute(select(func.count()).select_from(answers)).scalar_one()
        orphans = connection.execute(
            select(func.count())
            .select_from(answers.outerjoin(questions, answers.c.question_id == questions.c.id))
            .where(questions.c.id.is_(None))
        ).scalar_one()
    assert (left, orphans) == (0, 0)


def test_an_answer_cannot_outlive_its_question(each_store: SqlQuestionRepository) -> None:
    """The foreign key holds on every store, SQLite (where it is off by default) included."""
    with pytest.raises(IntegrityError), each_store.engine.begin() as connection:
        connection.execute(
            insert(answers).values(
                id=new_id(), question_id=new_id(), text="orphan?", created_at=datetime.now(UTC)
            )
        )


def test_a_failed_statement_does_not_quote_the_users_text(each_store: SqlQuestionRepository) -> None:
    question = each_store.add_question("asked once")
    with pytest.raises(IntegrityError) as failure, each_store.engine.begin() as connection:
        connection.execute(
            insert(questions).values(
                id=question.id, text="my private words", created_at=question.created_at, answer_count=0
            )
        )
    assert "my private words" not in str(failure.value)


def test_disconnect_closes_every_connection_and_the_next_call_opens_one(stage: str) -> None:
    repository = SqlQuestionRepository(make_engine(EngineSettings.from_env()))  # a pool of its own

    def idle_connections() -> int:
        pool = repository.engine.pool  # disposing replaces it
        assert isinstance(pool, QueuePool)
        return pool.checkedin()

    try:
        repository.add_question("Is a connection kept between calls?")
        assert idle_connections() == 1
        repository.disconnect()
        assert idle_connections() == 0
        assert len(repository.list_questions(limit=5, after=None).items) == 1
        assert idle_connections() == 1
    finally:
        repository.disconnect()
