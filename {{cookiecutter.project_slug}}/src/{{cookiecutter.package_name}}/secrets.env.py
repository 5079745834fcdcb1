"""Secrets from environment variables.

A secret named ``cursor-signing-key`` is the variable ``CURSOR_SIGNING_KEY``.
When deployed the variables are fed from ``NoEcho`` stack parameters; locally
from ``.env`` (never committed; ``.env.example`` lists them).
{%- if has('sql_store') %} The database's
credentials are part of ``DATABASE_URL``.
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


def variable_name(name: str) -> str:
    return name.upper().replace("-", "_")


def find_secret(name: str) -> str | None:
    """The secret's value, or None when its variable is unset or empty."""
    return os.environ.get(variable_name(name)) or None
{%- if has('sam_built') %}


def load_client() -> None:
    """Nothing to import: secrets are read from the environment."""


def forget_cached() -> None:
    """Nothing to drop: every read is of the environment."""
{%- endif %}


def get_secret(name: str) -> str:
    """The secret's value; raises MissingSecretError naming the variable when it is unset."""
    value = find_secret(name)
    if value is None:
        raise MissingSecretError(f"environment variable {variable_name(name)} is not set")
    return value
{%- if has('sql_store') %}


def database_url(*, refresh: bool = False) -> URL:
    """The database with its credentials: ``DATABASE_URL``, a SQLAlchemy URL.

    ``refresh`` asks past any cache; the environment has none, it is read each time.
    """
    # Imported here: SQLAlchemy is not needed to answer /health.
    from sqlalchemy.engine import make_url

    return make_url(get_secret("database-url"))
{%- endif %}
