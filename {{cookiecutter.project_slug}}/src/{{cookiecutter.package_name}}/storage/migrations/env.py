"""Alembic's environment: how a migration reaches the database.

Two callers. The ``alembic`` command (``alembic.ini``; the database of
``DATABASE_URL``, as the app sees it) opens its own connection. The
migration function (``migrate.py``) and ``make migrate`` hand theirs over in
``config.attributes["connection"]``.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from {{ cookiecutter.package_name }}.secrets import database_url
from {{ cookiecutter.package_name }}.storage.database import EngineSettings, make_engine
from {{ cookiecutter.package_name }}.storage.tables import metadata

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = make_engine(EngineSettings.from_env())
    try:
        with engine.begin() as own:
            run(own)
    finally:
        engine.dispose()


def run_offline() -> None:
    """``alembic upgrade head --sql``: print the SQL instead of running it, for review."""
    context.configure(url=database_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
