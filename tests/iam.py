"""IAM in the generated stacks, read as AWS reads it: which statements allow what.

The rule every stack keeps (``templates/cfn/README.md``): a role the
application stack creates carries the stage's permissions boundary, and a role
that deploys the stack may create and change roles only on that condition,
never take a boundary off nor change the boundary policy. The boundary is the
managed policy ``ApplicationPermissionsBoundary`` of the stack that holds the
deploy role; the application template receives its ARN as
``PermissionsBoundaryArn``.

Templates are read with the short-form intrinsics as ``{"Ref": ...}``,
``{"If": [...]}`` (``tests.test_render.load_structured``); the serverless
transform writes the long form (``{"Fn::If": [...]}``): ``short_form`` makes
them comparable.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

BOUNDARY_POLICY = "ApplicationPermissionsBoundary"
BOUNDARY_PARAMETER = "PermissionsBoundaryArn"
# What every role of an application stack has as its PermissionsBoundary: the parameter, or none.
ROLE_BOUNDARY = {"If": ["HasPermissionsBoundary", {"Ref": BOUNDARY_PARAMETER}, {"Ref": "AWS::NoValue"}]}

# Actions that create a role or change what it may do.
ROLE_CHANGES = (
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:PutRolePermissionsBoundary",
)
# Actions that take a boundary off a role, or change the boundary policy itself.
BOUNDARY_CHANGES = (
    "iam:DeleteRolePermissionsBoundary",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
)
# API Gateway's actions: one per HTTP method of its management API.
API_GATEWAY_ACTIONS = tuple(f"apigateway:{method}" for method in ("GET", "POST", "PUT", "PATCH", "DELETE"))

# Resources whose own policies grant permissions to an identity.
_INLINE_POLICIES = {"AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"}
_POLICY_DOCUMENT = {
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Policy",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::UserPolicy",
    "AWS::IAM::GroupPolicy",
}


@dataclass(frozen=True)
class Statement:
    holder: str  # the logical ID of the role or policy the statement is in
    body: dict[str, Any]

    @property
    def allows(self) -> bool:
        return self.body.get("Effect") == "Allow"

    @property
    def denies(self) -> bool:
        return self.body.get("Effect") == "Deny"

    def covers(self, action: str) -> bool:
        """Its Action (or NotAction) takes in ``action``, with wildcards and case as IAM matches them."""

        def matches(patterns: Any) -> bool:
            return any(fnmatch.fnmatchcase(action.lower(), str(p).lower()) for p in as_list(patterns))

        if "NotAction" in self.body:
            return not matches(self.body["NotAction"])
        return matches(self.body.get("Action", []))

    def condition(self, operator: str) -> dict[str, Any]:
        found: dict[str, Any] = self.body.get("Condition", {}).get(operator, {})
        return found

    def describe(self) -> str:
        return f"{self.holder}: {self.body.get('Effect')} {as_list(self.body.get('Action', []))}"


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def short_form(value: Any) -> Any:
    """Intrinsic functions as the short-form loader reads them: ``Fn::If`` -> ``If``."""
    if isinstance(value, dict):
        return {key.removeprefix("Fn::"): short_form(item) for key, item in value.items()}
    if isinstance(value, list):
        return [short_form(item) for item in value]
    return value


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template.get("Resources", {}).items() if r.get("Type") == kind}


def statements(template: dict[str, Any]) -> Iterator[Statement]:
    """Every statement of every identity policy in the template: roles', users', groups' and policies'."""
    for name, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        documents: list[Any] = []
        if resource.get("Type") in _INLINE_POLICIES:
            documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        elif resource.get("Type") in _POLICY_DOCUMENT:
            documents = [properties["PolicyDocument"]]
        for document in documents:
            for body in as_list(document.get("Statement", [])):
                yield Statement(name, body)


def is_toolchain(template: dict[str, Any]) -> bool:
    """A stack that deploys the application: it holds the boundary policy (and the deploy role)."""
    return BOUNDARY_POLICY in resources(template, "AWS::IAM::ManagedPolicy")


def role_change_problems(template: dict[str, Any]) -> list[str]:
    """Statements that allow a role change without requiring the role to carry the stage's boundary."""
    problems = []
    for statement in statements(template):
        changes = [action for action in ROLE_CHANGES if statement.allows and statement.covers(action)]
        if not changes:
            continue
        boundary = statement.condition("StringEquals").get("iam:PermissionsBoundary")
        if boundary != {"Ref": BOUNDARY_POLICY} or not is_toolchain(template):
            problems.append(
                f"{statement.describe()} allows {changes} with iam:PermissionsBoundary {boundary!r}, "
                f"not the ARN of this stack's {BOUNDARY_POLICY}"
            )
    return problems


def boundary_change_problems(template: dict[str, Any]) -> list[str]:
    return [
        f"{statement.describe()} allows {action}"
        for statement in statements(template)
        for action in BOUNDARY_CHANGES
        if statement.allows and statement.covers(action)
    ]


