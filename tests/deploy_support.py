"""The deploy tier's machinery: a combination's stack, created in the AWS emulator as a deploy would.

* ``Emulator``: moto's server in this process, single-threaded, on a free port.
* ``sam_template``: the built SAM template as CloudFormation, transformed
  locally by samtranslator (the pinned SAM CLI's own), with each function's
  code uploaded to the emulator's S3 as ``sam package`` would.
* ``plan``: the template as moto can create it, and what the stack must hold.
* ``create_stack``: ``CreateStack`` from a template URL, then what the stack
  holds: its resources and outputs.
* ``missing_resources``, ``stored_code``, ``role_policies``: what the stack
  created, asked of each service.

What moto's CloudFormation does not do as AWS does, and how this copes
(measured with moto 5.2):

* A stack created through a change set (``sam deploy``, ``aws cloudformation
  deploy``) gets no outputs: stacks are created with ``CreateStack``.
* The template URL's host names the bucket unless it is ``localhost``: the
  URL is ``http://localhost:PORT/bucket/key``.
* Resource types it does not implement are left out silently, the stack still
  CREATE_COMPLETE, and what refers to them may crash it: ``plan`` takes the
  types ``UNSUPPORTED`` lists out of the template first, with stand-in values
  for what refers to them, and the tier checks that moto lacks exactly those
  types. A permission on the (left-out) alias goes too: moto finds a function
  only by its unqualified name.
* It reads a KMS key's tags and policy in KMS's API shapes, keeps a policy a
  stack wrote as the text of a Python dict, gives a log group's ``Arn``
  without AWS's ``:*``, and lists a resource whose condition is false as one
  with no ID: each is read as AWS would give it.
* Its state is one per process, whatever server serves it: ``Emulator``
  resets it when it starts and stops.
* Lambda code runs only in Docker: the tier runs the handler itself, from the
  code moto stored, with the function's configuration as ``GetFunction``
  reports it.
"""

from __future__ import annotations

import ast
import base64
import functools
import hashlib
import http.client
import io
import json
import re
import subprocess
import threading
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.support import clean_environ, require_tool

REGION = "eu-west-1"
ACCOUNT = "123456789012"
# Where the code and templates go, as `sam deploy`'s managed bucket.
UPLOAD_BUCKET = "deploy-uploads"
# Credentials the emulator accepts; no real account has them.
EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

# What AWS would give for a resource of a type moto's CloudFormation does not
# implement (``Ref``, then each attribute): the stack is created without those
# resources, and what refers to them gets these values instead. Each value is
# a CloudFormation expression, ``{name}`` the logical ID and ``{lower}`` it in
# lowercase, and may use the resource's own properties (``Property:Name``).
UNSUPPORTED: dict[str, tuple[Any, dict[str, Any]]] = {
    # The HTTP API, its stage, domain name and mapping: API Gateway v2.
    "AWS::ApiGatewayV2::Api": (
        "{lower}",
        {"ApiEndpoint": "https://{lower}.execute-api.eu-west-1.amazonaws.com"},
    ),
    "AWS::ApiGatewayV2::Stage": ("Property:StageName", {}),
    "AWS::ApiGatewayV2::DomainName": (
        "Property:DomainName",
        {
            "RegionalDomainName": "d-{lower}.execute-api.eu-west-1.amazonaws.com",
            "RegionalHostedZoneId": "ZLY8HYME6SFDD",
        },
    ),
    "AWS::ApiGatewayV2::ApiMapping": ("{lower}", {}),
    # The alias the API invokes (AutoPublishAlias): its ARN is the function's, qualified.
    "AWS::Lambda::Alias": (
        {
            "Fn::Sub": [
                "arn:aws:lambda:eu-west-1:123456789012:function:${Function}:${Alias}",
                {"Function": "Property:FunctionName", "Alias": "Property:Name"},
            ]
        },
        {},
    ),
    # The gradual deploy (DeploymentPreference).
    "AWS::CodeDeploy::Application": ("{name}", {}),
    "AWS::CodeDeploy::DeploymentGroup": ("{name}", {}),
    # Alarms and who hears them.
    "AWS::CloudWatch::Alarm": (
        "Property:AlarmName",
        {
            "Arn": {
                "Fn::Sub": [
                    "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${Name}",
                    {"Name": "Property:AlarmName"},
                ]
            }
        },
    ),
    "AWS::SNS::Subscription": ("arn:aws:sns:eu-west-1:123456789012:{name}", {}),
    # The single-page app's distribution and the bucket policy that lets only it read the files.
    "AWS::CloudFront::Distribution": ("E{name}", {"DomainName": "d{lower}.cloudfront.net"}),
    "AWS::CloudFront::OriginAccessControl": ("{name}", {}),
    "AWS::CloudFront::Function": (
        "{name}",
        {"FunctionARN": "arn:aws:cloudfront::123456789012:function/{name}"},
    ),
    "AWS::CloudFront::ResponseHeadersPolicy": ("{name}", {}),
    "AWS::S3::BucketPolicy": ("{name}", {}),
}


