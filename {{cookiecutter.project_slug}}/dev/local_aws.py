"""A local stand-in for the AWS services the app uses: moto's server.

moto is not thread-safe (concurrent writes can be lost without an error), so
its WSGI app is served by a single-threaded server: requests are handled one
at a time, as a real service's consistency guarantees would require.

One emulator serves a process, whichever local modules need it
(``running()``): tests get one of their own on a free port; ``make dev`` and
``make invoke`` share the one on ``LOCAL_AWS_PORT`` ({{ cookiecutter.__dev_ports.aws_emulator }} by default; 0 for
one of their own on a free port), starting it when nothing listens there.
"""

from __future__ import annotations

import functools
import os
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import boto3
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

HOST = "127.0.0.1"
DEFAULT_PORT = {{ cookiecutter.__dev_ports.aws_emulator }}
REGION = "{{ cookiecutter.aws_region }}"

# What boto3 needs to talk to the emulator instead of AWS. The credentials
# are placeholders: moto accepts any.
CLIENT_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": REGION,
}

_endpoint: str | None = None


def endpoint_url(port: int) -> str:
    return f"http://{HOST}:{port}"


def is_listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((HOST, port)) == 0


class _UnloggedRequests(WSGIRequestHandler):
    """No line per call: the app makes several for each of its requests, whose lines are the ones to read."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class LocalAws:
    """moto's server on ``127.0.0.1:port`` in a background thread (port 0: any free port)."""

    def __init__(self, port: int = 0) -> None:
        # Imported where an emulator starts, not with this module: moto takes seconds to import, and
        # each restart of `make dev`'s server uses the emulator its parent process runs.
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        app = DomainDispatcherApplication(create_backend_app)
        self._server: BaseWSGIServer = make_server(
            HOST, port, app, threaded=False, request_handler=_UnloggedRequests
        )
        self.port = self._server.server_port
        self.url = endpoint_url(self.port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            # How soon stop() is noticed: the default half second is paid by every test that starts one.
            kwargs={"poll_interval": 0.05},
            name="local-aws",
            daemon=True,
        )

    def start(self) -> LocalAws:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


@contextmanager
def running(purpose: str) -> Iterator[None]:
    """The process's emulator for the block; nested blocks share the outermost one's."""
    global _endpoint
    if _endpoint is not None:
        yield
        return
    port = 0 if purpose == "test" else int(os.environ.get("LOCAL_AWS_PORT", DEFAULT_PORT))
    try:
        if port and is_listening(port):
            _endpoint = endpoint_url(port)
            yield
        else:
            with LocalAws(port) as aws:
                _endpoint = aws.url
                if purpose != "test":
                    print(f"AWS emulator: {aws.url}", file=sys.stderr)
                yield
    finally:
        _endpoint = None


def endpoint() -> str:
    if _endpoint is None:
        raise RuntimeError("the AWS emulator is not running: start it with dev.local.services()")
    return _endpoint


def client(service: str) -> Any:
    """A boto3 client of the emulator, with its placeholder credentials, never a developer's real ones.

    One per service and emulator: every test's stage asks for them, and each costs ~10 ms to make.
    """
    return _client(service, endpoint())


@functools.cache
def _client(service: str, endpoint_url: str) -> Any:
    # boto3's type stubs know clients by literal service names only.
    make_client: Any = boto3.client
    return make_client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=CLIENT_ENVIRONMENT["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CLIENT_ENVIRONMENT["AWS_SECRET_ACCESS_KEY"],
    )


def client_environment() -> dict[str, str]:
    """What the app's boto3 needs to reach the emulator instead of AWS."""
    return {**CLIENT_ENVIRONMENT, "AWS_ENDPOINT_URL": endpoint()}
