"""The migration function: Alembic migrations of this stage's database, {% if has('pre_traffic_hook') %}before a release serves{% else %}run after each deploy{% endif %}.

{% if has('pre_traffic_hook') -%}
``before_traffic`` (CodeDeploy's hook in each deploy) and ``make migrate-stage STAGE=...``
invoke it directly, never through API Gateway, with up to 15 minutes to finish.
{%- else -%}
``make deploy`` (and ``make migrate-stage STAGE=...``) invokes it directly, never
through API Gateway, with up to 15 minutes to finish.
{%- endif %} The event says what to do:

* ``{}`` or ``{"command": "upgrade", "revision": "head"}``: apply the new migrations;
* ``{"command": "downgrade", "revision": "-1"}``: undo the newest (a revision is required);
* ``{"command": "current"}``: only report.

It answers with the revisions before and after, and fails (a Lambda error)
when a migration fails; on engines with transactional DDL nothing of that run stays.
"""

from __future__ import annotations

{% if has('pre_traffic_hook') -%}
import json
import logging
import os
from collections.abc import Callable
{% else -%}
import logging
{% endif -%}
from dataclasses import replace
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from .log import bind_invocation, logger, xray_trace_id
from .storage.database import EngineSettings, make_engine

MIGRATIONS = Path(__file__).resolve().parent / "storage" / "migrations"
COMMANDS = ("upgrade", "downgrade", "current")
{%- if has('pre_traffic_hook') %}
# What before_traffic keeps of its own time to report the verdict, whatever the migrations take.
HOOK_MARGIN_SECONDS = 30
{%- endif %}

# Alembic reports each migration it runs on its own logger: into the same JSON lines.
_alembic_log = logging.getLogger("alembic")
_alembic_log.handlers = logger.handlers
_alembic_log.setLevel(logging.INFO)
_alembic_log.propagate = False


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    bind_invocation(function_request_id=context.aws_request_id, xray_trace_id=xray_trace_id())
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
{%- if has('pre_traffic_hook') %}


def before_traffic(event: dict[str, Any], context: Any, clients: Callable[[str], Any] | None = None) -> None:
    """CodeDeploy's hook before a release takes traffic: the migrations, then the verdict.

    CodeDeploy calls it (the API function's ``DeploymentPreference``, ``PreTraffic``) once the
    new version is published, before any request reaches it. It runs outside the VPC, where
    CodeDeploy's API is: it invokes the migration function (``MIGRATE_FUNCTION``), waits for
    it, and reports ``Succeeded``, or ``Failed``, on which CodeDeploy leaves every request on
    the version before and the stack update rolls back. So no release serves on a schema
    older than its own; a version rolled back serves on one a release newer, which it can
    read because a release's migrations only add (README.md, "Migrations").
    """
    bind_invocation(function_request_id=context.aws_request_id, xray_trace_id=xray_trace_id())
    if clients is None:
        import boto3
        from botocore.config import Config as ClientConfig

        # Waited for until shortly before this function's own timeout, never retried: a
        # second invoke would run the migrations twice.
        seconds = max(context.get_remaining_time_in_millis() / 1000 - HOOK_MARGIN_SECONDS, 1)
        config = ClientConfig(read_timeout=seconds, retries={"total_max_attempts": 1})
        # boto3's type stubs know clients by literal service names only.
        make_client: Any = boto3.client
        clients = lambda service: make_client(service, config=config)  # noqa: E731
    status = "Failed"
    try:
        response = clients("lambda").invoke(
            FunctionName=os.environ["MIGRATE_FUNCTION"], Payload=json.dumps({"command": "upgrade"}).encode()
        )
        result = json.loads(response["Payload"].read() or b"null")
        if "FunctionError" in response:
            logger.error("migrations failed: the release takes no traffic", extra={"migrations": result})
        else:
            logger.info("migrated before the release takes traffic", extra={"migrations": result})
            status = "Succeeded"
    finally:
        clients("codedeploy").put_lifecycle_event_hook_execution_status(
            deploymentId=event["DeploymentId"],
            lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
            status=status,
        )
{%- endif %}
{%- if has('zappa_built') %}


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