class Emulator:
    """moto's server on 127.0.0.1, one request at a time (moto is not thread-safe), on a free port."""

    def __init__(self) -> None:
        # Imported here: moto takes seconds to import, and only this tier needs its server.
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                pass

        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=Quiet)
        self.port = self._server.server_port
        # moto reads a bucket from the host of a template URL unless the host is localhost.
        self.url = f"http://localhost:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._clients: dict[str, Any] = {}

    def __enter__(self) -> Emulator:
        self._thread.start()
        self.reset()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.reset()
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()

    def reset(self) -> None:
        """Empty every service: moto keeps one state per process, whichever server serves it."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("POST", "/moto-api/reset")
            if connection.getresponse().status != 200:
                raise DeployError("the AWS emulator did not reset")
        finally:
            connection.close()

    def environment(self) -> dict[str, str]:
        """What points an AWS SDK at the emulator, with credentials it accepts."""
        return {"AWS_ENDPOINT_URL": self.url, "AWS_DEFAULT_REGION": REGION, **EMULATOR_CREDENTIALS}

    def client(self, service: str) -> Any:
        """A client of ``service`` on the emulator, made once (a client costs a tenth of a second)."""
        if service not in self._clients:
            import boto3

            session = boto3.session.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
            )
            self._clients[service] = session.client(service, endpoint_url=self.url)
        return self._clients[service]

    def upload(self, key: str, body: bytes) -> str:
        """Put ``body`` in the upload bucket; its ``s3://`` URI."""
        s3 = self.client("s3")
        buckets = {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
        if UPLOAD_BUCKET not in buckets:
            s3.create_bucket(Bucket=UPLOAD_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket=UPLOAD_BUCKET, Key=key, Body=body)
        return f"s3://{UPLOAD_BUCKET}/{key}"


def zipped(directory: Path) -> bytes:
    """``directory`` zipped as ``sam package`` zips a function's code."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory))
    return buffer.getvalue()


# --- SAM -----------------------------------------------------------------------------------------

# Runs in the pinned SAM CLI's interpreter, which has samtranslator: a template
# (short-form YAML) read as CloudFormation's long form and, for a SAM template,
# given the CodeUris and transformed. The managed-policy loader is a stub: the
# stacks attach no AWS managed policy by name, and asking IAM for the list
# needs an account.
_READ_TEMPLATE = """
import json, sys
from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

request = json.load(sys.stdin)
with open(request["template"], encoding="utf-8") as stream:
    template = yaml_parse(stream.read())
if "code" in request:
    for name, uri in request["code"].items():
        template["Resources"][name]["Properties"]["CodeUri"] = uri

    class NoManagedPolicies:
        def load(self):
            return {}

    template = transform(template, request["parameters"], NoManagedPolicies())
json.dump(template, sys.stdout)
"""


def read_template(path: Path) -> dict[str, Any]:
    """A CloudFormation template, short-form intrinsics in their long form."""
    return _run_read_template({"template": str(path)})


def sam_template(
    built_template: Path, code: Mapping[str, str], parameters: Mapping[str, str]
) -> dict[str, Any]:
    """The built SAM template as plain CloudFormation, each function's CodeUri set from ``code``."""
    return _run_read_template(
        {"template": str(built_template), "code": dict(code), "parameters": dict(parameters)}
    )


def _run_read_template(request: dict[str, Any]) -> dict[str, Any]:
    python = require_tool("sam").resolve().parent / "python"
    completed = subprocess.run(
        [str(python), "-c", _READ_TEMPLATE],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env=clean_environ(AWS_DEFAULT_REGION=REGION),
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        raise DeployError(f"reading {request['template']} failed:\n{completed.stderr[-5000:]}")
    template: dict[str, Any] = json.loads(completed.stdout)
    return template


class DeployError(RuntimeError):
    pass


# --- stacks --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stack:
    name: str
    status: str
    reason: str
    # logical id -> (type, physical id) of what moto created
    resources: dict[str, tuple[str, str]]
    outputs: dict[str, str]
    template: dict[str, Any]

    def of_type(self, kind: str) -> dict[str, str]:
        return {name: physical for name, (typ, physical) in self.resources.items() if typ == kind}


def create_stack(
    emulator: Emulator, name: str, template: dict[str, Any], parameters: Mapping[str, str]
) -> Stack:
    """``CreateStack`` from the template uploaded to the emulator's S3, waited for."""
    uri = emulator.upload(f"{name}/template.json", json.dumps(template).encode())
    cloudformation = emulator.client("cloudformation")
    cloudformation.create_stack(
        StackName=name,
        TemplateURL=f"{emulator.url}/{uri.removeprefix('s3://')}",
        Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    described = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    listed = cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]
    return Stack(
        name=name,
        status=described["StackStatus"],
        reason=described.get("StackStatusReason", ""),
        resources={
            item["LogicalResourceId"]: (item["ResourceType"], item.get("PhysicalResourceId", ""))
            for item in listed
            # moto lists a resource whose condition is false as one with no ID and no type.
            if item["LogicalResourceId"]
        },
        outputs={output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])},
        template=template,
    )


