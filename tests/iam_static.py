"""A stack's roles read from its transformed template alone, for the functions no emulator can run.

A SQL store's functions (the API's, the migration function, and the hook
that invokes it before a release takes traffic) need a database moto cannot
create: each role is read from the template after the serverless transform,
each intrinsic resolved as a stack named ``STACK`` would resolve it
(``resolve``), and evaluated against the calls its code makes, enumerated
from that code (``function_requests``).

Physical names stand in as CloudFormation makes them: a resource's own name
property when it has one, else ``<stack>-<logical ID>-<suffix>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tests.iam_use import Request, requests, runtime_requests

REGION = "eu-west-1"
ACCOUNT = "123456789012"
STACK = "app-dev"
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::StackName": STACK,
    "AWS::URLSuffix": "amazonaws.com",
}
# The property that names a resource, by type; a resource without one gets a generated name.
NAME_PROPERTIES = {
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::CodeDeploy::Application": "ApplicationName",
    "AWS::CodeDeploy::DeploymentGroup": "DeploymentGroupName",
}
# GetAtt's values, by type and attribute, from the resource's physical name.
ATTRIBUTES = {
    ("AWS::Logs::LogGroup", "Arn"): f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{{name}}:*",
    ("AWS::Lambda::Function", "Arn"): f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{{name}}",
    (
        "AWS::RDS::DBInstance",
        "MasterUserSecret.SecretArn",
    ): f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!db-{{name}}-AbCdEf",
}


class UnresolvedError(ValueError):
    pass


def physical_name(template: Mapping[str, Any], logical: str) -> str:
    resource = template["Resources"][logical]
    name_property = NAME_PROPERTIES.get(resource["Type"])
    given = resource.get("Properties", {}).get(name_property) if name_property else None
    if given is not None:
        return str(resolve(template, given))
    return f"{STACK}-{logical}-1A2B3C4D"


def resolve(template: Mapping[str, Any], node: Any) -> Any:
    """``node`` with Ref, Fn::GetAtt and Fn::Sub resolved; any other intrinsic is an error."""
    if isinstance(node, list):
        return [resolve(template, item) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) != 1 or not next(iter(node)).startswith(("Ref", "Fn::")):
        return {key: resolve(template, value) for key, value in node.items()}
    ((function, argument),) = node.items()
    if function == "Ref":
        return _ref(template, argument)
    if function == "Fn::GetAtt":
        logical, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        kind = template["Resources"][logical]["Type"]
        if (kind, attribute) not in ATTRIBUTES:
            raise UnresolvedError(f"no stand-in for {kind}'s {attribute} (tests/iam_static.py ATTRIBUTES)")
        return ATTRIBUTES[kind, attribute].format(name=physical_name(template, logical))
    if function == "Fn::Sub":
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {key: resolve(template, value) for key, value in variables.items()}
        return _substituted(template, text, values)
    raise UnresolvedError(f"{function} is not resolved statically (tests/iam_static.py)")


def _ref(template: Mapping[str, Any], name: str) -> str:
    if name in PSEUDO:
        return PSEUDO[name]
    if name in template.get("Resources", {}):
        return physical_name(template, name)
    parameter = template.get("Parameters", {}).get(name)
    if parameter is None or "Default" not in parameter:
        raise UnresolvedError(f"Ref {name}: neither a resource nor a parameter with a default")
    return str(parameter["Default"])


def _substituted(template: Mapping[str, Any], text: str, values: Mapping[str, str]) -> str:
    out, rest = [], text
    while "${" in rest:
        before, _, after = rest.partition("${")
        name, _, rest = after.partition("}")
        if name in values:
            value = values[name]
        elif "." in name:
            value = resolve(template, {"Fn::GetAtt": name})
        else:
            value = _ref(template, name)
        out += [before, value]
    return "".join(out) + rest


def role_policies(template: Mapping[str, Any], function: str) -> dict[str, dict[str, Any]]:
    """The inline policies of the function's role (its ``Role`` a GetAtt of a role in the template)."""
    role = template["Resources"][function]["Properties"]["Role"]
    if not (isinstance(role, dict) and "Fn::GetAtt" in role):
        raise UnresolvedError(f"{function}'s Role is not a role of the stack: {role}")
    logical = role["Fn::GetAtt"][0] if isinstance(role["Fn::GetAtt"], list) else role["Fn::GetAtt"]
    properties = template["Resources"][logical.split(".")[0]]["Properties"]
    if properties.get("ManagedPolicyArns"):
        raise UnresolvedError(f"{logical} has managed policies: only inline ones are read")
    return {
        policy["PolicyName"]: resolve(template, policy["PolicyDocument"])
        for policy in properties.get("Policies", [])
    }


