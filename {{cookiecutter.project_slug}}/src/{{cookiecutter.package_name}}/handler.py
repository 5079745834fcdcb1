"""The Lambda entry point: API Gateway (REST or HTTP API) and ALB events -> Flask."""

from __future__ import annotations

from typing import Any

from apig_wsgi import make_lambda_handler
from aws_lambda_powertools.utilities.typing import LambdaContext
from flask import Flask

from .apigateway import ApiGatewayPaths
from .app import create_app
from .log import logger

Handler = Any


def make_handler(app: Flask) -> Handler:
    app.wsgi_app = ApiGatewayPaths(app.wsgi_app)  # type: ignore[method-assign]
    serve = make_lambda_handler(app, binary_support=True)

    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        logger.set_correlation_id(request_id(event))
        return serve(event, context)

    return handler


def request_id(event: dict[str, Any]) -> str | None:
    context = event.get("requestContext") or {}
    if "requestId" in context:
        return str(context["requestId"])
    headers = event.get("headers") or event.get("multiValueHeaders") or {}
    trace = headers.get("x-amzn-trace-id")  # ALB
    return str(trace[0] if isinstance(trace, list) else trace) if trace else None


# Built once per container, at cold start.
handler = make_handler(create_app())
