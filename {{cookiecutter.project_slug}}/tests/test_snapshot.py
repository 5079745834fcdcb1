"""SnapStart's hooks (snapshot.py), run as Lambda runs them: ``prime`` before the snapshot,
``refresh`` in each environment restored from it."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from {{ cookiecutter.package_name }} import snapshot

PROJECT = Path(__file__).resolve().parent.parent

# Initialise as Lambda does, prime, restore, then serve the first request: which modules it imported.
RESTORED = """
import json, sys
sys.path[:0] = sys.argv[1:3]
from tests.events import FakeLambdaContext, http_api_v2
from {{ cookiecutter.package_name }}.handler import app, handler
from {{ cookiecutter.package_name }} import snapshot

snapshot.prime(app)
before = set(sys.modules)  # what the snapshot holds
snapshot.refresh(app)
response = handler(http_api_v2("GET", "/questions", query="limit=1"), FakeLambdaContext())
print(json.dumps({"status": response["statusCode"], "body": json.loads(response["body"]),
                  "imported": sorted(set(sys.modules) - before)}))
"""


def test_environments_restored_from_one_snapshot_draw_different_numbers(app: Flask) -> None:
    snapshot.prime(app)
    frozen = random.getstate()
    draws = []
    for _ in range(2):  # two environments, each from the same snapshot
        random.setstate(frozen)
        snapshot.refresh(app)
        draws.append(random.getrandbits(128))
    assert draws[0] != draws[1]


def test_a_restore_closes_the_connections_the_snapshot_froze(app: Flask, client: FlaskClient) -> None:
    closed: list[Any] = []
    repository = app.extensions["repository"]()
    repository.disconnect = lambda: closed.append(repository)  # each store's own is tested with it
    snapshot.prime(app)
    assert client.get("/questions").status_code == 200
    snapshot.refresh(app)
    assert closed == [repository]


def test_the_first_request_after_a_restore_imports_nothing(client: FlaskClient) -> None:
    for text in ("First?", "Second?"):  # two, so the page has a cursor: the secrets are read too
        assert client.post("/questions", json={"text": text}).status_code == 201
    result = subprocess.run(  # noqa: S603 -- this interpreter, on this project
        [sys.executable, "-c", RESTORED, str(PROJECT), str(PROJECT / "src")],
        capture_output=True,
        text=True,
        check=True,
    )
    seen = json.loads(result.stdout.splitlines()[-1])
    assert seen["status"] == 200, seen["body"]
    assert seen["body"]["next_cursor"], "the page should have needed the cursor's secret"
    assert seen["imported"] == []
