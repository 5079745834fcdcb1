"""Render tier: every combination renders into a clean, linted project whose own tests pass.

Each combination is rendered once per session (shared by the xdist workers)
and every check below reads that one rendering. Tools that run in it write
their caches elsewhere (see ``tests/support.py``), so the rendered files stay
as cookiecutter wrote them. The slow checks come first so that xdist starts
them early.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import importlib.resources
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import tomllib
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import boto3
import jsonschema
import pytest
import yaml
from moto.server import ThreadedMotoServer

from tests import ci, iam, operations, options
from tests.build_codestar import CHECKS_THROUGH, Pipelines
from tests.combinations import COMBINATIONS, TEMPLATE_DIR, Combination
from tests.dev_server import HOST as DEV_HOST
from tests.dev_server import call, free_port, make_dev
from tests.frontend import (
    FRONTEND,
    FrontendChecks,
    npm_environ,
    require_chrome,
    require_node,
    require_npm,
    stack_template,
    work_copy,
)
from tests.support import (
    FRONTEND_CHECKS,
    IDENTITY,
    IDENTITY_PACKAGE,
    IDENTITY_SLUG,
    PACKAGE_TEMPLATE,
    SCANS,
    ProjectEnv,
    RenderedProject,
    Result,
    SessionResult,
    check,
    clean_environ,
    find_python,
    load_structured,
    lock_closure,
    mypy_cache,
    project_env,
    read_lock,
    require_tool,
    require_uv,
    run,
)


@pytest.fixture(params=COMBINATIONS, ids=lambda combination: combination.name)
def project(
    request: pytest.FixtureRequest, rendered: Callable[[Combination], RenderedProject]
) -> RenderedProject:
    combination: Combination = request.param
    return rendered(combination)


# --- the install path, from scratch --------------------------------------------------------------


@pytest.mark.install
@pytest.mark.parametrize("combination", COMBINATIONS[:1], ids=lambda combination: combination.name)
def test_make_install_test_from_scratch(
    combination: Combination, rendered: Callable[[Combination], RenderedProject], tmp_path: Path
) -> None:
    """A user's first commands in a fresh copy: `make install test`, with no prepared environment."""
    project = rendered(combination)
    copy = project.copy_to(tmp_path / project.path.name)
    # The user's PATH holds uv and the project's Python (python3.X), nothing of this environment.
    python = find_python(combination["python_version"])
    env = clean_environ([require_uv().parent, python.parent], CI="true")
    check(run(["make", "install", "test"], cwd=copy, env=env, timeout=1500), "make install test")
    assert (copy / ".venv" / "pyvenv.cfg").is_file(), "`make install` made no .venv"


def pyenv_root() -> Path | None:
    """Where pyenv keeps its shims and Pythons, if it is installed."""
    found = shutil.which("pyenv")
    if found is None:
        return None
    result = run([found, "root"], cwd=TEMPLATE_DIR, env=clean_environ(), timeout=60)
    return Path(result.output.strip()) if result.returncode == 0 else None


def pyenv_environ(root: Path, **overrides: str) -> dict[str, str]:
    """A pyenv user's environment: uv, pyenv's shims, the system's commands; no other Python."""
    system = [directory for directory in ("/usr/local/bin", "/usr/bin", "/bin") if Path(directory).is_dir()]
    env = clean_environ(CI="true", PYENV_ROOT=str(root))
    env["PATH"] = os.pathsep.join([str(require_uv().parent), str(root / "shims"), *system])
    env.pop("PYENV_VERSION", None)
    env.update(overrides)
    return env


@pytest.mark.install
@pytest.mark.parametrize("combination", COMBINATIONS[:1], ids=lambda combination: combination.name)
def test_make_install_with_pyenv(
    combination: Combination, rendered: Callable[[Combination], RenderedProject], tmp_path: Path
) -> None:
    """With only pyenv's shims for Pythons: its Python installed but not the one PYENV_VERSION selects,
    `make install` stops with one line saying how to get it; with PYENV_VERSION unset, .python-version
    selects it and `make install` works.
    """
    root = pyenv_root()
    version = combination["python_version"]
    if root is None or not list(root.glob(f"versions/{version}.*/bin/python{version}")):
        pytest.skip(f"needs pyenv with a Python {version} installed")
    project = rendered(combination)
    project_env(project.path, version)  # uv's cache holds the lock's wheels
    others = sorted(path.name for path in root.glob("versions/*") if not path.name.startswith(f"{version}."))
    assert others, "pyenv has no Python but the project's: PYENV_VERSION cannot leave it out"

    unselected = project.copy_to(tmp_path / "unselected")
    env = pyenv_environ(root, PYENV_VERSION=others[-1], UV_PYTHON_DOWNLOADS="never")
    result = run(["make", "install"], cwd=unselected, env=env, timeout=300)
    assert result.returncode != 0, (
        f"`make install` found a Python {version} it should not have:\n{result.describe()}"
    )
    said = [line for line in result.output.splitlines() if line.startswith("error: no Python")]
    assert len(said) == 1, f"no one-line way to get Python {version}:\n{result.describe()}"
    assert f"uv python install {version}" in said[0], said[0]
    assert not (unselected / ".venv").exists(), "a half-made .venv was left"

    selected = project.copy_to(tmp_path / "selected")
    env = pyenv_environ(root, UV_PYTHON_DOWNLOADS="never")
    check(
        run(["make", "install"], cwd=selected, env=env, timeout=600), "make install (pyenv, .python-version)"
    )
    version_of = run([selected / ".venv" / "bin" / "python", "--version"], cwd=selected, env=env)
    assert check(version_of, "the environment's Python").output.startswith(f"Python {version}."), (
        version_of.output
    )


def test_lock_installs_offline(project: RenderedProject, tmp_path: Path) -> None:
    """`uv sync --locked` (what `make install` runs) in a fresh project, uv offline: its cache is enough."""
    project_env(project.path, project.combination["python_version"])  # uv's cache holds the lock's wheels
    result = run(
        [require_uv(), "sync", "--locked", "--quiet"],
        cwd=project.path,
        env=clean_environ(
            UV_PROJECT_ENVIRONMENT=str(tmp_path / "venv"),
            UV_OFFLINE="1",
            UV_PYTHON=str(find_python(project.combination["python_version"])),
            UV_PYTHON_DOWNLOADS="never",
        ),
    )
    check(result, "uv sync --locked, offline")


# --- tools run in the project --------------------------------------------------------------------


# A codestar project's checks run in its pipeline, and its build goes on in that working copy.
PROJECT_TESTS = [
    pytest.param(combination, id=combination.name, marks=pytest.mark.pipeline)
    if combination["deployment"] == "codestar"
    else pytest.param(combination, id=combination.name)
    for combination in COMBINATIONS
]


@pytest.mark.parametrize("combination", PROJECT_TESTS)
def test_project_tests_pass(
    combination: Combination,
    rendered: Callable[[Combination], RenderedProject],
    pipelines: Pipelines,
    tmp_path: Path,
) -> None:
    """The generated project's own test suite passes, and actually ran tests.

    For codestar, as its pipeline runs it: the buildspec's phases up to
    pre_build (``make install``, ``make lint``, ``make test``), in the working
    copy the build tier then builds and packages.
    """
    if combination["deployment"] == "codestar":
        pipeline = pipelines.through(combination, CHECKS_THROUGH)
        if pipeline.failure is not None:
            pytest.fail(f"the project's pipeline: {pipeline.failure}", pytrace=False)
        assert_tests_ran(pipeline.junit, "`make test` in the pipeline")
        return
    project = rendered(combination)
    env = project_env(project.path, combination["python_version"])
    junit = tmp_path / "junit.xml"
    result = env.run(
        [
            env.python,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            f"--basetemp={tmp_path / 'basetemp'}",
            f"--junitxml={junit}",
        ],
        cwd=project.path,
    )
    if result.returncode == 5:
        pytest.fail(f"the generated project's pytest collected no tests:\n{result.describe()}", pytrace=False)
    check(result, "the generated project's tests")
    assert_tests_ran(junit, result.describe(40))


def assert_tests_ran(junit: Path, described: str) -> None:
    """pytest's report holds tests, and none was skipped: every test must run in the tier's environment."""
    assert junit.is_file(), f"pytest wrote no report to {junit}:\n{described}"
    suites = ET.parse(junit).getroot()  # noqa: S314 -- the report pytest just wrote, not untrusted input
    ran = sum(int(suite.get("tests", 0)) for suite in suites.iter("testsuite"))
    assert ran > 0, f"the generated project ran no tests:\n{described}"
    skipped = [
        case.get("classname", "") + "::" + case.get("name", "")
        for case in suites.iter("testcase")
        if case.find("skipped") is not None
    ]
    assert not skipped, (
        "generated tests were skipped; every test must run in the tier's environment:\n"
        + "\n".join(skipped)
        + "\n"
        + described
    )


# Where the scans find a project's stacks a second time, with the optional parameters set
# (domains, alarm e-mail): the resources they switch on are linted and checked too. They
# differ by backend and frontend only, so each pair's first combination is enough.
OPTIONS_ON = "with-optional-parameters"
OPTIONS_ON_COMBINATIONS = {
    next(c for c in COMBINATIONS if (c["deployment"], c["frontend"]) == pair).name
    for pair in dict.fromkeys((c["deployment"], c["frontend"]) for c in COMBINATIONS)
}


def with_options_on(project: RenderedProject, root: Path) -> list[str]:
    """The project's stacks that have optional parameters, written under ``root`` with them set
    (``operations.with_parameters``); their relative paths. None outside OPTIONS_ON_COMBINATIONS."""
    written: list[str] = []
    if project.name not in OPTIONS_ON_COMBINATIONS:
        return written
    for relative in cloudformation_templates(project):
        text = (project.path / relative).read_text(encoding="utf-8")
        variant = operations.with_parameters(text)
        if variant != text:
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_text(variant, encoding="utf-8")
            written.append(relative)
    return written


# checkov and cfn-lint take longer to start than to check a project: each runs once per
# session over every combination the run collected its test for, and each combination's
# test asserts on its own part of that one report. Those tests (sam validate's too) are
# one unit of work for one xdist worker (SCANS), so no worker waits for a scan the other
# is running.
CHECKOV_EXIT_FAILED_CHECKS = 1


@pytest.fixture(scope="session")
def checkov_report(
    session_dir: Path,
    rendered: Callable[[Combination], RenderedProject],
    collected_combinations: Callable[[str], list[Combination]],
) -> dict[str, Any]:
    combinations = collected_combinations("test_checkov_finds_no_failed_check")
    work = session_dir / "checkov"
    return SessionResult(work.with_suffix(".json")).get(lambda: checkov_scan(work, combinations, rendered))


def checkov_scan(
    work: Path, combinations: list[Combination], rendered: Callable[[Combination], RenderedProject]
) -> dict[str, Any]:
    """checkov over a copy of every project, one directory each, split back by combination.

    One scan root: given several ``--directory``, checkov 3.3 scans the first one
    again in place of the others.
    """
    checkov = require_tool("checkov")
    scan_root = work / "projects"
    parts: dict[str, dict[str, list[str]]] = {}

    def part(name: str) -> dict[str, list[str]]:
        return parts.setdefault(
            name, {"resources": [], "failed": [], "unexplained": [], "parse_errors": [], "options_on": []}
        )

    for combination in combinations:
        with contextlib.suppress(Exception):  # a failed render fails the combination's own tests
            project = rendered(combination).copy_to(scan_root / combination.name)
            part(combination.name)["options_on"] = with_options_on(
                rendered(combination), project / OPTIONS_ON
            )
    reports_dir = work / "report"
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    result = run(
        [
            checkov,
            "--skip-download",
            "--directory",
            scan_root,
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--output-file-path",
            reports_dir,
        ],
        cwd=scan_root,
        env=clean_environ(HOME=str(home)),
    )
    report_file = reports_dir / "results_json.json"
    loaded = json.loads(report_file.read_text(encoding="utf-8")) if report_file.is_file() else []
    reports = loaded if isinstance(loaded, list) else [loaded]

    def owner(path: str) -> tuple[str, str]:
        """(combination, path in its project) of a path checkov reports, absolute or from the scan root."""
        absolute = Path(path)
        relative = (
            absolute.relative_to(scan_root) if absolute.is_relative_to(scan_root) else Path(path.lstrip("/"))
        )
        return relative.parts[0], str(Path(*relative.parts[1:]))

    for report in reports:
        results = report.get("results", {})
        for kind in ("passed_checks", "failed_checks", "skipped_checks"):
            for found in results.get(kind, []):
                name, relative = owner(found.get("file_abs_path") or found["file_path"])
                part(name)["resources"].append(f"{relative} {found['resource']}")
                if kind == "failed_checks":
                    part(name)["failed"].append(
                        f"{found['check_id']} {found['check_name']}: {relative} {found['resource']}"
                    )
                comment = (found.get("check_result") or {}).get("suppress_comment", "")
                if kind == "skipped_checks" and comment.strip() in {"", "No comment provided"}:
                    part(name)["unexplained"].append(f"{found['check_id']} on {found['resource']}")
        for path in results.get("parsing_errors", []):
            name, relative = owner(path)
            part(name)["parse_errors"].append(relative)
    failed_anywhere = any(found["failed"] for found in parts.values())
    sound = report_file.is_file() and (
        result.returncode == 0 or (result.returncode == CHECKOV_EXIT_FAILED_CHECKS and failed_anywhere)
    )
    return {"sound": sound, "output": result.describe(40), "parts": parts}


