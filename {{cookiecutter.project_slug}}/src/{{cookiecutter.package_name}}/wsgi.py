"""The WSGI application Zappa's handler serves: ``app_function`` in zappa_settings.json.

Zappa's handler turns API Gateway events (HTTP API payload 2.0, REST 1.0) and
ALB events into WSGI requests, stage prefixes and non-ASCII paths included,
and keeps the Lambda event and context in the WSGI environ: the app's log
records take their request ids from there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask

from .app import create_app
from .log import bind_invocation, event_request_id, logger, xray_trace_id

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class InvocationFields:
    """Binds the Lambda and API Gateway request ids and the trace id to the records of a request."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app
        self.cold_start = True

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        context = environ.get("lambda.context")
        if context is not None:
            bind_invocation(
                function_request_id=context.aws_request_id,
                correlation_id=event_request_id(environ.get("lambda.event") or {}),
                xray_trace_id=xray_trace_id(),
                cold_start=self.cold_start,
            )
            self.cold_start = False
        return self.app(environ, start_response)


def wrap(app: Flask) -> Flask:
    """``app`` as Zappa serves it: with the invocation's ids in its logs."""
    app.wsgi_app = InvocationFields(app.wsgi_app)  # type: ignore[method-assign]
    return app


def log_unhandled_error(exception: Exception, event: dict[str, Any], context: Any) -> bool:
    """Zappa's ``exception_handler``: errors outside the app (Flask answers its own with a 500).

    One structured record with the trace, like the app's own; False lets Zappa
    answer or fail the invocation as it would without this handler.
    """
    logger.error(
        "unhandled error outside the app",
        exc_info=(type(exception), exception, exception.__traceback__),
        extra={
            "function_request_id": getattr(context, "aws_request_id", None),
            "xray_trace_id": xray_trace_id(),
        },
    )
    return False


# Built once per container, at cold start.
app = wrap(create_app())
