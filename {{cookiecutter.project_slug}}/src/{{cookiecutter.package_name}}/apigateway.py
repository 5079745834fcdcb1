"""WSGI fixes for what apig-wsgi leaves to the application.

* An HTTP API stage other than ``$default`` arrives as a ``/{stage}`` prefix
  on ``rawPath`` when called through the execute-api URL: without moving it to
  ``SCRIPT_NAME`` no route matches.
* PEP 3333 wants ``PATH_INFO`` to be the URL's bytes decoded as latin-1;
  apig-wsgi passes non-ASCII characters through as text, so such paths 404.
* A REST API called through the execute-api URL lives under ``/{stage}``
  but the event's ``path`` omits it: ``SCRIPT_NAME`` must carry it, or
  ``url_for`` builds links (``Location`` headers) that miss the stage.

Custom domains map stages away, so the stage is only handled on execute-api hosts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

DEFAULT_STAGE = "$default"


class ApiGatewayPaths:
    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        event = environ.get("apig_wsgi.full_event")
        if event is not None:
            script_name, path_info = split_path(event)
            environ["SCRIPT_NAME"] = script_name
            environ["PATH_INFO"] = path_info
        return self.app(environ, start_response)


def split_path(event: dict[str, Any]) -> tuple[str, str]:
    """``(SCRIPT_NAME, PATH_INFO)`` for an API Gateway (v1 or v2) or ALB event."""
    context = event.get("requestContext") or {}
    if event.get("version") == "2.0":
        path = wsgi_path(event["rawPath"])
        stage = context.get("stage", DEFAULT_STAGE)
        if stage != DEFAULT_STAGE and is_execute_api(context):
            prefix = "/" + stage
            if path == prefix or path.startswith(prefix + "/"):
                return prefix, path[len(prefix) :]
        return "", path
    path = wsgi_path(event["path"])
    stage = context.get("stage")
    if stage and "elb" not in context and is_execute_api(context):
        return "/" + stage, path
    return "", path


def wsgi_path(path: str) -> str:
    """Percent-decode a path to its bytes, as latin-1 text (PEP 3333)."""
    return unquote_to_bytes(path).decode("latin-1")


def is_execute_api(context: dict[str, Any]) -> bool:
    domain = str(context.get("domainName", ""))
    return ".execute-api." in domain and domain.endswith(".amazonaws.com")