@pytest.mark.xdist_group(SCANS)
def test_checkov_finds_no_failed_check(project: RenderedProject, checkov_report: dict[str, Any]) -> None:
    if not checkov_report["sound"]:
        pytest.fail(f"checkov did not finish its scan:\n{checkov_report['output']}", pytrace=False)
    part = checkov_report["parts"].get(project.name)
    assert part is not None, f"the session's checkov scan did not cover {project.name}"
    output = checkov_report["output"]
    assert part["resources"], f"checkov scanned no CloudFormation resource:\n{output}"
    scanned = {resource.split()[0] for resource in part["resources"]}
    options_on = {f"{OPTIONS_ON}/{relative}" for relative in part["options_on"]}
    if project.name in OPTIONS_ON_COMBINATIONS:
        assert options_on, "no stack with its optional parameters set was scanned"
    assert options_on <= scanned, f"checkov did not scan {sorted(options_on - scanned)}"
    assert not part["parse_errors"], f"checkov could not parse {part['parse_errors']}:\n{output}"
    assert not part["failed"], "checkov failed checks:\n" + "\n".join(part["failed"])
    assert not part["unexplained"], "checkov checks skipped without a reason (checkov:skip=ID:reason):\n" + (
        "\n".join(part["unexplained"])
    )


def test_runtime_lock_is_complete(project: RenderedProject) -> None:
    """The runtime dependencies alone (``uv sync --no-dev``, what the artifact is built from): a
    consistent environment with Flask, and without boto3, which the Lambda runtime provides."""
    env = project_env(project.path, project.combination["python_version"], dev=False)
    assert env.has_module("flask"), f"the runtime dependencies installed no Flask into {env.path}"
    assert not env.has_module("boto3"), (
        f"boto3 is a runtime dependency in {env.path}: the runtime provides it"
    )


def test_lock_is_what_pyproject_asks_for(project: RenderedProject) -> None:
    """uv.lock is exactly the lock of the project's pyproject.toml, as uv writes it, checked offline."""
    result = run(
        [require_uv(), "lock", "--check", "--offline"],
        cwd=project.path,
        env=clean_environ(UV_PYTHON_DOWNLOADS=os.environ.get("UV_PYTHON_DOWNLOADS", "never")),
    )
    check(result, "uv lock --check")
    names = [entry["name"] for entry in read_lock(project.path)["package"]]
    assert names == sorted(names), (
        "uv.lock's packages are not in uv's order: the project's entry was misplaced"
    )
    assert IDENTITY_SLUG in names, "uv.lock does not name the project"


def test_mypy(project: RenderedProject) -> None:
    env = project_env(project.path, project.combination["python_version"])
    with mypy_cache(project.name, env) as cache:
        check(env.run([env.python, "-m", "mypy"], cwd=project.path, MYPY_CACHE_DIR=str(cache)), "mypy")


def sam_template_sources(combination: Combination) -> list[str]:
    """Template-source files of this combination's chosen values that are SAM templates."""
    answers = {**combination.answers, "package_name": PACKAGE_TEMPLATE}
    found = []
    for option, owners in options.OWNED_PATHS.items():
        value = options.chosen_value(option, answers)
        for relative in owners.get(value or "", []) if value else []:
            source = options.template_source(relative)
            files = sorted(source.rglob("*")) if source.is_dir() else [source]
            for file in files:
                if file.suffix in {".yaml", ".yml", ".json"} and options.is_sam_template(file):
                    found.append(relative)
    return found


def cloudformation_templates(project: RenderedProject) -> list[str]:
    """Rendered files that are CloudFormation templates (CI workflows and events are not)."""
    found = []
    for relative in project.files:
        path = project.path / relative
        if path.suffix not in {".yaml", ".yml", ".json"} or relative.startswith(".github/"):
            continue
        document = load_structured(path)
        if isinstance(document, dict) and isinstance(document.get("Resources"), dict):
            found.append(relative)
    return found


# cfn-lint's exit code is a bit mask of what it found (2 error, 4 warning, 8 informational).
CFN_LINT_FINDINGS = 2 | 4 | 8


@pytest.fixture(scope="session")
def cfn_lint_report(
    session_dir: Path,
    rendered: Callable[[Combination], RenderedProject],
    collected_combinations: Callable[[str], list[Combination]],
) -> dict[str, Any]:
    combinations = collected_combinations("test_cfn_lint")
    work = session_dir / "cfn-lint"
    return SessionResult(work.with_suffix(".json")).get(lambda: cfn_lint_all(work, combinations, rendered))


def cfn_lint_all(
    work: Path, combinations: list[Combination], rendered: Callable[[Combination], RenderedProject]
) -> dict[str, Any]:
    """cfn-lint once per distinct linter (its pins in the project's lock) and regions, split by combination.

    cfn-lint's rules and resource schemas ship inside it, so the projects that
    pin the same cfn-lint and dependencies share one run, in the environment of
    the first of them.
    """
    groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[RenderedProject]] = {}
    for combination in combinations:
        try:
            project = rendered(combination)
        except Exception:  # noqa: S112 -- a failed render fails the combination's own tests
            continue
        regions = tuple(sorted({"us-east-1", project.answers["aws_region"]}))
        groups.setdefault((lock_closure(read_lock(project.path), "cfn-lint"), regions), []).append(project)

    parts: dict[str, dict[str, Any]] = {}
    runs: list[str] = []
    for index, ((_, regions), projects) in enumerate(groups.items()):
        first = projects[0]
        env = project_env(first.path, first.combination["python_version"])
        cfn_lint = env.bin / "cfn-lint"
        templates = {project.name: cloudformation_templates(project) for project in projects}
        options_on = {
            project.name: with_options_on(project, work / OPTIONS_ON / project.name) for project in projects
        }
        if not cfn_lint.exists():
            error = "cfn-lint is not in the generated project's environment (its dev group)"
            missing = {"error": error, "findings": [], "options_on": []}
            parts.update({project.name: missing for project in projects})
            continue
        findings_file = work / f"findings-{index}.json"
        work.mkdir(parents=True, exist_ok=True)
        paths = [str(project.path / relative) for project in projects for relative in templates[project.name]]
        paths += [
            str(work / OPTIONS_ON / project.name / relative)
            for project in projects
            for relative in options_on[project.name]
        ]
        result = env.run(
            [
                cfn_lint,
                "--format",
                "json",
                "--output-file",
                findings_file,
                "--regions",
                *regions,
                "--",
                *paths,
            ],
            cwd=first.path,
        )
        runs.append(f"{len(paths)} templates of {len(projects)} projects in {result.seconds:.1f} s")
        findings = json.loads(findings_file.read_text(encoding="utf-8")) if findings_file.is_file() else None
        crashed = (
            result.returncode & ~CFN_LINT_FINDINGS or findings is None or (result.returncode and not findings)
        )
        for project in projects:
            roots = {str(project.path) + "/": "", f"{work / OPTIONS_ON / project.name}/": f"{OPTIONS_ON}/"}
            own = [
                f"{label}{found['Filename'].removeprefix(root)}:{found['Location']['Start']['LineNumber']}: "
                f"{found['Rule']['Id']} {found['Message']}"
                for found in findings or []
                for root, label in roots.items()
                if found["Filename"].startswith(root)
            ]
            parts[project.name] = {
                "error": result.describe() if crashed else None,
                "findings": own,
                "options_on": options_on[project.name],
            }
    return {"parts": parts, "runs": runs}


@pytest.mark.xdist_group(SCANS)
def test_cfn_lint(project: RenderedProject, cfn_lint_report: dict[str, Any]) -> None:
    templates = cloudformation_templates(project)
    assert templates, "no CloudFormation template in the project: every deployment has infrastructure as code"
    part = cfn_lint_report["parts"].get(project.name)
    assert part is not None, f"the session's cfn-lint run did not cover {project.name}"
    if part["error"]:
        pytest.fail(f"cfn-lint failed:\n{part['error']}", pytrace=False)
    # Any finding fails, an informational one too.
    assert not part["findings"], "cfn-lint:\n" + "\n".join(part["findings"])
    if project.name in OPTIONS_ON_COMBINATIONS:
        assert part["options_on"], "no stack was linted with its optional parameters set"


SAM_COMBINATIONS = [combination for combination in COMBINATIONS if sam_template_sources(combination)]


# `sam validate --lint` spends seconds loading SAM CLI and cfn-lint's schemas, and a
# fraction of that per template: SAM CLI's own command line runs once per session in
# its own interpreter, on each template in turn from the template's project directory.
_SAM_VALIDATE_EACH = """
import contextlib, io, json, os, sys, traceback
import click
from samcli.cli.main import cli

results = []
for project, template in json.loads(sys.argv[2]):
    os.chdir(project)
    output, code = io.StringIO(), 0
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        try:
            cli.main(["validate", "--lint", "--template", template], prog_name="sam", standalone_mode=False)
        except click.ClickException as exc:  # what the command line prints, with its exit code
            exc.show(file=output)
            code = exc.exit_code
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception:
            traceback.print_exc(file=output)
            code = 255
    results.append({"project": project, "template": template, "exit": code, "output": output.getvalue()})
with open(sys.argv[1], "w", encoding="utf-8") as report:
    json.dump(results, report)
"""


def sam_templates(project: RenderedProject) -> list[str]:
    return [
        relative
        for relative in cloudformation_templates(project)
        if options.is_sam_template(project.path / relative)
    ]


def tool_python(executable: Path) -> Path | None:
    """The interpreter of a Python console script (a uv tool's), from its ``#!`` line."""
    with executable.open("rb") as script:
        first = script.readline(300)
    interpreter = Path(first[2:].decode(errors="replace").strip()) if first.startswith(b"#!/") else None
    return interpreter if interpreter is not None and interpreter.name.startswith("python") else None


@pytest.fixture(scope="session")
def sam_validate_report(
    session_dir: Path,
    rendered: Callable[[Combination], RenderedProject],
    collected_combinations: Callable[[str], list[Combination]],
) -> dict[str, Any]:
    combinations = collected_combinations("test_sam_validate_lint")
    work = session_dir / "sam-validate"
    return SessionResult(work.with_suffix(".json")).get(
        lambda: sam_validate_all(work, combinations, rendered)
    )


def sam_validate_all(
    work: Path, combinations: list[Combination], rendered: Callable[[Combination], RenderedProject]
) -> dict[str, Any]:
    sam = require_tool("sam")
    work.mkdir(parents=True, exist_ok=True)
    env = clean_environ(AWS_DEFAULT_REGION="us-east-1", SAM_CLI_TELEMETRY="0", HOME=str(work))
    jobs: list[tuple[str, str, str]] = []  # combination, project directory, template
    for combination in combinations:
        with contextlib.suppress(Exception):  # a failed render fails the combination's own tests
            project = rendered(combination)
            jobs += [(combination.name, str(project.path), template) for template in sam_templates(project)]
    python = tool_python(sam)
    results: list[dict[str, Any]] = []
    if python is None:  # not a Python script (another installer's sam): one command per template
        for _, project_dir, template in jobs:
            result = run([sam, "validate", "--lint", "--template", template], cwd=Path(project_dir), env=env)
            results.append({"exit": result.returncode, "output": result.output})
        error = None
    else:
        report = work / "results.json"
        pairs = json.dumps([[project_dir, template] for _, project_dir, template in jobs])
        result = run([python, "-I", "-c", _SAM_VALIDATE_EACH, report, pairs], cwd=work, env=env)
        results = json.loads(report.read_text(encoding="utf-8")) if report.is_file() else []
        error = None if result.returncode == 0 and len(results) == len(jobs) else result.describe()
    parts: dict[str, list[dict[str, Any]]] = {combination.name: [] for combination in combinations}
    for (name, _, template), outcome in zip(jobs, results, strict=False):
        parts[name].append({"template": template, "exit": outcome["exit"], "output": outcome["output"]})
    return {"error": error, "parts": parts}


