"""deployment=codestar: the project's buildspec.yml, run as CodeBuild runs it, shared by the tiers.

``Pipelines`` runs every command of a combination's ``buildspec.yml`` phases
(install, pre_build, build, post_build) in order, in one working copy, with
the environment the pipeline's CodeBuild project gives it (STAGE,
ARTIFACT_BUCKET, PERMISSIONS_BOUNDARY_ARN{, the stage's secrets}), uv offline
when its cache has what a command needs. A codestar project's own checks are
its pipeline's first phases (``make install``, ``make lint``, ``make test``):
the render tier runs those, and the build tier goes on in the same working
copy, as one CodeBuild build runs every phase in one checkout. So each
command runs once per combination and session, whichever tier asks first.
What differs from CodeBuild, and why:

* The machine's own set-up: CodeBuild starts the test database in Docker
  (``docker ...`` commands) and installs the pinned uv (``pip install
  uv==...``); this machine already serves PostgreSQL and MariaDB at those
  addresses, runs no Docker and has uv, so those commands are the only ones
  left out.
* The upload (``make package``): ``sam package`` sends the code to an S3
  bucket in the AWS emulator (moto) instead of AWS, so it runs too and writes
  ``template-export.yml``.
* The tools' environments: the project's is the shared cached one of its
  lock (``UV_PROJECT_ENVIRONMENT``), and ``.venv-sam`` the pinned SAM CLI's,
  so ``make install`` finds them installed.
* ``make test`` writes pytest's report (``PYTEST_ADDOPTS``), so the render
  tier can check what ran.

The artifact is ``sam build``'s, as with ``build_with_sam``, so the build
tier's checks and invokes run on it unchanged.
"""

from __future__ import annotations

import http.client
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tests.combinations import Combination
from tests.support import (
    IDENTITY_SLUG,
    ProjectEnv,
    file_lock,
    mypy_cache,
    project_env,
    render_project,
    require_tool,
    run_offline_first,
)

if TYPE_CHECKING:
    from tests.build_support import Artifact

BUILDSPEC = "buildspec.yml"
PHASES = ("install", "pre_build", "build", "post_build")
# The last phase that checks the project before it is built: the render tier runs the pipeline this far.
CHECKS_THROUGH = "pre_build"
STAGE = "dev"
ARTIFACT_BUCKET = "pipeline-artifacts"
# What CodeBuild reads from the stage's Secrets Manager secret (secrets=env).
SECRETS = {"CURSOR_SIGNING_KEY": "s" * 48, "ADMIN_TOKEN": "", "DATABASE_PASSWORD": "p" * 24}
# The stage's permissions boundary, which the pipeline's build project gives the build.
PERMISSIONS_BOUNDARY_ARN = f"arn:aws:iam::123456789012:policy/{IDENTITY_SLUG}-{STAGE}-permissions-boundary"
# A network of the stage, filled in as the README asks (storage=rds).
NETWORK = {"VpcId": "vpc-0a1b2c3d", "PrivateSubnetIds": "subnet-0a1b2c3d,subnet-4e5f6a7b"}


def buildspec_commands(project: Path) -> list[tuple[str, str]]:
    """``(phase, command)`` for every command of the buildspec's phases, in the order CodeBuild runs them."""
    spec = yaml.safe_load((project / BUILDSPEC).read_text(encoding="utf-8"))
    return [
        (phase, command) for phase in PHASES for command in spec["phases"].get(phase, {}).get("commands", [])
    ]


def sets_up_the_machine(command: str) -> bool:
    """What CodeBuild's machine needs and this one has: the test database (in Docker there), uv."""
    return command.startswith(("docker ", "pip install ")) or "docker exec" in command


@dataclass(frozen=True)
class PipelineRun:
    """Where a combination's pipeline stands."""

    project: Path  # the working copy
    phases: tuple[str, ...]  # the phases that passed, in order
    steps: dict[str, float]  # "phase: command" -> seconds
    failure: str | None  # the command that failed, with its output
    junit: Path  # pytest's report of `make test`
    runtime_sdk: Path


