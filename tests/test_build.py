"""Build tier: every combination's Lambda artifact, built with the real tool and run as Lambda runs it.

For every combination (the list holds every python_version x architecture of
each backend and store, ``tests/combinations.py``): the backend's own build,
the project's ``make build`` in its cached environment; native code and wheel tags
match the Lambda architecture and runtime; every module ships valid,
unchecked-hash bytecode for the runtime; the zip fits its store's budget; and
the artifact, imported in a clean interpreter with only itself and the
runtime's boto3 on ``sys.path``, answers the project's own sample events (REST
v1 and HTTP API v2: health, create, list, read) against the project's local
stand-ins (its AWS emulator; for storage=rds a fresh database on the local
server, migrated down and up by the artifact's migration function first),
without writing a byte into its code directory. ``make invoke``'s script is
run once too, and ``make smoke`` once per backend, through the artifact's handler.
"""

from __future__ import annotations

import base64
import copy
import http.server
import json
import os
import struct
import subprocess
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.build_support import (
    ARCHITECTURES,
    Artifact,
    LambdaContainer,
    LocalStage,
    project_environment,
    runtime_magic,
    snapshot,
    stdlib_dirs,
)
from tests.combinations import COMBINATIONS, Combination
from tests.support import IDENTITY_SLUG, run

pytestmark = pytest.mark.build

# The zipped artifact's budget: Lambda fetches and unpacks it at every cold start.
# 3 MB for the app itself; a SQL store adds SQLAlchemy (its Core, as Python modules,
# without the compiled extensions, the ORM and the test suite: about 1.7 MB zipped)
# and Alembic, and psycopg-binary adds libpq with its own OpenSSL (about 4 MB).
ZIP_BUDGET_BYTES = {"dynamodb": 3_000_000, "rds-mysql": 5_000_000, "rds-postgres": 9_500_000}
# Header flags of a hash-based .pyc whose source is never checked (PEP 552).
UNCHECKED_HASH = 0b01


@pytest.fixture(params=COMBINATIONS, ids=lambda combination: combination.name)
def artifact(request: pytest.FixtureRequest, built: Callable[[Combination], Artifact]) -> Artifact:
    return built(request.param)


# --- what was built ------------------------------------------------------------------------------


def test_native_code_matches_the_lambda_platform(artifact: Artifact) -> None:
    arch = ARCHITECTURES[artifact.architecture]
    cpython = "cp" + artifact.python_version.replace(".", "")
    wrong: list[str] = []
    for library in artifact.code.rglob("*.so"):
        name = str(library.relative_to(artifact.code))
        with library.open("rb") as elf:
            header = elf.read(20)
        if header[:4] != b"\x7fELF" or struct.unpack_from("<H", header, 18)[0] != arch["machine"]:
            wrong.append(f"{name}: not an ELF library for {artifact.architecture}")
        if ".cpython-" in library.name and f".cpython-{cpython[2:]}-{arch['so_suffix']}." not in library.name:
            wrong.append(f"{name}: an extension module for another Python or platform")
    for wheel in artifact.code.glob("*.dist-info/WHEEL"):
        lines = wheel.read_text(encoding="utf-8").splitlines()
        tags = [line.removeprefix("Tag: ") for line in lines if line.startswith("Tag: ")]
        for python, abi, platform in (tag.split("-") for tag in tags):
            if platform == "any":
                continue
            for_runtime = (python, abi) == (cpython, cpython) or (abi == "abi3" and python.startswith("cp3"))
            for_lambda = platform.startswith("manylinux") and platform.endswith("_" + arch["wheel_arch"])
            if not (for_runtime and for_lambda):
                wrong.append(f"{wheel.parent.name}: tagged {python}-{abi}-{platform}")
    target = f"{artifact.architecture}/{cpython}"
    assert not wrong, f"built for another platform than {target}:\n" + "\n".join(wrong)


def test_every_module_ships_bytecode_for_the_runtime(artifact: Artifact) -> None:
    """The app: sources plus __pycache__ bytecode. Dependencies: bytecode alone, where the source was."""
    magic = runtime_magic(artifact.python)
    cache_tag = "cpython-" + artifact.python_version.replace(".", "")
    app = artifact.code / artifact.package
    problems: list[str] = []

    def check(compiled: Path, name: str) -> None:
        header = compiled.read_bytes()[:8]
        if header[:4] != magic:
            problems.append(f"{name}: compiled by another Python (magic {header[:4].hex()})")
        elif struct.unpack_from("<I", header, 4)[0] != UNCHECKED_HASH:
            problems.append(f"{name}: not an unchecked-hash .pyc, so it may be recompiled in Lambda")

    sources = sorted(app.rglob("*.py"))
    assert len(sources) > 5, f"suspiciously few modules in {app}"
    for source in sources:
        compiled = source.parent / "__pycache__" / f"{source.stem}.{cache_tag}.pyc"
        if compiled.is_file():
            check(compiled, str(compiled.relative_to(artifact.code)))
        else:
            problems.append(f"{source.relative_to(artifact.code)}: no {compiled.name}")

    dependencies = [path for path in artifact.code.rglob("*") if not path.is_relative_to(app)]
    problems += [
        f"{p.relative_to(artifact.code)}: a dependency's source" for p in dependencies if p.suffix == ".py"
    ]
    problems += [
        f"{p.relative_to(artifact.code)}: a __pycache__ without sources"
        for p in dependencies
        if p.name == "__pycache__"
    ]
    modules = [path for path in dependencies if path.suffix == ".pyc"]
    assert len(modules) > 100, f"suspiciously few dependency modules in {artifact.code}"
    for compiled in modules:
        check(compiled, str(compiled.relative_to(artifact.code)))
    assert not problems, "\n".join(problems[:50])


