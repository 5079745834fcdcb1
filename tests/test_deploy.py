"""Deploy tier: each stack the AWS emulator can create, from the built artifact; its function run as deployed.

For every ``storage=dynamodb`` combination (moto crashes on a SQL store's
database; the last test checks every combination's stack statically): the stage's
stack created in moto with the stage's parameters, as ``CreateStack``
(``tests/deploy_support.py`` says why not a change set). For ``sam`` and
``codestar`` that is the build tier's artifact (built once per session): its
built template transformed to CloudFormation, the code uploaded, with
samconfig.toml's parameters or the pipeline's template-configuration.json.
For ``zappa`` it is ``infra/stack.yaml``, which holds all but the function
and its API. Then:

* the stack is CREATE_COMPLETE; every resource of a type moto implements,
  whose condition holds, exists in its service; the resources left out are
  exactly those of the types moto does not implement (printed, and listed
  with what stands in for them in ``deploy_support.UNSUPPORTED``); every
  output has a value;
* SAM-built: the code Lambda stored is the uploaded zip, and its handler, run
  in a clean interpreter with exactly the handler, runtime and environment
  ``GetFunction`` reports, against the stack's own table and the secrets the
  README has the user create (``make secrets`` for ssm, the NoEcho parameters
  for env), answers REST v1 and HTTP API v2 events: health, create, list,
  read, answer and delete;
* zappa: the settings ``make deploy`` hands Zappa, read from the stack by the
  project's own ``dev.zappa_stage``, name the role, bucket, table and log
  group the stack created.

And for every combination, statically, the project's own ``make deploy-check``
(``dev/deploy_check.py``): each function's environment variables are read by
the app's code and refer to parameters and resources that exist, and the
API's function sets every variable the code reads; on a copy of the stack's
template with a variable renamed, it fails naming it.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import re
import secrets
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.build_support import API_FUNCTION, Artifact, BuildError, LambdaContainer
from tests.combinations import COMBINATIONS, Combination
from tests.deploy_support import (
    ACCOUNT,
    REGION,
    UNSUPPORTED,
    Emulator,
    Plan,
    Stack,
    create_stack,
    missing_resources,
    plan,
    read_template,
    role_policies,
    sam_template,
    stored_code,
    zipped,
)
from tests.iam_static import UnresolvedError, function_requests, variable
from tests.iam_static import resolve as resolve_statically
from tests.iam_static import role_policies as rendered_role_policies
from tests.iam_use import Request, as_deployed, evaluate, read_calls, requests, runtime_requests
from tests.support import (
    IDENTITY_PACKAGE,
    IDENTITY_SLUG,
    RenderedProject,
    Result,
    check,
    load_structured,
    project_env,
    run,
)
from tests.test_build import body, load, with_path

STAGE = "dev"
# The stacks moto can create: a SQL store's database crashes it.
DEPLOYABLE = [combination for combination in COMBINATIONS if combination["storage"] == "dynamodb"]
SAM_BUILT = [combination for combination in DEPLOYABLE if combination["deployment"] in {"sam", "codestar"}]
ZAPPA = [combination for combination in DEPLOYABLE if combination["deployment"] == "zappa"]


@dataclass(frozen=True)
class Deployment:
    combination: Combination
    project: Path
    emulator: Emulator
    plan: Plan
    stack: Stack
    parameters: dict[str, str]
    artifact: Artifact | None  # what the stack's function runs (SAM-built: its code is in the stack)


def stage_parameters(artifact: Artifact) -> dict[str, str]:
    """The parameters a deploy of the stage gives the stack, secrets included."""
    project = artifact.project
    if artifact.combination["deployment"] == "codestar":
        # What the pipeline's build wrote for its CloudFormation action (make stage-configuration).
        configuration = json.loads((project / "template-configuration.json").read_text(encoding="utf-8"))
        return dict(configuration["Parameters"])
    samconfig = tomllib.loads((project / "samconfig.toml").read_text(encoding="utf-8"))
    overrides = samconfig[STAGE]["deploy"]["parameters"]["parameter_overrides"]
    parameters = dict(pair.split("=", 1) for pair in overrides.split())
    if artifact.combination["secrets"] == "env":
        # The NoEcho parameters `make deploy` passes from .env (README: "Secrets").
        parameters |= {"CursorSigningKey": secrets.token_urlsafe(48), "AdminToken": secrets.token_urlsafe(24)}
    return parameters


def deploy(
    combination: Combination,
    built: Callable[[Combination], Artifact],
    rendered: Callable[[Combination], RenderedProject],
    emulator: Emulator,
) -> Deployment:
    """The stage's stack: the SAM application with the built code, or Zappa's infra/stack.yaml."""
    if combination["deployment"] == "zappa":
        # Zappa deploys the function itself, with the settings dev/zappa_stage.py reads from this stack.
        project = rendered(combination).path
        # As after `make deploy`, which records the URL of the API Zappa made in the stack.
        parameters = {
            "Stage": STAGE,
            "ApiUrl": f"https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/{STAGE}/",
        }
        stack_plan = plan(read_template(project / "infra" / "stack.yaml"), parameters)
        stack = create_stack(emulator, f"{IDENTITY_SLUG}-{STAGE}", stack_plan.template, parameters)
        return Deployment(combination, project, emulator, stack_plan, stack, parameters, None)
    artifact = built(combination)
    parameters = stage_parameters(artifact)
    built_template = artifact.code.parent / "template.yaml"
    functions = {
        "ApiFunction": artifact.code,
        **{name: code for name, (code, _) in artifact.others.items()},
    }
    code = {name: emulator.upload(f"{name}.zip", zipped(path)) for name, path in functions.items()}
    stack_plan = plan(sam_template(built_template, code, parameters), parameters)
    stack = create_stack(emulator, f"{IDENTITY_SLUG}-{STAGE}", stack_plan.template, parameters)
    return Deployment(combination, artifact.project, emulator, stack_plan, stack, parameters, artifact)


class Deployments:
    """One combination's deployment at a time, made on first use and kept for its next tests.

    A combination's tests run in a row (one unit of work, ``tests/conftest.py``);
    moto keeps one state per process, so the next combination's replaces it.
    A module-scoped fixture parametrized by combination would be simpler, but
    pytest regroups such tests by parameter, across the units of work.
    """

    def __init__(
        self,
        built: Callable[[Combination], Artifact],
        rendered: Callable[[Combination], RenderedProject],
        workdir: Path,
    ) -> None:
        self.built, self.rendered, self.workdir = built, rendered, workdir
        self._name = ""
        self._open = contextlib.ExitStack()
        self._deployment: Deployment | None = None
        self._served: Served | None = None

    def get(self, combination: Combination) -> Deployment:
        if self._deployment is None or self._name != combination.name:
            self.close()
            self._name = combination.name
            emulator = self._open.enter_context(Emulator())
            self._deployment = deploy(combination, self.built, self.rendered, emulator)
        return self._deployment

    def served(self, combination: Combination) -> Served:
        deployment = self.get(combination)
        if self._served is None:
            self._served = serve(deployment, self.workdir / combination.name)
        return self._served

    def close(self) -> None:
        self._open.close()
        self._deployment = self._served = None


@pytest.fixture(scope="module")
def deployments(
    built: Callable[[Combination], Artifact],
    rendered: Callable[[Combination], RenderedProject],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployments]:
    made = Deployments(built, rendered, tmp_path_factory.mktemp("deployments"))
    yield made
    made.close()


def test_unsupported_types_are_those_moto_lacks() -> None:
    from moto.cloudformation.parsing import resource_class_from_type

    implemented = sorted(kind for kind in UNSUPPORTED if resource_class_from_type(kind) is not None)
    assert not implemented, f"moto implements these now: take them out of UNSUPPORTED: {implemented}"


@pytest.mark.deploy
@pytest.mark.parametrize("combination", DEPLOYABLE, ids=lambda combination: combination.name)
def test_stack_holds_every_resource_and_output(
    combination: Combination, deployments: Deployments, record_property: Callable[[str, Any], None]
) -> None:
    deployment = deployments.get(combination)
    stack, stack_plan = deployment.stack, deployment.plan
    assert stack.status == "CREATE_COMPLETE", stack.reason
    left_out = sorted(f"{name} ({kind})" for name, kind in stack_plan.left_out.items())
    print(f"left out (moto lacks the type): {', '.join(left_out)}")
    record_property("deploy_resources_created", len(stack_plan.created))
    record_property("deploy_resources_left_out", len(left_out))
    problems = missing_resources(deployment.emulator, stack, stack_plan.created)
    assert not problems, "\n".join(problems)
    unexpected = sorted(set(stack.resources) - set(stack_plan.created))
    assert not unexpected, f"the stack holds resources the template does not: {unexpected}"
    missing = sorted(set(stack_plan.outputs) - set(stack.outputs))
    assert not missing, f"outputs without a value: {missing}"
    unresolved = {key: value for key, value in stack.outputs.items() if not value or "${" in value}
    assert not unresolved, f"outputs not resolved: {unresolved}"


@dataclass(frozen=True)
class Served:
    """The stack's function, having answered the events: how, and the AWS calls it made."""

    configuration: dict[str, Any]  # as GetFunction reports it
    failure: str | None
    calls: list[dict[str, Any]]


