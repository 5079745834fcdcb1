"""deployment=codestar: the buildspec and the pipeline stack, per codestar combination.

* buildspec.yml: version 0.2, the four phases, the runtime's Python, the
  Makefile's targets, and the artifact files the deploy action reads, which
  exist after the build tier has run the buildspec (``tests/build_codestar.py``).
* pipeline/pipeline.yml: a V2 pipeline whose stages run Source, Build, in prod
  a manual approval, Deploy (change set created, then executed), with
  storage=rds or frontend=spa PostDeploy, and Smoke (``make smoke``); its
  roles name their resources, except for the actions AWS authorises on every
  resource only (``UNSCOPED_ACTIONS``, each with its reason).
* The permissions boundary of template.yml's roles (``tests/iam.py``): the
  toolchain's managed policy allows exactly the actions those roles are given,
  on the stage's resources; the deploy role is denied taking it off or
  changing it; the build passes its ARN to the stack.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from tests import iam
from tests.build_codestar import BUILDSPEC, PERMISSIONS_BOUNDARY_ARN, sets_up_the_machine
from tests.build_support import Artifact
from tests.combinations import COMBINATIONS, COOKIECUTTER_JSON, Combination
from tests.support import RenderedProject, load_structured

CODESTAR = [combination for combination in COMBINATIONS if combination["deployment"] == "codestar"]
ARTIFACT_FILES = ["template-export.yml", "template-configuration.json"]
PIPELINE = "pipeline/pipeline.yml"

# Actions a role may be given on Resource "*", and why: the service authorises them on no narrower resource.
UNSCOPED_ACTIONS = {
    "logs:DescribeLogGroups": "describe calls have no resource-level permissions",
    "logs:DescribeResourcePolicies": "describe calls have no resource-level permissions",
    "logs:PutResourcePolicy": "the API's access logs are a log delivery: no resource-level permissions",
    "logs:CreateLogDelivery": "log deliveries have no resource-level permissions",
    "logs:GetLogDelivery": "log deliveries have no resource-level permissions",
    "logs:UpdateLogDelivery": "log deliveries have no resource-level permissions",
    "logs:DeleteLogDelivery": "log deliveries have no resource-level permissions",
    "logs:ListLogDeliveries": "log deliveries have no resource-level permissions",
    "ec2:Describe*": "EC2 describe calls have no resource-level permissions",
    "rds:Describe*": "the RDS describe calls of CloudFormation's handlers take no resource",
    "kms:CreateKey": "a key's id is generated: a new key is the stage's by the tags it must carry",
    "kms:TagResource": "tagging a key as it is created names no key yet: only with the stage's tags",
}
# Actions the permissions boundary allows beyond the stage's named resources, and why.
BOUNDARY_UNSCOPED = {
    "xray:PutTraceSegments": "X-Ray has no resource-level permissions",
    "xray:PutTelemetryRecords": "X-Ray has no resource-level permissions",
    "ec2:DescribeNetworkInterfaces": "describe calls have no resource-level permissions",
    "ec2:CreateNetworkInterface": "Lambda's network interfaces get generated ids",
    "ec2:DeleteNetworkInterface": "Lambda's network interfaces get generated ids",
    "ec2:AssignPrivateIpAddresses": "Lambda's network interfaces get generated ids",
    "ec2:UnassignPrivateIpAddresses": "Lambda's network interfaces get generated ids",
    "secretsmanager:GetSecretValue": "RDS names the secret it manages rds!db-<id>, not after the stack",
}


@pytest.fixture(params=CODESTAR, ids=lambda combination: combination.name)
def project(
    request: pytest.FixtureRequest, rendered: Callable[[Combination], RenderedProject]
) -> RenderedProject:
    combination: Combination = request.param
    return rendered(combination)


def buildspec(project: RenderedProject) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load((project.path / BUILDSPEC).read_text(encoding="utf-8"))
    return spec


def pipeline(project: RenderedProject) -> dict[str, Any]:
    stack: dict[str, Any] = load_structured(project.path / PIPELINE)
    return stack


# --- buildspec.yml -------------------------------------------------------------------------------


def test_buildspec_runs_the_makefiles_targets(project: RenderedProject) -> None:
    spec = buildspec(project)
    assert spec["version"] == 0.2
    phases = spec["phases"]
    assert list(phases) == ["install", "pre_build", "build", "post_build"]
    assert phases["install"]["runtime-versions"]["python"] == project.answers["python_version"]
    commands = {
        phase: [c for c in body["commands"] if not sets_up_the_machine(c)] for phase, body in phases.items()
    }
    assert commands["install"] == ["make install"]
    assert commands["pre_build"] == ["make lint", "make test", "make deploy-check"]
    # The same command as a laptop's, so a failed pipeline build reproduces locally.
    assert commands["build"] == ["make build"]
    assert any(c.startswith("make stage-configuration") for c in commands["post_build"])
    assert any(c.startswith("make package") for c in commands["post_build"])
    assert spec["artifacts"]["files"] == ARTIFACT_FILES


def test_the_machine_gets_the_test_database_and_the_pinned_uv(project: RenderedProject) -> None:
    set_up = [
        c
        for body in buildspec(project)["phases"].values()
        for c in body["commands"]
        if sets_up_the_machine(c)
    ]
    docker = [command for command in set_up if "docker" in command]
    assert bool(docker) == (project.answers["storage"] == "rds"), docker
    uv_version = recorded_template_value("__uv_version")
    assert [command for command in set_up if "docker" not in command] == [
        f"pip install --quiet uv=={uv_version}"
    ]
    # The post-deploy build, inline in the pipeline, runs make targets with uv too.
    post_deploy = pipeline(project)["Resources"].get("PostDeployProject")
    if post_deploy is not None:
        spec = yaml.safe_load(post_deploy["Properties"]["Source"]["BuildSpec"])
        assert f"pip install --quiet uv=={uv_version}" in spec["phases"]["install"]["commands"]


def recorded_template_value(key: str) -> str:
    value: str = json.loads(COOKIECUTTER_JSON.read_text(encoding="utf-8"))[key]
    return value


def test_buildspec_names_what_the_deploy_action_reads(project: RenderedProject) -> None:
    actions = [action for stage in stages(project) for action in stage["Actions"]]
    create = next(a for a in actions if a["Configuration"].get("ActionMode") == "CHANGE_SET_REPLACE")
    artifact = create["InputArtifacts"][0]["Name"]
    assert create["Configuration"]["TemplatePath"] == f"{artifact}::{ARTIFACT_FILES[0]}"
    assert create["Configuration"]["TemplateConfiguration"] == f"{artifact}::{ARTIFACT_FILES[1]}"


@pytest.mark.build
@pytest.mark.parametrize("combination", CODESTAR[:1], ids=lambda combination: combination.name)
def test_the_build_writes_the_artifact_files(
    combination: Combination, built: Callable[[Combination], Artifact]
) -> None:
    artifact = built(combination)
    for name in ARTIFACT_FILES:
        assert (artifact.project / name).is_file(), f"the buildspec's build wrote no {name}"
    exported = load_structured(artifact.project / ARTIFACT_FILES[0])
    uris = [
        resource["Properties"]["CodeUri"]
        for resource in exported["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    ]
    assert uris, "template-export.yml has no function"
    assert all(str(uri).startswith("s3://pipeline-artifacts/") for uri in uris), uris
    configuration = load_structured(artifact.project / ARTIFACT_FILES[1])
    assert configuration["Parameters"]["Stage"] == "dev"
    assert configuration["Parameters"]["PermissionsBoundaryArn"] == PERMISSIONS_BOUNDARY_ARN
    assert configuration["Tags"]["stage"] == "dev"


# --- pipeline/pipeline.yml -----------------------------------------------------------------------


def raw_stages(project: RenderedProject) -> list[dict[str, Any]]:
    resource = pipeline(project)["Resources"]["Pipeline"]
    assert resource["Type"] == "AWS::CodePipeline::Pipeline"
    found: list[dict[str, Any]] = resource["Properties"]["Stages"]
    return found


def stages(project: RenderedProject) -> list[dict[str, Any]]:
    """The pipeline's stages as prod's pipeline has them (a stage of prod only included)."""
    return [stage["If"][1] if "If" in stage else stage for stage in raw_stages(project)]


def stage_name(stage: dict[str, Any]) -> str:
    """A stage's name; one that exists in prod only (``!If [IsProd, stage, !Ref AWS::NoValue]``) says so."""
    if "If" not in stage:
        return str(stage["Name"])
    condition, stage_in_prod, otherwise = stage["If"]
    assert (condition, otherwise) == ("IsProd", {"Ref": "AWS::NoValue"}), stage
    return f"{stage_in_prod['Name']} (prod)"


