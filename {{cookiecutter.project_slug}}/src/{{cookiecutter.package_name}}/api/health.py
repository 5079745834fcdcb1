"""Liveness: answers without touching the store, so it is cheap to poll."""

from __future__ import annotations

from flask import current_app

from . import Blueprint

blp = Blueprint("health", __name__, description="Service health")


@blp.route("/health")
@blp.response(200)
def health() -> dict[str, str]:
    settings = current_app.extensions["settings"]
    return {"status": "ok", "service": settings.service_name, "stage": settings.stage}
