"""MySQL through PyMySQL: what the rest of the SQL store leaves to the database engine.

PyMySQL is pure Python: nothing in the artifact has to match Lambda's
platform for the driver. Amazon RDS for MySQL is the target; MariaDB speaks
the same protocol and SQL for everything here (the tests run on either).
"""

from __future__ import annotations

import ssl
from typing import Any

from sqlalchemy import DateTime, Select, String, Table
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# DATETIME without a precision drops the microseconds; (6) keeps them. MySQL has
# no column type that keeps an offset, so times are stored as UTC wall-clock values.
TIMESTAMP = DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

ID_LENGTH = 36  # a UUID in its text form


class BinaryId(TypeDecorator[str]):
    """An id as a binary string: text in Python, bytes in MySQL.

    MySQL's and MariaDB's text collations compare case-insensitively and ignore
    trailing spaces (``'ABC ' = 'abc'``), and no collation that does neither
    exists on both; binary strings compare and sort byte for byte on both.
    """

    impl = mysql.VARBINARY(ID_LENGTH)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> bytes | None:
        return None if value is None else value.encode()

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> str | None:
        return None if value is None else value.decode()


# SQLite (`make dev`) compares and sorts text byte for byte already.
ID = String(ID_LENGTH).with_variant(BinaryId(), "mysql", "mariadb")

# Refused logins: a wrong password or an unknown user (ER_ACCESS_DENIED_ERROR), and
# MariaDB's refusal of a user without a password (ER_ACCESS_DENIED_NO_PASSWORD_ERROR).
ACCESS_DENIED = frozenset({1045, 1698})


def tls_connect_args(mode: str, ca_file: str | None) -> dict[str, Any]:
    """PyMySQL's ``ssl`` option for ``require`` (encrypt, trust any certificate) or ``verify-full``.

    With an ``ssl`` context PyMySQL refuses a server that does not offer TLS
    instead of falling back to plain text. ``verify-full`` checks the
    certificate chain against ``ca_file`` and the host name against the certificate.
    """
    context = ssl.create_default_context(cafile=ca_file)
    if mode == "require":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return {"ssl": context}


def credentials_rejected(error: Exception) -> bool:
    """Whether the server refused the user name or password (not an unreachable server)."""
    return bool(error.args) and error.args[0] in ACCESS_DENIED


def through_index(query: Select[Any], table: Table, index: str) -> Select[Any]:
    """``query``, reading ``table`` through ``index`` whatever the table's statistics say.

    For a page (``ORDER BY`` the index, ``LIMIT``) of a table of a few thousand
    rows or fewer, MySQL and MariaDB can cost a scan of the whole table and a sort
    below a walk of the index, and then read every row for one page: on MariaDB
    10.11 the first page of 20,000 questions read all 20,000. ``FORCE INDEX``
    makes every page a short walk of the index, at any size.
    """
    return query.with_hint(table, f"FORCE INDEX ({index})", "mysql")
