"""What a cold start leaves for later: the OpenAPI document, marshmallow's e-mail patterns.

Each check runs in a fresh interpreter: in this one the app is already imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

PROJECT = Path(__file__).resolve().parent.parent

# Start as the function does, serve /health, then report what was built.
FIRST_REQUESTS = """
import json, sys
sys.path[:0] = [sys.argv[1]]
from {{ cookiecutter.package_name }}.app import create_app
from marshmallow import validate  # after the package, as the app imports it

app = create_app()
api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
client = app.test_client()
seen = {"health": client.get("/health").status_code}
seen["document built after /health"] = api._spec is not None
patterns = (validate.Email.USER_REGEX, validate.Email.DOMAIN_REGEX)
seen["e-mail patterns compiled after /health"] = [p.is_compiled for p in patterns]
seen["document"] = client.get("/openapi.json").get_json()
seen["e-mail"] = []
for address in ("someone@example.com", "no-domain@", "two@@example.com", "x@[127.0.0.1]"):
    try:
        validate.Email()(address)
        seen["e-mail"].append(True)
    except validate.ValidationError:
        seen["e-mail"].append(False)
print(json.dumps(seen))
"""


def first_requests() -> dict[str, Any]:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", FIRST_REQUESTS, str(PROJECT / "src")],
        capture_output=True,
        text=True,
        check=True,
    )
    report: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return report


def test_only_what_a_request_needs_is_built(client: FlaskClient) -> None:
    seen = first_requests()
    assert seen["health"] == 200
    assert seen["document built after /health"] is False
    assert seen["e-mail patterns compiled after /health"] == [False, False]
    # Built when asked for, the document is the one the app serves in any order of requests.
    assert seen["document"] == client.get("/openapi.json").get_json()
    # And marshmallow's e-mail validator, on its deferred patterns, decides as before.
    assert seen["e-mail"] == [True, False, False, True]