def serve(deployment: Deployment, workdir: Path) -> Served:
    """The code Lambda stored, run with exactly GetFunction's handler and environment, driven by events."""
    artifact, emulator, stack = deployment.artifact, deployment.emulator, deployment.stack
    assert artifact is not None
    workdir.mkdir(parents=True)
    function = stack.outputs["FunctionName"]
    configuration = stored_code(emulator, stack, function, workdir / "task")
    admin_token = seed_secrets(deployment)
    environment = {
        **configuration["Environment"]["Variables"],
        **emulator.environment(),
        "AWS_REGION": emulator.environment()["AWS_DEFAULT_REGION"],
    }
    deployed = dataclasses.replace(artifact, code=workdir / "task", handler=configuration["Handler"])
    calls = workdir / "calls.jsonl"
    failure = None
    with LambdaContainer(deployed, environment, workdir / "function.log", calls=calls) as container:
        for kind in ("http-api-v2", "rest-v1"):
            try:
                drive(container, artifact.project / "events", kind, admin_token)
            except (AssertionError, BuildError) as exc:
                failure = f"{kind}: {exc}\nfunction output:\n{container.output()}"
                break
        else:
            container.finish()
    return Served(configuration, failure, read_calls(calls))


@pytest.mark.deploy
@pytest.mark.parametrize("combination", SAM_BUILT, ids=lambda combination: combination.name)
def test_function_answers_with_what_the_stack_gives_it(
    combination: Combination, deployments: Deployments
) -> None:
    deployment, served = deployments.get(combination), deployments.served(combination)
    assert deployment.artifact is not None
    assert served.configuration["Runtime"] == f"python{deployment.artifact.python_version}"
    assert served.failure is None, served.failure


