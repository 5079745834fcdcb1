"""The build tier's machinery: which artifacts to build, how, and how to run them as Lambda would.

* ``BuildCache``: builds each combination once per session (shared by the
  xdist workers) with the project's own ``make build``, in the project's
  cached environment, uv offline when its cache has the wheels.
* ``LocalStage``: a stage in the generated project's own local stand-ins
  (``dev.local``: the AWS emulator, a fresh database on the test server).
* ``LambdaContainer``: the built artifact in a clean interpreter (``-I -S``,
  only the artifact and the runtime's boto3 on ``sys.path``), serving events
  one after another like a warm Lambda container.

Shared caches (the projects' environments, runtime boto3) live in the cache
directory of ``tests/support.py``, and the wheels in uv's cache; a second run
needs no network.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import yaml

from tests.build_codestar import Pipelines
from tests.build_zappa import build_with_zappa
from tests.combinations import Combination
from tests.support import (
    ProjectEnv,
    Result,
    cache_dir,
    clean_environ,
    file_lock,
    find_python,
    project_env,
    render_project,
    require_tool,
    require_uv,
    run,
    run_offline_first,
)

# A Lambda architecture as the machine name in wheel tags, the ELF machine
# number and CPython's extension suffix.
ARCHITECTURES: dict[str, dict[str, Any]] = {
    "arm64": {"wheel_arch": "aarch64", "machine": 183, "so_suffix": "aarch64-linux-gnu"},
    "x86_64": {"wheel_arch": "x86_64", "machine": 62, "so_suffix": "x86_64-linux-gnu"},
}


# --- shared, cached inputs -----------------------------------------------------------------------


def runtime_sdk(project: Path, python: Path) -> Path:
    """boto3 as the Lambda runtime provides it, at the project's pins (pure Python: one per set of pins).

    What the project's ``make runtime-sdk`` installs: its lock's ``lambda-runtime`` group.
    """
    uv = require_uv()
    export = run(
        [uv, "export", "--frozen", "--only-group", "lambda-runtime", "--no-header", "--no-annotate"],
        cwd=project,
        env=clean_environ(),
    )
    pins = _check(export, "exporting the runtime's boto3 from uv.lock").output
    if "boto3==" not in pins:
        raise BuildError(
            f"{project / 'uv.lock'} pins no boto3, which the runtime provides and the tests need"
        )
    digest = hashlib.sha256(pins.encode()).hexdigest()[:16]
    sdk = cache_dir() / "runtime-sdk" / digest
    with file_lock(sdk.with_suffix(".lock")):
        if not (sdk / ".installed").exists():
            shutil.rmtree(sdk, ignore_errors=True)
            sdk.mkdir(parents=True)
            requirements = sdk.with_suffix(".txt")
            requirements.write_text(pins, encoding="utf-8")
            install: list[str | Path] = [uv, "pip", "install", "--quiet", "--no-deps", "--python", python]
            install += ["--target", sdk, "--requirement", requirements]
            _check(
                run_offline_first(install, cwd=project, env=clean_environ()), "installing the runtime's boto3"
            )
            (sdk / ".installed").touch()  # the marker the project's Makefile uses too
    return sdk


def _check(result: Result, what: str) -> Result:
    if result.returncode != 0:
        raise BuildError(f"{what} failed:\n{result.describe()}")
    return result


class BuildError(RuntimeError):
    pass


API_FUNCTION = "ApiFunction"


# --- building ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Artifact:
    """A combination's built Lambda artifact."""

    combination: Combination
    project: Path
    code: Path  # the directory Lambda gets as /var/task
    handler: str  # the function's Handler, from the built template
    python: Path  # the runtime's interpreter (python3.X)
    runtime_sdk: Path
    # What the build ran, with its seconds (codestar: each buildspec command).
    steps: dict[str, float]
    # The stack's other functions (the migration function of storage=rds): name -> (code, handler).
    others: dict[str, tuple[Path, str]] = field(default_factory=dict)

    def function(self, name: str) -> tuple[Path, str]:
        """The code directory and handler of the function ``name`` (ApiFunction: the API)."""
        return (self.code, self.handler) if name == API_FUNCTION else self.others[name]

    @property
    def build_seconds(self) -> float:
        return sum(self.steps.values())

    @property
    def python_version(self) -> str:
        return self.combination["python_version"]

    @property
    def architecture(self) -> str:
        return self.combination["architecture"]

    @property
    def package(self) -> str:
        """The app's package directory name: the one package under the project's src/."""
        (package,) = (path.name for path in (self.project / "src").iterdir() if path.is_dir())
        return package

    def zipped_size(self) -> int:
        """Bytes of the zip ``sam package`` uploads (deflated, as SAM zips)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(self.code.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(self.code))
        return len(buffer.getvalue())


def build_with_sam(combination: Combination, workdir: Path) -> Artifact:
    """Render the project and run its ``make build`` (``sam build``) with the pinned SAM CLI.

    In the project's cached environment, which is what its ``.venv`` would
    hold; uv offline when its cache has Lambda's wheels.
    """
    version = combination["python_version"]
    project = render_project(combination, workdir)
    env = project_env(project, version)
    sdk = runtime_sdk(project, env.python)
    built = _check(
        run_offline_first(["make", "build", f"SAM={require_tool('sam')}"], cwd=project, env=env.environ()),
        "make build",
    )
    return sam_artifact(combination, project, sdk, {"make build": built.seconds})


def sam_artifact(combination: Combination, project: Path, sdk: Path, steps: dict[str, float]) -> Artifact:
    """The artifact ``sam build`` left in ``project``: its functions' code directories and handlers."""
    # Where the Makefile's runtime-sdk target would put it, so `make invoke` finds it.
    (project / ".aws-sam" / "runtime-sdk").symlink_to(sdk, target_is_directory=True)
    built = yaml.safe_load((project / ".aws-sam" / "build" / "template.yaml").read_text(encoding="utf-8"))
    functions = {
        name: (
            project / ".aws-sam" / "build" / resource["Properties"]["CodeUri"],
            resource["Properties"]["Handler"],
        )
        for name, resource in built["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    code, handler = functions.pop(API_FUNCTION)
    return Artifact(
        combination=combination,
        project=project,
        code=code,
        handler=handler,
        python=find_python(combination["python_version"]),
        runtime_sdk=sdk,
        others=functions,
        steps=steps,
    )


class BuildCache:
    """Builds each combination once per session, shared by all xdist workers (as ``RenderCache``).

    A failed build is remembered too, so the combination's other tests report
    its output instead of building again. A codestar build is the rest of the
    combination's pipeline, whose checks the render tier may have run already.
    """

    def __init__(self, root: Path, pipelines: Pipelines) -> None:
        self.root = root
        self.builders: dict[str, Callable[[Combination, Path], Artifact]] = {
            "sam": build_with_sam,
            "zappa": build_with_zappa,
            "codestar": pipelines.build,
        }

    def get(self, combination: Combination) -> Artifact:
        base = self.root / combination.name
        manifest = base / "manifest.json"
        with file_lock(self.root / f"{combination.name}.lock"):
            if not manifest.exists():
                shutil.rmtree(base, ignore_errors=True)
                base.mkdir(parents=True)
                manifest.write_text(json.dumps(self._build(combination, base / "out")), encoding="utf-8")
        data = json.loads(manifest.read_text(encoding="utf-8"))
        if "error" in data:
            raise BuildError(data["error"])
        return Artifact(
            combination=combination,
            project=Path(data["project"]),
            code=Path(data["code"]),
            handler=data["handler"],
            python=Path(data["python"]),
            runtime_sdk=Path(data["runtime_sdk"]),
            others={name: (Path(code), handler) for name, (code, handler) in data["others"].items()},
            steps=data["steps"],
        )

    def _build(self, combination: Combination, workdir: Path) -> dict[str, Any]:
        builder = self.builders.get(combination["deployment"])
        if builder is None:
            return {"error": f"the build tier has no builder for deployment={combination['deployment']}"}
        try:
            artifact = builder(combination, workdir)
        except BuildError as exc:
            return {"error": str(exc)}
        return {
            "project": str(artifact.project),
            "code": str(artifact.code),
            "handler": artifact.handler,
            "python": str(artifact.python),
            "runtime_sdk": str(artifact.runtime_sdk),
            "steps": artifact.steps,
            "others": {name: [str(code), handler] for name, (code, handler) in artifact.others.items()},
        }


# --- a local stage -------------------------------------------------------------------------------

# Runs in the project's environment, with the project's own dev/local.py: its
# stand-ins for the test run (the AWS emulator, a fresh database on the test
# server) and a stage in them, whose environment it prints. They last until
# its standard input closes.
_LOCAL_STAGE = """
import json, sys
from dev import local
with local.services("test"):
    print(json.dumps(local.environment(sys.argv[1])), flush=True)
    sys.stdin.read()
"""


class LocalStage:
    """A stage in the generated project's local stand-ins, in a process of its own for a test."""

    def __init__(self, env: ProjectEnv, project: Path, stage: str) -> None:
        self.env = env
        self.project = project
        self.stage = stage
        self.environment: dict[str, str] = {}
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None

    def __enter__(self) -> dict[str, str]:
        self._log = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._process = subprocess.Popen(
            [self.env.python, "-c", _LOCAL_STAGE, self.stage],
            cwd=self.project,
            # As `make dev` runs it: the app's package from src/.
            env=self.env.environ(PYTHONPATH=str(self.project / "src")),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        try:
            self.environment = json.loads(line)
        except json.JSONDecodeError:
            self._process.kill()
            self._process.wait()
            _close_pipes(self._process)
            self._log.seek(0)
            output = self._log.read()[-5000:]
            self._log.close()
            raise BuildError(f"the project's local {self.stage} stage did not start:\n{output}") from None
        return self.environment

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is not None:
            assert self._process.stdin is not None
            self._process.stdin.close()  # the stand-ins stop (and the database is dropped) when input ends
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            _close_pipes(self._process)
        if self._log is not None:
            self._log.close()


def project_environment(artifact: Artifact) -> ProjectEnv:
    return project_env(artifact.project, artifact.python_version)


# --- a Lambda container --------------------------------------------------------------------------

# Runs in the clean interpreter: only the standard library until the artifact
# and the runtime's boto3 are put on sys.path. One JSON event per input line,
# one JSON response per output line; the function's own output (its logs)
# goes to stderr. At the end, a report of where every loaded module came from.
# With AWS_CALL_RECORDER, the project's call recorder (tests/aws_calls.py) logs
# every AWS call to AWS_CALL_LOG; the function sees neither variable.
_RUNTIME = """
import importlib, importlib.util, json, os, sys, time, uuid
handler_name, code_dirs = sys.argv[1], sys.argv[2:]
sys.path[:0] = code_dirs
recorder = os.environ.pop("AWS_CALL_RECORDER", "")
if recorder:
    spec = importlib.util.spec_from_file_location("aws_calls", recorder)
    aws_calls = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(aws_calls)
    aws_calls.record_if_asked()
os.environ.pop("AWS_CALL_LOG", None)
responses = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
module_name, _, function_name = handler_name.rpartition(".")
handler = getattr(importlib.import_module(module_name), function_name)

class Context:
    function_name = "build-tier"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:build-tier"
    log_group_name = "/aws/lambda/build-tier"
    log_stream_name = "build-tier"

    def __init__(self):
        self.aws_request_id = str(uuid.uuid4())
        self.deadline = time.monotonic() + 10

    def get_remaining_time_in_millis(self):
        return int((self.deadline - time.monotonic()) * 1000)

for line in sys.stdin:
    responses.write(json.dumps(handler(json.loads(line), Context())) + "\\n")
    responses.flush()

origins = sorted({
    getattr(module, "__file__", None) or ""
    for module in list(sys.modules.values())
})
responses.write(json.dumps({"origins": [origin for origin in origins if origin], "path": sys.path}) + "\\n")
"""


@dataclass(frozen=True)
class ModuleReport:
    origins: list[str]  # the file of every module loaded, stdlib included
    path: list[str]


class LambdaContainer:
    """The built artifact in ``python3.X -I -S``: a warm container that handles events in turn."""

    def __init__(
        self,
        artifact: Artifact,
        environment: Mapping[str, str],
        log: Path,
        function: str = API_FUNCTION,
        calls: Path | None = None,
    ) -> None:
        """``calls``: where the project's recorder writes every AWS call the function makes."""
        self.artifact = artifact
        self.code, self.handler = artifact.function(function)
        recording = (
            {
                "AWS_CALL_RECORDER": str(artifact.project / "tests" / "aws_calls.py"),
                "AWS_CALL_LOG": str(calls),
            }
            if calls is not None
            else {}
        )
        self.environment = {
            **environment,
            **recording,
            "LAMBDA_TASK_ROOT": str(self.code),
            "AWS_LAMBDA_FUNCTION_NAME": "build-tier",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{artifact.python_version}",
            "TZ": ":UTC",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        self.log = log
        self._log_file: IO[str] | None = None
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> LambdaContainer:
        self._log_file = self.log.open("w", encoding="utf-8")
        command = [
            self.artifact.python,
            "-I",
            "-S",
            "-c",
            _RUNTIME,
            self.handler,
            self.code,
            self.artifact.runtime_sdk,
        ]
        self._process = subprocess.Popen(
            [str(part) for part in command],
            cwd=self.log.parent,
            env=self.environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
        )
        return self

    def invoke(self, event: Mapping[str, Any]) -> dict[str, Any]:
        process = self._running()
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(json.dumps(event) + "\n")
        process.stdin.flush()
        line = process.stdout.readline()
        if not line:
            raise BuildError(f"the function died; its output:\n{self.output()}")
        response: dict[str, Any] = json.loads(line)
        return response

    def finish(self) -> ModuleReport:
        """Stop the container; where its modules came from."""
        process = self._running()
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.close()
        line = process.stdout.readline()
        process.wait(timeout=30)
        if not line:
            raise BuildError(f"the function died; its output:\n{self.output()}")
        report = json.loads(line)
        return ModuleReport(origins=report["origins"], path=report["path"])

    def output(self) -> str:
        if self._log_file is not None:
            self._log_file.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")[-20_000:]

    def _running(self) -> subprocess.Popen[str]:
        if self._process is None:
            raise RuntimeError("the container is not started")
        return self._process

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
                self._process.wait()
            _close_pipes(self._process)
        if self._log_file is not None:
            self._log_file.close()


def _close_pipes(process: subprocess.Popen[str]) -> None:
    for stream in (process.stdin, process.stdout):
        if stream is not None and not stream.closed:
            stream.close()


def stdlib_dirs(python: Path) -> list[str]:
    """Where ``python``'s standard library lives (what ``-I -S`` leaves on ``sys.path``)."""
    probe = "import json, sys; print(json.dumps(sys.path))"
    result = run([python, "-I", "-S", "-c", probe], cwd=python.parent)
    if result.returncode != 0:
        raise BuildError(f"asking {python} for its path failed:\n{result.describe()}")
    paths: list[str] = json.loads(result.output.strip().splitlines()[-1])
    return paths


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and modification time."""
    return {
        str(path.relative_to(root)): (stat.st_size, stat.st_mtime_ns)
        for path in root.rglob("*")
        if path.is_file() and (stat := path.stat())
    }


def runtime_magic(python: Path) -> bytes:
    probe = "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"
    result = run([python, "-I", "-S", "-c", probe], cwd=python.parent)
    if result.returncode != 0:
        raise BuildError(f"asking {python} for its bytecode magic failed:\n{result.describe()}")
    return bytes.fromhex(result.output.strip())
