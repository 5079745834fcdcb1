"""A PostgreSQL server for the tests: where to find one, and making and dropping databases on it."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

ENGINE_NAME = "PostgreSQL"
# A local server as packaged (Debian, Homebrew, the postgres image with trust auth).
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def create_database(admin: Connection, name: str) -> None:
    admin.execute(text(f'CREATE DATABASE "{name}"'))


def drop_database(admin: Connection, name: str) -> None:
    # FORCE: a test's pooled connections may still be open.
    admin.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
