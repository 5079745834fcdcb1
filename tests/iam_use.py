"""A role's policies evaluated against the AWS calls its function really made, as IAM would.

The calls come from the generated project's recorder (its ``tests/aws_calls.py``:
service, operation and the parameters that name what a call acts on). Each
becomes the requests IAM authorizes (``requests``): an action on a resource
ARN, with the condition keys the request carries. A call can need several:
a DynamoDB transaction needs the action of each of its parts on its table
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html),
and an SSM SecureString read with decryption has SSM call KMS on the
caller's behalf (``kms:ViaService``, the parameter's ARN in the encryption
context). What Lambda itself does with the function's role, writing its logs
and its traces, is ``runtime_requests``.

``evaluate`` is IAM's identity-policy logic, as far as these roles use it: an
explicit Deny wins, else an Allow must match; actions match with wildcards and
without regard to case, resources with wildcards and case; conditions with
the operators ``CONDITION_OPERATORS`` knows, a key the request lacks matching
nothing. No library on PyPI evaluates policies (policy-sentry and parliament
write and lint them; moto's checks actions only, on resource ``*``).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.iam import Statement, as_list


@dataclass(frozen=True)
class Request:
    """What IAM authorizes: an action on a resource, with the request's condition keys."""

    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)
    call: str = ""  # the call it comes from, for messages

    def describe(self) -> str:
        return f"{self.action} on {self.resource} ({self.call})"


@dataclass(frozen=True)
class PolicyStatement:
    policy: str  # the policy's name
    index: int
    statement: Statement

    def describe(self) -> str:
        body = self.statement.body
        effect, action, resource = body.get("Effect"), body.get("Action"), body.get("Resource")
        return f"{self.policy}[{self.index}]: {effect} {action} on {resource}"


