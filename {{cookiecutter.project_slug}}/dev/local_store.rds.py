"""The local database: SQLite with nothing installed, or a real server.

* ``make dev``, ``make invoke``, ``make migrate``: the database of
  ``DATABASE_URL`` when it is set (a server of the engine the stack deploys;
  the database must exist), otherwise the SQLite file ``.local/dev.sqlite3``,
  which needs no server and keeps its data between runs. Migrated to the
  newest revision first, as ``make migrate`` would.
* Tests: a database of their own, created for the run on the server of
  ``TEST_DATABASE_ADMIN_URL`` (by default a local one), migrated, and dropped
  when the run ends. Each stage (each test) starts from empty tables. The
  tests of the API run on SQLite too (``TEST_STORES``, ``store_for``), as
  ``make dev`` runs it.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from {{ cookiecutter.package_name }}.storage import QuestionRepository
from {{ cookiecutter.package_name }}.storage.database import EngineSettings, make_engine
from {{ cookiecutter.package_name }}.storage.factory import container_engine
from {{ cookiecutter.package_name }}.storage.sql import SqlQuestionRepository
from {{ cookiecutter.package_name }}.storage.tables import metadata

from . import local_secrets
from .local_database import DEFAULT_ADMIN_URL, ENGINE_NAME, create_database, drop_database

PROJECT = Path(__file__).resolve().parent.parent
SQLITE_FILE = PROJECT / ".local" / "dev.sqlite3"
# Local runs serve requests on threads (and tests post answers from ten at
# once): more connections than Lambda's one.
LOCAL_POOL_SIZE = "10"
# The stores the API's tests run on: the test server, and SQLite as `make dev` runs it.
SQLITE = "SQLite"
TEST_STORES = (ENGINE_NAME, SQLITE)


class DatabaseUnavailableError(RuntimeError):
    """No database server to run the tests on."""


_url: str | None = None
_test_engine: Engine | None = None  # set while a test database exists
_migrated_sqlite: Path | None = None  # the first test store's, kept by pytest for the run


@contextmanager
def services(purpose: str) -> Iterator[None]:
    """The database of ``purpose`` (``dev`` or ``test``), migrated, for the block."""
    global _url, _test_engine
    if purpose == "test":
        with test_database() as url:
            migrate(url)
            _url, _test_engine = url, create_engine(url, poolclass=NullPool)
            try:
                yield
            finally:
                _test_engine.dispose()
                _url, _test_engine = None, None
                # The app's engine keeps connections to the database for the process's life.
                if container_engine.cache_info().currsize:
                    container_engine().dispose()
        return
    url = dev_database_url()
    migrate(url)
    print(f"Database: {make_url(url).render_as_string(hide_password=True)}", file=sys.stderr)
    _url = url
    try:
        yield
    finally:
        _url = None


def configure(stage: str) -> dict[str, str]:
    """The environment the app needs for this stage's database (emptied first in tests)."""
    if _url is None:
        raise RuntimeError("no local database: start it with dev.local.services()")
    if _test_engine is not None:
        with _test_engine.begin() as connection:
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())
    return {"DATABASE_POOL_SIZE": LOCAL_POOL_SIZE, **local_secrets.database_environment(_url)}


def dev_database_url() -> str:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return configured
    SQLITE_FILE.parent.mkdir(exist_ok=True)
    return f"sqlite:///{SQLITE_FILE}"


def migrate(url: str, revision: str = "head", *, downgrade: bool = False) -> None:
    """Migrate the database at ``url`` up (or down) to ``revision`` with the project's migrations."""
    config = Config(PROJECT / "alembic.ini")
    config.attributes["configure_logger"] = False  # keep this process's logging as it is
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            if downgrade:
                command.downgrade(config, revision)
            else:
                command.upgrade(config, revision)
    finally:
        engine.dispose()


@contextmanager
def test_database() -> Iterator[str]:
    """The URL of a new, empty database on the test server; dropped at the end of the block."""
    admin_url = make_url(os.environ.get("TEST_DATABASE_ADMIN_URL") or DEFAULT_ADMIN_URL)
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            create_database(connection, name)
    except OperationalError as error:
        example = make_url(DEFAULT_ADMIN_URL).set(username="user", password="password", host="host")
        raise DatabaseUnavailableError(
            f"The tests need a {ENGINE_NAME} server to create a database on, and none answered at "
            f"{admin_url.render_as_string(hide_password=True)} ({error.orig}). Start one there, or point "
            f"TEST_DATABASE_ADMIN_URL at a server where this user may create databases, e.g. "
            f"TEST_DATABASE_ADMIN_URL={example.render_as_string(hide_password=False)}"
        ) from error
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            drop_database(connection, name)
        admin.dispose()


@contextmanager
def store_for(name: str, directory: Path) -> Iterator[Callable[[], QuestionRepository] | None]:
    """The repository the app is given to run on ``name``, one of TEST_STORES; None for the stage's own.

    SQLite: a file in ``directory``, migrated, with the engine ``make dev`` makes.
    """
    global _migrated_sqlite
    if name != SQLITE:
        yield None
        return
    if _migrated_sqlite is None:  # migrated once per process, copied for each store: 5 ms, not 100
        _migrated_sqlite = directory / "migrated.sqlite3"
        migrate(f"sqlite:///{_migrated_sqlite}")
    database = shutil.copyfile(_migrated_sqlite, directory / "dev.sqlite3")
    url = f"sqlite:///{database}"
    engine = make_engine(EngineSettings(pool_size=int(LOCAL_POOL_SIZE)), make_url(url))
    try:
        yield lambda: SqlQuestionRepository(engine)
    finally:
        engine.dispose()