@pytest.mark.deploy
@pytest.mark.parametrize("combination", SAM_BUILT, ids=lambda combination: combination.name)
def test_function_role_allows_what_it_uses_and_nothing_else(
    combination: Combination, deployments: Deployments, record_property: Callable[[str, Any], None]
) -> None:
    """Every call the function made, and what Lambda does with its role, allowed; every statement used."""
    deployment, served = deployments.get(combination), deployments.served(combination)
    assert served.failure is None, served.failure
    configuration = served.configuration
    policies = role_policies(deployment.emulator, configuration["Role"].rpartition("/")[2])
    function = deployment.stack.template["Resources"][API_FUNCTION]["Properties"]
    log_group = function.get("LoggingConfig", {}).get(
        "LogGroup", f"/aws/lambda/{configuration['FunctionName']}"
    )
    tracing = function.get("TracingConfig", {}).get("Mode") == "Active"
    strangers = sorted(
        {call["caller"] for call in served.calls if not call["caller"].startswith(IDENTITY_PACKAGE)}
    )
    assert not strangers, f"calls made by modules outside the app: {strangers}"
    wanted = [request for call in served.calls for request in requests(call, REGION, ACCOUNT)]
    wanted += runtime_requests(resolve(deployment, log_group), tracing, REGION, ACCOUNT)
    evaluation = evaluate(policies, wanted)
    print(
        f"{len(served.calls)} calls recorded, {len(wanted)} requests, {len(evaluation.statements)} statements"
    )
    record_property("iam_calls_recorded", len(served.calls))
    record_property("iam_statements_used", len(evaluation.used))
    record_property("iam_statements_unused", len(evaluation.unused))
    assert not evaluation.denied, "denied:\n" + "\n".join(request.describe() for request in evaluation.denied)
    assert not evaluation.unused, "no call used:\n" + "\n".join(s.describe() for s in evaluation.unused)