@pytest.mark.xdist_group(SCANS)
@pytest.mark.parametrize("combination", SAM_COMBINATIONS, ids=lambda combination: combination.name)
def test_sam_validate_lint(
    combination: Combination,
    rendered: Callable[[Combination], RenderedProject],
    sam_validate_report: dict[str, Any],
) -> None:
    project = rendered(combination)
    templates = sam_templates(project)
    assert templates, "the template source has a SAM template for this combination but the project has none"
    if sam_validate_report["error"]:
        pytest.fail(f"sam validate did not finish:\n{sam_validate_report['error']}", pytrace=False)
    validated = sam_validate_report["parts"].get(combination.name, [])
    assert [outcome["template"] for outcome in validated] == templates, (
        "the session's sam validate missed some"
    )
    for outcome in validated:
        described = f"sam validate --lint --template {outcome['template']} (exit {outcome['exit']}):\n"
        assert outcome["exit"] == 0, described + outcome["output"]
        # It exits 1 on any cfn-lint error or warning; also refuse findings printed beside a 0.
        assert not re.search(r"\b[EWI]\d{4}\b", outcome["output"]), described + outcome["output"]
        assert "is a valid SAM Template" in outcome["output"], described + outcome["output"]


# --- IAM: the permissions boundary of the application's roles (tests/iam.py) ---------------------


def stack_templates(project: RenderedProject) -> dict[str, Any]:
    templates = cloudformation_templates(project)
    return {relative: load_structured(project.path / relative) for relative in templates}


def test_role_changes_need_the_permissions_boundary(project: RenderedProject) -> None:
    """What may create a role or change its policies may do so only for roles with the stage's boundary."""
    problems = [
        f"{relative}: {problem}"
        for relative, template in stack_templates(project).items()
        for problem in iam.role_change_problems(template)
    ]
    assert not problems, "role changes without the permissions boundary:\n" + "\n".join(problems)


def test_nothing_lifts_or_rewrites_the_permissions_boundary(project: RenderedProject) -> None:
    problems = [
        f"{relative}: {problem}"
        for relative, template in stack_templates(project).items()
        for problem in iam.boundary_change_problems(template)
    ]
    assert not problems, "a boundary could be taken off a role, or changed:\n" + "\n".join(problems)


def test_every_role_of_the_application_carries_the_boundary(project: RenderedProject) -> None:
    """The application's stacks (every stack but a toolchain) give each role PermissionsBoundaryArn."""
    applications = {r: t for r, t in stack_templates(project).items() if not iam.is_toolchain(t)}
    assert applications, "the project has no application stack"
    problems = [
        f"{relative}: {problem}"
        for relative, template in applications.items()
        for problem in iam.role_boundary_problems(template)
    ]
    assert not problems, "\n".join(problems)


def test_api_gateway_statements_require_the_stage_tags(project: RenderedProject) -> None:
    problems = [
        f"{relative}: {problem}"
        for relative, template in stack_templates(project).items()
        for problem in iam.tag_condition_problems(template, IDENTITY_SLUG)
    ]
    assert not problems, "API Gateway rights not limited to the stage's tagged APIs:\n" + "\n".join(problems)


# The serverless transform, run by the SAM CLI's own samtranslator as `sam validate` runs it,
# once per session over every SAM template, each with a function added that has no role of its
# own: the transform generates its role, which must carry the boundary like every other.
_TRANSLATE_EACH = """
import json, sys
from samcli.lib.translate.sam_template_validator import SamTemplateValidator
from samcli.yamlhelper import yaml_parse

class NoManagedPolicies:  # the template names no AWS managed policy: nothing to look up
    def load(self):
        return {}

probe_name, probe = json.loads(sys.argv[3])
results = []
for path in json.loads(sys.argv[2]):
    with open(path, encoding="utf-8") as source:
        template = yaml_parse(source.read())
    template["Resources"][probe_name] = probe
    try:
        validator = SamTemplateValidator(template, NoManagedPolicies(), region="us-east-1")
        results.append({"translated": yaml_parse(validator.get_translated_template_if_valid())})
    except Exception as exc:
        results.append({"error": f"{type(exc).__name__}: {exc}"})
with open(sys.argv[1], "w", encoding="utf-8") as report:
    json.dump(results, report)
"""
BOUNDARY_PROBE = "BoundaryProbe"
# The tests that read the session's transform: it covers every combination any of them was collected for.
TRANSFORMED_BY = (
    "test_roles_the_transform_generates_carry_the_boundary",
    "test_a_deploy_shifts_the_apis_alias_and_rolls_back_on_its_alarms",
    "test_the_deploy_role_may_make_what_the_features_add",
)
_PROBE_FUNCTION = {
    "Type": "AWS::Serverless::Function",
    "Properties": {"CodeUri": "src", "Handler": "probe.handler", "Runtime": "python3.13"},
}


@pytest.fixture(scope="session")
def sam_translation(
    session_dir: Path,
    rendered: Callable[[Combination], RenderedProject],
    collected_combinations: Callable[[str], list[Combination]],
) -> dict[str, Any]:
    combinations = list(
        {
            combination.name: combination
            for test in TRANSFORMED_BY
            for combination in collected_combinations(test)
        }.values()
    )
    work = session_dir / "sam-translation"
    return SessionResult(work.with_suffix(".json")).get(
        lambda: sam_translate_all(work, combinations, rendered)
    )


def sam_translate_all(
    work: Path, combinations: list[Combination], rendered: Callable[[Combination], RenderedProject]
) -> dict[str, Any]:
    python = tool_python(require_tool("sam"))
    if python is None:
        return {"error": "the SAM CLI is no Python script: its samtranslator cannot be imported", "parts": {}}
    work.mkdir(parents=True, exist_ok=True)
    jobs: list[tuple[str, Path, str]] = []  # combination, project directory, template
    for combination in combinations:
        with contextlib.suppress(Exception):  # a failed render fails the combination's own tests
            project = rendered(combination)
            jobs += [(combination.name, project.path, template) for template in sam_templates(project)]
    report = work / "results.json"
    paths = json.dumps([str(project_dir / template) for _, project_dir, template in jobs])
    probe = json.dumps([BOUNDARY_PROBE, _PROBE_FUNCTION])
    env = clean_environ(AWS_DEFAULT_REGION="us-east-1", HOME=str(work))
    result = run([python, "-I", "-c", _TRANSLATE_EACH, report, paths, probe], cwd=work, env=env)
    results = json.loads(report.read_text(encoding="utf-8")) if report.is_file() else []
    error = None if result.returncode == 0 and len(results) == len(jobs) else result.describe()
    parts: dict[str, list[dict[str, Any]]] = {combination.name: [] for combination in combinations}
    for (name, _, template), outcome in zip(jobs, results, strict=False):
        parts[name].append({"template": template, **outcome})
    return {"error": error, "parts": parts}


@pytest.mark.xdist_group(SCANS)
@pytest.mark.parametrize("combination", SAM_COMBINATIONS, ids=lambda combination: combination.name)
def test_roles_the_transform_generates_carry_the_boundary(
    combination: Combination,
    rendered: Callable[[Combination], RenderedProject],
    sam_translation: dict[str, Any],
) -> None:
    """After the serverless transform: every role, those it generates too (Globals), has the boundary."""
    project = rendered(combination)
    if sam_translation["error"]:
        pytest.fail(f"the serverless transform did not finish:\n{sam_translation['error']}", pytrace=False)
    translated = sam_translation["parts"].get(combination.name, [])
    assert [t["template"] for t in translated] == sam_templates(project), "the session's transform missed one"
    for outcome in translated:
        name = outcome["template"]
        assert "error" not in outcome, f"the serverless transform of {name}: {outcome.get('error')}"
        roles = iam.resources(outcome["translated"], "AWS::IAM::Role")
        generated = f"{BOUNDARY_PROBE}Role"
        assert generated in roles, f"{name}: no role generated for a function without one: {list(roles)}"
        problems = iam.role_boundary_problems(outcome["translated"])
        assert not problems, f"{name}, transformed:\n" + "\n".join(problems)


def translated(sam_translation: dict[str, Any], combination: Combination, template: str) -> dict[str, Any]:
    """``template`` of ``combination`` after the serverless transform, intrinsics in the short form."""
    if sam_translation["error"]:
        pytest.fail(f"the serverless transform did not finish:\n{sam_translation['error']}", pytrace=False)
    outcomes = {o["template"]: o for o in sam_translation["parts"].get(combination.name, [])}
    assert template in outcomes, f"the session's transform missed {template}"
    assert "error" not in outcomes[template], f"the serverless transform of {template}: {outcomes[template]}"
    found: dict[str, Any] = iam.short_form(outcomes[template]["translated"])
    return found


# --- Operations: gradual deploys, alarms, dashboard, domains (tests/operations.py) ---------------


def application_stacks(project: RenderedProject) -> dict[str, dict[str, Any]]:
    """The stacks of the application (every stack but a toolchain), by path."""
    return {r: t for r, t in stack_templates(project).items() if not iam.is_toolchain(t)}


@pytest.mark.xdist_group(SCANS)
@pytest.mark.parametrize("combination", SAM_COMBINATIONS, ids=lambda combination: combination.name)
def test_a_deploy_shifts_the_apis_alias_and_rolls_back_on_its_alarms(
    combination: Combination,
    rendered: Callable[[Combination], RenderedProject],
    sam_translation: dict[str, Any],
) -> None:
    """After the transform: the API invokes the function's alias; CodeDeploy moves it, as the stage's
    TrafficShifting says, and rolls it back on alarms that exist and watch that alias or that API."""
    project = rendered(combination)
    (relative,) = sam_templates(project)
    source = load_structured(project.path / relative)
    template = translated(sam_translation, combination, relative)
    resources = template["Resources"]
    assert operations.dependency_cycle(template) == [], "a dependency cycle, which CloudFormation refuses"

    (alias_id,) = operations.of_type(template, "AWS::Lambda::Alias")
    alias = resources[alias_id]
    alias_name = alias["Properties"]["Name"]
    assert alias["Properties"]["FunctionName"] == {"Ref": "ApiFunction"}
    update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    group = resources[update["DeploymentGroupName"]["Ref"]]
    assert group["Type"] == "AWS::CodeDeploy::DeploymentGroup"
    assert group["Properties"]["AutoRollbackConfiguration"]["Enabled"] is True
    assert "DEPLOYMENT_STOP_ON_ALARM" in group["Properties"]["AutoRollbackConfiguration"]["Events"]
    # The transform resolves TrafficShifting with the stage's value, as CloudFormation's does.
    shifting = source["Parameters"]["TrafficShifting"]
    assert shifting["Default"] == "AllAtOnce"
    assert "Canary10Percent10Minutes" in shifting["AllowedValues"]
    assert group["Properties"]["DeploymentConfigName"] == {
        "Sub": ["CodeDeployDefault.Lambda${ConfigName}", {"ConfigName": "AllAtOnce"}]
    }
    service_role = group["Properties"]["ServiceRoleArn"]["GetAtt"][0]
    assert resources[service_role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "codedeploy.amazonaws.com"
    }

    # The API's one route invokes the alias, and the alias lets the API invoke it.
    (api,) = operations.of_type(template, "AWS::ApiGatewayV2::Api").values()
    routes = api["Properties"]["Body"]["paths"]
    uris = [
        method["x-amazon-apigateway-integration"]["uri"]
        for route in routes.values()
        for method in route.values()
    ]
    assert uris == [
        {
            "Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
            f"arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:${{ApiFunction}}:{alias_name}"
            "/invocations"
        }
    ]
    permissions = operations.of_type(template, "AWS::Lambda::Permission").values()
    assert [p["Properties"]["FunctionName"] for p in permissions] == [{"Ref": alias_id}]

    rollback = [alarm["Name"]["Ref"] for alarm in group["Properties"]["AlarmConfiguration"]["Alarms"]]
    assert rollback, "the deployment group rolls back on no alarm"
    assert group["Properties"]["AlarmConfiguration"]["Enabled"] is True
    api_id = next(name for name in resources if resources[name]["Type"] == "AWS::ApiGatewayV2::Api")
    watching_alias = [
        {"Name": "FunctionName", "Value": {"Ref": "ApiFunction"}},
        {"Name": "Resource", "Value": {"Sub": f"${{ApiFunction}}:{alias_name}"}},
    ]
    for name in rollback:
        assert resources.get(name, {}).get("Type") == operations.ALARM, f"{name} is no alarm of the stack"
        properties = resources[name]["Properties"]
        metrics = [q["MetricStat"]["Metric"] for q in properties.get("Metrics", []) if "MetricStat" in q]
        metrics = metrics or [properties]
        for metric in metrics:
            if metric["Namespace"] == "AWS/Lambda":
                assert metric["Dimensions"] == watching_alias, f"{name} does not watch the alias"
            else:
                assert metric["Namespace"] == "AWS/ApiGateway", f"{name} watches {metric['Namespace']}"
                assert metric["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": api_id}}], name
    if project.answers["storage"] == "rds":
        # The migrations run before any request reaches the new version.
        hook = resources[update["BeforeAllowTrafficHook"]["Ref"]]
        assert hook["Properties"]["Handler"].endswith(".migrate.before_traffic")
        assert "VpcConfig" not in hook["Properties"], "the hook must reach CodeDeploy's API"
        variables = hook["Properties"]["Environment"]["Variables"]
        assert variables["MIGRATE_FUNCTION"] == {"Ref": "MigrateFunction"}
    else:
        assert "BeforeAllowTrafficHook" not in update


