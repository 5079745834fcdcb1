"""{% if has('zappa_built') %}A Lambda invoke, locally{% elif has('sam_built') %}``sam local invoke`` without Docker{% endif %}: one event through the built artifact's handler.

``python -m dev.invoke events/http-api-v2-health.json`` (what ``make invoke``
runs) builds what is missing, uses the local stand-ins of ``make dev`` (see
``dev/local.py``; started for the duration of the call when they are not
running), then serves the event in a clean interpreter, as Lambda does: only
the artifact and the runtime's boto3 on ``sys.path``, the function's
environment, a Lambda context. The function's logs go to stderr; its
response, or Lambda's error document, to stdout.

Keep ``make dev`` running in another terminal to read back what an invoke created.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
{%- if has('zappa_built') %}
# The package `make build` (zappa package) made, unpacked; Zappa's handler is at its root.
ARTIFACT = PROJECT / ".zappa" / "package"
RUNTIME_SDK = PROJECT / ".zappa" / "runtime-sdk"
# What `make` builds when it is missing, and the file that shows it is there.
BUILD_MARKERS = {
    "build": ARTIFACT / "handler.pyc",
    "runtime-sdk": RUNTIME_SDK / ".installed",
}

# The function as zappa_settings.json defines it.
HANDLER = "handler.lambda_handler"
FUNCTION_NAME = "{{ cookiecutter.project_slug }}-api-local"
REGION = "{{ cookiecutter.aws_region }}"
MEMORY_MB = 512
TIMEOUT_SECONDS = {% if has('sql_store') %}900{% elif has('key_value_store') %}10{% endif %}
{%- elif has('sam_built') %}
ARTIFACT = PROJECT / ".aws-sam" / "build" / "ApiFunction"
RUNTIME_SDK = PROJECT / ".aws-sam" / "runtime-sdk"
# What `make` builds when it is missing, and the file that shows it is there.
BUILD_MARKERS = {
    "build": ARTIFACT / "{{ cookiecutter.package_name }}" / "handler.py",
    "runtime-sdk": RUNTIME_SDK / ".installed",
}

# The function as {{ cookiecutter.__stack_template }} defines it.
HANDLER = "{{ cookiecutter.package_name }}.handler.handler"
FUNCTION_NAME = "{{ cookiecutter.project_slug }}-local-ApiFunction"
REGION = "{{ cookiecutter.aws_region }}"
MEMORY_MB = 512
TIMEOUT_SECONDS = 10
{%- endif %}
# Lambda gives a function's init (its imports) 10 s of its own before the handler's timeout starts.
INIT_TIMEOUT_SECONDS = 10
IN_RUNTIME = "--in-runtime"


def main() -> int:
    from . import local

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("event", type=Path, help="an API Gateway event, e.g. events/http-api-v2-health.json")
    args = parser.parse_args()
    json.loads(args.event.read_text())  # fail here, not inside the function, on a malformed event

    build_missing()
    with local.services("dev"):
        return invoke(args.event.resolve(), function_environment(local.environment(local.STAGE)))


def build_missing() -> None:
    targets = [target for target, marker in BUILD_MARKERS.items() if not marker.exists()]
    if targets:
        subprocess.run(["make", *targets], cwd=PROJECT, check=True)  # noqa: S603, S607


def function_environment(stage: dict[str, str]) -> dict[str, str]:
    """What the function sees: Lambda's own variables plus the local stage's configuration."""
    return {
        "LAMBDA_TASK_ROOT": str(ARTIFACT),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python{{ cookiecutter.python_version }}",
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(MEMORY_MB),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": REGION,
        "TZ": ":UTC",
        # Nothing from the developer's AWS configuration: it must never reach a real account.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        **stage,
    }


def invoke(event: Path, environment: dict[str, str]) -> int:
    """Serve ``event`` in a fresh interpreter: no site-packages, no PYTHON* variables, no cwd on the path."""
    command = [sys.executable, "-I", "-S", __file__, IN_RUNTIME, str(event), str(ARTIFACT), str(RUNTIME_SDK)]
    try:
        return subprocess.run(  # noqa: S603
            command, env=environment, timeout=INIT_TIMEOUT_SECONDS + TIMEOUT_SECONDS, check=False
        ).returncode
    except subprocess.TimeoutExpired:
        print(f"Task timed out after {TIMEOUT_SECONDS} seconds", file=sys.stderr)
        return 1


# What follows runs inside the clean interpreter, where only the standard
# library, the artifact and the runtime's boto3 can be imported.


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that functions read."""

    function_name: str = FUNCTION_NAME
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = MEMORY_MB
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION_NAME}"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = f"/aws/lambda/{FUNCTION_NAME}"
    log_stream_name: str = "local"
    deadline: float = field(default_factory=lambda: time.monotonic() + TIMEOUT_SECONDS)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def serve_in_runtime(event_path: str, *code_paths: str) -> int:
    sys.path[:0] = code_paths
    response_stream = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # the function's own output (its logs) goes to stderr; stdout is the response's

    started = time.perf_counter()
    module_name, _, function_name = HANDLER.rpartition(".")
    handler = getattr(importlib.import_module(module_name), function_name)
    ready = time.perf_counter()
    try:
        response: Any = handler(json.loads(Path(event_path).read_text()), LambdaContext())
        status = 0
    except Exception as exc:
        response = {
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "stackTrace": traceback.format_tb(exc.__traceback__),
        }
        status = 1
    done = time.perf_counter()
    sys.stdout.flush()
    init_ms, duration_ms = (ready - started) * 1000, (done - ready) * 1000
    print(f"REPORT Init: {init_ms:.1f} ms  Duration: {duration_ms:.1f} ms", file=sys.stderr)
    json.dump(response, response_stream, indent=2)
    response_stream.write("\n")
    response_stream.close()
    return status


if __name__ == "__main__":
    if sys.argv[1:2] == [IN_RUNTIME]:
        sys.exit(serve_in_runtime(*sys.argv[2:]))
    sys.exit(main())