def role_boundary_problems(template: dict[str, Any]) -> list[str]:
    """Roles of an application stack without the boundary parameter as their PermissionsBoundary."""
    problems = []
    if BOUNDARY_PARAMETER not in template.get("Parameters", {}):
        problems.append(f"no {BOUNDARY_PARAMETER} parameter")
    for name, role in resources(template, "AWS::IAM::Role").items():
        boundary = short_form(role.get("Properties", {}).get("PermissionsBoundary"))
        if boundary != ROLE_BOUNDARY:
            problems.append(f"{name}: PermissionsBoundary {boundary!r}, not {ROLE_BOUNDARY!r}")
    return problems


def tag_condition_problems(template: dict[str, Any], project: str) -> list[str]:
    """API Gateway statements that do not require the project's and the stage's tags.

    On the request (what is created or tagged carries them) or on the resource
    (what is acted on carries them), ``project`` and ``!Ref Stage``.
    """
    expected = {"project": project, "stage": {"Ref": "Stage"}}
    problems = []
    for statement in statements(template):
        if not (statement.allows and any(statement.covers(action) for action in API_GATEWAY_ACTIONS)):
            continue
        required = statement.condition("StringEquals")
        if not any(
            all(required.get(f"aws:{kind}/{key}") == value for key, value in expected.items())
            for kind in ("RequestTag", "ResourceTag")
        ):
            resource = statement.body.get("Resource")
            problems.append(f"{statement.describe()} on {resource}: conditions {required!r}")
    return problems


# --- evaluating a policy: may this principal make this request? ---------------------------------

GITHUB_ISSUER = "token.actions.githubusercontent.com"
# What a role a GitHub Actions job assumes must require of the job's token, exactly: AWS STS as
# its audience, and as its subject this repository's jobs in the GitHub environment of the stage.
GITHUB_TRUST_CONDITION = {
    "StringEquals": {
        f"{GITHUB_ISSUER}:aud": "sts.amazonaws.com",
        f"{GITHUB_ISSUER}:sub": {"Sub": "repo:${GitHubRepository}:environment:${Stage}"},
    }
}
_SUBSTITUTION = re.compile(r"\$\{([^}!]+)\}")


def github_roles(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The roles whose trust policy lets a web identity (GitHub's tokens) assume them."""
    return {
        name: role
        for name, role in resources(template, "AWS::IAM::Role").items()
        if any(
            "Federated" in statement.get("Principal", {})
            for statement in as_list(role["Properties"]["AssumeRolePolicyDocument"]["Statement"])
        )
    }


def github_trust_problems(template: dict[str, Any]) -> list[str]:
    """Trust statements of GitHub's roles that admit more than one repository's jobs in one environment."""
    problems = []
    for name, role in github_roles(template).items():
        for statement in as_list(role["Properties"]["AssumeRolePolicyDocument"]["Statement"]):
            if statement.get("Effect") != "Allow":
                continue
            if statement.get("Action") != "sts:AssumeRoleWithWebIdentity":
                problems.append(
                    f"{name}: allows {statement.get('Action')!r}, not only sts:AssumeRoleWithWebIdentity"
                )
            if statement.get("Condition") != GITHUB_TRUST_CONDITION:
                problems.append(
                    f"{name}: condition {statement.get('Condition')!r}, not {GITHUB_TRUST_CONDITION!r}"
                )
    return problems


def resolve(value: Any, names: dict[str, str]) -> Any:
    """A policy value with its intrinsics replaced by ``names``' values (``Ref``, ``GetAtt``, ``Sub``)."""
    if isinstance(value, list):
        return [resolve(item, names) for item in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return names[value["Ref"]]
    if "GetAtt" in value:
        attribute = value["GetAtt"]
        return names[attribute if isinstance(attribute, str) else ".".join(attribute)]
    if "Sub" in value:
        text = value["Sub"]
        return _SUBSTITUTION.sub(lambda found: names[found.group(1)], text)
    raise ValueError(f"cannot resolve {value!r}")


def _condition_holds(statement: Statement, context: dict[str, str], names: dict[str, str]) -> bool:
    for operator, tests in statement.body.get("Condition", {}).items():
        for key, expected in tests.items():
            wanted = [str(item) for item in as_list(resolve(expected, names))]
            if operator == "StringEquals":
                if context.get(key) not in wanted:
                    return False
            elif operator == "StringLike":
                if not any(fnmatch.fnmatchcase(context.get(key, ""), pattern) for pattern in wanted):
                    return False
            else:
                raise ValueError(
                    f"{statement.describe()}: condition operator {operator} is not evaluated here"
                )
    return True


def allowed(
    held: list[Statement],
    action: str,
    resource: str,
    names: dict[str, str],
    context: dict[str, str] | None = None,
) -> bool:
    """Whether the statements allow ``action`` on ``resource`` (an ARN) with the request's ``context``:
    some statement allows it and none denies it, resources matched with IAM's wildcards."""

    def applies(statement: Statement) -> bool:
        patterns = [str(pattern) for pattern in as_list(resolve(statement.body.get("Resource", []), names))]
        return (
            statement.covers(action)
            and any(fnmatch.fnmatchcase(resource, pattern) for pattern in patterns)
            and _condition_holds(statement, context or {}, names)
        )

    matching = [statement for statement in held if applies(statement)]
    return any(s.allows for s in matching) and not any(s.denies for s in matching)
