"""Operating the generated stacks, read from their templates: releases, alarms, dashboard, domains.

What the render tier checks with it (``tests/test_render.py``, "Operations"):

* a deploy of a SAM application publishes the API function through an alias the
  API invokes, moves traffic with CodeDeploy, and rolls back on alarms that
  watch that alias (after the serverless transform, which makes the deployment
  group and the alias's update policy);
* every alarm notifies the stack's encrypted topic; the dashboard shows every
  alarm and every metric the app counts (``src/<package>/metrics.py``);
* the domain resources exist only when their domain parameters are set; the
  scans lint and check each stack a second time with them set
  (``with_parameters``), so both sides of every domain condition are covered;
* the codestar deploy role may do what CloudFormation's handlers do for the
  resource types these features add, less what the stacks never use.

Templates are read with the short-form intrinsics as ``{"Ref": ...}``, ``{"If": [...]}``
(``tests.support.load_structured``); ``iam.short_form`` makes the transform's long form alike.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Parameters that switch the optional resources on, with values their patterns accept.
CERTIFICATES = "arn:aws:acm:us-east-1:123456789012:certificate"
OPTIONAL_PARAMETERS = {
    "ApiDomainName": "api.example.com",
    "ApiCertificateArn": f"{CERTIFICATES}/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
    "HostedZoneId": "Z0123456789ABCDEFGHIJ",
    "SiteDomainName": "www.example.com",
    "SiteCertificateArn": f"{CERTIFICATES}/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d",
    "AlarmEmail": "ops@example.com",
    # zappa's infra stack: the URL `make deploy` records once Zappa has made the API.
    "ApiUrl": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/dev/",
}
DOMAIN_TYPES = {
    "AWS::ApiGatewayV2::DomainName",
    "AWS::ApiGatewayV2::ApiMapping",
    "AWS::Route53::RecordSet",
    "AWS::Route53::RecordSetGroup",
}
ALARM = "AWS::CloudWatch::Alarm"


def with_parameters(text: str, values: Mapping[str, str] = OPTIONAL_PARAMETERS) -> str:
    """A template's text with the empty defaults of these parameters set to ``values``.

    The linters read a template as deployed with its defaults: this is the
    template as deployed with the optional features on.
    """
    for name, value in values.items():
        pattern = re.compile(rf'(?m)(^  {name}:\n(?:    .*\n)*?    Default: )""$')
        # The quoted value, escaped for re.sub's replacement (JSON strings are YAML strings).
        text = pattern.sub(r"\g<1>" + json.dumps(value).replace("\\", "\\\\"), text)
    return text


def parameter_values(template: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, str]:
    defaults = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
    return {**defaults, **{name: value for name, value in given.items() if name in defaults}}


def resolve(node: Any, template: Mapping[str, Any], given: Mapping[str, str]) -> Any:
    """The value of ``node`` when the stack is deployed with ``given`` parameters (the rest default).

    Conditions, and the intrinsics the stacks use on parameters: Ref, Equals, Not,
    And, Or, Condition, If, Sub (of parameters), Select, Split, Join.
    """
    parameters = parameter_values(template, given)
    conditions = template.get("Conditions", {})

    def value(item: Any) -> Any:
        if isinstance(item, list):
            return [value(element) for element in item]
        if not isinstance(item, dict) or len(item) != 1:
            return item
        ((function, argument),) = item.items()
        function = function.removeprefix("Fn::")
        if function == "Ref":
            if argument not in parameters:
                raise ValueError(f"{argument} is not a parameter: only parameters resolve here")
            return parameters[argument]
        if function == "Condition":
            return bool(value(conditions[argument]))
        if function == "Equals":
            left, right = value(argument)
            return str(left) == str(right)
        if function == "Not":
            return not value(argument[0])
        if function == "And":
            return all(value(argument))
        if function == "Or":
            return any(value(argument))
        if function == "If":
            name, then, otherwise = argument
            return value(then if value(conditions[name]) else otherwise)
        if function == "Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            known = {**parameters, **{key: str(value(v)) for key, v in variables.items()}}
            return re.sub(r"\$\{([^}!]+)\}", lambda m: known[m.group(1)], text)
        if function == "Select":
            index, items = value(argument)
            return items[int(index)]
        if function == "Split":
            separator, text = value(argument)
            return str(text).split(separator)
        if function == "Join":
            separator, items = value(argument)
            return separator.join(str(element) for element in items)
        raise ValueError(f"{function} does not resolve from parameters alone")

    return value(node)


def condition(template: Mapping[str, Any], name: str, given: Mapping[str, str]) -> bool:
    return bool(resolve({"Condition": name}, template, given))


def rules_refusing(template: Mapping[str, Any], given: Mapping[str, str]) -> list[str]:
    """The rules whose assertions a deploy with ``given`` parameters fails."""
    refusing = []
    for name, rule in template.get("Rules", {}).items():
        applies = "RuleCondition" not in rule or resolve(rule["RuleCondition"], template, given)
        if applies and not all(resolve(a["Assert"], template, given) for a in rule["Assertions"]):
            refusing.append(name)
    return refusing


def present(template: Mapping[str, Any], given: Mapping[str, str]) -> set[str]:
    """The logical IDs of the resources a deploy with ``given`` parameters creates."""
    return {
        name
        for name, resource in template.get("Resources", {}).items()
        if "Condition" not in resource or condition(template, resource["Condition"], given)
    }


def of_type(template: Mapping[str, Any], *types: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template.get("Resources", {}).items() if r.get("Type") in types}


def dashboard(template: Mapping[str, Any]) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """The dashboard's body as JSON (each ``${...}`` read as 1), its text, and the Sub's variables."""
    (resource,) = of_type(template, "AWS::CloudWatch::Dashboard").values()
    body = resource["Properties"]["DashboardBody"]
    body = body.get("Sub", body.get("Fn::Sub"))
    text, variables = (body, {}) if isinstance(body, str) else body
    return json.loads(re.sub(r"\$\{[^}]+\}", "1", text)), text, variables


def counted_metrics(metrics_module: Path) -> tuple[str, set[str]]:
    """The namespace and the metric names of the app's metrics module (its NAMESPACE and METRICS)."""
    tree = ast.parse(metrics_module.read_text(encoding="utf-8"))
    constants: dict[str, Any] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name):
                value = statement.value
                if isinstance(value, ast.Constant):
                    constants[target.id] = value.value
                elif isinstance(value, ast.Tuple):
                    constants[target.id] = {constants[e.id] for e in value.elts if isinstance(e, ast.Name)}
    return constants["NAMESPACE"], constants["METRICS"]