# --- what the emulator can create ----------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """A template as the emulator can create it, and what the stack must then hold."""

    template: dict[str, Any]
    created: dict[str, str]  # logical ID -> type: what the emulator must create
    left_out: dict[str, str]  # logical ID -> type: what it cannot, whose values stand in (UNSUPPORTED)
    outputs: list[str]  # the outputs the stack must have


def plan(template: dict[str, Any], parameters: Mapping[str, str]) -> Plan:
    """``template`` without the resources of UNSUPPORTED types, their values standing in for them.

    Only the resources and outputs whose condition holds with ``parameters``
    (and the parameters' defaults) count.
    """
    values = {
        name: parameters.get(name, spec.get("Default", ""))
        for name, spec in template.get("Parameters", {}).items()
    }
    conditions = template.get("Conditions", {})
    holds = functools.cache(lambda name: bool(_condition(conditions[name], values, holds)))

    def present(item: Mapping[str, Any]) -> bool:
        return "Condition" not in item or holds(item["Condition"])

    resources = template["Resources"]
    left_out = {name: r["Type"] for name, r in resources.items() if r["Type"] in UNSUPPORTED}
    # moto finds a function only by its unqualified name or ARN: a permission on an alias fails it.
    left_out |= {
        name: f"{r['Type']} on an alias"
        for name, r in resources.items()
        if r["Type"] == "AWS::Lambda::Permission" and _refers_to(r["Properties"]["FunctionName"], left_out)
    }
    stand_ins = {
        name: _stand_in(name, resources[name]) for name in left_out if resources[name]["Type"] in UNSUPPORTED
    }
    kept = {name: _as_moto_reads_it(r) for name, r in resources.items() if name not in left_out}
    for resource in kept.values():
        if "DependsOn" in resource:
            depends = [name for name in _as_list(resource["DependsOn"]) if name not in left_out]
            resource["DependsOn"] = depends
    prepared = {**template, "Resources": kept}
    for _ in range(5):  # a stand-in may refer to another left-out resource
        prepared = _substitute(prepared, stand_ins)
    return Plan(
        template=prepared,
        created={name: r["Type"] for name, r in kept.items() if present(r)},
        left_out={name: kind for name, kind in left_out.items() if present(resources[name])},
        outputs=[name for name, output in template.get("Outputs", {}).items() if present(output)],
    )