def test_every_alarm_notifies_the_encrypted_topic(project: RenderedProject) -> None:
    for relative, template in application_stacks(project).items():
        alarms = operations.of_type(template, operations.ALARM)
        assert len(alarms) >= 5, f"{relative}: {sorted(alarms)}"
        for name, alarm in alarms.items():
            for actions in ("AlarmActions", "OKActions"):
                assert alarm["Properties"].get(actions) == [{"Ref": "AlarmTopic"}], f"{relative} {name}"
        topic = template["Resources"]["AlarmTopic"]["Properties"]
        assert topic["KmsMasterKeyId"] == {"Ref": "AlarmTopicKey"}
        key_policy = template["Resources"]["AlarmTopicKey"]["Properties"]["KeyPolicy"]["Statement"]
        assert any(s["Principal"] == {"Service": "cloudwatch.amazonaws.com"} for s in key_policy), (
            "CloudWatch may not encrypt for the topic: the alarms would notify no one"
        )
        (subscription,) = operations.of_type(template, "AWS::SNS::Subscription").values()
        assert subscription["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"}
        assert subscription["Condition"] == "HasAlarmEmail"
        assert "AlarmEmailSubscription" not in operations.present(template, {})
        email = {"AlarmEmail": operations.OPTIONAL_PARAMETERS["AlarmEmail"]}
        assert "AlarmEmailSubscription" in operations.present(template, email)


def test_the_dashboard_shows_every_alarm_and_what_the_app_counts(project: RenderedProject) -> None:
    metrics_module = project.path / "src" / project.answers["package_name"] / "metrics.py"
    namespace, counted = operations.counted_metrics(metrics_module)
    assert namespace == project.answers["project_slug"]
    assert counted, f"{metrics_module} counts nothing"
    for relative, template in application_stacks(project).items():
        body, text, variables = operations.dashboard(template)
        widgets = body["widgets"]
        (alarm_widget,) = [w for w in widgets if w["type"] == "alarm"]
        shown = set(re.findall(r'"\$\{(\w+)\.Arn\}"', text))
        assert shown == set(operations.of_type(template, operations.ALARM)), f"{relative}: alarms shown"
        assert len(alarm_widget["properties"]["alarms"]) == len(shown)
        charted = {
            metric[1]
            for widget in widgets
            if widget["type"] == "metric"
            for metric in widget["properties"]["metrics"]
            if metric[0] == namespace
        }
        assert charted == counted, f"{relative}: the dashboard charts {charted}, the app counts {counted}"
        for widget in widgets:
            for metric in widget["properties"].get("metrics", []):
                if metric[0] == namespace:
                    # The dimensions the app writes (metrics.DIMENSIONS), with this stack's values.
                    assert metric[2:6] == ["service", project.answers["project_slug"], "stage", "1"], metric
        referenced = set(re.findall(r"\$\{(\w+)\}", text)) - {"Stage"}
        assert referenced <= {*variables, *template["Resources"], *template["Parameters"]}, referenced


def test_domain_resources_exist_only_with_their_domain(project: RenderedProject) -> None:
    """Empty domain parameters (the default) make no domain resource; set, they make them all."""
    spa = project.answers["frontend"] == "spa"
    for relative, template in application_stacks(project).items():
        domains = set(operations.of_type(template, *operations.DOMAIN_TYPES))
        expected = {
            "ApiDomain",
            "ApiDomainMapping",
            "ApiDomainRecord",
            *(["SiteDomainRecords"] if spa else []),
        }
        assert domains == expected, f"{relative}: {sorted(domains)}"
        assert operations.present(template, {}) & domains == set(), f"{relative}: made with no domain"
        assert operations.present(template, operations.OPTIONAL_PARAMETERS) >= domains, relative
        without_zone = {**operations.OPTIONAL_PARAMETERS, "HostedZoneId": ""}
        records = {name for name in domains if name.endswith(("Record", "Records"))}
        assert operations.present(template, without_zone) & records == set(), relative
        api_url = template["Outputs"]["ApiUrl"]["Value"]
        assert (
            operations.resolve(api_url, template, operations.OPTIONAL_PARAMETERS)
            == "https://api.example.com/"
        )
        # Half an answer stops the deploy before anything changes.
        for name in (
            "ApiDomainName",
            "ApiCertificateArn",
            *(["SiteDomainName", "SiteCertificateArn"] if spa else []),
        ):
            assert operations.rules_refusing(template, {name: operations.OPTIONAL_PARAMETERS[name]}), name
        assert operations.rules_refusing(template, operations.OPTIONAL_PARAMETERS) == []
        if spa:
            site = template["Resources"]["SiteDistribution"]["Properties"]["DistributionConfig"]
            assert operations.resolve(site["Aliases"], template, operations.OPTIONAL_PARAMETERS) == [
                "www.example.com"
            ]
            origin = template["Outputs"]["SiteUrl"]["Value"]
            assert (
                operations.resolve(origin, template, operations.OPTIONAL_PARAMETERS)
                == "https://www.example.com"
            )
            if relative != "infra/stack.yaml":  # zappa's function takes SITE_ORIGINS from SiteUrl
                function = template["Resources"]["ApiFunction"]["Properties"]
                assert function["Environment"]["Variables"]["SITE_ORIGINS"] == origin


# Per backend that deploys the SAM application through a CloudFormation role of its own: the
# application template, and the stack that holds that role (DeployRole).
DEPLOY_ROLE_STACKS = {
    "codestar": ("template.yml", "pipeline/pipeline.yml"),
    "sam": ("template.yaml", "cicd/bootstrap.yaml"),
}


@pytest.mark.xdist_group(SCANS)
@pytest.mark.parametrize(
    "combination",
    [combination for combination in SAM_COMBINATIONS if combination["deployment"] in DEPLOY_ROLE_STACKS],
    ids=lambda combination: combination.name,
)
def test_the_deploy_role_may_make_what_the_features_add(
    combination: Combination,
    rendered: Callable[[Combination], RenderedProject],
    sam_translation: dict[str, Any],
) -> None:
    """For each resource type the deploys, alarms and domains add, CloudFormation's role may call what
    the type's handlers call (less what the stack never uses); on their own services, nothing more."""
    project = rendered(combination)
    application, toolchain = DEPLOY_ROLE_STACKS[combination["deployment"]]
    template = translated(sam_translation, combination, application)
    expected = {"AWS::Lambda::Alias", "AWS::CodeDeploy::DeploymentGroup", "AWS::KMS::Key"}
    check_deploy_role_makes_the_features(load_structured(project.path / toolchain), template, expected)


@pytest.mark.parametrize(
    "combination",
    [combination for combination in COMBINATIONS if combination["deployment"] == "zappa"][:1],
    ids=lambda combination: combination.name,
)
def test_the_zappa_deploy_role_may_make_what_the_features_add(
    combination: Combination, rendered: Callable[[Combination], RenderedProject]
) -> None:
    """The same for the role CloudFormation changes zappa's stage stack with (its CI bootstrap's)."""
    project = rendered(combination)
    template = load_structured(project.path / "infra" / "stack.yaml")
    check_deploy_role_makes_the_features(
        load_structured(project.path / "cicd" / "bootstrap.yaml"), template, {"AWS::KMS::Key"}, ZAPPA_UNUSED
    )


# What the handlers of zappa's stack's feature types ask for that the sam stacks need for a
# resource of their own (the CodeDeploy role passed, the packaged code read), and zappa's never.
ZAPPA_UNUSED = {
    "iam:PassRole": "the topic logs no delivery status and the subscription delivers to no Firehose",
    "s3:GetObject": "the domain name has no mutual TLS trust store",
    "s3:GetObjectVersion": "the domain name has no mutual TLS trust store",
}


def check_deploy_role_makes_the_features(
    toolchain: dict[str, Any],
    template: dict[str, Any],
    expected: set[str],
    unused_here: Mapping[str, str] | None = None,
) -> None:
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    allowed = [s for s in iam.statements(toolchain) if s.holder == "DeployRole" and s.allows]
    every_type = {r["Type"] for r in template["Resources"].values()}
    types = every_type & operations.FEATURE_TYPES
    assert expected <= types

    def handler_permissions(kinds: set[str]) -> set[str]:
        found: set[str] = set()
        for kind in kinds:
            handlers = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", kind).schema.get(
                "handlers", {}
            )
            found |= {
                p
                for h in ("create", "read", "update", "delete")
                for p in handlers.get(h, {}).get("permissions", [])
            }
        return found

    needed = handler_permissions(types)
    unused = set(operations.UNUSED_HANDLER_PERMISSIONS)
    asked = handler_permissions(operations.FEATURE_TYPES)
    assert unused <= asked, f"left out, but no handler asks for it: {sorted(unused - asked)}"
    missing = sorted(
        p for p in needed - unused - set(unused_here or {}) if not any(s.covers(p) for s in allowed)
    )
    assert not missing, f"the deploy role may not: {missing}"
    # On the services these features bring, what the role may do is what some resource of the stack needs.
    anywhere = handler_permissions(every_type)
    beyond = sorted(
        str(action)
        for s in allowed
        for action in iam.as_list(s.body["Action"])
        if str(action).split(":")[0] in operations.FEATURE_SERVICES and action not in anywhere
    )
    assert not beyond, f"no handler of the stack's resources calls: {beyond}"


def test_ruff_check(project: RenderedProject) -> None:
    env = project_env(project.path, project.combination["python_version"])
    check(env.run([env.python, "-m", "ruff", "check", "--no-cache", "."], cwd=project.path), "ruff check")


def test_ruff_format(project: RenderedProject) -> None:
    env = project_env(project.path, project.combination["python_version"])
    check(
        env.run([env.python, "-m", "ruff", "format", "--check", "--no-cache", "."], cwd=project.path),
        "ruff format --check",
    )


def test_workflows_pass_actionlint(project: RenderedProject) -> None:
    workflows = [f for f in project.files if re.match(r"\.github/workflows/[^/]+\.ya?ml$", f)]
    assert workflows, "the generated project has no GitHub Actions workflow"
    actionlint = Path(sys.prefix) / "bin" / "actionlint"
    if not actionlint.exists():
        pytest.fail("actionlint is missing from the template's environment: run `uv sync`", pytrace=False)
    # shellcheck and pyflakes are left out: whether they are installed must not change the verdict.
    result = run(
        [actionlint, "-shellcheck=", "-pyflakes=", *workflows], cwd=project.path, env=clean_environ()
    )
    check(result, "actionlint")


# --- the project's own checks: the git hook, Dependabot, make audit ------------------------------

# The hooks of .pre-commit-config.yaml, as pre-commit names them in its report.
PRE_COMMIT_HOOKS = ("ruff check", "ruff format", "mypy", "actionlint")
# Once per deployment backend: the hooks see the files of each.
PRE_COMMIT_COMBINATIONS = list({c["deployment"]: c for c in reversed(COMBINATIONS)}.values())[::-1]


def hook_outcome(output: str, hook: str) -> str | None:
    """What pre-commit reports for ``hook`` (``Passed``, ``Failed``, ``(no files to check)Skipped``)."""
    found = re.search(rf"^{re.escape(hook)}\.+(\S.*)$", output, re.MULTILINE)
    return found.group(1).strip() if found else None