def references(node: Any) -> set[str]:
    """Every logical ID ``node`` names: Ref, GetAtt and Sub's ``${Name}``/``${Name.Attribute}``."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= references(item)
    elif isinstance(node, dict):
        for key, item in node.items():
            function = key.removeprefix("Fn::")
            if function == "Ref" and isinstance(item, str):
                found.add(item)
            elif function == "GetAtt":
                found.add(item[0] if isinstance(item, list) else str(item).split(".")[0])
            elif function == "Sub":
                text = item if isinstance(item, str) else item[0]
                found |= {name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text)}
                if isinstance(item, list):
                    found |= references(item[1])
            else:
                found |= references(item)
    return found


def dependency_cycle(template: Mapping[str, Any]) -> list[str]:
    """A cycle among the resources (through any attribute, UpdatePolicy too, as CloudFormation
    counts them), or an empty list."""
    resources = template.get("Resources", {})
    edges = {
        name: (references(resource) | set(_as_list(resource.get("DependsOn", [])))) & set(resources)
        for name, resource in resources.items()
    }
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(name: str) -> list[str]:
        state[name] = "open"
        path.append(name)
        for target in sorted(edges[name]):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[name] = "done"
        path.pop()
        return []

    for name in sorted(edges):
        if name not in state and (cycle := visit(name)):
            return cycle
    return []


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# The resource types the gradual deploys, alarms, dashboard and domains add to an application
# stack (after the serverless transform), and the permissions of CloudFormation's handlers for
# them that the stacks never call on, each with its reason. The rest the deploy role must allow.
FEATURE_TYPES = {
    "AWS::Lambda::Version",
    "AWS::Lambda::Alias",
    "AWS::CodeDeploy::Application",
    "AWS::CodeDeploy::DeploymentGroup",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
    "AWS::KMS::Key",
    "AWS::ApiGatewayV2::DomainName",
    "AWS::ApiGatewayV2::ApiMapping",
    "AWS::Route53::RecordSet",
}
UNUSED_HANDLER_PERMISSIONS = {
    "lambda:PutProvisionedConcurrencyConfig": "no version or alias has provisioned concurrency",
    "lambda:DeleteProvisionedConcurrencyConfig": "no version or alias has provisioned concurrency",
    "lambda:PutFunctionScalingConfig": "no version runs on a capacity provider",
    "codedeploy:RegisterOnPremisesInstance": "Lambda deployments have no instances",
    "kms:EnableKey": "the key's Enabled never changes",
    "kms:DisableKey": "the key's Enabled never changes",
    "kms:DisableKeyRotation": "the key's rotation stays on",
    "sns:PutDataProtectionPolicy": "the topic has no data protection policy",
    "apigateway:AddCertificateToDomain": "the domain name has no mutual TLS trust store",
    "apigateway:RemoveCertificateFromDomain": "the domain name has no mutual TLS trust store",
    "route53:ListHostedZones": "records name their zone by HostedZoneId, not by name",
}
# Services the deploy role is given for these features only: each action it allows on them
# must be a handler's permission for a resource type the stack has.
FEATURE_SERVICES = ("codedeploy", "cloudwatch", "sns", "kms", "route53")