def test_pipeline_stages_in_order(project: RenderedProject) -> None:
    template = pipeline(project)
    properties = template["Resources"]["Pipeline"]["Properties"]
    assert properties["PipelineType"] == "V2"
    post_deploy = project.answers["storage"] == "rds" or project.answers["frontend"] == "spa"
    expected = [
        "Source",
        "Build",
        "Approve (prod)",
        "Deploy",
        *(["PostDeploy"] if post_deploy else []),
        "Smoke",
    ]
    assert [stage_name(stage) for stage in raw_stages(project)] == expected
    source, build, approve, deploy = stages(project)[:4]
    assert source["Actions"][0]["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert build["Actions"][0]["ActionTypeId"]["Provider"] == "CodeBuild"
    approval = approve["Actions"][0]["ActionTypeId"]
    assert (approval["Category"], approval["Provider"]) == ("Approval", "Manual")
    assert template["Conditions"]["IsProd"] == {"Equals": [{"Ref": "Stage"}, "prod"]}
    modes = [(a["RunOrder"], a["Configuration"]["ActionMode"]) for a in deploy["Actions"]]
    assert modes == [(1, "CHANGE_SET_REPLACE"), (2, "CHANGE_SET_EXECUTE")]


def test_every_deploy_ends_with_the_smoke_test(project: RenderedProject) -> None:
    """The last stage runs `make smoke` on the stage just deployed; its role may only read the stack."""
    smoke = stages(project)[-1]["Actions"]
    assert [action["Configuration"]["ProjectName"] for action in smoke] == [{"Ref": "SmokeProject"}]
    project_properties = pipeline(project)["Resources"]["SmokeProject"]["Properties"]
    spec = yaml.safe_load(project_properties["Source"]["BuildSpec"])
    assert spec["phases"]["build"]["commands"] == ["make smoke STAGE=$STAGE"]
    granted = {
        str(action)
        for role, statement in role_statements(pipeline(project))
        if role == "SmokeRole"
        for action in as_list(statement["Action"])
    }
    reads = {"s3:GetObject", "s3:GetObjectVersion", "cloudformation:DescribeStacks"}
    assert granted == {"logs:CreateLogStream", "logs:PutLogEvents", *reads}


def test_artifact_bucket_is_encrypted_tls_only_and_expires(project: RenderedProject) -> None:
    resources = pipeline(project)["Resources"]
    bucket = resources["ArtifactBucket"]["Properties"]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert bucket["LifecycleConfiguration"]["Rules"][0]["Status"] == "Enabled"
    statements = resources["ArtifactBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"]["Bool"]["aws:SecureTransport"] == "false" for s in statements
    )


