"""API Gateway and ALB events shaped as Lambda receives them."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

REGION = "{{ cookiecutter.aws_region }}"
FUNCTION = "{{ cookiecutter.project_slug }}-test"
API_DOMAIN = f"abc123defg.execute-api.{REGION}.amazonaws.com"


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = FUNCTION
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION}"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name: str = f"/aws/lambda/{FUNCTION}"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _body(body: Any, binary: bool) -> tuple[str | None, bool]:
    if body is None:
        return None, False
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    if binary:
        return base64.b64encode(raw).decode(), True
    return raw.decode(), False


def http_api_v2(
    method: str,
    path: str,
    *,
    body: Any = None,
    binary: bool = False,
    headers: dict[str, str] | None = None,
    query: str = "",
    cookies: list[str] | None = None,
    stage: str = "$default",
    domain: str = API_DOMAIN,
) -> dict[str, Any]:
    """An HTTP API (payload format 2.0) event. ``path`` as the client sent it, stage prefix included."""
    text, encoded = _body(body, binary)
    all_headers = {"host": domain, "content-type": "application/json", "x-forwarded-proto": "https"}
    all_headers.update(headers or {})
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123defg",
            "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "pytest",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": stage,
            "time": "21/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795262400000,
        },
        "isBase64Encoded": encoded,
    }
    if text is not None:
        event["body"] = text
    if cookies:
        event["cookies"] = cookies
    return event


def rest_v1(
    method: str,
    path: str,
    *,
    body: Any = None,
    binary: bool = False,
    headers: dict[str, list[str]] | None = None,
    query: dict[str, list[str]] | None = None,
    stage: str = "prod",
    domain: str = API_DOMAIN,
) -> dict[str, Any]:
    """A REST API (payload format 1.0) proxy event; ``path`` excludes the stage, as API Gateway sends it."""
    text, encoded = _body(body, binary)
    multi_headers = {"Host": [domain], "Content-Type": ["application/json"], "X-Forwarded-Proto": ["https"]}
    multi_headers.update(headers or {})
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {name: values[-1] for name, values in query.items()} if query else None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123defg",
            "domainName": domain,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "resourcePath": "/{proxy+}",
            "stage": stage,
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "pytest"},
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


def alb(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, list[str]] | None = None,
    query: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """An ALB target-group event with multi-value headers enabled (query values arrive URL-encoded)."""
    text, encoded = _body(body, False)
    multi_headers = {
        "host": ["api.example.com"],
        "content-type": ["application/json"],
        "x-amzn-trace-id": ["Root=1-67891233-abcdef012345678912345678"],
    }
    multi_headers.update(headers or {})
    encoded_query = {
        quote(name): [quote(value) for value in values] for name, values in (query or {}).items()
    }
    return {
        "requestContext": {
            "elb": {"targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:123456789012:targetgroup/tg/1"}
        },
        "httpMethod": method,
        "path": path,
        "multiValueQueryStringParameters": encoded_query,
        "multiValueHeaders": multi_headers,
        "body": text or "",
        "isBase64Encoded": encoded,
    }


def query_string(**params: str | int) -> str:
    return urlencode(params)


def json_body(response: dict[str, Any]) -> Any:
    body = response["body"]
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return json.loads(body)