def read_calls(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


def as_deployed(call: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """``call`` with each name a pattern of ``names`` matches whole replaced by its template.

    The project's tests make tables and parameters of their own; this gives
    their calls the names the stack's resources have, for its role to judge.
    """

    def renamed(value: Any) -> Any:
        if isinstance(value, dict):
            return {renamed(key): renamed(item) for key, item in value.items()}
        if isinstance(value, list):
            return [renamed(item) for item in value]
        if isinstance(value, str):
            for pattern, template in names.items():
                match = re.fullmatch(pattern, value)
                if match:
                    return match.expand(template)
        return value

    return {**call, "params": renamed(call["params"])}


# --- calls -> requests ---------------------------------------------------------------------------

_DYNAMODB_PARTS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def requests(call: Mapping[str, Any], region: str, account: str) -> list[Request]:
    """The requests IAM authorizes for one recorded call."""
    service, operation, params = call["service"], call["operation"], call["params"]
    described = f"{service}:{operation} {json.dumps(params, sort_keys=True)}"
    mapper = _MAPPERS.get(service)
    if mapper is None:
        raise ValueError(f"no IAM mapping for calls to {service} ({described}): add one to tests/iam_use.py")
    return [
        Request(action, resource, context, described)
        for action, resource, context in mapper(operation, params, f"{region}:{account}")
    ]


_Mapped = list[tuple[str, str, dict[str, str]]]


def _dynamodb(operation: str, params: Mapping[str, Any], where: str) -> _Mapped:
    def table(name: str) -> str:
        return f"arn:aws:dynamodb:{where}:table/{name}"

    if operation == "TransactWriteItems":
        return [
            (f"dynamodb:{_DYNAMODB_PARTS[kind]}", table(part["TableName"]), {})
            for item in params["TransactItems"]
            for kind, part in item.items()
        ]
    if operation == "BatchWriteItem":
        return [("dynamodb:BatchWriteItem", table(name), {}) for name in params["RequestItems"]]
    resource = table(params["TableName"])
    if "IndexName" in params:
        resource += f"/index/{params['IndexName']}"
    return [(f"dynamodb:{operation}", resource, {})]


def _ssm(operation: str, params: Mapping[str, Any], where: str) -> _Mapped:
    name = params["Name"]
    parameter = f"arn:aws:ssm:{where}:parameter/{name.lstrip('/')}"
    mapped: _Mapped = [(f"ssm:{operation}", parameter, {})]
    if params.get("WithDecryption"):
        # SSM decrypts the SecureString with its KMS key, on the caller's behalf.
        region = where.split(":")[0]
        context = {
            "kms:ViaService": f"ssm.{region}.amazonaws.com",
            "kms:EncryptionContext:PARAMETER_ARN": parameter,
        }
        mapped.append(("kms:Decrypt", f"arn:aws:kms:{where}:key/the-parameters-key", context))
    return mapped


def _secretsmanager(operation: str, params: Mapping[str, Any], where: str) -> _Mapped:
    secret = params["SecretId"]
    arn = secret if secret.startswith("arn:") else f"arn:aws:secretsmanager:{where}:secret:{secret}-AbCdEf"
    return [(f"secretsmanager:{operation}", arn, {})]


def _lambda(operation: str, params: Mapping[str, Any], where: str) -> _Mapped:
    name = params["FunctionName"]
    arn = name if name.startswith("arn:") else f"arn:aws:lambda:{where}:function:{name}"
    if params.get("Qualifier"):
        arn += f":{params['Qualifier']}"
    # The Invoke operation is the InvokeFunction action.
    return [("lambda:InvokeFunction" if operation == "Invoke" else f"lambda:{operation}", arn, {})]


_MAPPERS: dict[str, Callable[[str, Mapping[str, Any], str], _Mapped]] = {
    "dynamodb": _dynamodb,
    "ssm": _ssm,
    "secretsmanager": _secretsmanager,
    "lambda": _lambda,
}


def runtime_requests(log_group: str, tracing: bool, region: str, account: str) -> list[Request]:
    """What Lambda does with the function's role: write its logs to ``log_group``, and its traces."""
    stream = f"arn:aws:logs:{region}:{account}:log-group:{log_group}:log-stream:2026/01/01/[$LATEST]0123"
    found = [
        Request("logs:CreateLogStream", stream, call="Lambda: the function's log stream"),
        Request("logs:PutLogEvents", stream, call="Lambda: the function's logs"),
    ]
    if tracing:
        found += [
            Request("xray:PutTraceSegments", "*", call="Lambda: the function's traces (Tracing: Active)"),
            Request("xray:PutTelemetryRecords", "*", call="Lambda: the function's traces (Tracing: Active)"),
        ]
    return found


# --- evaluation ----------------------------------------------------------------------------------


def _string_equals(actual: str, expected: str) -> bool:
    return actual == expected


def _string_like(actual: str, expected: str) -> bool:
    return fnmatch.fnmatchcase(actual, expected)


CONDITION_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": _string_equals,
    "StringLike": _string_like,
    "ArnEquals": _string_equals,
    "ArnLike": _string_like,
    "Bool": lambda actual, expected: actual.lower() == str(expected).lower(),
}


def _conditions_hold(statement: Statement, context: Mapping[str, str]) -> bool:
    for operator, keys in statement.body.get("Condition", {}).items():
        test = CONDITION_OPERATORS.get(operator)
        if test is None:
            raise ValueError(f"condition operator {operator} is not evaluated here (tests/iam_use.py)")
        for key, expected in keys.items():
            actual = context.get(key)
            if actual is None or not any(test(actual, str(value)) for value in as_list(expected)):
                return False
    return True


def _resource_matches(statement: Statement, resource: str) -> bool:
    if "NotResource" in statement.body:
        return not any(fnmatch.fnmatchcase(resource, str(p)) for p in as_list(statement.body["NotResource"]))
    return any(fnmatch.fnmatchcase(resource, str(p)) for p in as_list(statement.body.get("Resource", [])))


def matches(statement: Statement, request: Request) -> bool:
    return (
        statement.covers(request.action)
        and _resource_matches(statement, request.resource)
        and _conditions_hold(statement, request.context)
    )


@dataclass(frozen=True)
class Evaluation:
    denied: list[Request]
    used: set[tuple[str, int]]  # (policy, index) of each statement that allowed a request
    statements: list[PolicyStatement]

    @property
    def unused(self) -> list[PolicyStatement]:
        return [s for s in self.statements if s.statement.allows and (s.policy, s.index) not in self.used]


def policy_statements(policies: Mapping[str, Mapping[str, Any]]) -> list[PolicyStatement]:
    """Each statement of each policy document, by policy name."""
    return [
        PolicyStatement(name, index, Statement(name, body))
        for name, document in sorted(policies.items())
        for index, body in enumerate(as_list(document.get("Statement", [])))
    ]


def evaluate(policies: Mapping[str, Mapping[str, Any]], requests: Iterable[Request]) -> Evaluation:
    statements = policy_statements(policies)
    denied, used = [], set()
    for request in requests:
        if any(s.statement.denies and matches(s.statement, request) for s in statements):
            denied.append(request)
            continue
        allowing = [s for s in statements if s.statement.allows and matches(s.statement, request)]
        if not allowing:
            denied.append(request)
        used |= {(s.policy, s.index) for s in allowing}
    return Evaluation(denied, used, statements)
