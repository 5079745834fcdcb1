"""MySQL specifics: PyMySQL's TLS context, refused logins, and the rows the list query reads."""

from __future__ import annotations

import ssl
from functools import partial

import pymysql
import pytest
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.exc import OperationalError

from {{ cookiecutter.package_name }}.storage.database import EngineSettings, make_engine
from {{ cookiecutter.package_name }}.storage.dialect import credentials_rejected, tls_connect_args
from {{ cookiecutter.package_name }}.storage.factory import container_engine
from {{ cookiecutter.package_name }}.storage.sql import SqlQuestionRepository

from .test_sql import last_statement

# The handler counters that count rows read (from an index or the table).
ROWS_READ = (
    "Handler_read_first",
    "Handler_read_key",
    "Handler_read_last",
    "Handler_read_next",
    "Handler_read_prev",
    "Handler_read_rnd",
    "Handler_read_rnd_next",
)


def test_tls_contexts() -> None:
    required = tls_connect_args("require", None)["ssl"]
    assert (required.verify_mode, required.check_hostname) == (ssl.CERT_NONE, False)
    verified = tls_connect_args("verify-full", None)["ssl"]
    assert (verified.verify_mode, verified.check_hostname) == (ssl.CERT_REQUIRED, True)


def test_refused_logins_are_told_from_other_failures() -> None:
    assert credentials_rejected(pymysql.err.OperationalError(1045, "Access denied for user 'a'@'h'"))
    assert credentials_rejected(pymysql.err.OperationalError(1698, "Access denied for user 'a'@'h'"))
    assert not credentials_rejected(pymysql.err.OperationalError(2003, "Can't connect to MySQL server"))


def rows_read(cursor: DBAPICursor) -> int:
    cursor.execute("SHOW SESSION STATUS LIKE 'Handler_read%'")
    return sum(int(value) for name, value in cursor.fetchall() if name in ROWS_READ)


def test_every_page_reads_about_a_page_of_rows(stage: str) -> None:
    repository = SqlQuestionRepository(container_engine())
    for n in range(120):
        repository.add_question(f"question {n}")
    second = repository.list_questions(limit=10, after=None).next_position
    raw = container_engine().raw_connection()
    try:
        cursor = raw.cursor()
        baseline = -rows_read(cursor) + rows_read(cursor)  # what asking for the counters reads
        for after in (None, second):
            statement, parameters = last_statement(repository, partial(repository.list_questions, 10, after))
            before = rows_read(cursor)
            cursor.execute(statement, parameters)
            assert len(cursor.fetchall()) == 11
            read = rows_read(cursor) - before - baseline
            # The page, the row that says another page follows, and the ties at the position: not the table.
            assert read <= 13, (after, read)
    finally:
        raw.close()


@pytest.mark.parametrize("mode", ["require", "verify-full"])
def test_tls_is_demanded_never_merely_tried(stage: str, mode: str) -> None:
    """With TLS asked for, the driver never goes on in plain text, whatever the test server offers."""
    engine = make_engine(EngineSettings(pool_size=1, tls=mode))
    refusal = ""
    try:
        with engine.connect() as connection:
            encrypted = bool(connection.exec_driver_sql("SHOW SESSION STATUS LIKE 'Ssl_cipher'").one()[1])
    except OperationalError as error:
        encrypted, refusal = False, str(error)
    finally:
        engine.dispose()
    # Refused (a server without TLS, or for verify-full a certificate the system does not
    # trust), or connected encrypted: never in plain text.
    assert encrypted or "SSL" in refusal or "certificate" in refusal, refusal or "connected in plain text"
