"""What only ``deployment=zappa`` promises, beyond the render and build tiers.

Rendered (every zappa combination): the settings Zappa reads have the shape
the project relies on, and the function's role in ``infra/stack.yaml`` is the
SAM template's role for the same answers, with no ``*`` on data; the stack's
alarms and dashboard name the function and HTTP API Zappa makes, and its custom
domain maps that API once ``make deploy`` has recorded it.

Built (marker ``build``, the build tier's zappa artifacts, shared with it):
the zip ``zappa package`` wrote carries, for every ``.so`` file, a wheel
tagged for the Lambda architecture and Python, and an ELF library of that
architecture; none of Zappa's build-time baggage (boto3, pip, troposphere,
the rest of Zappa) nor the project's own files; Zappa's handler and settings
as bytecode. Through Zappa's handler in the zip: no response sets a cookie
(Zappa's handler would send each twice), and with ``storage=rds`` the
migrations run through ``zappa invoke``'s event.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from tests import operations
from tests.build_support import (
    ARCHITECTURES,
    Artifact,
    LambdaContainer,
    LocalStage,
    project_environment,
)
from tests.build_zappa import BUILD_STAGE
from tests.combinations import ALL_COMBINATIONS, COMBINATIONS, Combination
from tests.support import IDENTITY_PACKAGE, RenderedProject, load_structured

ZAPPA_COMBINATIONS = [combination for combination in COMBINATIONS if combination["deployment"] == "zappa"]
RDS_COMBINATIONS = [combination for combination in ZAPPA_COMBINATIONS if combination["storage"] == "rds"]
# Actions that have no resource-level permissions: the only ones a role may grant on "*".
UNSCOPABLE_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "ec2:DescribeNetworkInterfaces"}
# What Zappa's own environment holds and a package must not: the runtime has boto3, the rest is Zappa's.
BUILD_TIME_ONLY = ("boto3", "botocore", "s3transfer", "pip", "setuptools", "troposphere", "wheel", "placebo")
ZAPPA_RUNTIME = {"__init__", "handler", "middleware", "utilities", "wsgi", "asgi"}


@pytest.fixture(params=ZAPPA_COMBINATIONS, ids=lambda combination: combination.name)
def project(
    request: pytest.FixtureRequest, rendered: Callable[[Combination], RenderedProject]
) -> RenderedProject:
    combination: Combination = request.param
    return rendered(combination)


# --- the rendered settings and stack -------------------------------------------------------------


def test_settings_have_what_the_project_relies_on(project: RenderedProject) -> None:
    settings = json.loads((project.path / "zappa_settings.json").read_text(encoding="utf-8"))
    assert set(settings) == {"dev", "prod"}
    assert settings["prod"]["extends"] == "dev"
    dev = settings["dev"]
    answers = project.answers
    assert dev["project_name"] == f"{answers['project_slug']}-api", (
        "the function and its stack are named by it"
    )
    assert dev["app_function"] == f"{IDENTITY_PACKAGE}.wsgi.app"
    assert dev["exception_handler"] == f"{IDENTITY_PACKAGE}.wsgi.log_unhandled_error"
    assert dev["runtime"] == f"python{answers['python_version']}"
    assert dev["architecture"] == answers["architecture"]
    assert dev["aws_region"] == answers["aws_region"]
    assert dev["apigateway_version"] == "v2"
    assert dev["manage_roles"] is False
    assert (dev["use_precompiled_packages"], dev["slim_handler"]) == (False, False)
    assert (dev["keep_warm"], settings["prod"]["keep_warm"]) == (False, True)
    # Migrations run in this function: the source article's 30 s would cut them off.
    assert dev["timeout_seconds"] == (900 if answers["storage"] == "rds" else 10)
    excluded = set(dev["exclude"])
    assert {".*", "tests", "dev", "src", "docs", "boto3", "botocore", "zappa_settings.json"} <= excluded
    if answers["frontend"] == "spa":
        assert {"frontend", "node_modules"} <= excluded


def roles(template: dict[str, Any]) -> dict[str, Any]:
    return {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
    }


def test_function_role_is_the_sam_functions_role(
    project: RenderedProject, rendered: Callable[[Combination], RenderedProject]
) -> None:
    stack = load_structured(project.path / "infra" / "stack.yaml")
    role = roles(stack)["FunctionRole"]
    structural = {
        k: v for k, v in project.combination.answers.items() if k not in ("python_version", "architecture")
    }
    # From the whole list: a run narrowed to this combination (make validate) holds no sam one.
    sam = next(
        combination
        for combination in ALL_COMBINATIONS
        if combination["deployment"] == "sam"
        and {k: v for k, v in combination.answers.items() if k not in ("python_version", "architecture")}
        == {**structural, "deployment": "sam"}
    )
    sam_role = roles(load_structured(rendered(sam).path / "template.yaml"))["ApiFunctionRole"]
    assert role == sam_role
    for policy in role["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if statement["Resource"] == "*":
                assert set(actions) <= UNSCOPABLE_ACTIONS, f"{policy['PolicyName']}: {actions} on *"


def test_stack_outputs_feed_the_settings(project: RenderedProject) -> None:
    """Every output dev/zappa_stage.py reads is one the stack has."""
    outputs = set(load_structured(project.path / "infra" / "stack.yaml")["Outputs"])
    script = (project.path / "dev" / "zappa_stage.py").read_text(encoding="utf-8")
    read = set(re.findall(r'outputs\["(\w+)"\]', script))
    assert read, "dev/zappa_stage.py reads no output"
    assert read <= outputs, f"outputs the stack lacks: {sorted(read - outputs)}"
    assert {"ApiUrl", "FunctionRoleArn", "DeploymentBucketName"} <= outputs


def test_alarms_watch_the_function_and_api_zappa_makes(project: RenderedProject) -> None:
    """Zappa names the function <project_name>-<stage> and makes the HTTP API whose URL `make deploy`
    records as ApiUrl: the stack's alarms, dashboard and domain mapping address those."""
    settings = json.loads((project.path / "zappa_settings.json").read_text(encoding="utf-8"))
    stack = load_structured(project.path / "infra/stack.yaml")
    alarms = operations.of_type(stack, operations.ALARM)
    url = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/{stage}/"
    for stage in ("dev", "prod"):
        function = f"{settings['dev']['project_name']}-{stage}"
        for recorded, api_id in ((url.format(stage=stage), "a1b2c3d4e5"), ("", "not-deployed-yet")):
            given = {"Stage": stage, "ApiUrl": recorded}
            for name, alarm in alarms.items():
                properties = alarm["Properties"]
                metrics = [
                    q["MetricStat"]["Metric"] for q in properties.get("Metrics", []) if "MetricStat" in q
                ]
                for metric in metrics or [properties]:
                    if metric["Namespace"] not in ("AWS/Lambda", "AWS/ApiGateway"):
                        continue  # the store's
                    dimensions = {
                        d["Name"]: operations.resolve(d["Value"], stack, given) for d in metric["Dimensions"]
                    }
                    if metric["Namespace"] == "AWS/Lambda":
                        assert dimensions == {"FunctionName": function}, (name, stage)
                    else:
                        assert dimensions == {"ApiId": api_id}, (name, stage, recorded)
            _, _, variables = operations.dashboard(stack)
            assert operations.resolve(variables["FunctionName"], stack, given) == function
            assert operations.resolve(variables["ApiId"], stack, given) == api_id
    # The log group the stack sets the retention of is the function's.
    log_group = stack["Resources"]["FunctionLogGroup"]["Properties"]["LogGroupName"]
    assert (
        operations.resolve(log_group, stack, {"Stage": "dev"})
        == f"/aws/lambda/{settings['dev']['project_name']}-dev"
    )
    # The domain maps Zappa's API and its named stage, once there is one.
    mapping = stack["Resources"]["ApiDomainMapping"]
    with_api = {**operations.OPTIONAL_PARAMETERS, "ApiUrl": url.format(stage="prod"), "Stage": "prod"}
    assert operations.resolve(mapping["Properties"]["ApiId"], stack, with_api) == "a1b2c3d4e5"
    assert operations.resolve(mapping["Properties"]["Stage"], stack, with_api) == "prod"
    assert "ApiDomainMapping" not in operations.present(stack, {**with_api, "ApiUrl": ""})