# One stack per deployment whose project's own tests exercise every path of the app's storage and secrets.
RECORDED_TESTS = [
    next(c for c in SAM_BUILT if c["deployment"] == "sam" and c["secrets"] == "ssm"),
]


@pytest.mark.deploy
@pytest.mark.parametrize("combination", RECORDED_TESTS, ids=lambda combination: combination.name)
def test_function_role_allows_what_the_projects_tests_call(
    combination: Combination, deployments: Deployments, tmp_path: Path
) -> None:
    """The app's calls in the project's own tests (every repository path), on the stack's names, allowed."""
    deployment, served = deployments.get(combination), deployments.served(combination)
    assert served.failure is None, served.failure
    variables = served.configuration["Environment"]["Variables"]
    calls = project_tests_calls(
        deployment.project,
        combination["python_version"],
        tmp_path,
        {**tables_named(variables["TABLE_NAME"]), **parameters_under(variables["SECRETS_PATH"])},
    )
    assert {call["service"] for call in calls} == {"dynamodb", "ssm"}, "the tests' calls went unrecorded"
    policies = role_policies(deployment.emulator, served.configuration["Role"].rpartition("/")[2])
    evaluation = evaluate(
        policies, [request for call in calls for request in requests(call, REGION, ACCOUNT)]
    )
    print(f"{len(calls)} calls of the app in the project's tests, {len(evaluation.used)} statements used")
    assert not evaluation.denied, "denied:\n" + "\n".join(request.describe() for request in evaluation.denied)


