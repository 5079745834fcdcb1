"""A MySQL (or MariaDB) server for the tests: where to find one, and making and dropping databases on it."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

ENGINE_NAME = "MySQL"
# A local server as packaged (Debian's MariaDB, Homebrew, the mysql image with an empty root password).
DEFAULT_ADMIN_URL = "mysql+pymysql://root@127.0.0.1:3306/"


def create_database(admin: Connection, name: str) -> None:
    # utf8mb4: every character a question may hold, whatever the server's default.
    admin.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))


def drop_database(admin: Connection, name: str) -> None:
    admin.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
