"""What the tiers share: rendering a combination, the generated projects'
virtualenvs, the external tools, and running commands in a rendered project.

Nothing here writes inside the template repository: rendered projects go to
pytest's temporary directories, and the virtualenvs and tool installs to the
cache directory (``$SERVERLESS_FLASK_CACHE``, by default
``${XDG_CACHE_HOME:-~/.cache}/serverless-flask``), where a second run finds
them ready.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.combinations import TEMPLATE_DIR, Combination

PROJECT_TEMPLATE = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
PACKAGE_TEMPLATE = "{{cookiecutter.package_name}}"

# The identity every combination is rendered with. Deliberately not the
# defaults, so a name or region hard-coded in the template shows up, and with
# what the rules allow and every generated file must escape: quotes of every
# kind, a backslash at the end, non-ASCII letters and punctuation ruff takes for
# ASCII look-alikes, and characters that mean something in YAML, Markdown and HTML.
IDENTITY: dict[str, str] = {
    "project_name": "“Quiz” Board Service",
    "description": 'Answers the team’s "questions" about Lambda: <fast> & 100% *safe* – #1 \\',
    "author_name": 'Zoë "Zed" O\'Brien',
    "author_email": "zoe.o'brien@example.org",
    "aws_region": "eu-west-1",
}
IDENTITY_SLUG = "quiz-board-service"
IDENTITY_PACKAGE = "quiz_board_service"


def cache_dir() -> Path:
    configured = os.environ.get("SERVERLESS_FLASK_CACHE")
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "serverless-flask"


# Units of work (xdist groups, scheduled in conftest.py) that share one session-wide result:
# the scans of every project (checkov, cfn-lint, sam validate), and the app's checks with
# the browser tests, which share its node_modules. And one long test with a unit of its own,
# so that it is handed out among the long units, not last: the answers' property test.
SCANS = "scans"
FRONTEND_CHECKS = "frontend"
ANSWERS = "answers"
# The fuzz tier's runs, one unit each: `fuzz:<store>`.
FUZZ = "fuzz"

# `.ci/run` sets this to the tiers a full run must contain; a tier that ran no
# test (a missing file, a marker that deselected it) then fails the run (conftest.py).
REQUIRED_TIERS_ENV = "SERVERLESS_FLASK_REQUIRED_TIERS"


def collect_only(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A pytest of its own that only collects the template's tests (``args``), ``env`` added to this one's.

    Serially, and without .ci/run's tier requirement, which is not for a run that only collects.
    """
    environ = {key: value for key, value in os.environ.items() if key != REQUIRED_TIERS_ENV}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-n0", "-p", "no:cacheprovider", *args],
        cwd=TEMPLATE_DIR,
        env={**environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def load_hook(name: str) -> ModuleType:
    """Import ``hooks/<name>.py`` (hooks/ is not a package; the hooks are importable unrendered)."""
    path = TEMPLATE_DIR / "hooks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"hooks_{name}", path)
    assert spec is not None, f"cannot import {path}"
    assert spec.loader is not None, f"cannot import {path}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (the pytest-xdist workers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class SessionResult:
    """A JSON result computed once per test session, by whichever xdist worker asks first.

    For a tool whose start-up costs more than its work (checkov, cfn-lint): one
    run over every combination's files, then each combination's test reads its
    own part. ``path`` is in a directory common to the session's workers.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, compute: Callable[[], Mapping[str, Any]]) -> dict[str, Any]:
        with file_lock(self.path.with_name(self.path.name + ".lock")):
            if not self.path.exists():
                started = time.perf_counter()
                result = {**compute(), "seconds": round(time.perf_counter() - started, 1)}
                partial = self.path.with_name(self.path.name + ".partial")
                partial.write_text(json.dumps(result), encoding="utf-8")
                partial.replace(self.path)
        loaded: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return loaded


# --- rendering -----------------------------------------------------------------------------------


def render_answers(combination: Combination) -> dict[str, str]:
    return {**IDENTITY, **combination.answers}


def jinja_literal(value: str) -> str:
    """``value`` as a Jinja expression that renders back to exactly ``value``.

    Cookiecutter renders every answer given on its command line or in ``extra_context`` as a
    template (so derived defaults work); it does not render what a user types at its questions.
    This gives an answer as typed: ``{{`` in it stays two braces.
    """
    escaped = value.encode("unicode-escape").decode("ascii").replace('"', '\\"')
    return '{{ "' + escaped + '" }}'


def render_project(
    answers: Combination | Mapping[str, str], output_dir: Path, *, template: Path = TEMPLATE_DIR
) -> Path:
    """Generate a project with cookiecutter's API, as a user would with --no-input.

    ``answers`` is a Combination (rendered with ``IDENTITY``) or a plain dict
    of answers (the rest default). Returns the project directory, inside
    ``output_dir``, where cookiecutter's config and replay files go too.
    """
    from cookiecutter.main import cookiecutter

    given = render_answers(answers) if isinstance(answers, Combination) else dict(answers)
    output_dir.mkdir(parents=True, exist_ok=True)
    config = output_dir / ".cookiecutter-config.yaml"
    config.write_text(
        f"cookiecutters_dir: {json.dumps(str(output_dir / '.cookiecutters'))}\n"
        f"replay_dir: {json.dumps(str(output_dir / '.replay'))}\n",
        encoding="utf-8",
    )
    project = cookiecutter(
        str(template), no_input=True, extra_context=given, output_dir=str(output_dir), config_file=str(config)
    )
    return Path(project)


@dataclass(frozen=True)
class RenderedProject:
    """A rendered project, shared read-only by every test of its combination."""

    combination: Combination
    path: Path
    answers: dict[str, str]  # every answer, the derived slug and package name included
    files: tuple[str, ...]  # relative paths of the files as rendered, before any tool ran
    empty_dirs: tuple[str, ...]  # directories rendered without a file in them
    seconds: float

    @property
    def name(self) -> str:
        return self.combination.name

    def text_files(self) -> Iterator[tuple[str, str]]:
        """``(relative path, content)`` for every rendered file that is UTF-8 text."""
        for relative in self.files:
            try:
                yield relative, (self.path / relative).read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue

    def copy_to(self, destination: Path) -> Path:
        """A pristine copy of the rendered files (no tool output) at ``destination``."""
        for relative in self.files:
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.path / relative, target)
        return destination


def list_files(root: Path) -> tuple[str, ...]:
    return tuple(sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()))


def list_empty_dirs(root: Path) -> tuple[str, ...]:
    return tuple(
        sorted(
            str(path.relative_to(root))
            for path in root.rglob("*")
            if path.is_dir() and not any(path.iterdir())
        )
    )


class RenderCache:
    """Renders each combination once per test session, shared by all xdist workers.

    ``root`` is a directory common to the workers of one session; a lock per
    combination makes the first worker render and the others wait and reuse.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def get(self, combination: Combination) -> RenderedProject:
        base = self.root / combination.name
        manifest = base / "manifest.json"
        with file_lock(self.root / f"{combination.name}.lock"):
            if not manifest.exists():
                if base.exists():
                    shutil.rmtree(base)  # an earlier attempt failed half-way
                started = time.perf_counter()
                project = render_project(combination, base / "out")
                seconds = time.perf_counter() - started
                listing = {"files": list_files(project), "empty_dirs": list_empty_dirs(project)}
                manifest.write_text(
                    json.dumps({"path": str(project), **listing, "seconds": seconds}), encoding="utf-8"
                )
        data = json.loads(manifest.read_text(encoding="utf-8"))
        return RenderedProject(
            combination=combination,
            path=Path(data["path"]),
            answers={
                **render_answers(combination),
                "project_slug": IDENTITY_SLUG,
                "package_name": IDENTITY_PACKAGE,
            },
            files=tuple(data["files"]),
            empty_dirs=tuple(data["empty_dirs"]),
            seconds=data["seconds"],
        )


# --- commands ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    cwd: Path
    returncode: int
    output: str  # stdout and stderr, interleaved
    seconds: float

    def describe(self, tail: int = 120) -> str:
        lines = self.output.rstrip().splitlines()
        shown = lines[-tail:]
        cut = f"[... {len(lines) - tail} earlier lines ...]\n" if len(lines) > tail else ""
        return (
            f"$ {' '.join(self.args)}   (in {self.cwd}, exit {self.returncode}, {self.seconds:.1f} s)\n"
            + cut
            + "\n".join(shown)
        )


def run(
    args: Sequence[str | Path],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
) -> Result:
    command = tuple(str(arg) for arg in args)
    started = time.perf_counter()
    try:
        completed = subprocess.run(
            command,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.output if isinstance(exc.output, str) else (exc.output or b"").decode(errors="replace")
        return Result(command, cwd, -1, f"{output}\n[timed out after {timeout:.0f} s]", timeout)
    return Result(command, cwd, completed.returncode, completed.stdout, time.perf_counter() - started)


def check(result: Result, what: str) -> Result:
    if result.returncode != 0:
        pytest.fail(f"{what} failed:\n{result.describe()}", pytrace=False)
    return result


# Variables that could point a tool at real AWS credentials or at this
# (the template's) virtualenv. Generated projects must work without them.
_SCRUBBED = (
    "VIRTUAL_ENV",
    "UV_PROJECT_ENVIRONMENT",
    "PYTHONPATH",
    "PYTHONHOME",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
)


def clean_environ(extra_path: Sequence[Path] = (), **overrides: str) -> dict[str, str]:
    """The environment for a command in a generated project.

    Without this virtualenv's bin directory on PATH, without credentials and
    with the AWS config files pointed at nothing, so no command can reach a
    real account and nothing resolves to the template's own tools by accident.
    """
    own_bin = str(Path(sys.prefix) / "bin")
    env = {key: value for key, value in os.environ.items() if key not in _SCRUBBED}
    path = [entry for entry in env.get("PATH", "").split(os.pathsep) if entry and entry != own_bin]
    env["PATH"] = os.pathsep.join([*(str(p) for p in extra_path), *path])
    env["AWS_CONFIG_FILE"] = os.devnull
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["SAM_CLI_TELEMETRY"] = "0"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(overrides)
    return env


# --- tools ---------------------------------------------------------------------------------------


def tools_bin() -> Path:
    return cache_dir() / "tools" / "bin"


def require_tool(name: str) -> Path:
    """An external tool (sam, checkov): ``make tools`` installs the pinned versions in the cache."""
    for candidate in (tools_bin() / name, shutil.which(name)):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    pytest.fail(
        f"{name} is not installed: run `make tools` (pinned versions into {tools_bin()}), "
        f"or put {name} on PATH",
        pytrace=False,
    )


def require_uv() -> Path:
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        pytest.fail("uv is not installed: `python3 -m pip install uv` (or see README.md)", pytrace=False)
    return Path(found)


def find_python(version: str) -> Path:
    """The interpreter for a generated project's ``python_version``; never downloads one.

    Whatever uv finds (PATH, uv-managed, an active pyenv version), else the
    newest pyenv installation of that version even when PYENV_VERSION does not
    activate it.
    """
    uv = require_uv()
    env = dict(os.environ)
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    for key in ("VIRTUAL_ENV", "UV_PYTHON"):
        env.pop(key, None)
    result = run([uv, "python", "find", "--no-project", version], cwd=TEMPLATE_DIR, env=env, timeout=60)
    found = result.output.strip().splitlines()[-1] if result.output.strip() else ""
    if result.returncode == 0 and Path(found).is_file():
        return Path(found)
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    installed = sorted(
        pyenv_root.glob(f"versions/{version}.*/bin/python{version}"),
        key=lambda path: [int(part) for part in re.findall(r"\d+", path.parent.parent.name)],
    )
    if installed:
        return installed[-1]
    pytest.fail(
        f"Python {version} is not installed, and generated projects with python_version={version} "
        f"need it: install it (e.g. `uv python install {version}`, or with pyenv).\n{result.describe()}",
        pytrace=False,
    )


# --- the generated projects' virtualenvs ---------------------------------------------------------


@dataclass(frozen=True)
class ProjectEnv:
    """A generated project's environment: its ``uv.lock``, synced by uv (``project_env``)."""

    path: Path

    @property
    def bin(self) -> Path:
        return self.path / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    @property
    def key(self) -> str:
        return self.path.name

    def environ(self, **overrides: str) -> dict[str, str]:
        """A project's commands in this environment: its tools on PATH, and uv's project environment.

        So the project's own ``uv run`` and ``uv sync`` (every make target)
        use it rather than make a ``.venv`` in the project.
        """
        return clean_environ(
            [self.bin], VIRTUAL_ENV=str(self.path), UV_PROJECT_ENVIRONMENT=str(self.path), **overrides
        )

    def run(self, args: Sequence[str | Path], cwd: Path, timeout: float = 900, **env: str) -> Result:
        return run(args, cwd=cwd, env=self.environ(**env), timeout=timeout)

    def has_module(self, module: str) -> bool:
        probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
        return run([self.python, "-c", probe], cwd=self.path, env=self.environ(), timeout=60).returncode == 0


def read_lock(project: Path) -> dict[str, Any]:
    """A project's ``uv.lock``, parsed."""
    lock_file = project / "uv.lock"
    if not lock_file.is_file():
        pytest.fail(f"the generated project has no uv.lock: {project}", pytrace=False)
    return tomllib.loads(lock_file.read_text(encoding="utf-8"))


def lock_closure(lock: Mapping[str, Any], package: str) -> tuple[str, ...]:
    """``name==version`` of ``package`` and of everything it needs (its extras' too), from a parsed uv.lock.

    Two locks with the same closure install the same ``package``, whatever else they pin.
    """
    entries = {entry["name"]: entry for entry in lock.get("package", [])}
    seen: set[tuple[str, str | None]] = set()  # (package, one of its extras or None)
    pending: list[tuple[str, str | None]] = [(package, None)] if package in entries else []
    while pending:
        name, extra = pending.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        entry = entries[name]
        needed = entry.get("dependencies", []) if extra is None else entry["optional-dependencies"][extra]
        for dependency in needed:
            pending += [
                (dependency["name"], None),
                *((dependency["name"], e) for e in dependency.get("extra", [])),
            ]
    closure = {name for name, _ in seen}
    return tuple(sorted(f"{name}=={entries[name]['version']}" for name in closure))


@contextlib.contextmanager
def mypy_cache(name: str, env: ProjectEnv) -> Iterator[Path]:
    """mypy's cache for combination ``name`` in ``env``, kept between runs and seeded per environment.

    Most of a cold mypy run goes on the environment's packages, the same for
    every combination of that environment: a combination's first cache starts
    as a copy of the seed the environment's first successful run left, so only
    the project's own modules are checked cold (mypy re-checks whatever
    differs, so the cache only ever saves time).
    """
    root = cache_dir() / "mypy"
    cache = root / f"{name}-{env.key}"
    seed = root / f"seed-{env.key}"
    if not cache.exists() and seed.exists():
        shutil.copytree(seed, cache, dirs_exist_ok=True)
    yield cache
    if cache.exists() and not seed.exists():
        staged = root / f".seed-{env.key}-{os.getpid()}"
        shutil.copytree(cache, staged, dirs_exist_ok=True)
        try:
            staged.rename(seed)  # atomic; another worker's seed may have won
        except OSError:
            shutil.rmtree(staged, ignore_errors=True)


def lock_digest(project: Path, interpreter_version: str) -> str:
    """A hash of the project's lock, whatever the project's name, and of the interpreter."""
    post_gen = load_hook("post_gen_project")
    lock = (project / "uv.lock").read_text(encoding="utf-8")
    anonymous = post_gen.with_project_name(lock, "project")
    key = f"{interpreter_version} {platform.machine()}\n{anonymous}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


# How an environment is made, part of its cache key: by `uv sync --locked`, with its modules compiled.
ENV_LAYOUT = "sync-pyc"
# What uv says when a command needs the network and UV_OFFLINE forbids it. `uv pip install` for
# another platform than the cache's wheels says only that no solution exists: offline, it cannot see
# the index's other wheels (a lock's pins are always resolvable online).
UV_OFFLINE_MISS = (
    "network was disabled",
    "Network connectivity is disabled",
    "No solution found when resolving dependencies",
)


def run_offline_first(
    args: Sequence[str | Path], cwd: Path, env: Mapping[str, str], timeout: float = 900
) -> Result:
    """``args`` with uv offline (its cache only), and again online only if uv missed something there.

    So a run after the first needs no network, and a failure for any other
    reason is reported as it is, not run twice.
    """
    offline = run(args, cwd=cwd, env={**env, "UV_OFFLINE": "1"}, timeout=timeout)
    if offline.returncode == 0 or not any(miss in offline.output for miss in UV_OFFLINE_MISS):
        return offline
    return run(args, cwd=cwd, env=env, timeout=timeout)


def project_env(project: Path, python_version: str, *, dev: bool = True) -> ProjectEnv:
    """The cached environment of this project's ``uv.lock``, made on first use by ``uv sync --locked``.

    Keyed by the lock (whatever the project's name) and the interpreter, so
    any number of projects with the same lock share one environment, across
    combinations, workers and runs. ``dev=False``: the runtime dependencies
    alone (``--no-dev``), what the artifact is built from. Made in place under
    a lock, the way a developer's ``make install`` makes ``.venv`` (uv offline
    first: its cache holds a lock's wheels after its first sync); a
    ``.complete`` marker is written last, so a half-made one is made again.
    """
    interpreter = find_python(python_version)
    version = run(
        [interpreter, "-c", "import platform; print(platform.python_version())"], cwd=project, timeout=60
    )
    check(version, f"asking {interpreter} for its version")
    digest = lock_digest(project, version.output.strip())
    groups = "dev" if dev else "runtime"
    env = ProjectEnv(cache_dir() / "envs" / f"py{version.output.strip()}-{ENV_LAYOUT}-{groups}-{digest}")
    marker = env.path / ".complete"
    with file_lock(env.path.parent / f"{env.path.name}.lock"):
        if not marker.exists():
            if env.path.exists():
                shutil.rmtree(env.path)
            uv = require_uv()
            uv_env = clean_environ(
                UV_PROJECT_ENVIRONMENT=str(env.path),
                UV_PYTHON_DOWNLOADS=os.environ.get("UV_PYTHON_DOWNLOADS", "never"),
            )
            # Compiled: the tiers run with PYTHONDONTWRITEBYTECODE (nothing written into
            # a rendered project), so without .pyc every process would recompile every
            # import (a local stage started in 4.7 s instead of 2.1 s).
            sync: list[str | Path] = [uv, "sync", "--locked", "--compile-bytecode", "--python", interpreter]
            check(
                run_offline_first([*sync, *([] if dev else ["--no-dev"])], cwd=project, env=uv_env),
                f"uv sync of {project / 'uv.lock'} into {env.path}",
            )
            check(
                run([uv, "pip", "check", "--python", env.python], cwd=project, env=uv_env),
                f"{project / 'uv.lock'} synced into an inconsistent environment (uv pip check)",
            )
            marker.write_text(f"{project / 'uv.lock'}\n", encoding="utf-8")
    return env


# --- structured files ----------------------------------------------------------------------------


class _CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form intrinsic functions (!Ref, !Sub, !GetAtt, ...)."""


def _construct_tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]


_CloudFormationLoader.add_multi_constructor("!", _construct_tagged)

STRUCTURED_SUFFIXES = frozenset({".yaml", ".yml", ".json", ".toml"})


def load_structured(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix in {".yaml", ".yml"}:
        # The first document: CloudFormation and workflow files hold one.
        return next(iter(yaml.load_all(text, Loader=_CloudFormationLoader)), None)
    if path.suffix == ".json":
        return json.loads(text)
    if path.suffix == ".toml":
        return tomllib.loads(text)
    raise ValueError(f"not a structured file: {path}")
