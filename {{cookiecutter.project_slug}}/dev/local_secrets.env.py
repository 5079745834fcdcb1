"""Local secrets: environment variables, as the deployed function gets them."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

ADMIN_TOKEN = "local-admin-token"
CURSOR_SIGNING_KEY = "local-cursor-signing-key-not-for-production"


def services(purpose: str) -> AbstractContextManager[None]:
    """Nothing runs for them: the variables are the secrets."""
    return nullcontext()


def configure(stage: str) -> dict[str, str]:
    """Return the environment the app needs (every stage has the same secrets)."""
    return {"CURSOR_SIGNING_KEY": CURSOR_SIGNING_KEY, "ADMIN_TOKEN": ADMIN_TOKEN}
{%- if has('sql_store') %}


def database_environment(url: str) -> dict[str, str]:
    """How the app finds the database at ``url``: ``DATABASE_URL``, credentials included, as deployed."""
    return {"DATABASE_URL": url}
{%- endif %}
