"""A local stand-in for the AWS services the app uses: moto's server.

moto is not thread-safe (concurrent writes can be lost without an error), so
its WSGI app is served by a single-threaded server: requests are handled one
at a time, as a real service's consistency guarantees would require.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

HOST = "127.0.0.1"

# What boto3 needs to talk to the emulator instead of AWS. The credentials
# are placeholders: moto accepts any.
CLIENT_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "{{ cookiecutter.aws_region }}",
}


def endpoint_url(port: int) -> str:
    return f"http://{HOST}:{port}"


def is_listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((HOST, port)) == 0


class LocalAws:
    """moto's server on ``127.0.0.1:port`` in a background thread (port 0: any free port)."""

    def __init__(self, port: int = 0) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        self._server: BaseWSGIServer = make_server(HOST, port, app, threaded=False)
        self.port = self._server.server_port
        self.url = endpoint_url(self.port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-aws", daemon=True)

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