def lambda_requests(template: Mapping[str, Any], function: str) -> list[Request]:
    """What Lambda does with the function's role: its logs, its traces, and its VPC's network interfaces."""
    properties = template["Resources"][function]["Properties"]
    log_group = resolve(template, properties["LoggingConfig"]["LogGroup"])
    tracing = properties.get("TracingConfig", {}).get("Mode") == "Active"
    found = runtime_requests(log_group, tracing, REGION, ACCOUNT)
    if "VpcConfig" in properties:
        # https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
        ec2 = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
        interface = f"{ec2}:network-interface/eni-0123456789abcdef0"
        why = "Lambda: the function's network interfaces in its VPC"
        found += [Request("ec2:DescribeNetworkInterfaces", "*", call=why)]
        found += [
            Request("ec2:CreateNetworkInterface", resource, call=why)
            for resource in (interface, f"{ec2}:subnet/subnet-0123", f"{ec2}:security-group/sg-0123")
        ]
        found += [
            Request(f"ec2:{action}", interface, call=why)
            for action in ("DeleteNetworkInterface", "AssignPrivateIpAddresses", "UnassignPrivateIpAddresses")
        ]
    return found


def variable(template: Mapping[str, Any], function: str, name: str) -> str:
    """The value of one of the function's environment variables, resolved."""
    value = template["Resources"][function]["Properties"]["Environment"]["Variables"][name]
    return str(resolve(template, value))


def call(service: str, operation: str, **params: Any) -> dict[str, Any]:
    """A call as the project's recorder (tests/aws_calls.py) writes it."""
    return {"service": service, "operation": operation, "params": params}


def function_requests(template: Mapping[str, Any], function: str, secrets: Iterable[str]) -> list[Request]:
    """What a SQL store's function asks IAM for, from the code its handler runs.

    Whatever connects to the database (the API's ``handler.handler``,
    ``migrate.handler``) reads its credentials from the secret RDS keeps
    (``secrets.database_url``) when the function's environment names it, with
    secrets in SSM; in the environment they are in ``DATABASE_URL`` and it calls
    nothing. The API reads each of ``secrets`` (the names the code asks for)
    from SSM under ``SECRETS_PATH``, decrypted, when the function has that
    path. ``migrate.before_traffic`` invokes the migration function, then
    reports to CodeDeploy on the deployment of the API function's deployment group.
    """
    properties = template["Resources"][function]["Properties"]
    variables = properties.get("Environment", {}).get("Variables", {})
    module, _, handler = properties["Handler"].rpartition(".")
    calls = []
    if handler == "before_traffic":
        calls.append(call("lambda", "Invoke", FunctionName=variable(template, function, "MIGRATE_FUNCTION")))
    elif module.endswith((".handler", ".migrate")) and handler == "handler":
        if "DATABASE_SECRET_ARN" in variables:
            secret = variable(template, function, "DATABASE_SECRET_ARN")
            calls.append(call("secretsmanager", "GetSecretValue", SecretId=secret))
        if "SECRETS_PATH" in variables:
            path = variable(template, function, "SECRETS_PATH")
            calls += [call("ssm", "GetParameter", Name=path + name, WithDecryption=True) for name in secrets]
    else:
        raise UnresolvedError(f"{function}: no calls enumerated for the handler {properties['Handler']}")
    wanted = [request for made in calls for request in requests(made, REGION, ACCOUNT)]
    if handler == "before_traffic":
        (group,) = (
            name
            for name, resource in template["Resources"].items()
            if resource["Type"] == "AWS::CodeDeploy::DeploymentGroup"
        )
        application = resolve(template, template["Resources"][group]["Properties"]["ApplicationName"])
        # IAM authorizes the status report on the deployment group the deployment belongs to.
        deployment_group = f"{application}/{physical_name(template, group)}"
        where = f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:deploymentgroup:{deployment_group}"
        wanted.append(
            Request(
                "codedeploy:PutLifecycleEventHookExecutionStatus",
                where,
                call="codedeploy:PutLifecycleEventHookExecutionStatus (before_traffic's verdict)",
            )
        )
    return wanted + lambda_requests(template, function)
