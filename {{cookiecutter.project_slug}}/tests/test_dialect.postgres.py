"""PostgreSQL specifics: libpq's TLS options, refused logins, and the list query's plan."""

from __future__ import annotations

from functools import partial
from typing import Any

import psycopg
import pytest
from sqlalchemy.exc import OperationalError

from {{ cookiecutter.package_name }}.storage.database import EngineSettings, make_engine
from {{ cookiecutter.package_name }}.storage.dialect import credentials_rejected, tls_connect_args
from {{ cookiecutter.package_name }}.storage.factory import container_engine
from {{ cookiecutter.package_name }}.storage.sql import SqlQuestionRepository

from .test_sql import last_statement


def test_tls_options() -> None:
    assert tls_connect_args("require", None) == {"sslmode": "require"}
    assert tls_connect_args("verify-full", "/ca.pem") == {"sslmode": "verify-full", "sslrootcert": "/ca.pem"}


def test_refused_logins_are_told_from_other_failures() -> None:
    refused = 'FATAL:  password authentication failed for user "a"'
    assert credentials_rejected(psycopg.OperationalError(refused))
    assert credentials_rejected(psycopg.OperationalError('FATAL:  role "a" does not exist'))
    assert not credentials_rejected(psycopg.OperationalError("connection timeout expired"))


def test_every_page_is_one_backward_index_scan_of_about_a_page(stage: str) -> None:
    repository = SqlQuestionRepository(container_engine())
    for n in range(120):
        repository.add_question(f"question {n}")
    second = repository.list_questions(limit=10, after=None).next_position
    raw = container_engine().raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("ANALYZE questions")
        for after in (None, second):
            statement, parameters = last_statement(repository, partial(repository.list_questions, 10, after))
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters)
            row = cursor.fetchone()
            assert row is not None
            scans = index_scans(row[0][0]["Plan"])
            assert [(scan["Node Type"], scan["Index Name"]) for scan in scans] == [
                ("Index Scan", "ix_questions_created_at_id")
            ], (after, scans)
            assert scans[0]["Scan Direction"] == "Backward"
            # The page, the row that says another page follows, and the ties at the position.
            assert scans[0]["Actual Rows"] + scans[0].get("Rows Removed by Filter", 0) <= 12, (after, scans)
    finally:
        raw.close()


def index_scans(plan: dict[str, Any]) -> list[dict[str, Any]]:
    scans, pending = [], [plan]
    while pending:
        node = pending.pop()
        pending.extend(node.get("Plans", []))
        if "Scan" in node["Node Type"]:
            scans.append(node)
    return scans


@pytest.mark.parametrize("mode", ["require", "verify-full"])
def test_tls_is_demanded_never_merely_tried(stage: str, mode: str) -> None:
    """With TLS asked for, the driver never goes on in plain text, whatever the test server offers."""
    engine = make_engine(EngineSettings(pool_size=1, tls=mode))
    refusal = ""
    try:
        with engine.connect() as connection:
            query = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
            encrypted = bool(connection.exec_driver_sql(query).scalar_one())
    except OperationalError as error:
        encrypted, refusal = False, str(error)
    finally:
        engine.dispose()
    # Refused (a server without TLS, or for verify-full a certificate the system does not
    # trust), or connected encrypted: never in plain text.
    assert encrypted or "SSL" in refusal or "certificate" in refusal, refusal or "connected in plain text"
