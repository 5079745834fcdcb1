"""Render tier: every combination renders into a clean, linted project whose own tests pass.

Each combination is rendered once per session (shared by the xdist workers)
and every check below reads that one rendering. Tools that run in it write
their caches elsewhere (see ``tests/support.py``), so the rendered files stay
as cookiecutter wrote them. The slow checks come first so that xdist starts
them early.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from tests import options
from tests.combinations import COMBINATIONS, Combination
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
    IDENTITY_PACKAGE,
    IDENTITY_SLUG,
    PACKAGE_TEMPLATE,
    RenderedProject,
    cache_dir,
    check,
    clean_environ,
    find_python,
    project_env,
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


# --- tools run in the project --------------------------------------------------------------------


def test_project_tests_pass(project: RenderedProject, tmp_path: Path) -> None:
    """The generated project's own test suite passes, and actually ran tests."""
    env = project_env(project.path, project.combination["python_version"])
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
    suites = ET.parse(junit).getroot()  # noqa: S314 -- the report pytest just wrote, not untrusted input
    ran = sum(int(suite.get("tests", 0)) for suite in suites.iter("testsuite"))
    assert ran > 0, f"the generated project ran no tests:\n{result.describe()}"
    skipped = [
        case.get("classname", "") + "::" + case.get("name", "")
        for case in suites.iter("testcase")
        if case.find("skipped") is not None
    ]
    assert not skipped, (
        "generated tests were skipped; every test must run in the tier's environment:\n"
        + "\n".join(skipped)
        + "\n"
        + result.describe(40)
    )


def test_checkov_finds_no_failed_check(project: RenderedProject, tmp_path: Path) -> None:
    checkov = require_tool("checkov")
    reports_dir = tmp_path / "checkov"
    result = run(
        [
            checkov,
            "--skip-download",
            "--directory",
            ".",
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--output-file-path",
            reports_dir,
        ],
        cwd=project.path,
        env=clean_environ(HOME=str(tmp_path)),
    )
    report_file = reports_dir / "results_json.json"
    if not report_file.is_file():
        pytest.fail(f"checkov wrote no report:\n{result.describe()}", pytrace=False)
    loaded = json.loads(report_file.read_text(encoding="utf-8"))
    reports = loaded if isinstance(loaded, list) else [loaded]
    summaries = [report.get("summary", report) for report in reports]
    scanned = sum(summary.get("resource_count", 0) for summary in summaries)
    parse_errors = sum(summary.get("parsing_errors", 0) for summary in summaries)
    failed = [
        f"{found['check_id']} {found['check_name']}: {found['file_path']} {found['resource']}"
        for report in reports
        for found in report.get("results", {}).get("failed_checks", [])
    ]
    unexplained = [
        f"{skipped['check_id']} on {skipped['resource']}"
        for report in reports
        for skipped in report.get("results", {}).get("skipped_checks", [])
        if skipped.get("check_result", {}).get("suppress_comment", "").strip() in {"", "No comment provided"}
    ]
    assert scanned > 0, f"checkov scanned no CloudFormation resource:\n{result.describe(40)}"
    assert parse_errors == 0, f"checkov could not parse {parse_errors} file(s):\n{result.describe(40)}"
    assert not failed, "checkov failed checks:\n" + "\n".join(failed)
    assert not unexplained, "checkov checks skipped without a reason (checkov:skip=ID:reason):\n" + "\n".join(
        unexplained
    )
    check(result, "checkov")


def test_runtime_lock_is_complete(project: RenderedProject) -> None:
    """requirements.txt alone, what the artifact is built from, installs into a consistent environment."""
    env = project_env(project.path, project.combination["python_version"], "requirements.txt")
    assert env.has_module("flask"), f"requirements.txt installed no Flask into {env.path}"


def test_mypy(project: RenderedProject) -> None:
    env = project_env(project.path, project.combination["python_version"])
    # A persistent cache per combination and environment: a second run only re-checks what changed.
    mypy_cache = cache_dir() / "mypy" / f"{project.name}-{env.key}"
    check(env.run([env.python, "-m", "mypy"], cwd=project.path, MYPY_CACHE_DIR=str(mypy_cache)), "mypy")


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


def test_cfn_lint(project: RenderedProject) -> None:
    templates = cloudformation_templates(project)
    assert templates, "no CloudFormation template in the project: every deployment has infrastructure as code"
    env = project_env(project.path, project.combination["python_version"])
    cfn_lint = env.bin / "cfn-lint"
    if not cfn_lint.exists():
        pytest.fail("cfn-lint is not in the generated project's requirements-dev.txt", pytrace=False)
    regions = sorted({"us-east-1", project.answers["aws_region"]})
    # Any finding fails: the exit code is a bit mask (2 error, 4 warning, 8 informational).
    check(env.run([cfn_lint, "--regions", *regions, "--", *templates], cwd=project.path), "cfn-lint")


SAM_COMBINATIONS = [combination for combination in COMBINATIONS if sam_template_sources(combination)]


@pytest.mark.parametrize("combination", SAM_COMBINATIONS, ids=lambda combination: combination.name)
def test_sam_validate_lint(
    combination: Combination, rendered: Callable[[Combination], RenderedProject], tmp_path: Path
) -> None:
    project = rendered(combination)
    sam = require_tool("sam")
    templates = [
        relative
        for relative in cloudformation_templates(project)
        if options.is_sam_template(project.path / relative)
    ]
    assert templates, "the template source has a SAM template for this combination but the project has none"
    env = clean_environ(AWS_DEFAULT_REGION="us-east-1", SAM_CLI_TELEMETRY="0", HOME=str(tmp_path))
    for template in templates:
        result = check(
            run([sam, "validate", "--lint", "--template", template], cwd=project.path, env=env),
            f"sam validate --lint {template}",
        )
        # It exits 1 on any cfn-lint error or warning; also refuse findings printed beside a 0.
        assert not re.search(r"\b[EWI]\d{4}\b", result.output), result.describe()
        assert "is a valid SAM Template" in result.output, result.describe()


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

    def position(lines: list[str], fragment: str) -> int:
        found = [index for index, line in enumerate(lines) if fragment in line]
        assert found, f"no command with {fragment!r} in:\n" + "\n".join(lines)
        return found[0]

    listed = check(run(["make", "help"], cwd=project.path, env=clean_environ()), "make help").output
    assert re.search(r"^  frontend-e2e +Browser tests", listed, re.MULTILINE), listed
    assert position(commands("install"), "npm --prefix frontend ci") >= 0
    lint = commands("lint")
    assert position(lint, "run typecheck") < position(lint, "run lint")
    test = commands("test")
    assert position(test, "npm --prefix frontend test") >= 0
    assert position(test, "-m pytest") >= 0
    dev = commands("dev")
    assert position(dev, "dev.local serve &") <= position(dev, "npm --prefix frontend run dev")
    deploy = commands("deploy")
    build = position(deploy, "npm --prefix frontend run build")
    assert build < position(deploy, " deploy --config-env") < position(deploy, "frontend.deploy publish")
    delete = commands("delete")
    assert position(delete, "frontend.deploy empty") < position(delete, " delete --config-env")


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


class _CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form intrinsic functions (!Ref, !Sub, !GetAtt, ...)."""


def _construct_tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]


_CloudFormationLoader.add_multi_constructor("!", _construct_tagged)


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