@pytest.mark.parametrize("combination", PRE_COMMIT_COMBINATIONS, ids=lambda combination: combination.name)
def test_pre_commit_hooks_pass_and_refuse_a_bad_change(
    combination: Combination, rendered: Callable[[Combination], RenderedProject], tmp_path: Path
) -> None:
    """`pre-commit run --all-files` in the project as a git repository: every hook runs, from the project's
    environment (uv offline, no hook repository fetched), and passes; a module with an unused import and a
    type error is refused by ruff and mypy."""
    project = rendered(combination)
    env = project_env(project.path, combination["python_version"])
    copy = project.copy_to(tmp_path / "project")
    git = clean_environ()
    check(run(["git", "init", "--quiet"], cwd=copy, env=git), "git init")
    check(run(["git", "add", "--all"], cwd=copy, env=git), "git add")
    pre_commit_home = tmp_path / "pre-commit-home"
    with mypy_cache(project.name, env) as cache:
        environ = env.environ(UV_OFFLINE="1", PRE_COMMIT_HOME=str(pre_commit_home), MYPY_CACHE_DIR=str(cache))
        command: list[str | Path] = [env.bin / "pre-commit", "run", "--color=never"]
        passed = check(run([*command, "--all-files"], cwd=copy, env=environ), "pre-commit run --all-files")
        outcomes = {hook: hook_outcome(passed.output, hook) for hook in PRE_COMMIT_HOOKS}
        assert outcomes == dict.fromkeys(PRE_COMMIT_HOOKS, "Passed"), passed.describe()
        assert not list(pre_commit_home.glob("repo*")), "pre-commit fetched a hook repository"

        broken = copy / "src" / IDENTITY_PACKAGE / "broken.py"
        broken.write_text('import os\n\nANSWER: int = "forty-two"\n', encoding="utf-8")
        check(run(["git", "add", "--all"], cwd=copy, env=git), "git add")
        refused = run([*command, "--files", broken.relative_to(copy)], cwd=copy, env=environ)
    assert refused.returncode != 0, refused.describe()
    assert hook_outcome(refused.output, "ruff check") == "Failed", refused.describe()
    assert "F401" in refused.output, refused.describe()
    assert hook_outcome(refused.output, "mypy") == "Failed", refused.describe()
    assert "Incompatible types in assignment" in refused.output, refused.describe()


def dependabot_schema() -> dict[str, Any]:
    """SchemaStore's schema of Dependabot's settings, as check-jsonschema ships it."""
    vendored = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "dependabot.json"
    schema: dict[str, Any] = json.loads(vendored.read_text(encoding="utf-8"))
    return schema


def test_dependabot_updates_every_ecosystem_of_the_project(project: RenderedProject) -> None:
    """.github/dependabot.yml is valid (SchemaStore's schema) and updates exactly the project's ecosystems,
    each where its manifests are, weekly, with its minor and patch updates grouped."""
    config = load_structured(project.path / ".github" / "dependabot.yml")
    schema = dependabot_schema()
    errors = [
        error.message for error in jsonschema.validators.validator_for(schema)(schema).iter_errors(config)
    ]
    assert not errors, "Dependabot's schema refuses .github/dependabot.yml:\n" + "\n".join(errors)
    assert config["version"] == 2
    manifests = {
        "uv": ("/", ["pyproject.toml", "uv.lock"]),
        "github-actions": ("/", [".github/workflows/ci.yml"]),
    }
    if project.answers["frontend"] == "spa":
        manifests["npm"] = ("/frontend", ["package.json", "package-lock.json"])
    ecosystems = [update["package-ecosystem"] for update in config["updates"]]
    assert sorted(ecosystems) == sorted(manifests), ecosystems
    for update in config["updates"]:
        directory, files = manifests[update["package-ecosystem"]]
        assert update["directory"] == directory, update
        for name in files:
            assert (project.path / directory.lstrip("/") / name).is_file(), f"{directory}: no {name}"
        assert update["schedule"]["interval"] == "weekly", update
        groups = [group.get("update-types") for group in update.get("groups", {}).values()]
        assert groups == [["minor", "patch"]], update


# A known vulnerability, as OSV's API reports one (https://ossf.github.io/osv-schema/).
FAKE_VULNERABILITY = "PYSEC-0000-0001"


class OsvStandIn:
    """OSV's query API on a port of 127.0.0.1: each package it is asked about, and the answers given.

    pip-audit's default service, PyPI's JSON API for each version, is out of this machine's reach;
    its other, OSV's, takes a URL (PIP_AUDIT_OSV_URL), so `make audit` can be run against this.
    """

    def __init__(self) -> None:
        self.queried: dict[str, str] = {}
        self.vulnerable: dict[str, str] = {}  # name -> the version reported vulnerable
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                name, version = query["package"]["name"], query["version"]
                stand_in.queried[name] = version
                answer: dict[str, Any] = {}
                if stand_in.vulnerable.get(name) == version:
                    affected = {"package": {"name": name, "ecosystem": "PyPI"}, "ranges": [FIXED_LATER]}
                    answer = {
                        "vulns": [{"id": FAKE_VULNERABILITY, "summary": "a test", "affected": [affected]}]
                    }
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1/query"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> OsvStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


FIXED_LATER = {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "999"}]}
# One project's audit: it looks up every locked package (on a first run, slowly).
AUDIT_COMBINATIONS = [combination for combination in COMBINATIONS if combination["frontend"] == "none"][:1]


@pytest.mark.parametrize("combination", AUDIT_COMBINATIONS, ids=lambda combination: combination.name)
def test_make_audit_looks_up_every_locked_package(
    combination: Combination, rendered: Callable[[Combination], RenderedProject], tmp_path: Path
) -> None:
    """`make audit` asks the advisory service about every package of uv.lock at its version, fails on a
    known vulnerability and names it, and passes when there is none."""
    project = rendered(combination)
    env = project_env(project.path, combination["python_version"])
    copy = project.copy_to(tmp_path / "project")
    locked = {
        entry["name"]: entry["version"]
        for entry in read_lock(copy)["package"]
        if entry["name"] != IDENTITY_SLUG
    }
    with OsvStandIn() as service:
        environ = env.environ(
            UV_OFFLINE="1", PIP_AUDIT_VULNERABILITY_SERVICE="osv", PIP_AUDIT_OSV_URL=service.url
        )
        service.vulnerable["flask"] = locked["flask"]
        found = run(["make", "audit"], cwd=copy, env=environ, timeout=600)
        assert found.returncode != 0, f"a known vulnerability passed the audit:\n{found.describe()}"
        assert re.search(
            rf"^flask +{re.escape(locked['flask'])} +{FAKE_VULNERABILITY} +999$", found.output, re.M
        ), found.describe()
        assert service.queried == locked, "the audit did not look up exactly the locked packages"

        service.vulnerable.clear()
        clean = check(run(["make", "audit"], cwd=copy, env=environ, timeout=600), "make audit")
        assert "No known vulnerabilities found" in clean.output, clean.describe()


# --- secrets never on a command line ---------------------------------------------------------------

# What a user puts in .env (secrets=env): distinctive values, one starting with "-" as about one
# random key in 64 does, which a command line would take for an option.
STAGE_SECRETS = {
    "CURSOR_SIGNING_KEY": "-cursor-signing-key-" + "c" * 32,
    "ADMIN_TOKEN": "admin-token-" + "a" * 24,
    "DATABASE_PASSWORD": "database-password-" + "p" * 12,
}


def secrets_target(answers: dict[str, str]) -> str:
    """The target that hands the stage's secrets on: it creates them (ssm), stores them for the
    pipeline (codestar, env), or deploys the stack with them (env)."""
    return "secrets" if answers["secrets"] == "ssm" or answers["deployment"] == "codestar" else "stack"


def test_make_passes_no_secret_on_a_command_line(project: RenderedProject) -> None:
    """`make -n` of the target that hands secrets on, with them in the environment: no value is printed."""
    target = secrets_target(project.answers)
    environ = {**clean_environ(), **STAGE_SECRETS}
    # Assumed built and installed: only what the target itself runs is printed.
    dry_run = run(
        ["make", "-n", "-o", "build", "-o", ".venv/pyvenv.cfg", target, "STAGE=dev"],
        cwd=project.path,
        env=environ,
    )
    commands = check(dry_run, f"make -n {target}").output
    assert "dev.stage_secrets" in commands, (
        f"`make {target}` does not go through dev/stage_secrets.py:\n{commands}"
    )
    leaked = [name for name, value in STAGE_SECRETS.items() if value in commands]
    assert not leaked, f"make -n {target} prints {leaked}:\n{commands}"


# Stands in for sam and aws: records its arguments, environment, standard input and the
# content and mode of a file:// argument.
_RECORDER = """
import json, os, stat, sys
record = {"argv": sys.argv[1:], "environ": dict(os.environ), "stdin": sys.stdin.read()}
for argument in sys.argv[1:]:
    path = argument.removeprefix("file://")
    if argument.startswith("file://") and os.path.isfile(path):
        mode = stat.S_IMODE(os.stat(path).st_mode)
        record["file"] = {"path": path, "mode": mode, "content": open(path).read()}
json.dump(record, open(os.environ["SECRETS_RECORD"], "w"))
"""
# One combination per backend and secrets choice, with the database's password among the secrets.
SECRET_RUNS = list(
    {(c["deployment"], c["secrets"]): c for c in reversed(COMBINATIONS) if c["storage"] == "rds"}.values()
)


@contextlib.contextmanager
def aws_emulator() -> Iterator[Callable[[str], Any]]:
    """moto's server for the duration: boto3 clients of it, as ``client(service)``."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield functools.partial(
            boto3.client,
            region_name=IDENTITY["aws_region"],
            endpoint_url=f"http://{host}:{port}",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
    finally:
        server.stop()


def fake_tools(directory: Path, **scripts: str) -> Path:
    """``directory`` holding an executable per keyword, ``name=script``, run by this interpreter."""
    directory.mkdir()
    for tool, script in scripts.items():
        (directory / tool).write_text(f"#!{sys.executable}\n{script}")
        (directory / tool).chmod(0o755)
    return directory


def stage_copy(project: RenderedProject, destination: Path, python_version: str) -> Path:
    """A copy of ``project`` with its cached environment as ``.venv`` and the stage's secrets in ``.env``."""
    copy = project.copy_to(destination)
    env = project_env(copy, python_version)
    (copy / ".venv").symlink_to(env.path, target_is_directory=True)
    (copy / ".env").write_text("".join(f"{key}={value}\n" for key, value in STAGE_SECRETS.items()))
    return copy


@pytest.mark.parametrize("combination", SECRET_RUNS, ids=lambda combination: combination.name)
def test_secrets_reach_aws_off_the_command_line(
    combination: Combination, rendered: Callable[[Combination], RenderedProject], tmp_path: Path
) -> None:
    """The target run for real, .env filled in: sam and aws (fakes that record how they ran) get no
    secret in their arguments or environment; SSM or Secrets Manager (the AWS emulator) get them."""
    copy = stage_copy(rendered(combination), tmp_path / "project", combination["python_version"])
    fakes = fake_tools(tmp_path / "bin", sam=_RECORDER, aws=_RECORDER)
    record = tmp_path / "record.json"
    target = secrets_target(combination.answers)
    with aws_emulator() as client:
        endpoint = client("sts").meta.endpoint_url
        environ = clean_environ(
            [fakes],
            SECRETS_RECORD=str(record),
            AWS_ENDPOINT_URL=endpoint,
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
        )
        command = ["make", "-o", "build", "-o", ".venv/pyvenv.cfg", target, "STAGE=dev", "MODERATION=1"]
        made = run([*command, f"SAM={fakes / 'sam'}"], cwd=copy, env=environ, timeout=120)
        output = check(made, f"make {target}").output
        assert not [name for name, value in STAGE_SECRETS.items() if value in output], output
        if combination["secrets"] == "ssm":
            ssm = client("ssm")
            for name in ("cursor-signing-key", "admin-token"):
                parameter = ssm.get_parameter(Name=f"/{IDENTITY_SLUG}/dev/{name}", WithDecryption=True)
                assert len(parameter["Parameter"]["Value"]) == 64
                assert parameter["Parameter"]["Value"] not in output
            return
        if combination["deployment"] == "codestar":
            stored = client("secretsmanager").get_secret_value(
                SecretId=f"{IDENTITY_SLUG}-dev/stack-parameters"
            )
            assert json.loads(stored["SecretString"]) == STAGE_SECRETS
            return
    called = json.loads(record.read_text(encoding="utf-8"))
    for name, value in STAGE_SECRETS.items():
        assert not any(value in argument for argument in called["argv"]), f"{name} in {called['argv']}"
        assert value not in called["environ"].values(), f"{name} in the environment of {called['argv'][:2]}"
    if combination["deployment"] == "sam":
        assert called["argv"][:3] == ["deploy", "--config-env", "dev"]
        assert called["file"]["mode"] == 0o600
        assert json.loads(called["file"]["content"]) == {
            "CursorSigningKey": STAGE_SECRETS["CURSOR_SIGNING_KEY"],
            "AdminToken": STAGE_SECRETS["ADMIN_TOKEN"],
            "DatabaseMasterPassword": STAGE_SECRETS["DATABASE_PASSWORD"],
        }
        assert not Path(called["file"]["path"]).exists(), "the secrets' file outlives sam deploy"
    else:
        assert called["argv"][:2] == ["cloudformation", "deploy"]
        parameters = json.loads(called["stdin"])["Parameters"]
        assert parameters == {"Stage": "dev", "DatabaseMasterPassword": STAGE_SECRETS["DATABASE_PASSWORD"]}


# --- the single-page app (frontend=spa) ---------------------------------------------------------

