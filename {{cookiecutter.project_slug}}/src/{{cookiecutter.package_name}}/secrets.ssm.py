"""Secrets from SSM Parameter Store SecureStrings under ``SECRETS_PATH``.

A secret named ``cursor-signing-key`` is the parameter
``${SECRETS_PATH}cursor-signing-key`` (``SECRETS_PATH`` is
``/{{ cookiecutter.project_slug }}/<stage>/`` when deployed). Powertools
Parameters fetches a value on first use and caches it in the container for
``POWERTOOLS_PARAMETERS_MAX_AGE`` seconds, so a rotated value is picked up
without a deploy.
{%- if has('sql_store') %}

The database's credentials are the exception: RDS keeps the master user's
name and password in a Secrets Manager secret of its own, and rotates the
password (see ``database_url``).
{%- endif %}
"""

from __future__ import annotations

import os
{%- if has('sql_store') %}
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import URL
{%- endif %}


class MissingSecretError(RuntimeError):
    """A required secret is not configured."""


def parameter_name(name: str) -> str:
    path = os.environ.get("SECRETS_PATH")
    if not path:
        raise MissingSecretError("SECRETS_PATH is not set: it names the SSM path of this stage's secrets")
    return path.rstrip("/") + "/" + name


def find_secret(name: str) -> str | None:
    """The secret's value, or None when its parameter does not exist."""
    # Imported here: Powertools Parameters loads boto3, which costs cold-start
    # time on routes that need no secret.
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_parameter(parameter_name(name), decrypt=True)
    except parameters.exceptions.GetParameterError as exc:
        if _is_parameter_not_found(exc):
            return None
        raise
    return str(value)
{%- if has('sam_built') %}


def load_client() -> None:
    """Import what reading a secret needs, without reading one (before a SnapStart snapshot)."""
    from aws_lambda_powertools.utilities import parameters  # noqa: F401


def forget_cached() -> None:
    """Drop every value read so far, so the next read fetches it (after a SnapStart restore)."""
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()
{%- endif %}


def get_secret(name: str) -> str:
    """The secret's value; raises MissingSecretError naming the parameter when it does not exist."""
    value = find_secret(name)
    if value is None:
        raise MissingSecretError(
            f"SSM parameter {parameter_name(name)} does not exist: create it as a SecureString"
        )
    return value

{%- if has('sql_store') %}


def database_url(*, refresh: bool = False) -> URL:
    """The database with its credentials.

    ``DATABASE_URL`` names the database. Deployed it carries no credentials:
    ``DATABASE_SECRET_ARN`` names the secret where RDS keeps them (JSON with
    ``username`` and ``password``), which Powertools Parameters reads and caches
    like the other secrets; ``refresh`` reads it anew, as after a rotation.
    Without ``DATABASE_SECRET_ARN`` (a local database) the URL is used as it is.
    """
    # Imported here: neither is needed to answer /health.
    from aws_lambda_powertools.utilities import parameters
    from sqlalchemy.engine import make_url

    url = os.environ.get("DATABASE_URL")
    if not url:
        raise MissingSecretError("DATABASE_URL is not set: it names this stage's database")
    secret_id = os.environ.get("DATABASE_SECRET_ARN")
    if not secret_id:
        return make_url(url)
    credentials = parameters.get_secret(secret_id, transform="json", force_fetch=refresh)
    return make_url(url).set(username=credentials["username"], password=credentials["password"])
{%- endif %}


def _is_parameter_not_found(exc: BaseException) -> bool:
    # Powertools wraps the botocore ClientError; the original is the context.
    original = exc.__cause__ or exc.__context__
    response = getattr(original, "response", None) or {}
    return bool(response.get("Error", {}).get("Code") == "ParameterNotFound")