# --- the built package ---------------------------------------------------------------------------


@pytest.fixture(params=ZAPPA_COMBINATIONS, ids=lambda combination: combination.name)
def artifact(request: pytest.FixtureRequest, built: Callable[[Combination], Artifact]) -> Artifact:
    return built(request.param)


def package_zip(artifact: Artifact) -> Path:
    return artifact.project / ".zappa" / f"{BUILD_STAGE}.zip"


def wheel_tags(archive: zipfile.ZipFile) -> dict[str, list[str]]:
    """Each file of the zip -> the tags of the wheel that installed it (from its RECORD)."""
    owners: dict[str, list[str]] = {}
    for name in archive.namelist():
        if name.endswith(".dist-info/WHEEL"):
            lines = archive.read(name).decode().splitlines()
            tags = [line.removeprefix("Tag: ") for line in lines if line.startswith("Tag: ")]
            record = name.removesuffix("WHEEL") + "RECORD"
            for line in archive.read(record).decode().splitlines():
                owners[line.split(",")[0]] = tags
    return owners


@pytest.mark.build
def test_every_native_library_comes_from_a_wheel_for_lambda(artifact: Artifact) -> None:
    arch = ARCHITECTURES[artifact.architecture]
    cpython = "cp" + artifact.python_version.replace(".", "")
    with zipfile.ZipFile(package_zip(artifact)) as archive:
        owners = wheel_tags(archive)
        libraries = [name for name in archive.namelist() if PurePosixPath(name).suffix == ".so"]
        assert libraries, "no native library in the package: the check would check nothing"
        wrong = []
        for name in libraries:
            header = archive.read(name)[:20]
            if header[:4] != b"\x7fELF" or struct.unpack_from("<H", header, 18)[0] != arch["machine"]:
                wrong.append(f"{name}: not an ELF library for {artifact.architecture}")
            tags = owners.get(name)
            if not tags:
                wrong.append(f"{name}: installed by no wheel the package records")
                continue
            for python, abi, platform in (tag.split("-") for tag in tags):
                for_runtime = (python, abi) == (cpython, cpython) or (
                    abi == "abi3" and python.startswith("cp3")
                )
                for_lambda = platform.startswith("manylinux") and platform.endswith("_" + arch["wheel_arch"])
                if not (for_runtime and for_lambda):
                    wrong.append(f"{name}: from a wheel tagged {python}-{abi}-{platform}")
    assert not wrong, f"not for {artifact.architecture}/{cpython}:\n" + "\n".join(wrong)


