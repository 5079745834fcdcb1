"""PostgreSQL through psycopg 3: what the rest of the SQL store leaves to the database engine.

psycopg ships as ``psycopg-binary``, whose wheel carries libpq and OpenSSL
built for Lambda's platform, so the runtime needs no system library.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DateTime, Select, String, Table
from sqlalchemy.dialects import postgresql

# Microseconds and the offset are kept: a timestamp reads back exactly as written.
TIMESTAMP = DateTime(timezone=True)

# A UUID in its text form. PostgreSQL compares text byte for byte; the "C" collation
# also sorts it byte by byte, as SQLite (`make dev`) does, rather than by the
# server's locale.
ID_LENGTH = 36
ID = String(ID_LENGTH).with_variant(postgresql.VARCHAR(ID_LENGTH, collation="C"), "postgresql")


def tls_connect_args(mode: str, ca_file: str | None) -> dict[str, Any]:
    """libpq's options for ``require`` (encrypt, trust any certificate) or ``verify-full``.

    ``verify-full`` checks the certificate chain against ``ca_file`` and the
    host name against the certificate.
    """
    if mode == "require":
        return {"sslmode": "require"}
    return {"sslmode": "verify-full", "sslrootcert": ca_file}


def credentials_rejected(error: Exception) -> bool:
    """Whether the server refused the user name or password (not an unreachable server).

    libpq reports a refused login only in its message: a wrong password, or a
    user that does not exist.
    """
    message = str(error)
    unknown_user = 'role "' in message and "does not exist" in message
    return unknown_user or "password authentication failed" in message


def through_index(query: Select[Any], table: Table, index: str) -> Select[Any]:
    """``query`` as it is: PostgreSQL has no index hints, and plans a page (``ORDER BY``
    the index, ``LIMIT``) as a walk of ``index`` at any size of ``table``."""
    return query
