"""Local secrets: environment variables, as the deployed function gets them."""

from __future__ import annotations

ADMIN_TOKEN = "local-admin-token"
CURSOR_SIGNING_KEY = "local-cursor-signing-key-not-for-production"


def configure(stage: str, endpoint_url: str) -> dict[str, str]:
    """Return the environment the app needs (``stage`` and ``endpoint_url`` play no part)."""
    return {"CURSOR_SIGNING_KEY": CURSOR_SIGNING_KEY, "ADMIN_TOKEN": ADMIN_TOKEN}
