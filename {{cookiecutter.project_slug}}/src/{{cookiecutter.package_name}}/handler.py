"""The Lambda entry point: API Gateway (REST or HTTP API) and ALB events -> Flask."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apig_wsgi import make_lambda_handler
from flask import Flask

from .apigateway import ApiGatewayPaths
from .app import create_app
from .log import bind_invocation, event_request_id, xray_trace_id
from .snapshot import register as register_snapshot_hooks

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def make_handler(app: Flask) -> Handler:
    app.wsgi_app = ApiGatewayPaths(app.wsgi_app)  # type: ignore[method-assign]
    serve = make_lambda_handler(app, binary_support=True)
    cold_start = True

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        nonlocal cold_start
        bind_invocation(
            function_request_id=context.aws_request_id,
            correlation_id=event_request_id(event),
            xray_trace_id=xray_trace_id(),
            cold_start=cold_start,
        )
        cold_start = False
        return serve(event, context)

    return handler


# Built once per container, at cold start (or once per version, with SnapStart).
app = create_app()
handler = make_handler(app)
register_snapshot_hooks(app)