SPA_COMBINATIONS = [combination for combination in COMBINATIONS if combination["frontend"] == "spa"]
# The browser test, once per deployment backend: its first spa combination.
BROWSER_COMBINATIONS = [
    next(combination for combination in SPA_COMBINATIONS if combination["deployment"] == deployment)
    for deployment in dict.fromkeys(combination["deployment"] for combination in SPA_COMBINATIONS)
]


@pytest.fixture(scope="session")
def frontend_checks(session_dir: Path) -> FrontendChecks:
    return FrontendChecks(session_dir / "frontend")


@pytest.mark.xdist_group(FRONTEND_CHECKS)
@pytest.mark.parametrize("combination", SPA_COMBINATIONS, ids=lambda combination: combination.name)
def test_frontend_type_checks_lints_tests_and_builds(
    combination: Combination,
    rendered: Callable[[Combination], RenderedProject],
    frontend_checks: FrontendChecks,
    record_property: Callable[[str, object], None],
) -> None:
    """`npm ci`, then the app's own scripts: typecheck, lint, test, build, size (shared by equal apps)."""
    project = rendered(combination)
    report = frontend_checks.get(project)
    if report.failed:
        pytest.fail(f"the app's {report.failed} failed:\n{report.output}", pytrace=False)
    assert report.initial_js_kb is not None, f"`npm run size` printed no size:\n{report.output}"
    record_property("initial_js_kb", report.initial_js_kb)


@pytest.mark.parametrize("combination", SPA_COMBINATIONS, ids=lambda combination: combination.name)
def test_make_targets_do_the_apps_part(
    combination: Combination, rendered: Callable[[Combination], RenderedProject]
) -> None:
    """frontend/frontend.mk is included: the everyday targets cover the app too (dry runs, `make -n`)."""
    project = rendered(combination)

    def commands(target: str) -> list[str]:
        dry_run = run(["make", "-n", target], cwd=project.path, env=clean_environ())
        return check(dry_run, f"make -n {target}").output.splitlines()

    def position(lines: list[str], fragment: str | re.Pattern[str]) -> int:
        found = [
            index
            for index, line in enumerate(lines)
            if (fragment.search(line) if isinstance(fragment, re.Pattern) else fragment in line)
        ]
        assert found, f"no command with {fragment!r} in:\n" + "\n".join(lines)
        return found[0]

    listed = check(run(["make", "help"], cwd=project.path, env=clean_environ()), "make help").output
    assert re.search(r"^  frontend-e2e +Browser tests", listed, re.MULTILINE), listed
    assert position(commands("install"), "npm --prefix frontend ci") >= 0
    lint = commands("lint")
    assert position(lint, "run typecheck") < position(lint, "run lint")
    test = commands("test")
    assert position(test, "npm --prefix frontend test") >= 0
    assert position(test, "uv run --locked pytest") >= 0
    dev = commands("dev")
    assert position(dev, "dev.local serve --port ") <= position(dev, "npm --prefix frontend run dev")
    stack_deploy, stack_delete = STACK_COMMANDS[combination["deployment"]]
    if combination["deployment"] == "codestar":
        # The pipeline deploys the stack; its post-deploy action builds and publishes the app.
        assert position(commands("deploy"), stack_deploy) >= 0
        post_deploy = commands("post-deploy")
        assert position(post_deploy, "npm --prefix frontend run build") < position(
            post_deploy, "frontend.deploy publish"
        )
    else:
        deploy = commands("deploy")
        build = position(deploy, "npm --prefix frontend run build")
        assert build < position(deploy, stack_deploy) < position(deploy, "frontend.deploy publish")
    delete = commands("delete")
    assert position(delete, "frontend.deploy empty") < position(delete, stack_delete)


# What deploys and deletes a stage's stack, in `make -n deploy` and `make -n delete`.
STACK_COMMANDS: dict[str, tuple[str | re.Pattern[str], str]] = {
    # With secrets=env, dev/stage_secrets.py runs `sam deploy`, its secrets in a file.
    "sam": (re.compile(r" deploy --config-env| dev\.stage_secrets deploy "), " delete --config-env"),
    "zappa": ("cloudformation deploy", "cloudformation delete-stack"),
    "codestar": ("codepipeline start-pipeline-execution", " delete --stack-name"),
}


ROUTES = {
    # Client-side routes get the app; files keep their path (a missing one stays an error).
    "/": "/index.html",
    "/questions/7f0c2b1e-5d4a-4c39-9a8e-2b1f0e6d4c3a": "/index.html",
    "/no/such/page": "/index.html",
    "/index.html": "/index.html",
    "/config.json": "/config.json",
    "/favicon.svg": "/favicon.svg",
    "/assets/index-BC6jvZAK.js": "/assets/index-BC6jvZAK.js",
    "/assets/missing.js": "/assets/missing.js",
}
_RUN_FUNCTIONS = """
const [codes, uris] = JSON.parse(require('fs').readFileSync(0, 'utf8'));
console.log(JSON.stringify(codes.map((code) => {
  const handler = new Function(code + '\\nreturn handler')();
  return Object.fromEntries(uris.map((uri) => [uri, handler({ request: { uri } }).uri]));
})));
"""


@pytest.mark.parametrize("combination", SPA_COMBINATIONS, ids=lambda combination: combination.name)
def test_site_routing_function(
    combination: Combination, rendered: Callable[[Combination], RenderedProject]
) -> None:
    """The distribution's viewer-request function, run by Node on the routes that matter."""
    project = rendered(combination)
    codes = [
        resource["Properties"]["FunctionCode"]
        for relative in cloudformation_templates(project)
        for resource in load_structured(project.path / relative)["Resources"].values()
        if resource.get("Type") == "AWS::CloudFront::Function"
    ]
    assert len(codes) == 1, f"expected one CloudFront function in the project's stacks, found {len(codes)}"
    result = subprocess.run(
        [require_node(), "-e", _RUN_FUNCTIONS],
        input=json.dumps([codes, list(ROUTES)]),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [ROUTES]


@pytest.mark.xdist_group(FRONTEND_CHECKS)
@pytest.mark.parametrize("combination", BROWSER_COMBINATIONS, ids=lambda combination: combination.name)
def test_site_in_a_browser(
    combination: Combination, rendered: Callable[[Combination], RenderedProject], tmp_path: Path
) -> None:
    """The app's browser tests (`make frontend-e2e`): the built app and the local API in headless Chromium."""
    project = rendered(combination)
    env = project_env(project.path, combination["python_version"])
    copy = work_copy(project, tmp_path / project.path.name)
    frontend = copy / FRONTEND
    npm_env = npm_environ(
        CI="true",
        CHROME_PATH=str(require_chrome()),
        # What frontend.mk's frontend-e2e passes.
        API_PYTHON=str(env.python),
        STACK_TEMPLATE=str(copy / stack_template(frontend)),
    )
    npm = require_npm()
    check(run([npm, "run", "build"], cwd=frontend, env=npm_env), "npm run build")
    check(run([npm, "run", "test:e2e"], cwd=frontend, env=npm_env, timeout=300), "npm run test:e2e")


# --- make dev: the app restarts on a code change, the data stays; PORT moves every part ------------

# cookiecutter.json's ports for `make dev`: the API's, the AWS emulator's, the app's.
DEV_PORTS: dict[str, str] = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text(encoding="utf-8"))[
    "__dev_ports"
]
# Where each port is set in a project, the only file besides documentation and tests that names it.
DEV_PORT_SOURCES = {"api": "Makefile", "aws_emulator": "dev/local_aws.py", "site": "frontend/frontend.mk"}
# The database servers the rds projects' tests use by default.
DATABASE_PORTS = {"5432", "3306"}
LOCAL_ADDRESS = re.compile(r"\b(?:localhost|127\.0\.0\.1):(\d+)")
TEST_FILE = re.compile(r"(^|/)(tests|e2e)/|\.test\.tsx?$")
# A stack's numbers are AWS settings (an alarm's 8000 ms), never local ports; its local addresses are checked.
STACK_TEMPLATE = re.compile(r"^AWSTemplateFormatVersion:", re.MULTILINE)
# What a spa project's make dev takes as installed: its node_modules is the session's (work_copy).
NODE_MODULES_MARKER = "frontend/node_modules/.package-lock.json"


def test_local_ports_come_from_one_place(project: RenderedProject) -> None:
    """Every local address in the project uses one of `make dev`'s ports (or a database server's), and
    each port is set in one file, which `make dev` follows: `make -n dev PORT=...` passes the override on."""
    files = [
        (relative, text) for relative, text in project.text_files() if not options.LOCK_FILE.search(relative)
    ]
    allowed = set(DEV_PORTS.values()) | DATABASE_PORTS
    stray = [
        f"{relative}: {found.group(0)}"
        for relative, text in files
        for found in LOCAL_ADDRESS.finditer(text)
        if found.group(1) not in allowed
    ]
    assert not stray, "local addresses on ports make dev does not use:\n" + "\n".join(stray)
    for name, port in DEV_PORTS.items():
        naming = sorted(
            relative
            for relative, text in files
            if not relative.endswith(".md")
            and not TEST_FILE.search(relative)
            and not STACK_TEMPLATE.search(text)
            and re.search(rf"(?<![\w.]){port}(?![\w.])", text)
        )
        source = DEV_PORT_SOURCES[name]
        assert naming == ([source] if source in project.files else []), (
            f"port {port} ({name}) is set in {naming}"
        )
    dry_run = check(
        run(["make", "-n", "dev", "PORT=5350"], cwd=project.path, env=clean_environ()), "make -n dev"
    )
    assert "dev.local serve --port 5350" in dry_run.output, dry_run.output
    if project.answers["frontend"] == "spa":
        assert "API_URL=http://localhost:5350 " in dry_run.output, dry_run.output


def dev_copy(project: RenderedProject, destination: Path) -> tuple[Path, list[str]]:
    """A copy to run `make dev` in, and its arguments (with spa: the app's port, its packages installed)."""
    if project.answers["frontend"] != "spa":
        return project.copy_to(destination), ["dev"]
    return work_copy(project, destination), ["-o", NODE_MODULES_MARKER, "dev", f"SITE_PORT={free_port()}"]


def dev_environ(env: ProjectEnv) -> dict[str, str]:
    """`make dev`'s environment: the project's environment, uv offline, an AWS emulator of its own."""
    environ = env.environ(UV_OFFLINE="1", LOCAL_AWS_PORT="0", npm_config_update_notifier="false")
    environ.pop("DATABASE_URL", None)  # the SQLite file of make dev, in the copy
    return environ


# The stand-ins make dev keeps its data in differ by store and secrets: one combination of each.
DEV_COMBINATIONS = list({(c["storage"], c["secrets"]): c for c in reversed(COMBINATIONS)}.values())[::-1]


@pytest.mark.parametrize("combination", DEV_COMBINATIONS, ids=lambda combination: combination.name)
def test_make_dev_restarts_on_a_code_change_and_keeps_the_data(
    combination: Combination, rendered: Callable[[Combination], RenderedProject], tmp_path: Path
) -> None:
    """`make dev PORT=...` serves there; a question asked, a source file touched, the app restarted in a
    new process by werkzeug's reloader, and the question read back from the store that outlived it."""
    project = rendered(combination)
    env = project_env(project.path, combination["python_version"])
    copy, arguments = dev_copy(project, tmp_path / project.path.name)
    api = free_port()
    with make_dev(copy, dev_environ(env), *arguments, f"PORT={api}") as server:
        assert server.wait_until_answered(DEV_HOST, api, "/health").status == 200
        asked = call("POST", DEV_HOST, api, "/questions", {"text": "Still here after a restart?"})
        assert asked.status == 201, asked
        assert server.restarts() == 1, "the reloader started the app more than once before any change"

        source = copy / "src" / IDENTITY_PACKAGE / "app.py"
        os.utime(source)  # now: later than the time the reloader noted when the app started
        server.wait_for("restart of the app", lambda: server.restarts() == 2)
        assert f"Detected change in {str(source)!r}" in server.output()

        read = call("GET", DEV_HOST, api, f"/questions/{asked.json()['id']}")
        assert read.status == 200, read
        assert read.json()["text"] == "Still here after a restart?"
        listed = call("GET", DEV_HOST, api, "/questions?limit=100").json()["items"]
        # The example questions were added once, when make dev started, not at the restart.
        assert len(listed) == 3, listed


SITE_PORT_COMBINATIONS = [combination for combination in COMBINATIONS if combination["frontend"] == "spa"][:1]


