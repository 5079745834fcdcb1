"""A record of every AWS API call the code makes, one JSON line each: what the function's role must allow.

Off unless ``AWS_CALL_LOG`` names a file (conftest.py turns it on for the
tests). Each line holds the service (as IAM names it), the operation, the
parameters that name what the call acts on, never the data it carries, and
the module that made it (the innermost outside the AWS SDK and the libraries
built on it), so the app's calls stand apart from those of tests and tools:

    {"service": "lambda", "operation": "Invoke", "params": {"FunctionName": "...", "Qualifier": "live"},
     "caller": "my_service.migrate"}

botocore registers its built-in handlers on every session it creates, so a
handler added to that list sees the calls of every client made afterwards,
the libraries' own included (Powertools Parameters').
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import botocore.handlers

LOG_VARIABLE = "AWS_CALL_LOG"
# The parameters that name what a call acts on; the rest (items, values) stays out of the log.
NAMING_PARAMS = (
    "TableName",
    "IndexName",
    "Name",
    "WithDecryption",
    "SecretId",
    "FunctionName",
    "Qualifier",
    "KeyId",
    "Namespace",
    "logGroupName",
)


def naming_params(params: dict[str, Any]) -> dict[str, Any]:
    """What ``params`` acts on: its naming parameters, and the tables of batch and transaction items."""
    named = {key: params[key] for key in NAMING_PARAMS if key in params}
    if "RequestItems" in params:
        named["RequestItems"] = sorted(params["RequestItems"])
    if "TransactItems" in params:
        named["TransactItems"] = [
            {kind: {"TableName": item[kind]["TableName"]} for kind in item}
            for item in params["TransactItems"]
        ]
    return named


# Modules that make calls on someone else's behalf: the SDK and the libraries built on it.
SDK_MODULES = ("botocore", "boto3", "s3transfer", "aws_lambda_powertools", "urllib3")


def caller() -> str:
    """The innermost module on the stack outside the SDK, its libraries and this one."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if module != __name__ and not module.startswith(SDK_MODULES):
            return module
        frame = frame.f_back
    return ""


def recorder(path: Path) -> tuple[str, Any]:
    """The handler that appends each call to ``path``, with the event it listens to."""

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        entry = {
            "service": model.service_model.signing_name,
            "operation": model.name,
            "params": naming_params(params),
            "caller": caller(),
        }
        with path.open("a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")

    return "before-parameter-build", record


@contextmanager
def recording(path: Path) -> Iterator[None]:
    """Record the calls of the sessions created meanwhile to ``path``."""
    handler = recorder(path)
    botocore.handlers.BUILTIN_HANDLERS.append(handler)
    try:
        yield
    finally:
        botocore.handlers.BUILTIN_HANDLERS.remove(handler)


def record_if_asked() -> None:
    """Record every call from now on to ``AWS_CALL_LOG``'s file, if it is set."""
    path = os.environ.get(LOG_VARIABLE)
    if path:
        botocore.handlers.BUILTIN_HANDLERS.append(recorder(Path(path)))