def _as_moto_reads_it(resource: dict[str, Any]) -> dict[str, Any]:
    """``resource`` as moto's CloudFormation reads it, where it departs from AWS's."""
    properties = resource.get("Properties", {})
    if resource["Type"] == "AWS::KMS::Key":
        # moto keeps a key's tags and policy as given, but reads them in KMS's API
        # shapes: tags as TagKey/TagValue, the policy as a JSON string.
        tags = [{"TagKey": tag["Key"], "TagValue": tag["Value"]} for tag in properties.get("Tags", [])]
        policy = {"Fn::ToJsonString": properties["KeyPolicy"]}
        return {**resource, "Properties": {**properties, "Tags": tags, "KeyPolicy": policy}}
    return resource


def _condition(node: Any, values: Mapping[str, str], holds: Callable[[str], bool]) -> Any:
    """A condition's value, as far as the stacks' conditions go (parameters, Equals, Not, And, Or)."""
    if isinstance(node, dict) and len(node) == 1:
        ((function, argument),) = node.items()
        if function == "Ref":
            return values[argument]
        if function == "Condition":
            return holds(argument)
        evaluated = [_condition(item, values, holds) for item in argument]
        if function == "Fn::Equals":
            return str(evaluated[0]) == str(evaluated[1])
        if function == "Fn::Not":
            return not evaluated[0]
        if function == "Fn::And":
            return all(evaluated)
        if function == "Fn::Or":
            return any(evaluated)
        raise DeployError(f"a condition uses {function}, which the deploy tier does not evaluate")
    return node


def _stand_in(name: str, resource: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    ref, attributes = UNSUPPORTED[resource["Type"]]
    properties = resource.get("Properties", {})

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            if value.startswith("Property:"):
                return properties.get(value.removeprefix("Property:"), name)
            return value.replace("{name}", name).replace("{lower}", name.lower())
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [fill(item) for item in value]
        return value

    return fill(ref), {attribute: fill(value) for attribute, value in attributes.items()}


_SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.([A-Za-z0-9.]+))?\}")


