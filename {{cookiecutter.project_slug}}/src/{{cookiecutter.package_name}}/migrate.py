"""The migration function: Alembic migrations of this stage's database, run after each deploy.

``make deploy`` (and ``make migrate-stage STAGE=...``) invokes it directly, never
through API Gateway, with up to 15 minutes to finish. The event says what to do:

* ``{}`` or ``{"command": "upgrade", "revision": "head"}``: apply the new migrations;
* ``{"command": "downgrade", "revision": "-1"}``: undo the newest (a revision is required);
* ``{"command": "current"}``: only report.

It answers with the revisions before and after, and fails (a Lambda error)
when a migration fails; on engines with transactional DDL nothing of that run stays.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from .log import logger
from .storage.database import EngineSettings, make_engine

MIGRATIONS = Path(__file__).resolve().parent / "storage" / "migrations"
COMMANDS = ("upgrade", "downgrade", "current")

# Alembic reports each migration it runs on its own logger: into the same JSON lines.
_alembic_log = logging.getLogger("alembic")
_alembic_log.handlers = logger.handlers
_alembic_log.setLevel(logging.INFO)
_alembic_log.propagate = False


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    name = event.get("command", "upgrade")
    if name not in COMMANDS:
        raise ValueError(f"command {name!r} is not one of {', '.join(COMMANDS)}")
    if name == "downgrade" and "revision" not in event:
        raise ValueError("a downgrade needs a revision: -1 for the newest, or a revision id")
    revision = str(event.get("revision", "head"))
    # One connection, no pool to keep: this container runs one migration and goes.
    engine = make_engine(replace(EngineSettings.from_env(), pool_size=0))
    try:
        with engine.begin() as connection:
            before = revisions(connection)
            config = alembic_config(connection)
            if name == "upgrade":
                command.upgrade(config, revision)
            elif name == "downgrade":
                command.downgrade(config, revision)
            after = revisions(connection)
    finally:
        engine.dispose()
    result = {"command": name, "before": before, "after": after}
    logger.info("migrations", extra=result)
    return result


def alembic_config(connection: Connection) -> Config:
    """Alembic's configuration without alembic.ini (not packed), on this connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def revisions(connection: Connection) -> list[str]:
    return sorted(MigrationContext.configure(connection).get_current_heads())
{%- if cookiecutter.deployment == 'zappa' %}


def zappa_invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The migrations through Zappa: ``make migrate-stage STAGE=...`` runs ``zappa invoke <stage>
    {{ cookiecutter.package_name }}.migrate.zappa_invoke``.

    Zappa's event names this function under ``command``; what to do comes in
    ``--payload``, with ``migration`` for the ``command`` of ``handler``:
    ``{"migration": "downgrade", "revision": "-1"}``.
    """
    request = {key: value for key, value in event.items() if key not in ("command", "migration")}
    return handler({**request, "command": event.get("migration", "upgrade")}, context)
{%- endif %}