def project_tests_calls(
    project: Path, python_version: str, tmp_path: Path, names: dict[str, str]
) -> list[dict[str, Any]]:
    """The app's AWS calls in the project's own tests, each name of theirs renamed by ``names``."""
    env = project_env(project, python_version)
    log = tmp_path / "calls.jsonl"
    result = env.run(
        [env.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={tmp_path / 'basetemp'}"],
        cwd=project,
        AWS_CALL_LOG=str(log),
    )
    check(result, "the project's tests, recording their AWS calls")
    return [
        as_deployed(call, names) for call in read_calls(log) if call["caller"].startswith(IDENTITY_PACKAGE)
    ]


# The tests make a table and a secrets path of their own: ``<slug>-test-<hex>``, ``/<slug>/test-<hex>/``.
def tables_named(table: str) -> dict[str, str]:
    return {rf"{IDENTITY_SLUG}-test(?:-[0-9a-f]{{12}})?": table}


def parameters_under(path: str) -> dict[str, str]:
    return {rf"/{IDENTITY_SLUG}/test(?:-[0-9a-f]{{12}})?/(?P<rest>.*)": path + r"\g<rest>"}


def resolve(deployment: Deployment, value: Any) -> str:
    """A template value as the stack resolved it: a Ref to a created resource is its physical ID."""
    if isinstance(value, dict) and value.keys() == {"Ref"}:
        return deployment.stack.resources[value["Ref"]][1]
    return str(value)


@pytest.mark.deploy
@pytest.mark.parametrize("combination", ZAPPA, ids=lambda combination: combination.name)
def test_zappa_gets_the_stacks_role_bucket_table_and_log_group(
    combination: Combination, deployments: Deployments
) -> None:
    """What `make deploy` hands Zappa (``dev.zappa_stage settings``) names what the stack created."""
    deployment = deployments.get(combination)
    stack, aws = deployment.stack, deployment.emulator
    # secrets=env: what .env holds, filled in as .env.example asks (make deploy reads it).
    example = deployment.project / ".env.example"
    secret_values = {
        line.partition("=")[0]: secrets.token_urlsafe(32)
        for line in (example.read_text(encoding="utf-8").splitlines() if example.exists() else [])
        if line and not line.startswith("#")
    }
    shown = in_project(deployment, "dev.zappa_stage", "settings", STAGE, environment=secret_values)
    settings = json.loads(shown.output)
    (role,) = stack.of_type("AWS::IAM::Role").values()
    assert settings["role_arn"] == aws.client("iam").get_role(RoleName=role)["Role"]["Arn"]
    assert settings["s3_bucket"] == stack.resources["DeploymentBucket"][1]
    environment = settings["aws_environment_variables"]
    assert environment["TABLE_NAME"] == stack.resources["Table"][1]
    if deployment.combination["secrets"] == "ssm":
        assert environment["SECRETS_PATH"] == stack.outputs["SecretsPath"] == f"/{IDENTITY_SLUG}/{STAGE}/"
    assert environment["STAGE"] == STAGE
    # Handed on to Zappa, and masked when shown.
    assert {name: environment.get(name) for name in secret_values} == dict.fromkeys(secret_values, "***")
    assert not [value for value in secret_values.values() if value in shown.output]
    # Lambda writes to /aws/lambda/<function>: the group the stack made, with its retention, and
    # the one the role may write to.
    function = f"{settings['project_name']}-{STAGE}"
    assert stack.resources["FunctionLogGroup"][1] == f"/aws/lambda/{function}"
    assert stack.outputs["FunctionName"] == function


def in_project(
    deployment: Deployment, module: str, *args: str, environment: dict[str, str] | None = None
) -> Result:
    """``python -m module args`` in the project's environment, against the emulator."""
    env = project_env(deployment.project, deployment.combination["python_version"])
    return check(
        run(
            [env.python, "-m", module, *args],
            cwd=deployment.project,
            env=env.environ(**deployment.emulator.environment(), **(environment or {})),
        ),
        f"python -m {module} {' '.join(args)}",
    )


def seed_secrets(deployment: Deployment) -> str:
    """What the README has the user create before deploying; the admin token the function will find."""
    if deployment.combination["secrets"] == "env":
        return deployment.parameters.get("AdminToken", "")
    in_project(deployment, "dev.stage_secrets", STAGE, "--admin-token")
    name = f"/{IDENTITY_SLUG}/{STAGE}/admin-token"
    parameter = deployment.emulator.client("ssm").get_parameter(Name=name, WithDecryption=True)
    return str(parameter["Parameter"]["Value"])


def request(
    event: dict[str, Any], method: str, path: str, payload: Any = None, token: str = ""
) -> dict[str, Any]:
    """A sample event for another method, path, JSON body and bearer token."""
    event = with_path(event, path)
    v2 = event.get("version") == "2.0"
    if v2:
        event["requestContext"]["http"]["method"] = method
    else:
        event["httpMethod"] = event["requestContext"]["httpMethod"] = method
    event["body"] = None if payload is None else json.dumps(payload)
    headers = {name: value for name, value in event["headers"].items() if name.lower() != "content-length"}
    if event["body"] is None:
        headers = {name: value for name, value in headers.items() if name.lower() != "content-type"}
    else:
        headers["content-length"] = str(len(event["body"].encode()))
    if token:
        headers["authorization"] = f"Bearer {token}"
    event["headers"] = headers
    if not v2:
        event["multiValueHeaders"] = {name: [value] for name, value in headers.items()}
    return event


def drive(container: LambdaContainer, events: Path, kind: str, admin_token: str) -> None:
    base = load(events / f"{kind}-create-question.json")
    health = container.invoke(load(events / f"{kind}-health.json"))
    assert health["statusCode"] == 200, health
    assert body(health) == {"status": "ok", "service": IDENTITY_SLUG, "stage": STAGE}

    text = f"Which table does the {kind} stack give the function?"
    created = container.invoke(request(copy.deepcopy(base), "POST", "/questions", {"text": text}))
    assert created["statusCode"] == 201, created
    question = body(created)
    assert question["text"] == text

    listed = container.invoke(request(copy.deepcopy(base), "GET", "/questions"))
    assert listed["statusCode"] == 200, listed
    assert body(listed)["items"][0]["id"] == question["id"]

    path = f"/questions/{question['id']}"
    answered = container.invoke(request(copy.deepcopy(base), "POST", f"{path}/answers", {"text": "Its own."}))
    assert answered["statusCode"] == 201, answered

    read = container.invoke(request(copy.deepcopy(base), "GET", path))
    assert read["statusCode"] == 200, read
    assert [answer["text"] for answer in body(read)["answers"]] == ["Its own."]

    deleted = container.invoke(request(copy.deepcopy(base), "DELETE", path, token=admin_token))
    if not admin_token:  # the stage's configuration leaves moderation off
        assert deleted["statusCode"] == 403, deleted
        return
    assert deleted["statusCode"] == 204, deleted
    gone = container.invoke(request(copy.deepcopy(base), "GET", path))
    assert gone["statusCode"] == 404, gone


# --- every stack, statically ---------------------------------------------------------------------


@pytest.mark.parametrize("combination", COMBINATIONS, ids=lambda combination: combination.name)
def test_make_deploy_check_finds_a_renamed_variable(
    combination: Combination, rendered: Callable[[Combination], RenderedProject], tmp_path: Path
) -> None:
    """`make deploy-check` passes on the project's stack, and fails naming a variable renamed in a copy."""
    project = rendered(combination).path
    env = project_env(project, combination["python_version"])
    make = ["make", "--no-print-directory", "-o", f"{env.path}/pyvenv.cfg", "deploy-check"]
    passed = check(env.run(make, cwd=project, timeout=120), "make deploy-check").output
    print(passed.strip().splitlines()[-1])
    if combination["deployment"] == "zappa":
        source, old, new, option = (
            project / "zappa_settings.json",
            '"STAGE": "dev"',
            '"STAGES": "dev"',
            "--settings",
        )
    else:
        source = project / ("template.yml" if combination["deployment"] == "codestar" else "template.yaml")
        old, new, option = "STAGE: !Ref Stage", "STAGES: !Ref Stage", "--template"
    broken = tmp_path / source.name
    broken.write_text(source.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    run: list[str | Path] = [env.python, "-m", "dev.deploy_check", option, broken]
    failed = env.run(run, cwd=project, timeout=120, PYTHONPATH="src")
    assert failed.returncode == 1, failed.describe()
    assert "does not set STAGE, read at" in failed.output, failed.describe()
    assert "sets STAGES, which nothing in the package reads" in failed.output, failed.describe()


# A SQL store's functions: the API's, the migration function, and the hook that runs it before a release.
SQL_STORE_FUNCTIONS = (API_FUNCTION, "MigrateFunction", "MigrationHook")
# What the package asks of AWS, as the source says it (``clients("lambda").invoke``,
# ``parameters.get_secret``, ``boto3.client``): the calls ``iam_static.function_requests`` enumerates.
_AWS_CALL = re.compile(
    r"""clients\("([a-z]+)"\)\.([a-z_]+)\(|parameters\.(get_[a-z_]+)\(|boto3\.(client|resource)\b"""
)


_SECRET_ASKED = re.compile(r"""\b(?:get_secret|find_secret)\(\s*"([a-z0-9-]+)"\)""")


def secret_names(package: Path) -> set[str]:
    """The secrets the package's code asks for by name."""
    return {
        name
        for path in package.rglob("*.py")
        for name in _SECRET_ASKED.findall(path.read_text(encoding="utf-8"))
    }


def aws_calls_in_source(package: Path) -> set[tuple[str, str]]:
    """(module, call) for each way the package's code calls AWS."""
    return {
        (path.stem, ".".join(part for part in match if part))
        for path in package.rglob("*.py")
        for match in _AWS_CALL.findall(path.read_text(encoding="utf-8"))
    }


@pytest.mark.parametrize(
    "combination",
    [c for c in COMBINATIONS if c["storage"] == "rds" and c["deployment"] != "zappa"],
    ids=lambda combination: combination.name,
)
def test_sql_store_roles_allow_what_their_code_calls_and_nothing_else(
    combination: Combination, rendered: Callable[[Combination], RenderedProject]
) -> None:
    """The API's, migration function's and hook's roles, as transformed, against their code's calls."""
    project = rendered(combination).path
    package = project / "src" / IDENTITY_PACKAGE
    enumerated = {
        ("migrate", "lambda.invoke"),
        ("migrate", "codedeploy.put_lifecycle_event_hook_execution_status"),
        ("migrate", "client"),  # the hook's clients, made once
    }
    if combination["secrets"] == "ssm":
        enumerated |= {("secrets", "get_parameter"), ("secrets", "get_secret")}
    assert aws_calls_in_source(package) == enumerated, (
        "the code calls AWS otherwise: enumerate its calls in tests/iam_static.py"
    )
    template = transformed(project, combination)
    names = secret_names(package)
    for function in SQL_STORE_FUNCTIONS:
        wanted = function_requests(template, function, names)
        evaluation = evaluate(rendered_role_policies(template, function), wanted)
        print(
            f"{function}: {len(wanted)} requests, {len(evaluation.statements)} statements, "
            f"{len(evaluation.used)} used"
        )
        assert not evaluation.denied, f"{function} denied:\n" + "\n".join(
            request.describe() for request in evaluation.denied
        )
        assert not evaluation.unused, f"{function}: no call used:\n" + "\n".join(
            statement.describe() for statement in evaluation.unused
        )


def transformed(project: Path, combination: Combination) -> dict[str, Any]:
    """The project's SAM template after the serverless transform, each function's code a stand-in URI."""
    name = "template.yml" if combination["deployment"] == "codestar" else "template.yaml"
    source = load_structured(project / name)
    code = {
        logical: f"s3://code/{logical}"
        for logical, resource in source["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert set(SQL_STORE_FUNCTIONS) <= set(code)
    return sam_template(project / name, code, {"Stage": STAGE})


RECORDED_SQL_TESTS = [
    next(
        c
        for c in COMBINATIONS
        if c["deployment"] == "sam" and c["storage"] == "rds" and c["secrets"] == "ssm"
    )
]


@pytest.mark.parametrize("combination", RECORDED_SQL_TESTS, ids=lambda combination: combination.name)
def test_sql_store_api_role_allows_what_the_projects_tests_call(
    combination: Combination, rendered: Callable[[Combination], RenderedProject], tmp_path: Path
) -> None:
    """The app's calls in the project's own tests (on the local database), on the stack's names, allowed."""
    project = rendered(combination).path
    template = transformed(project, combination)
    names = {
        **parameters_under(variable(template, API_FUNCTION, "SECRETS_PATH")),
        # The local database's credentials, in the emulator as RDS keeps the stack's (dev/local_secrets.py).
        rf"arn:aws:secretsmanager:[^:]+:[0-9]+:secret:{IDENTITY_SLUG}/local/[^:]+": variable(
            template, API_FUNCTION, "DATABASE_SECRET_ARN"
        ),
    }
    calls = project_tests_calls(project, combination["python_version"], tmp_path, names)
    assert {call["service"] for call in calls} == {"ssm", "secretsmanager"}, (
        "the tests' calls went unrecorded"
    )
    evaluation = evaluate(
        rendered_role_policies(template, API_FUNCTION),
        [request for call in calls for request in requests(call, REGION, ACCOUNT)],
    )
    print(f"{len(calls)} calls of the app in the project's tests, {len(evaluation.used)} statements used")
    assert not evaluation.denied, "denied:\n" + "\n".join(request.describe() for request in evaluation.denied)


# --- the evaluator -------------------------------------------------------------------------------

_TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/app-Table-1"


def _calls(*calls: tuple[str, str, dict[str, Any]]) -> list[Request]:
    return [
        request
        for service, operation, params in calls
        for request in requests(
            {"service": service, "operation": operation, "params": params}, REGION, ACCOUNT
        )
    ]


def test_a_call_is_what_iam_authorizes_for_it() -> None:
    found = _calls(
        (
            "dynamodb",
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": "app-Table-1"}},
                    {"Update": {"TableName": "app-Table-1"}},
                ]
            },
        ),
        ("dynamodb", "Query", {"TableName": "app-Table-1", "IndexName": "ByCreatedAt"}),
        ("ssm", "GetParameter", {"Name": "/app/dev/key", "WithDecryption": True}),
        ("lambda", "Invoke", {"FunctionName": "migrate"}),
    )
    parameter = "arn:aws:ssm:eu-west-1:123456789012:parameter/app/dev/key"
    assert [(request.action, request.resource) for request in found] == [
        ("dynamodb:PutItem", _TABLE),
        ("dynamodb:UpdateItem", _TABLE),
        ("dynamodb:Query", f"{_TABLE}/index/ByCreatedAt"),
        ("ssm:GetParameter", parameter),
        ("kms:Decrypt", "arn:aws:kms:eu-west-1:123456789012:key/the-parameters-key"),
        ("lambda:InvokeFunction", "arn:aws:lambda:eu-west-1:123456789012:function:migrate"),
    ]
    assert found[4].context == {
        "kms:ViaService": "ssm.eu-west-1.amazonaws.com",
        "kms:EncryptionContext:PARAMETER_ARN": parameter,
    }
    with pytest.raises(ValueError, match="no IAM mapping for calls to sqs"):
        _calls(("sqs", "SendMessage", {}))


def test_evaluation_denies_what_no_statement_allows_and_reports_what_none_used() -> None:
    policies: dict[str, dict[str, Any]] = {
        "table": {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "DynamoDB:Put*",
                    "Resource": "arn:aws:dynamodb:*:*:table/app-*",
                },
                {"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": _TABLE},
                {"Effect": "Deny", "Action": "dynamodb:PutItem", "Resource": "*/other-*"},
            ]
        },
        "secrets": {
            "Statement": {
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": "arn:aws:kms:eu-west-1:123456789012:key/*",
                "Condition": {
                    "StringEquals": {"kms:ViaService": "ssm.eu-west-1.amazonaws.com"},
                    "StringLike": {
                        "kms:EncryptionContext:PARAMETER_ARN": "arn:aws:ssm:*:parameter/app/dev/*"
                    },
                },
            }
        },
    }
    put = Request("dynamodb:PutItem", _TABLE)
    other = Request("dynamodb:PutItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/other-1")
    upper = Request("dynamodb:PutItem", _TABLE.replace("app-", "APP-"))
    decrypt, elsewhere = (
        _calls(("ssm", "GetParameter", {"Name": "/app/dev/key", "WithDecryption": True}))[1],
        Request("kms:Decrypt", "arn:aws:kms:eu-west-1:123456789012:key/1"),
    )
    evaluation = evaluate(policies, [put, other, upper, decrypt, elsewhere])
    assert evaluation.denied == [other, upper, elsewhere]
    assert [statement.describe() for statement in evaluation.unused] == [
        f"table[1]: Allow dynamodb:Scan on {_TABLE}"
    ]


def test_a_rendered_role_resolves_as_its_stack_would() -> None:
    """Names, ARNs and substitutions as CloudFormation gives them; what it cannot resolve, an error."""
    template: dict[str, Any] = {
        "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
        "Resources": {
            "Logs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": {"Fn::Sub": "/app/${Stage}"}},
            },
            "Migrate": {"Type": "AWS::Lambda::Function", "Properties": {}},
        },
    }
    assert resolve_statically(template, {"Fn::GetAtt": ["Logs", "Arn"]}) == (
        "arn:aws:logs:eu-west-1:123456789012:log-group:/app/dev:*"
    )
    assert resolve_statically(template, {"Fn::Sub": "${Migrate.Arn}:${AWS::StackName}"}) == (
        "arn:aws:lambda:eu-west-1:123456789012:function:app-dev-Migrate-1A2B3C4D:app-dev"
    )
    with pytest.raises(UnresolvedError, match="Fn::If is not resolved"):
        resolve_statically(template, {"Fn::If": ["IsProd", "a", "b"]})
    with pytest.raises(UnresolvedError, match="no stand-in for AWS::Lambda::Function's Version"):
        resolve_statically(template, {"Fn::GetAtt": "Migrate.Version"})


def test_a_tests_call_takes_the_stacks_names() -> None:
    """A name of the tests' own becomes the stack's; any other stays, for the role to refuse."""
    names = {
        r"app-test(?:-[0-9a-f]{12})?": "app-dev-Table-1",
        r"/app/test(?:-[0-9a-f]{12})?/(?P<rest>.*)": r"/app/dev/\g<rest>",
    }
    transaction = {"TransactItems": [{"Put": {"TableName": "app-test-0123456789ab"}}]}
    assert as_deployed({"service": "dynamodb", "params": transaction}, names)["params"] == {
        "TransactItems": [{"Put": {"TableName": "app-dev-Table-1"}}]
    }
    assert as_deployed({"params": {"Name": "/app/test-0123456789ab/admin-token"}}, names)["params"] == {
        "Name": "/app/dev/admin-token"
    }
    assert as_deployed({"params": {"TableName": "other-test"}}, names)["params"] == {
        "TableName": "other-test"
    }
