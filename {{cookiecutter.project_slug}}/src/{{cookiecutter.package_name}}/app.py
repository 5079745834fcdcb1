"""The Flask application factory."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from time import perf_counter
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import InternalServerError

from . import TITLE
from . import __doc__ as description
from .api import Api, health, questions, refuse_deep_json
{%- if has('site') %}
from .cors import allow_site_origins
{%- endif %}
from .log import logger
from .settings import Settings
from .storage import QuestionRepository


class App(Flask):
    def log_exception(self, exc_info: Any) -> None:
        # One structured record with the trace, instead of Flask's plain-text one. What
        # the client sent stays out of it (body, query): the path and the trace say where.
        logger.exception(
            "unhandled error", exc_info=exc_info, extra={"method": request.method, "path": request.path}
        )


def create_app(
    settings: Settings | None = None,
    repository: Callable[[], QuestionRepository] | None = None,
) -> Flask:
    """Build the app. ``repository`` makes the store; by default the configured one, on first use."""
    settings = settings or Settings.from_env()
    app = App(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        API_TITLE=TITLE,
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.extensions["settings"] = settings
    app.extensions["repository"] = cache(repository or _configured_repository)

    api = Api(app, spec_kwargs={"info": {"description": description}})
    api.security_scheme(questions.ADMIN_SECURITY_SCHEME, {"type": "http", "scheme": "bearer"})
    api.register_blueprint(health.blp)
    api.register_blueprint(questions.blp)
{%- if has('site') %}
    allow_site_origins(app)
{%- endif %}

    app.before_request(_start_timer)
    app.before_request(refuse_deep_json)
    app.after_request(_log_request)
    app.register_error_handler(InternalServerError, _internal_error)
    return app


def _configured_repository() -> QuestionRepository:
    # Imported on first use: the store's client library is not needed to
    # answer /health or /openapi.json.
    from .storage.factory import make_repository

    return make_repository()


def _start_timer() -> None:
    g.started = perf_counter()


def _log_request(response: Response) -> Response:
    logger.info(
        "request",
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((perf_counter() - g.get("started", perf_counter())) * 1000, 1),
        },
    )
    return response


def _internal_error(error: InternalServerError) -> tuple[dict[str, Any], int]:
    # App.log_exception has logged the cause; the client gets no internals.
    return {"code": 500, "status": "Internal Server Error", "message": "Internal server error."}, 500