def _substitute(node: Any, stand_ins: Mapping[str, tuple[Any, dict[str, Any]]]) -> Any:
    """``node`` with every Ref, GetAtt and Sub reference to a left-out resource replaced by its stand-in."""

    def attribute(name: str, attribute: str) -> Any:
        try:
            return stand_ins[name][1][attribute]
        except KeyError:
            raise DeployError(f"no stand-in for {name}.{attribute} (deploy_support.UNSUPPORTED)") from None

    if isinstance(node, list):
        return [_substitute(item, stand_ins) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((function, argument),) = node.items()
        if function == "Ref" and argument in stand_ins:
            return stand_ins[argument][0]
        if function == "Fn::GetAtt":
            parts = argument.split(".", 1) if isinstance(argument, str) else argument
            name, rest = parts[0], ".".join(parts[1:])
            if name in stand_ins:
                return attribute(name, rest)
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            added: dict[str, Any] = {}

            def replace(match: re.Match[str]) -> str:
                name, attr = match.group(1), match.group(2)
                if name not in stand_ins or name in variables:
                    return match.group(0)
                key = f"{name}{attr or ''}".replace(".", "")
                added[key] = attribute(name, attr) if attr else stand_ins[name][0]
                return "${" + key + "}"

            text = _SUB_REFERENCE.sub(replace, text)
            merged = {**_substitute(variables, stand_ins), **added}
            return {"Fn::Sub": [text, merged] if merged else text}
    return {key: _substitute(value, stand_ins) for key, value in node.items()}


def _refers_to(node: Any, names: Mapping[str, str]) -> bool:
    """Whether ``node`` refers to one of ``names`` by Ref or GetAtt."""
    if isinstance(node, list):
        return any(_refers_to(item, names) for item in node)
    if not isinstance(node, dict):
        return False
    if node.keys() == {"Ref"}:
        return node["Ref"] in names
    if node.keys() == {"Fn::GetAtt"}:
        target = node["Fn::GetAtt"]
        return (target.split(".")[0] if isinstance(target, str) else target[0]) in names
    return any(_refers_to(item, names) for item in node.values())


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- what the stack created, asked of the services -----------------------------------------------


def _log_group_exists(emulator: Emulator, name: str) -> bool:
    groups = emulator.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return any(group["logGroupName"] == name for group in groups)


def _has_published_version(emulator: Emulator, function: str) -> bool:
    versions = emulator.client("lambda").list_versions_by_function(FunctionName=function)["Versions"]
    return any(version["Version"] != "$LATEST" for version in versions)


# Per supported type: whether the resource exists, asked of its service (physical ID; for a
# Lambda version, which moto gives none, its function's).
EXISTS: dict[str, Callable[[Emulator, str], object]] = {
    "AWS::DynamoDB::Table": lambda aws, name: aws.client("dynamodb").describe_table(TableName=name),
    "AWS::IAM::Role": lambda aws, name: aws.client("iam").get_role(RoleName=name),
    "AWS::Lambda::Function": lambda aws, name: aws.client("lambda").get_function(FunctionName=name),
    "AWS::Lambda::Version": _has_published_version,
    "AWS::Logs::LogGroup": _log_group_exists,
    "AWS::S3::Bucket": lambda aws, name: aws.client("s3").head_bucket(Bucket=name),
    "AWS::SNS::Topic": lambda aws, arn: aws.client("sns").get_topic_attributes(TopicArn=arn),
    "AWS::KMS::Key": lambda aws, key: aws.client("kms").describe_key(KeyId=key),
    "AWS::CloudWatch::Dashboard": lambda aws, name: aws.client("cloudwatch").get_dashboard(
        DashboardName=name
    ),
}


def missing_resources(emulator: Emulator, stack: Stack, created: Mapping[str, str]) -> list[str]:
    """The resources ``created`` names that the stack or their service does not hold."""
    from botocore.exceptions import ClientError

    problems = []
    for name, kind in sorted(created.items()):
        if name not in stack.resources:
            problems.append(f"{name} ({kind}): not in the stack")
            continue
        check = EXISTS.get(kind)
        if check is None:
            problems.append(
                f"{name} ({kind}): the deploy tier has no check for this type (deploy_support.EXISTS)"
            )
            continue
        physical = stack.resources[name][1]
        if kind == "AWS::Lambda::Version":
            physical = stack.resources[
                stack.template["Resources"][name]["Properties"]["FunctionName"]["Ref"]
            ][1]
        try:
            found = check(emulator, physical)
        except ClientError as error:
            found = False
            problems.append(f"{name} ({kind}) {physical}: {error}")
            continue
        if not found:
            problems.append(f"{name} ({kind}) {physical}: not found")
    return problems


def role_policies(emulator: Emulator, role: str) -> dict[str, dict[str, Any]]:
    """The role's inline policies as the stack created them, by name; it must have no managed ones.

    moto keeps a policy the stack wrote as the text of a Python dict, and gives
    a log group's ``Arn`` without the ``:*`` AWS ends it with: both are read as AWS gives them.
    """
    iam = emulator.client("iam")
    if iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        raise DeployError(f"{role} has managed policies: the deploy tier reads only inline ones")
    policies = {}
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        if isinstance(document, str):
            document = ast.literal_eval(document)
        policies[name] = _log_group_arns(document)
    return policies


_LOG_GROUP_ARN = re.compile(r"^(arn:aws:logs:[^:]+:[0-9]+:log-group:[^:*]+)$")


def _log_group_arns(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _log_group_arns(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_log_group_arns(value) for value in node]
    return _LOG_GROUP_ARN.sub(r"\1:*", node) if isinstance(node, str) else node


def stored_code(emulator: Emulator, stack: Stack, function: str, into: Path) -> dict[str, Any]:
    """The function's configuration as GetFunction reports it; its code, as uploaded, unpacked ``into``.

    The code is the object the template's Code names, checked against the
    hash Lambda (moto) computed when it stored it.
    """
    configuration: dict[str, Any] = emulator.client("lambda").get_function(FunctionName=function)[
        "Configuration"
    ]
    code = stack.template["Resources"][_logical_id(stack, function)]["Properties"]["Code"]
    body = emulator.client("s3").get_object(Bucket=code["S3Bucket"], Key=code["S3Key"])["Body"].read()
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    if digest != configuration["CodeSha256"]:
        raise DeployError(f"{function}: the uploaded code is not what Lambda stored (CodeSha256)")
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        archive.extractall(into)
    return configuration


def _logical_id(stack: Stack, physical: str) -> str:
    (name,) = (name for name, (_, found) in stack.resources.items() if found == physical)
    return name
