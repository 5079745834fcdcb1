"""Local secrets: SecureString parameters in the emulator's SSM, as deployed.
{%- if has('sql_store') %}

The database's credentials go to the emulator's Secrets Manager, where RDS
keeps them for a deployed stage.
{% endif -%}
"""

from __future__ import annotations

{% if has('sql_store') -%}
import json
{% endif -%}
from contextlib import AbstractContextManager
{%- if has('sql_store') %}

from sqlalchemy.engine import URL, make_url
{%- endif %}

from . import local_aws

ADMIN_TOKEN = "local-admin-token"
CURSOR_SIGNING_KEY = "local-cursor-signing-key-not-for-production"


def services(purpose: str) -> AbstractContextManager[None]:
    """The AWS emulator, where the parameters live."""
    return local_aws.running(purpose)


def configure(stage: str) -> dict[str, str]:
    """Create this stage's parameters in the emulator; return the environment the app needs."""
    path = f"/{{ cookiecutter.project_slug }}/{stage}/"
    ssm = local_aws.client("ssm")
    for name, value in {"cursor-signing-key": CURSOR_SIGNING_KEY, "admin-token": ADMIN_TOKEN}.items():
        ssm.put_parameter(Name=path + name, Value=value, Type="SecureString", Overwrite=True)
    return {**local_aws.client_environment(), "SECRETS_PATH": path}
{%- if has('sql_store') %}


def database_environment(url: str) -> dict[str, str]:
    """How the app finds the database at ``url``, with its credentials as deployed.

    A URL with a user name gives them up to a secret in the emulator's Secrets
    Manager (``username``, ``password``, as RDS writes it); the app reads them
    there. A URL without one (SQLite) is passed as it is.
    """
    parsed = make_url(url)
    if parsed.username is None:
        return {"DATABASE_URL": url}
    secrets = local_aws.client("secretsmanager")
    name = f"{{ cookiecutter.project_slug }}/local/{parsed.database}"
    value = json.dumps({"username": parsed.username, "password": parsed.password or ""})
    try:
        arn = secrets.create_secret(Name=name, SecretString=value)["ARN"]
    except secrets.exceptions.ResourceExistsException:
        arn = secrets.put_secret_value(SecretId=name, SecretString=value)["ARN"]
    without_credentials = URL.create(
        parsed.drivername, host=parsed.host, port=parsed.port, database=parsed.database, query=parsed.query
    )
    return {
        **local_aws.client_environment(),
        "DATABASE_URL": without_credentials.render_as_string(hide_password=False),
        "DATABASE_SECRET_ARN": arn,
    }
{%- endif %}