class Pipelines:
    """Each codestar combination's CodeBuild build, phase by phase, shared by the xdist workers.

    ``through(combination, phase)`` runs what is left of the phases up to
    ``phase`` and says where the pipeline stands. As the render and build
    caches: a lock per combination, the state in a file; a failed command
    stops the pipeline, and is reported again to whoever asks next.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def through(self, combination: Combination, last: str) -> PipelineRun:
        base = self.root / combination.name
        state_file = base / "state.json"
        junit = base / "pytest.xml"  # `make test`'s report
        with file_lock(self.root / f"{combination.name}.lock"):
            state = (
                json.loads(state_file.read_text(encoding="utf-8"))
                if state_file.exists()
                else _check_out(combination, base)
            )
            for phase in PHASES[: PHASES.index(last) + 1]:
                if state["failure"] is None and phase not in state["phases"]:
                    state["failure"] = _run_phase(combination, state, phase, junit)
                    if state["failure"] is None:
                        state["phases"].append(phase)
            partial = state_file.with_suffix(".partial")
            partial.write_text(json.dumps(state), encoding="utf-8")
            partial.replace(state_file)
        return PipelineRun(
            project=Path(state["project"]),
            phases=tuple(state["phases"]),
            steps=state["steps"],
            failure=state["failure"],
            junit=junit,
            runtime_sdk=Path(state["runtime_sdk"]),
        )

    def build(self, combination: Combination, workdir: Path) -> Artifact:
        """The build tier's builder: every phase, and the artifact ``sam build`` left in the working copy.

        ``workdir`` stays empty: the working copy is the pipeline's own, where
        the render tier may already have run the checks.
        """
        from tests.build_support import BuildError, sam_artifact

        pipeline = self.through(combination, PHASES[-1])
        if pipeline.failure is not None:
            raise BuildError(pipeline.failure)
        return sam_artifact(combination, pipeline.project, pipeline.runtime_sdk, pipeline.steps)


def _check_out(combination: Combination, base: Path) -> dict[str, Any]:
    """The working copy, as CodeBuild checks it out, with the shared tools and the stage's network."""
    # Imported here: build_support imports this module.
    from tests.build_support import runtime_sdk

    shutil.rmtree(base, ignore_errors=True)  # an earlier attempt stopped half-way
    project = render_project(combination, base / "checkout")
    env = project_env(project, combination["python_version"])
    sam_venv = require_tool("sam").resolve().parent.parent
    (project / ".venv-sam").symlink_to(sam_venv, target_is_directory=True)
    if combination["storage"] == "rds":
        _fill_in_network(project / f"template-configuration.{STAGE}.json")
    return {
        "project": str(project),
        "environment": str(env.path),
        "runtime_sdk": str(runtime_sdk(project, env.python)),
        "phases": [],
        "steps": {},
        "failure": None,
    }


def _run_phase(combination: Combination, state: dict[str, Any], phase: str, junit: Path) -> str | None:
    """Run the phase's commands in order; the first failure, described, or None."""
    project = Path(state["project"])
    environ = ProjectEnv(Path(state["environment"])).environ(
        STAGE=STAGE,
        ARTIFACT_BUCKET=ARTIFACT_BUCKET,
        PERMISSIONS_BOUNDARY_ARN=PERMISSIONS_BOUNDARY_ARN,
        CODEBUILD_BUILD_SUCCEEDING="1",
        SAM=str(require_tool("sam")),
        AWS_DEFAULT_REGION=combination.answers.get("aws_region", "us-east-1"),
    )
    if combination["secrets"] == "env":
        environ.update(SECRETS)
    with _phase_environment(combination, project, phase, junit) as extra:
        environ.update(extra)
        for command_phase, command in buildspec_commands(project):
            if command_phase != phase or sets_up_the_machine(command):
                continue
            result = run_offline_first(["bash", "-eo", "pipefail", "-c", command], cwd=project, env=environ)
            state["steps"][f"{phase}: {command}"] = round(result.seconds, 1)
            if result.returncode != 0:
                return f"{phase}: {command} failed:\n{result.describe()}"
    return None


@contextmanager
def _phase_environment(
    combination: Combination, project: Path, phase: str, junit: Path
) -> Iterator[dict[str, str]]:
    """What a phase needs besides CodeBuild's variables."""
    if phase == "pre_build":
        # `make lint` runs mypy: with the render tier's cache for this combination, as a developer's.
        version = combination["python_version"]
        with mypy_cache(combination.name, project_env(project, version)) as cache:
            yield {"MYPY_CACHE_DIR": str(cache), "PYTEST_ADDOPTS": f"--junitxml={junit}"}
    elif phase == "post_build":
        with _artifact_bucket() as aws:  # `make package` uploads to it
            yield aws
    else:
        yield {}


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
