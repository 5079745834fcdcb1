"""Structured logs: one JSON object per line on stdout, which CloudWatch Logs keeps as is.

Every record carries the service name and, during an invocation, the Lambda
request id, the API Gateway (or ALB) request id as ``correlation_id`` and the
X-Ray trace id, so one request's lines can be found in Logs Insights and
opened from its trace. Records are formatted by python-json-logger; fields
given as ``extra=`` become top-level keys.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, TextIO

from pythonjsonlogger.json import JsonFormatter

from .settings import Settings

SERVICE = os.environ.get("SERVICE_NAME", Settings.service_name)
# The extra= field written as an embedded-metric record's "_aws" member (metrics.py):
# python-json-logger leaves out fields whose names start with an underscore.
EMF_METADATA = "emf_metadata"

_invocation: ContextVar[dict[str, object]] = ContextVar("invocation", default={})  # noqa: B039


def bind_invocation(**fields: object) -> None:
    """Add these fields to every record logged until the next call."""
    _invocation.set({name: value for name, value in fields.items() if value is not None})


def event_request_id(event: dict[str, Any]) -> str | None:
    """The request id API Gateway (REST or HTTP API) or an ALB gave the event: the correlation id."""
    context = event.get("requestContext") or {}
    if "requestId" in context:
        return str(context["requestId"])
    headers = event.get("headers") or event.get("multiValueHeaders") or {}
    trace = headers.get("x-amzn-trace-id")  # ALB
    return str(trace[0] if isinstance(trace, list) else trace) if trace else None


def xray_trace_id(environ: Mapping[str, str] = os.environ) -> str | None:
    """The X-Ray trace id of the invocation running now: the ``Root`` of ``_X_AMZN_TRACE_ID``.

    Lambda sets that variable afresh for each invocation (``Root=1-...;Parent=...;Sampled=1``);
    outside Lambda it is not set.
    """
    for part in environ.get("_X_AMZN_TRACE_ID", "").split(";"):
        key, _, value = part.partition("=")
        if key.strip() == "Root" and value.strip():
            return value.strip()
    return None


class _InvocationFields(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _invocation.get().items():
            setattr(record, name, value)
        return True


class _StdoutHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stdout is when a record is emitted (tests capture it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def _build_logger() -> logging.Logger:
    handler = _StdoutHandler()
    handler.setFormatter(
        JsonFormatter(
            "{levelname}{message}",
            style="{",
            rename_fields={"levelname": "level", EMF_METADATA: "_aws"},
            static_fields={"service": SERVICE},
            timestamp=True,  # ISO 8601, UTC
        )
    )
    handler.addFilter(_InvocationFields())
    built = logging.getLogger(SERVICE)
    built.addHandler(handler)
    built.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
    # The Lambda runtime's root handler would print every record a second time, unformatted.
    built.propagate = False
    return built


logger = _build_logger()
