"""The database engine: created once per container, sized for Lambda, TLS to the database.

Configured by environment variables (``{{ cookiecutter.__stack_template }}`` sets them per stage):

``DATABASE_URL``
    The database, as a SQLAlchemy URL; where its user and password come from
    is ``secrets.database_url()``'s business.
``DATABASE_POOL_SIZE``
    Connections kept open per process. 1 in Lambda, which sends a container
    one request at a time; 0 keeps none (a connection per request), for when
    RDS Proxy pools connections in front of the database. Local runs and
    tests use more, for their threads.
``DATABASE_TLS``
    ``require``: encrypted, whatever certificate the server shows, for a
    direct connection to the instance, whose certificate is signed by RDS's
    own certificate authority, which no system trust store holds.
    ``verify-full``: encrypted, certificate and host name verified, for RDS
    Proxy, whose certificates come from ACM's public authorities, or for an
    instance when ``DATABASE_CA_FILE`` names RDS's bundle. Unset: as the URL
    says, for a local server.
``DATABASE_CA_FILE``
    The authorities ``verify-full`` trusts; by default the system's.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Dialect, Engine
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

from ..secrets import database_url
from .dialect import credentials_rejected, tls_connect_args

TLS_MODES = ("require", "verify-full")
# A pooled connection is replaced after this many seconds, so none outlives a
# rotated password or a failed-over instance for long.
RECYCLE_SECONDS = 600
# How long a request waits for a pooled connection before failing.
POOL_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class EngineSettings:
    pool_size: int = 1
    tls: str | None = None
    ca_file: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> EngineSettings:
        tls = environ.get("DATABASE_TLS") or None
        if tls is not None and tls not in TLS_MODES:
            raise ValueError(f"DATABASE_TLS is {tls!r}; use one of {', '.join(TLS_MODES)}, or leave it unset")
        return cls(
            pool_size=int(environ.get("DATABASE_POOL_SIZE", cls.pool_size)),
            tls=tls,
            ca_file=environ.get("DATABASE_CA_FILE") or None,
        )


def make_engine(settings: EngineSettings, url: URL | None = None) -> Engine:
    """An engine for the configured database, or for ``url`` as given; it connects when first needed."""
    connect_args = {}
    if settings.tls == "verify-full":
        connect_args = tls_connect_args("verify-full", settings.ca_file or system_ca_file())
    elif settings.tls == "require":
        connect_args = tls_connect_args("require", settings.ca_file)
    # Errors would quote the statement's parameters: the users' texts, in the logs.
    if settings.pool_size == 0:
        engine = create_engine(
            url or database_url(), poolclass=NullPool, connect_args=connect_args, hide_parameters=True
        )
    else:
        engine = create_engine(
            url or database_url(),
            hide_parameters=True,
            pool_size=settings.pool_size,
            max_overflow=0,
            pool_timeout=POOL_TIMEOUT_SECONDS,
            # A frozen container's connection may have been closed by the server meanwhile.
            pool_pre_ping=True,
            pool_recycle=RECYCLE_SECONDS,
            connect_args=connect_args,
        )
    if url is None:
        event.listen(engine, "do_connect", _connect_with_current_credentials)
    if engine.dialect.name == "sqlite":
        behave_like_a_server(engine)
    return engine


def behave_like_a_server(engine: Engine) -> None:
    """SQLite (``make dev``) as close to the deployed server as it goes.

    Foreign keys enforced (SQLite leaves them off by default), so no answer can
    outlive its question. Every transaction takes the database's write lock when
    it begins (``BEGIN IMMEDIATE``), as a row lock would be taken on the server:
    a delete's lock-then-delete is one unit, and of two writers the second waits
    (up to sqlite3's busy timeout) instead of failing with "database is locked"
    when it cannot upgrade a read lock.
    """

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # the driver begins no transaction of its own
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def system_ca_file() -> str:
    """The system's bundle of trusted authorities, as Python's ``ssl`` finds it (also in Lambda)."""
    paths = ssl.get_default_verify_paths()
    found = paths.cafile or paths.openssl_cafile
    if not found or not os.path.exists(found):
        raise RuntimeError("no system CA bundle found: set DATABASE_CA_FILE to a file of trusted authorities")
    return found


def _connect_with_current_credentials(
    dialect: Dialect, record: ConnectionPoolEntry, cargs: list[Any], cparams: dict[str, Any]
) -> Any:
    """Open a connection with the credentials as they are now.

    Secrets rotate (RDS rotates the password it manages every 7 days): each new
    connection asks for the credentials, which the secrets backend may cache,
    and asks once more, bypassing any cache, when the server refuses them.
    """
    cparams.update(_url_parameters(dialect, database_url()))
    try:
        return dialect.connect(*cargs, **cparams)
    except dialect.loaded_dbapi.OperationalError as error:
        if not credentials_rejected(error):
            raise
    cparams.update(_url_parameters(dialect, database_url(refresh=True)))
    return dialect.connect(*cargs, **cparams)


def _url_parameters(dialect: Dialect, url: URL) -> dict[str, Any]:
    _, parameters = dialect.create_connect_args(url)
    return dict(parameters)