@pytest.mark.build
def test_the_package_holds_the_app_its_dependencies_and_zappas_handler_only(artifact: Artifact) -> None:
    with zipfile.ZipFile(package_zip(artifact)) as archive:
        names = archive.namelist()
    top = {PurePosixPath(name).parts[0] for name in names}
    assert not top & set(BUILD_TIME_ONLY), (
        f"build-time packages in the zip: {sorted(top & set(BUILD_TIME_ONLY))}"
    )
    project_files = {"src", "dev", "tests", "events", "infra", "frontend", "Makefile", "zappa_settings.json"}
    assert not top & project_files, f"the project's own files in the zip: {sorted(top & project_files)}"
    assert not [
        name for name in top if name.startswith(".") or name.endswith((".md", ".mk", ".txt", ".toml"))
    ]
    zappa = {PurePosixPath(name).stem for name in names if name.startswith("zappa/")}
    assert zappa == ZAPPA_RUNTIME - {"handler"}, f"Zappa's modules in the zip: {sorted(zappa)}"
    assert {"handler.pyc", "zappa_settings.pyc", "package_info.json"} <= set(names)
    assert not {"handler.py", "zappa_settings.py", "__init__.py"} & set(names), "a source at the zip's root"
    assert f"{IDENTITY_PACKAGE}/wsgi.py" in names


@pytest.mark.build
def test_no_response_sets_a_cookie_through_the_packed_handler(artifact: Artifact, tmp_path: Path) -> None:
    """Zappa's handler would send each Set-Cookie twice (the project's test_zappa_handler.py): none is set."""
    events = artifact.project / "events"
    with (
        LocalStage(project_environment(artifact), artifact.project, "build") as stage,
        LambdaContainer(artifact, stage, tmp_path / "function.log") as function,
    ):
        for sample in sorted(events.glob("*.json")):
            response = function.invoke(json.loads(sample.read_text(encoding="utf-8")))
            assert response["statusCode"] < 500, (sample.name, response, function.output())
            headers = {**response.get("headers", {}), **response.get("multiValueHeaders", {})}
            assert not response.get("cookies"), (sample.name, response)
            assert not [name for name in headers if name.lower() == "set-cookie"], (sample.name, response)
        function.finish()


@pytest.mark.build
@pytest.mark.parametrize("combination", RDS_COMBINATIONS, ids=lambda combination: combination.name)
def test_migrations_run_through_zappa_invoke(
    combination: Combination, built: Callable[[Combination], Artifact], tmp_path: Path
) -> None:
    """``make migrate-stage STAGE=...``'s event (``zappa invoke <stage> <package>.migrate.zappa_invoke``)."""
    artifact = built(combination)
    command = f"{IDENTITY_PACKAGE}.migrate.zappa_invoke"
    with (
        LocalStage(project_environment(artifact), artifact.project, "build") as stage,
        LambdaContainer(artifact, stage, tmp_path / "function.log") as function,
    ):
        try:
            down = function.invoke({"command": command, "migration": "downgrade", "revision": "base"})
            assert down["after"] == [], down
            up = function.invoke({"command": command})
            assert (up["before"], len(up["after"])) == ([], 1), up
            current = function.invoke({"command": command, "migration": "current"})
            assert current["before"] == current["after"] == up["after"], current
        except (AssertionError, KeyError) as exc:
            raise AssertionError(f"{exc}\nfunction output:\n{function.output()}") from exc
        function.finish()