def test_zipped_artifact_fits_the_budget(
    artifact: Artifact, record_property: Callable[[str, Any], None]
) -> None:
    size = artifact.zipped_size()
    record_property("artifact_zip_bytes", size)
    record_property("build_seconds", round(artifact.build_seconds, 1))
    if len(artifact.steps) > 1:
        record_property("build_steps", artifact.steps)
    store = artifact.combination["storage"]
    budget = ZIP_BUDGET_BYTES[f"{store}-{artifact.combination['rds_engine']}" if store == "rds" else store]
    assert size <= budget, f"the artifact zips to {size:,} bytes, over {budget:,}"


# --- running it ----------------------------------------------------------------------------------


def test_artifact_answers_api_gateway_events(artifact: Artifact, tmp_path: Path) -> None:
    env = project_environment(artifact)
    events = artifact.project / "events"
    before = snapshot(artifact.code)
    native = host_runs(artifact)
    with LocalStage(env, artifact.project, "build") as stage:
        # psycopg may fall back to the machine's libpq; on Lambda only the artifact's own can load.
        environment = {**stage, "PSYCOPG_IMPL": "binary"} if native else stage
        if "MigrateFunction" in artifact.others:
            migrate_from_scratch(artifact, environment, tmp_path / "migrate.log")
        with LambdaContainer(artifact, environment, tmp_path / "function.log") as function:
            for kind in ("http-api-v2", "rest-v1"):
                try:
                    check_routes(function, events, kind)
                except AssertionError as exc:
                    raise AssertionError(f"{kind}: {exc}\nfunction output:\n{function.output()}") from exc
            report = function.finish()

    assert snapshot(artifact.code) == before, "the function wrote into its code directory (stale bytecode?)"
    stdlib = [directory + "/" for directory in stdlib_dirs(artifact.python)]
    outside = [origin for origin in report.origins if not allowed_origin(origin, artifact, stdlib)]
    assert not outside, "loaded from outside the artifact, boto3 and the stdlib:\n" + "\n".join(outside)
    assert report.path[:2] == [str(artifact.code), str(artifact.runtime_sdk)]
    assert any(origin.startswith(f"{artifact.code}/flask/") for origin in report.origins)
    if native and artifact.combination.get("rds_engine") == "postgres":
        assert any(origin.startswith(f"{artifact.code}/psycopg_binary/") for origin in report.origins)


# The handler differs by backend, not by store: the smoke test through it once per backend.
SMOKE_COMBINATIONS = list({c["deployment"]: c for c in reversed(COMBINATIONS)}.values())[::-1]


