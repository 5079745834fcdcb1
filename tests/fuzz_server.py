"""Serve a rendered project's API on a free port of 127.0.0.1, for the fuzz tier (tests/test_fuzz.py).

Run by the project's own interpreter in the project's directory, with ``src``
and the project on ``sys.path``: it imports only the project, its pinned
dependencies and the standard library.

    python fuzz_server.py PACKAGE STORE ENTRY PORT_FILE

STORE: ``configured`` runs the store the project's tests run on, a store of
its own (the emulator's table, or a database created on the test server and
dropped at the end); ``dev`` runs ``make dev``'s (SQLite at ``DATABASE_URL``).
ENTRY: ``app``, the Flask app as the WSGI application; ``lambda``, the
project's Lambda handler behind a WSGI shim that turns each request into an
API Gateway HTTP API (payload 2.0) event, as API Gateway would. Once the
server listens, its port and the stage's admin token are written to
PORT_FILE as JSON; SIGTERM stops it, and the store's context managers clean up.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import signal
import sys
import uuid
from collections.abc import Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

HOST = "127.0.0.1"
STAGE = "fuzz"

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


class LambdaContext:
    """What the handler reads of Lambda's context object."""

    function_name = "fuzz"
    memory_limit_in_mb = 512

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def http_api_event(environ: dict[str, Any]) -> dict[str, Any]:
    """The HTTP API (payload 2.0) event API Gateway would send for this request."""
    raw_uri = str(environ.get("RAW_URI") or environ.get("PATH_INFO") or "/")
    raw_path, _, raw_query = raw_uri.partition("?")
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = value
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            headers[key.replace("_", "-").lower()] = value
    cookies = [part.strip() for part in headers.pop("cookie", "").split(";") if part.strip()]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "domainName": headers.get("host", HOST),
            "http": {
                "method": environ["REQUEST_METHOD"],
                "path": raw_path,
                "protocol": environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "sourceIp": environ.get("REMOTE_ADDR", HOST),
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
        },
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }
    if cookies:
        event["cookies"] = cookies
    return event


def through_lambda(handler: LambdaHandler) -> Callable[[dict[str, Any], Any], Iterable[bytes]]:
    """A WSGI application that serves each request through ``handler``, as an HTTP API event."""

    def application(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        response = handler(http_api_event(environ), LambdaContext())
        status = int(response["statusCode"])
        headers = [(name, str(value)) for name, value in (response.get("headers") or {}).items()]
        headers += [("Set-Cookie", cookie) for cookie in response.get("cookies") or []]
        body = response.get("body") or ""
        data = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [data]

    return application


def main(package: str, store: str, entry: str, port_file: str) -> None:
    from dev import local, local_secrets, local_store

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with local_store.services("dev" if store == "dev" else "test"), local_secrets.services("test"):
        os.environ.update(local.environment(STAGE))
        if entry == "lambda":
            application: Any = through_lambda(importlib.import_module(f"{package}.handler").handler)
        else:
            application = importlib.import_module(f"{package}.app").create_app()
        server = make_server(HOST, 0, application, threaded=True)
        told = {"port": server.server_port, "admin_token": local_secrets.ADMIN_TOKEN}
        partial = Path(port_file + ".partial")
        partial.write_text(json.dumps(told), encoding="utf-8")
        partial.replace(port_file)  # whole, once the server listens
        try:
            server.serve_forever()
        finally:
            server.server_close()


if __name__ == "__main__":
    sys.path[:0] = ["src", "."]
    main(*sys.argv[1:])
