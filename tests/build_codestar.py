"""The build tier's builder for deployment=codestar: the project's buildspec.yml, run as CodeBuild runs it.

``build_with_codestar`` renders the project and runs every command of its
``buildspec.yml`` phases (install, pre_build, build, post_build) in order,
with the environment the pipeline's CodeBuild project gives it (STAGE,
ARTIFACT_BUCKET{, the stage's secrets}), offline from the shared wheelhouse.
What differs from CodeBuild, and why:

* The test database: CodeBuild starts one in Docker (``docker ...`` commands);
  this machine already serves PostgreSQL and MariaDB at those addresses and
  runs no Docker, so those commands are the only ones left out.
* The upload (``make package``): ``sam package`` sends the code to an S3
  bucket in the AWS emulator (moto) instead of AWS, so it runs too and writes
  ``template-export.yml``.
* The tools' environments: ``.venv`` and ``.venv-sam`` are the shared cached
  ones (same pins), so ``make install`` finds them installed.

The artifact is ``sam build``'s, as with ``build_with_sam``, so the build
tier's checks and invokes run on it unchanged.
"""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from tests.combinations import Combination
from tests.support import mypy_cache, project_env, render_project, require_tool, run

if TYPE_CHECKING:
    from tests.build_support import Artifact

BUILDSPEC = "buildspec.yml"
PHASES = ("install", "pre_build", "build", "post_build")
STAGE = "dev"
ARTIFACT_BUCKET = "pipeline-artifacts"
# What CodeBuild reads from the stage's Secrets Manager secret (secrets=env).
SECRETS = {"CURSOR_SIGNING_KEY": "s" * 48, "ADMIN_TOKEN": "", "DATABASE_PASSWORD": "p" * 24}
# A network of the stage, filled in as the README asks (storage=rds).
NETWORK = {"VpcId": "vpc-0a1b2c3d", "PrivateSubnetIds": "subnet-0a1b2c3d,subnet-4e5f6a7b"}


def buildspec_commands(project: Path) -> list[tuple[str, str]]:
    """``(phase, command)`` for every command of the buildspec's phases, in the order CodeBuild runs them."""
    spec = yaml.safe_load((project / BUILDSPEC).read_text(encoding="utf-8"))
    return [
        (phase, command) for phase in PHASES for command in spec["phases"].get(phase, {}).get("commands", [])
    ]


def needs_docker(command: str) -> bool:
    """The test database's commands: CodeBuild runs it in Docker; this machine serves one already."""
    return command.startswith("docker ") or "docker exec" in command


def build_with_codestar(combination: Combination, workdir: Path) -> Artifact:
    # Imported here: build_support imports this module for its BUILDERS.
    from tests.build_support import _check, _pip_environ, build_python, runtime_sdk, sam_artifact, wheelhouse

    version = combination["python_version"]
    project = render_project(combination, workdir)
    python = build_python(version)
    house = wheelhouse(project / "requirements.txt", python, version, combination["architecture"])
    sdk = runtime_sdk(project, python)
    _use_shared_environments(project, version)
    if combination["storage"] == "rds":
        _fill_in_network(project / f"template-configuration.{STAGE}.json")

    environ = _pip_environ(house, offline=True)
    environ.update(
        STAGE=STAGE,
        ARTIFACT_BUCKET=ARTIFACT_BUCKET,
        CODEBUILD_BUILD_SUCCEEDING="1",
        BUILD_PYTHON=str(python),
        SAM=str(require_tool("sam")),
        AWS_DEFAULT_REGION=combination.answers.get("aws_region", "us-east-1"),
    )
    if combination["secrets"] == "env":
        environ.update(SECRETS)
    steps: dict[str, float] = {}
    # `make lint` runs mypy: with the render tier's cache for this combination, as a developer's.
    with _artifact_bucket() as aws, mypy_cache(combination.name, project_env(project, version)) as cache:
        environ.update(aws, MYPY_CACHE_DIR=str(cache))
        for phase, command in buildspec_commands(project):
            if needs_docker(command):
                continue
            result = _check(
                run(["bash", "-eo", "pipefail", "-c", command], cwd=project, env=environ),
                f"{phase}: {command}",
            )
            steps[f"{phase}: {command}"] = round(result.seconds, 1)
    return sam_artifact(combination, project, sdk, steps)


def _use_shared_environments(project: Path, version: str) -> None:
    """``.venv`` and ``.venv-sam`` as the cached environments of the same pins, already installed."""
    env = project_env(project, version)
    (project / ".venv").symlink_to(env.path, target_is_directory=True)
    sam_venv = require_tool("sam").resolve().parent.parent
    (project / ".venv-sam").symlink_to(sam_venv, target_is_directory=True)
    # The Makefile's marker of an installed .venv, newer than the requirements it was made from.
    marker = env.path / ".installed"
    marker.touch()
    os.utime(marker)


def _fill_in_network(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    document["Parameters"].update(NETWORK)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


@contextmanager
def _artifact_bucket() -> Iterator[dict[str, str]]:
    """The pipeline's artifact bucket in the AWS emulator; the environment that points the SAM CLI at it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        # CreateBucket is a PUT of the bucket's path; the emulator takes it unsigned.
        connection = http.client.HTTPConnection(host, port, timeout=30)
        connection.request("PUT", f"/{ARTIFACT_BUCKET}")
        if connection.getresponse().status != 200:
            raise RuntimeError("the AWS emulator did not create the artifact bucket")
        connection.close()
        yield {
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
    finally:
        server.stop()