def role_statements(stack: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, resource in stack["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            for policy in resource["Properties"].get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    yield name, statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_roles_name_their_resources(project: RenderedProject) -> None:
    problems = []
    for role, statement in role_statements(pipeline(project)):
        if statement["Effect"] != "Allow":
            continue
        actions = as_list(statement["Action"])
        if any(action == "*" or action.endswith(":*") for action in actions):
            problems.append(f"{role}: every action of a service: {actions}")
        if "*" in as_list(statement["Resource"]):
            unexplained = [a for a in actions if not any(fnmatch.fnmatch(a, p) for p in UNSCOPED_ACTIONS)]
            if unexplained:
                problems.append(f"{role}: on every resource: {unexplained}")
    assert not problems, "\n".join(problems)


def test_pipeline_passes_only_the_deploy_role(project: RenderedProject) -> None:
    passes = [
        statement
        for role, statement in role_statements(pipeline(project))
        if role == "PipelineRole" and "iam:PassRole" in as_list(statement["Action"])
    ]
    assert len(passes) == 1
    assert passes[0]["Resource"] == {"GetAtt": "DeployRole.Arn"}
    assert passes[0]["Condition"]["StringEquals"]["iam:PassedToService"] == "cloudformation.amazonaws.com"


def test_the_functions_role_is_the_applications(project: RenderedProject) -> None:
    """The Lambda role is in template.yml, where it can be edited (CodeStar's never could)."""
    application = load_structured(project.path / "template.yml")["Resources"]
    role = application["ApiFunction"]["Properties"]["Role"]
    assert role == {"GetAtt": "ApiFunctionRole.Arn"}
    assert application["ApiFunctionRole"]["Type"] == "AWS::IAM::Role"


# --- the permissions boundary of template.yml's roles --------------------------------------------


def boundary_statements(project: RenderedProject) -> list[iam.Statement]:
    stack = pipeline(project)
    assert iam.is_toolchain(stack), f"{PIPELINE} defines no {iam.BOUNDARY_POLICY}"
    return [s for s in iam.statements(stack) if s.holder == iam.BOUNDARY_POLICY]


def test_the_boundary_allows_what_the_applications_roles_do_and_no_more(project: RenderedProject) -> None:
    application = load_structured(project.path / "template.yml")
    given = {
        str(action)
        for statement in iam.statements(application)
        if statement.allows and statement.holder in iam.resources(application, "AWS::IAM::Role")
        for action in as_list(statement.body["Action"])
    }
    bounded = boundary_statements(project)
    assert all(s.allows for s in bounded), "the boundary only allows: a Deny there would be an unstated rule"
    allowed = {str(action) for s in bounded for action in as_list(s.body["Action"])}
    assert allowed == given, (
        f"more than the roles do: {sorted(allowed - given)}; not in the boundary: {sorted(given - allowed)}"
    )


def test_the_boundary_names_the_stages_resources(project: RenderedProject) -> None:
    """Each statement is limited to the stage (${Stage} in its resources or conditions), or says why not."""
    problems = []
    for statement in boundary_statements(project):
        scoped = "${Stage}" in json.dumps([statement.body["Resource"], statement.body.get("Condition")])
        unexplained = [a for a in as_list(statement.body["Action"]) if a not in BOUNDARY_UNSCOPED]
        if not scoped and unexplained:
            problems.append(f"{unexplained} on {statement.body['Resource']}")
    assert not problems, "the boundary allows beyond the stage:\n" + "\n".join(problems)


def test_the_deploy_role_may_not_lift_or_rewrite_the_boundary(project: RenderedProject) -> None:
    """Explicitly denied, so no Allow added later can give it back."""
    denied = [s for s in iam.statements(pipeline(project)) if s.holder == "DeployRole" and s.denies]
    lift = "iam:DeleteRolePermissionsBoundary"
    on_every_role = [s for s in denied if s.body["Resource"] == "*"]
    assert any(s.covers(lift) for s in on_every_role), f"{lift} is not denied on every role"
    rewrites = [action for action in iam.BOUNDARY_CHANGES if action != lift]
    on_boundary = [s for s in denied if s.body["Resource"] == {"Ref": iam.BOUNDARY_POLICY}]
    assert all(any(s.covers(action) for s in on_boundary) for action in rewrites), (
        f"the deploy role is not denied {rewrites} on {iam.BOUNDARY_POLICY}"
    )


def test_the_build_hands_the_boundary_to_the_stack(project: RenderedProject) -> None:
    """CodeBuild has its ARN; `make stage-configuration` writes it into template-configuration.json."""
    environment = pipeline(project)["Resources"]["BuildProject"]["Properties"]["Environment"]
    variables = {variable["Name"]: variable["Value"] for variable in environment["EnvironmentVariables"]}
    assert variables.get("PERMISSIONS_BOUNDARY_ARN") == {"Ref": iam.BOUNDARY_POLICY}