@pytest.mark.parametrize("combination", SITE_PORT_COMBINATIONS, ids=lambda combination: combination.name)
def test_make_dev_port_moves_the_api_and_the_apps_config(
    combination: Combination, rendered: Callable[[Combination], RenderedProject], tmp_path: Path
) -> None:
    """`make dev PORT=... SITE_PORT=...` with the app: the API answers on PORT, the app's /config.json
    (Vite, on SITE_PORT) names it, and the API lets the app's origin call it."""
    project = rendered(combination)
    env = project_env(project.path, combination["python_version"])
    copy = work_copy(project, tmp_path / project.path.name)
    api, site = free_port(), free_port()
    arguments = ["-o", NODE_MODULES_MARKER, "dev", f"PORT={api}", f"SITE_PORT={site}"]
    with make_dev(copy, dev_environ(env), *arguments) as server:
        config = server.wait_until_answered("localhost", site, "/config.json")
        assert config.status == 200, config
        assert config.json() == {"apiBaseUrl": f"http://localhost:{api}"}
        assert server.wait_until_answered("localhost", api, "/health").status == 200
        origin = f"http://localhost:{site}"
        preflight = call(
            "OPTIONS",
            "localhost",
            api,
            "/questions",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.headers.get("access-control-allow-origin") == origin, preflight


# make dev keeps its data in one stand-in per store; dev/smoke.py is written with and without the site.
SMOKE_FRONTEND = {"dynamodb": "none", "rds": "spa"}
# Per store, the first combination with its frontend here, else its first.
SMOKE_COMBINATIONS = [
    min((c for c in COMBINATIONS if c["storage"] == storage), key=lambda c: c["frontend"] != frontend)
    for storage, frontend in SMOKE_FRONTEND.items()
    if any(c["storage"] == storage for c in COMBINATIONS)
]
# The stack outputs a deployed stage has, and what smoke.py reads: a stand-in resource beside them.
SMOKE_STACK = """
Resources:
  Placeholder:
    Type: AWS::SNS::Topic
Outputs:
"""


@pytest.mark.parametrize("combination", SMOKE_COMBINATIONS, ids=lambda combination: combination.name)
def test_make_smoke_passes_against_make_dev_and_fails_without_it(
    combination: Combination, rendered: Callable[[Combination], RenderedProject], tmp_path: Path
) -> None:
    """`make smoke` with BASE_URL (and SITE_URL) checks make dev's API (and app); with STAGE it finds the
    same addresses in the stack's outputs (moto's CloudFormation); on an address nothing serves, it fails."""
    project = rendered(combination)
    env = project_env(project.path, combination["python_version"])
    copy, arguments = dev_copy(project, tmp_path / project.path.name)
    api = free_port()
    urls = {"ApiUrl": f"http://localhost:{api}/"}
    smoke_arguments = [f"BASE_URL=http://localhost:{api}"]
    site_ports = [
        argument.removeprefix("SITE_PORT=") for argument in arguments if argument.startswith("SITE_PORT=")
    ]
    if site_ports:
        urls["SiteUrl"] = f"http://localhost:{site_ports[0]}"
        smoke_arguments.append(f"SITE_URL={urls['SiteUrl']}")
    checks = len(urls) * 2 + 1

    def smoke(*args: str, **environ: str) -> Result:
        return run(
            ["make", "smoke", *args], cwd=copy, env=env.environ(UV_OFFLINE="1", **environ), timeout=300
        )

    with make_dev(copy, dev_environ(env), *arguments, f"PORT={api}") as server:
        assert server.wait_until_answered(DEV_HOST, api, "/health").status == 200
        if site_ports:
            assert server.wait_until_answered("localhost", int(site_ports[0]), "/config.json").status == 200
        passed = check(smoke(*smoke_arguments), "make smoke against make dev")
        assert f"{checks} of {checks} checks passed" in passed.output, passed.output

        with aws_emulator() as client:
            endpoint = client("cloudformation").meta.endpoint_url
            # The emulator runs in this process, where an earlier test's stacks would still be.
            emulator = urllib.parse.urlsplit(endpoint)
            reset = call("POST", str(emulator.hostname), int(emulator.port or 80), "/moto-api/reset")
            assert reset.status == 200, reset
            outputs = "".join(f"  {key}:\n    Value: {url}\n" for key, url in urls.items())
            client("cloudformation").create_stack(
                StackName=f"{IDENTITY_SLUG}-local", TemplateBody=SMOKE_STACK + outputs
            )
            aws = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
            # make dev's stage is `local`: the stack of that stage, as a deploy names it.
            from_stack = check(smoke("STAGE=local", **aws), "make smoke STAGE=local")
            assert f"{checks} of {checks} checks passed" in from_stack.output, from_stack.output
            for url in urls.values():
                assert f"GET {url.rstrip('/')}/" in from_stack.output, from_stack.output
            # The API says which stage it is: another stage's stack pointing at it fails.
            client("cloudformation").create_stack(
                StackName=f"{IDENTITY_SLUG}-dev", TemplateBody=SMOKE_STACK + outputs
            )
            wrong_stage = smoke("STAGE=dev", **aws)
            assert wrong_stage.returncode != 0, wrong_stage.output
            assert "FAIL  GET" in wrong_stage.output, wrong_stage.output
            assert "not 'dev'" in wrong_stage.output, wrong_stage.output
            missing = smoke("STAGE=prod", **aws)
            assert missing.returncode != 0, missing.output
            assert f"cannot read the stack {IDENTITY_SLUG}-prod" in missing.output, missing.output

    stopped = smoke(*smoke_arguments)
    assert stopped.returncode != 0, stopped.output
    assert f"0 of {checks} checks passed" in stopped.output, stopped.output
    assert "no answer" in stopped.output, stopped.output


# --- Deploying from CI: the bootstrap stack's roles and the deploy workflows (tests/ci.py) ------

CI_COMBINATIONS = [c for c in COMBINATIONS if c["deployment"] in ci.GITHUB_DEPLOY_ACTIONS]
# An action pinned to a full commit, or a workflow of the repository itself.
PINNED_ACTION = re.compile(r"^(?:[\w.-]+/[\w./-]+@[0-9a-f]{40}|\./\.github/workflows/[\w.-]+\.yml)$")


def ci_bootstrap(project: RenderedProject) -> dict[str, Any]:
    template: dict[str, Any] = load_structured(project.path / "cicd" / "bootstrap.yaml")
    return template


@pytest.mark.parametrize("combination", CI_COMBINATIONS, ids=lambda combination: combination.name)
def test_the_ci_role_trusts_one_repositorys_jobs_in_the_stages_environment(
    combination: Combination, rendered: Callable[[Combination], RenderedProject]
) -> None:
    """The role GitHub Actions assumes requires STS as the token's audience and, as its subject, the
    repository's jobs in the environment named after the stage; GitHub's provider is made or reused."""
    project = rendered(combination)
    # So cfn-lint, checkov and the IAM checks above read it too.
    assert "cicd/bootstrap.yaml" in cloudformation_templates(project)
    template = ci_bootstrap(project)
    assert list(iam.github_roles(template)) == ["GitHubActionsRole"]
    problems = iam.github_trust_problems(template)
    assert not problems, "\n".join(problems)
    assert template["Parameters"]["Stage"]["AllowedValues"] == list(ci.STAGES)
    assert template["Conditions"]["CreateGitHubOidcProvider"] == {
        "Equals": [{"Ref": "GitHubOidcProviderArn"}, ""]
    }
    provider = template["Resources"]["GitHubOidcProvider"]
    assert provider["Condition"] == "CreateGitHubOidcProvider"
    assert provider["Properties"]["Url"] == f"https://{iam.GITHUB_ISSUER}"
    assert provider["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]
    principal = template["Resources"]["GitHubActionsRole"]["Properties"]["AssumeRolePolicyDocument"][
        "Statement"
    ]
    assert principal[0]["Principal"]["Federated"] == {
        "If": ["CreateGitHubOidcProvider", {"Ref": "GitHubOidcProvider"}, {"Ref": "GitHubOidcProviderArn"}]
    }


@pytest.mark.parametrize("combination", CI_COMBINATIONS, ids=lambda combination: combination.name)
def test_the_ci_role_may_do_what_its_deploy_calls_and_nothing_wider(
    combination: Combination, rendered: Callable[[Combination], RenderedProject]
) -> None:
    """Its actions are the backend's deploy's and the options' (tests/ci.py), and its policy, evaluated
    for each stage, allows the calls of that stage's deploy and refuses the others listed."""
    template = ci_bootstrap(rendered(combination))
    held = [s for s in iam.statements(template) if s.holder == "GitHubActionsRole"]
    granted = {str(action) for s in held if s.allows for action in iam.as_list(s.body["Action"])}
    expected = ci.GITHUB_DEPLOY_ACTIONS[combination["deployment"]] | ci.option_actions(combination.answers)
    assert granted == expected, f"more: {sorted(granted - expected)}; less: {sorted(expected - granted)}"
    for stage in ci.STAGES:
        names = ci.names(IDENTITY_SLUG, IDENTITY["aws_region"], stage)
        unbound = [s.describe() for s in held if "*" in iam.as_list(iam.resolve(s.body["Resource"], names))]
        assert not unbound, f"statements on every resource: {unbound}"
        wrong = [
            f"{'refused' if request.allowed else 'allowed'}: {request.describe()}"
            for request in ci.requests(combination.answers, IDENTITY_SLUG, IDENTITY["aws_region"], stage)
            if iam.allowed(held, request.action, request.resource, names, dict(request.context or {}))
            != request.allowed
        ]
        assert not wrong, f"the {stage} role's policy:\n" + "\n".join(wrong)


def workflow(project: RenderedProject, name: str) -> dict[str, Any]:
    loaded: dict[Any, Any] = load_structured(project.path / ".github" / "workflows" / name)
    # YAML 1.1 reads the key `on` as true.
    triggers = loaded.pop(True, loaded.get("on"))
    return {**loaded, "on": triggers}


@pytest.mark.parametrize("combination", CI_COMBINATIONS, ids=lambda combination: combination.name)
def test_the_deploy_workflow_builds_once_and_gates_prod_on_its_environment(
    combination: Combination, rendered: Callable[[Combination], RenderedProject]
) -> None:
    """A push to main builds one artifact; dev, then prod, deploy it in the environment named after
    them (prod's reviewers approve) one at a time, then smoke-test; only they may ask for a token."""
    project = rendered(combination)
    deploy, stage = workflow(project, "deploy.yml"), workflow(project, "deploy-stage.yml")
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    assert deploy["permissions"] == stage["permissions"] == {"contents": "read"}
    jobs = deploy["jobs"]
    assert list(jobs) == ["build", "dev", "prod"]
    uploads = [step for step in jobs["build"]["steps"] if "upload-artifact" in step.get("uses", "")]
    assert [step["with"]["name"] for step in uploads] == ["build"]
    assert "permissions" not in jobs["build"]
    for name, needs in (("dev", "build"), ("prod", "dev")):
        assert jobs[name]["needs"] == needs
        assert jobs[name]["uses"] == "./.github/workflows/deploy-stage.yml"
        assert jobs[name]["with"] == {"stage": name}
        assert jobs[name]["permissions"] == {"contents": "read", "id-token": "write"}

    assert stage["on"]["workflow_call"]["inputs"]["stage"]["required"] is True
    job = stage["jobs"]["deploy"]
    assert job["environment"] == "${{ inputs.stage }}"
    assert job["concurrency"] == {"group": "deploy-${{ inputs.stage }}", "cancel-in-progress": False}
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    steps = job["steps"]
    downloads = [step for step in steps if "download-artifact" in step.get("uses", "")]
    assert [step["with"]["name"] for step in downloads] == ["build"]
    credentials = [step for step in steps if "configure-aws-credentials" in step.get("uses", "")]
    assert [step["with"]["role-to-assume"] for step in credentials] == ["${{ vars.AWS_ROLE_ARN }}"]
    assert not any("aws-access-key-id" in step.get("with", {}) for step in steps), "a stored key"
    runs = [step["run"] for step in steps if "run" in step]
    assert runs == ["make ci-deploy STAGE=${{ inputs.stage }}", "make smoke STAGE=${{ inputs.stage }}"]
    assert steps.index(downloads[0]) < steps.index(credentials[0])

    every = {name: workflow(project, name) for name in ("ci.yml", "deploy.yml", "deploy-stage.yml")}
    unpinned = [
        f"{name}: {step['uses']}"
        for name, found in every.items()
        for job in found["jobs"].values()
        for step in [*job.get("steps", []), job]
        if "uses" in step and not PINNED_ACTION.match(step["uses"])
    ]
    assert not unpinned, f"actions not pinned to a commit: {unpinned}"
    tokens = sorted(
        f"{name}:{job_name}"
        for name, found in every.items()
        for job_name, job in found["jobs"].items()
        if job.get("permissions", {}).get("id-token") == "write"
    )
    assert tokens == ["deploy-stage.yml:deploy", "deploy.yml:dev", "deploy.yml:prod"]


# Stands in for the AWS CLI: appends its arguments to AWS_CALLS (a JSON line each) and, asked
# for an output of a stack, prints `<key>-of-<stack>`.
_STACK_OUTPUT = """
import json, os, re, sys
arguments = sys.argv[1:]
with open(os.environ["AWS_CALLS"], "a") as calls:
    calls.write(json.dumps(arguments) + "\\n")
asked = re.search(r"OutputKey=='(\\w+)'", " ".join(arguments))
if asked:
    print(f"{asked.group(1)}-of-{arguments[arguments.index('--stack-name') + 1]}")
"""
CI_DEPLOY_RUNS = list(
    {
        c["secrets"]: c
        for c in reversed(CI_COMBINATIONS)
        if c["deployment"] == "sam" and c["storage"] == "dynamodb" and c["frontend"] == "none"
    }.values()
)


@pytest.mark.parametrize("combination", CI_DEPLOY_RUNS, ids=lambda combination: combination.name)
def test_make_ci_deploy_deploys_the_built_artifact_with_the_bootstrap_stacks_roles(
    combination: Combination, rendered: Callable[[Combination], RenderedProject], tmp_path: Path
) -> None:
    """`make ci-deploy STAGE=dev`, run for real with fake `sam` and `aws`: sam deploy gets the stage's
    bootstrap stack's bucket and CloudFormation role, samconfig.toml's parameters and the boundary."""
    copy = stage_copy(rendered(combination), tmp_path / "project", combination["python_version"])
    fakes = fake_tools(tmp_path / "bin", sam=_RECORDER, aws=_STACK_OUTPUT)
    record = tmp_path / "record.json"
    environ = clean_environ(
        [fakes], SECRETS_RECORD=str(record), AWS_CALLS=str(tmp_path / "aws.jsonl"), UV_OFFLINE="1"
    )
    command = ["make", "-o", ".venv/pyvenv.cfg", "ci-deploy", "STAGE=dev", f"SAM={fakes / 'sam'}"]
    made = check(run(command, cwd=copy, env=environ, timeout=120), "make ci-deploy")
    assert "sam build" not in made.output, f"the artifact was built again:\n{made.output}"
    called = json.loads(record.read_text(encoding="utf-8"))["argv"]
    bootstrap = f"{IDENTITY_SLUG}-ci-dev"
    assert called[:8] == [
        "deploy",
        "--config-env",
        "dev",
        "--no-resolve-s3",
        "--s3-bucket",
        f"ArtifactBucketName-of-{bootstrap}",
        "--role-arn",
        f"DeployRoleArn-of-{bootstrap}",
    ], called
    overrides = called[called.index("--parameter-overrides") + 1 :]
    assert overrides[:2] == ["Stage=dev", f"PermissionsBoundaryArn=PermissionsBoundaryArn-of-{bootstrap}"]
    assert len(overrides) == (3 if combination["secrets"] == "env" else 2), overrides


# zappa's: its stage's stack deployed through the bootstrap's role, before Zappa's step.
ZAPPA_CI_DEPLOY_RUNS = [
    c
    for c in CI_COMBINATIONS
    if c["deployment"] == "zappa"
    and c["storage"] == "dynamodb"
    and c["secrets"] == "ssm"
    and c["frontend"] == "none"
]


@pytest.mark.parametrize("combination", ZAPPA_CI_DEPLOY_RUNS, ids=lambda combination: combination.name)
def test_make_ci_deploy_changes_zappas_stack_with_the_bootstrap_stacks_role(
    combination: Combination, rendered: Callable[[Combination], RenderedProject], tmp_path: Path
) -> None:
    """`make ci-deploy STAGE=dev` with a fake `aws` and no credentials: the package built is not built
    again, the stage's stack is deployed with the bootstrap stack's CloudFormation role and boundary,
    and Zappa's step then gets the package (and, with no AWS to reach, stops there in one line)."""
    copy = rendered(combination).copy_to(tmp_path / "project")
    env = project_env(copy, combination["python_version"])
    (copy / ".venv").symlink_to(env.path, target_is_directory=True)
    (copy / ".zappa").mkdir()
    (copy / ".zappa" / "dev.zip").write_bytes(b"built by the build job")
    fakes = fake_tools(tmp_path / "bin", aws=_STACK_OUTPUT)
    calls = tmp_path / "aws.jsonl"
    environ = clean_environ([fakes], AWS_CALLS=str(calls), UV_OFFLINE="1")
    made = run(
        ["make", "-o", ".venv/pyvenv.cfg", "ci-deploy", "STAGE=dev"], cwd=copy, env=environ, timeout=120
    )
    assert made.returncode != 0, made.output
    assert "zappa package" not in made.output, f"the package was built again:\n{made.output}"
    assert "Could not deploy stage dev: Unable to locate credentials" in made.output, made.output
    assert "dev.zappa_stage deploy dev --package .zappa/dev.zip" in made.output, made.output
    bootstrap = f"{IDENTITY_SLUG}-ci-dev"
    deploys = [
        call for call in map(json.loads, calls.read_text(encoding="utf-8").splitlines()) if "deploy" in call
    ]
    assert [call[call.index("--stack-name") + 1] for call in deploys] == [f"{IDENTITY_SLUG}-dev"]
    (deploy,) = deploys
    assert deploy[deploy.index("--role-arn") + 1] == f"DeployRoleArn-of-{bootstrap}"
    parameters = deploy[deploy.index("--parameter-overrides") + 1 : deploy.index("--tags")]
    assert parameters == ["Stage=dev", f"PermissionsBoundaryArn=PermissionsBoundaryArn-of-{bootstrap}"]


@pytest.mark.parametrize(
    "combination", [*CI_DEPLOY_RUNS[:1], *ZAPPA_CI_DEPLOY_RUNS], ids=lambda combination: combination.name
)
def test_make_bootstrap_makes_each_stages_stack_and_one_provider(
    combination: Combination, rendered: Callable[[Combination], RenderedProject], tmp_path: Path
) -> None:
    """`make bootstrap GITHUB_REPOSITORY=...` with a fake `aws`: dev's stack, with OIDC_PROVIDER_ARN or none
    (it makes one), then prod's with the provider dev's stack names; each for the repository. Without it,
    one line."""
    copy = rendered(combination).copy_to(tmp_path / "project")
    fakes = fake_tools(tmp_path / "bin", aws=_STACK_OUTPUT)
    calls = tmp_path / "aws.jsonl"
    environ = clean_environ([fakes], AWS_CALLS=str(calls))
    provider = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    from_dev = f"GitHubOidcProviderArn-of-{IDENTITY_SLUG}-ci-dev"
    for given in ("", provider):
        calls.unlink(missing_ok=True)
        command = ["make", "bootstrap", f"GITHUB_REPOSITORY={ci.REPOSITORY}", f"OIDC_PROVIDER_ARN={given}"]
        made = check(run(command, cwd=copy, env=environ, timeout=120), "make bootstrap")
        deploys = [
            call
            for call in map(json.loads, calls.read_text(encoding="utf-8").splitlines())
            if "deploy" in call
        ]
        assert [deploy[deploy.index("--stack-name") + 1] for deploy in deploys] == [
            f"{IDENTITY_SLUG}-ci-{stage}" for stage in ci.STAGES
        ]
        for stage, deploy in zip(ci.STAGES, deploys, strict=True):
            parameters = deploy[deploy.index("--parameter-overrides") + 1 : deploy.index("--tags")]
            assert parameters == [
                f"Stage={stage}",
                f"GitHubRepository={ci.REPOSITORY}",
                f"GitHubOidcProviderArn={given if stage == 'dev' else from_dev}",
            ]
            assert deploy[deploy.index("--template-file") + 1] == "cicd/bootstrap.yaml"
            assert f"AWS_ROLE_ARN=GitHubActionsRoleArn-of-{IDENTITY_SLUG}-ci-{stage}" in made.output
    refused = run(["make", "bootstrap"], cwd=copy, env=environ, timeout=60)
    assert refused.returncode != 0
    assert "GITHUB_REPOSITORY is not set: make bootstrap GITHUB_REPOSITORY=owner/name" in refused.output


# --- the rendered files --------------------------------------------------------------------------


def test_renders_the_named_project(project: RenderedProject) -> None:
    assert project.path.name == IDENTITY_SLUG
    package = project.path / "src" / IDENTITY_PACKAGE
    assert (package / "__init__.py").is_file(), f"no package at {package}"
    assert len(project.files) > 10, f"only {len(project.files)} files rendered: {project.files}"


LEFTOVER_MARKER = re.compile(
    # GitHub Actions' ${{ }} and CloudFormation's {{resolve:...}} are meant to survive rendering,
    # and so is a shell's ${#var}.
    r"(?<!\$)\{\{(?!resolve:)|\{%|(?<!\$)\{#"
)


def test_no_template_markers_left(project: RenderedProject) -> None:
    found = [f"{relative} (path)" for relative in project.files if re.search(r"\{\{|\{%|\{#|\}\}", relative)]
    for relative, text in project.text_files():
        if options.copied_without_rendering(relative):
            continue  # not a template: its braces are JSX and JavaScript (see the next test)
        for match in LEFTOVER_MARKER.finditer(text):
            line_number = text.count("\n", 0, match.start()) + 1
            line = text.splitlines()[line_number - 1].strip()
            found.append(f"{relative}:{line_number}: {line[:120]}")
    assert not found, "template markers left after rendering:\n" + "\n".join(found)


def test_files_copied_without_rendering_are_verbatim(project: RenderedProject) -> None:
    """cookiecutter's _copy_without_render: braces in the frontend's sources survive as written."""
    copied = [relative for relative in project.files if options.copied_without_rendering(relative)]
    changed = [
        relative
        for relative in copied
        if (project.path / relative).read_bytes() != options.template_source(relative).read_bytes()
    ]
    assert not changed, "files meant to be copied verbatim differ from their source:\n" + "\n".join(changed)
    if project.answers["frontend"] == "spa":
        assert copied, "the frontend's sources are not copied verbatim: see _copy_without_render"


def test_no_files_of_unchosen_options(project: RenderedProject) -> None:
    files = set(project.files)
    directories = {str(parent) for relative in files for parent in PurePosixPath(relative).parents}

    def exists(relative: str) -> bool:
        return relative.rstrip("/") in files or relative.rstrip("/") in directories

    problems = []
    for rule in options.path_rules(project.answers):
        if rule.present and not exists(rule.path):
            problems.append(f"missing {rule.path}, owned by the chosen {rule.option}={rule.value}")
        if not rule.present and exists(rule.path):
            problems.append(f"unexpected {rule.path}, owned by {rule.option}={rule.value}")
    for relative, option, value in options.unsettled_names(sorted(files)):
        problems.append(f"{relative} still carries the infix of {option}={value}")
    assert not problems, "\n".join(problems)


def test_no_empty_directories(project: RenderedProject) -> None:
    empty = project.empty_dirs
    assert not empty, f"empty directories (left by pruning?): {list(empty)}"


def test_no_references_to_unchosen_options(project: RenderedProject) -> None:
    words = options.forbidden_words(project.answers)
    assert words, "no forbidden word derived: the rule would check nothing"
    found = [
        hit for relative, text in project.text_files() for hit in options.references(relative, text, words)
    ]
    assert not found, "references to options this project did not choose:\n" + "\n".join(found[:80])


def test_no_default_identity_left(project: RenderedProject) -> None:
    """The template uses the answers, not the defaults it was written with."""
    defaults = options.default_answers()
    words = {
        defaults[key]
        for key in ("project_name", "project_slug", "package_name", "author_name", "author_email")
    }
    words.add(defaults["description"])
    found = [
        f"{relative}: {word!r}"
        for relative, text in project.text_files()
        if relative not in options.RECORDS
        for word in sorted(words)
        if word in text
    ]
    assert not found, "default answers hard-coded in the template:\n" + "\n".join(found)


def test_recorded_answers(project: RenderedProject) -> None:
    recorded_file = project.path / ".cookiecutter.json"
    assert recorded_file.is_file(), "the answers are not recorded in .cookiecutter.json"
    recorded = json.loads(recorded_file.read_text(encoding="utf-8"))
    different = {
        key: (recorded.get(key), value)
        for key, value in project.answers.items()
        if recorded.get(key) != value
    }
    assert not different, f"recorded answers differ (recorded, given): {different}"
    missing = sorted(set(options.default_answers()) - set(recorded))
    assert not missing, f"options missing from .cookiecutter.json: {missing}"


def test_structured_files_parse(project: RenderedProject) -> None:
    structured = [f for f in project.files if PurePosixPath(f).suffix in {".yaml", ".yml", ".json", ".toml"}]
    assert {"pyproject.toml", ".cookiecutter.json"} <= set(structured), structured
    errors = []
    for relative in structured:
        try:
            load_structured(project.path / relative)
        except (ValueError, yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
            errors.append(f"{relative}: {exc}")
    assert not errors, "files that do not parse:\n" + "\n".join(errors)