class EventShim(http.server.BaseHTTPRequestHandler):
    """Serves HTTP by turning each request into an HTTP API (payload 2.0) event for the function."""

    function: LambdaContainer
    template: dict[str, Any]

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        event = with_path(self.template, path)
        event["rawQueryString"] = query
        event["queryStringParameters"] = dict(urllib.parse.parse_qsl(query)) or None
        event["headers"] = {
            **event["headers"],
            **{name.lower(): value for name, value in self.headers.items()},
        }
        response = self.function.invoke(event)
        content = response.get("body") or ""
        payload = base64.b64decode(content) if response.get("isBase64Encoded") else content.encode()
        self.send_response(response["statusCode"])
        for name, value in (response.get("headers") or {}).items():
            if name.lower() not in {"content-length", "connection"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.build
@pytest.mark.parametrize("combination", SMOKE_COMBINATIONS, ids=lambda combination: combination.name)
def test_make_smoke_passes_through_the_lambda_handler(
    combination: Combination, built: Callable[[Combination], Artifact], tmp_path: Path
) -> None:
    """`make smoke BASE_URL=...` against the built artifact's handler, each request an HTTP API event
    (a local shim in the test); and it fails on a base URL the API does not route."""
    artifact = built(combination)
    env = project_environment(artifact)
    with (
        LocalStage(env, artifact.project, "build") as stage,
        LambdaContainer(artifact, stage, tmp_path / "function.log") as function,
    ):
        shim = type(
            "Shim",
            (EventShim,),
            {"function": function, "template": load(artifact.project / "events" / "http-api-v2-health.json")},
        )
        server = http.server.HTTPServer(("127.0.0.1", 0), shim)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            base_url = f"http://127.0.0.1:{server.server_address[1]}"
            environ = env.environ(UV_OFFLINE="1")
            smoke = run(
                ["make", "smoke", f"BASE_URL={base_url}"], cwd=artifact.project, env=environ, timeout=120
            )
            unrouted = run(
                ["make", "smoke", f"BASE_URL={base_url}/nowhere"], cwd=artifact.project, env=environ
            )
        finally:
            server.shutdown()
            server.server_close()
        assert smoke.returncode == 0, f"{smoke.output}\nfunction output:\n{function.output()}"
        assert "3 of 3 checks passed" in smoke.output, smoke.output
        assert unrouted.returncode != 0, unrouted.output
        assert "0 of 3 checks passed" in unrouted.output, unrouted.output
        assert "HTTP 404" in unrouted.output, unrouted.output


def host_runs(artifact: Artifact) -> bool:
    """Whether this machine can load the artifact's native code (its architecture is the machine's)."""
    return bool(ARCHITECTURES[artifact.architecture]["wheel_arch"] == os.uname().machine)


def migrate_from_scratch(artifact: Artifact, environment: dict[str, str], log: Path) -> None:
    """The migration function, in its own container: the stage's schema down to nothing and back."""
    with LambdaContainer(artifact, environment, log, function="MigrateFunction") as migrations:
        try:
            down = migrations.invoke({"command": "downgrade", "revision": "base"})
            assert down["after"] == [], down
            up = migrations.invoke({})
            assert (up["before"], len(up["after"])) == ([], 1), up
        except (AssertionError, KeyError) as exc:
            raise AssertionError(f"migrations: {exc}\nfunction output:\n{migrations.output()}") from exc
        migrations.finish()


def allowed_origin(origin: str, artifact: Artifact, stdlib: list[str]) -> bool:
    """Whether a module was loaded from the artifact, the runtime's boto3 or the standard library."""
    if origin.startswith((f"{artifact.code}/", f"{artifact.runtime_sdk}/")):
        return True
    return any(
        origin.startswith(directory) and not origin.removeprefix(directory).startswith("site-packages/")
        for directory in stdlib
    )


def check_routes(function: LambdaContainer, events: Path, kind: str) -> None:
    health = function.invoke(load(events / f"{kind}-health.json"))
    assert health["statusCode"] == 200, health
    assert body(health) == {"status": "ok", "service": IDENTITY_SLUG, "stage": "build"}

    create_event = load(events / f"{kind}-create-question.json")
    created = function.invoke(create_event)
    assert created["statusCode"] == 201, created
    question = body(created)
    assert question["text"] == json.loads(create_event["body"])["text"]
    assert question["answer_count"] == 0

    listed = function.invoke(load(events / f"{kind}-list-questions.json"))
    assert listed["statusCode"] == 200, listed
    page = body(listed)
    assert page["items"][0]["id"] == question["id"], "the newest question is not listed first"
    assert len(page["items"]) <= 5

    read_event = with_path(load(events / f"{kind}-get-question.json"), f"/questions/{question['id']}")
    read = function.invoke(read_event)
    assert read["statusCode"] == 200, read
    assert body(read) == {**question, "answers": []}


def test_make_invoke_prints_the_response(artifact: Artifact) -> None:
    """The project's ``make invoke`` script as the Makefile runs it, with ``make dev``'s local stand-ins."""
    env = project_environment(artifact)
    completed = subprocess.run(
        [env.python, "-m", "dev.invoke", "events/http-api-v2-health.json"],
        cwd=artifact.project,
        # An AWS emulator of its own, on a free port, if the project has one.
        env=env.environ(LOCAL_AWS_PORT="0", PYTHONPATH=str(artifact.project / "src")),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    response = json.loads(completed.stdout)
    assert response["statusCode"] == 200, completed.stdout
    assert body(response)["service"] == IDENTITY_SLUG
    assert "REPORT Init:" in completed.stderr


# --- events --------------------------------------------------------------------------------------


def load(path: Path) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return event


def with_path(event: dict[str, Any], path: str) -> dict[str, Any]:
    """A copy of a sample event for another path (v2: rawPath; v1: path and its proxy parameter)."""
    event = copy.deepcopy(event)
    context = event["requestContext"]
    if event.get("version") == "2.0":
        event["rawPath"] = context["http"]["path"] = path
    else:
        event["path"] = path
        event["pathParameters"] = {"proxy": path.lstrip("/")}
        context["path"] = f"/{context['stage']}{path}"
    return event


def body(response: dict[str, Any]) -> Any:
    text = response.get("body") or ""
    if response.get("isBase64Encoded"):
        text = base64.b64decode(text).decode()
    return json.loads(text)
