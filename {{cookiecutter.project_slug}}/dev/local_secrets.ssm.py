"""Local secrets: SecureString parameters in the emulator's SSM, as deployed."""

from __future__ import annotations

import boto3

ADMIN_TOKEN = "local-admin-token"
CURSOR_SIGNING_KEY = "local-cursor-signing-key-not-for-production"


def configure(stage: str, endpoint_url: str) -> dict[str, str]:
    """Create this stage's parameters in the emulator; return the environment the app needs."""
    path = f"/{{ cookiecutter.project_slug }}/{stage}/"
    ssm = boto3.client("ssm", endpoint_url=endpoint_url)
    for name, value in {"cursor-signing-key": CURSOR_SIGNING_KEY, "admin-token": ADMIN_TOKEN}.items():
        ssm.put_parameter(Name=path + name, Value=value, Type="SecureString", Overwrite=True)
    return {"SECRETS_PATH": path}
