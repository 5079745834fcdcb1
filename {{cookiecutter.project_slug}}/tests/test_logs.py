"""The log lines of an invocation: JSON, with the ids that find them (request, correlation, trace)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.log import xray_trace_id

from .conftest import Invoke
from .events import http_api_v2

TRACE = "Root=1-6752f0a1-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"
ROOT = "1-6752f0a1-0123456789abcdef01234567"


def request_records(output: str) -> list[dict[str, Any]]:
    return [record for record in map(json.loads, output.splitlines()) if record.get("message") == "request"]


def test_every_line_of_an_invocation_names_its_trace(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    monkeypatch.setenv("_X_AMZN_TRACE_ID", TRACE)
    assert invoke(http_api_v2("POST", "/questions", body={"text": "Traced?"}))["statusCode"] == 201
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines, "the invocation logged nothing"
    assert {line.get("xray_trace_id") for line in lines} == {ROOT}
    (request,) = [line for line in lines if line.get("message") == "request"]
    assert request["function_request_id"]
    assert request["correlation_id"]


def test_each_invocation_has_its_own_trace(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Lambda sets _X_AMZN_TRACE_ID anew for every invocation; none is carried over."""
    capsys.readouterr()
    monkeypatch.setenv("_X_AMZN_TRACE_ID", TRACE)
    invoke(http_api_v2("GET", "/health"))
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-6752f0a2-fedcba9876543210fedcba98")
    invoke(http_api_v2("GET", "/health"))
    monkeypatch.delenv("_X_AMZN_TRACE_ID")
    invoke(http_api_v2("GET", "/health"))
    traces = [record.get("xray_trace_id") for record in request_records(capsys.readouterr().out)]
    assert traces == [ROOT, "1-6752f0a2-fedcba9876543210fedcba98", None]


@pytest.mark.parametrize(
    ("header", "root"),
    [
        (TRACE, ROOT),
        ("Parent=53995c3f42cd8ad8; Root=1-2-3", "1-2-3"),
        ("Sampled=0", None),
        ("", None),
    ],
)
def test_the_trace_id_is_the_headers_root(header: str, root: str | None) -> None:
    assert xray_trace_id({"_X_AMZN_TRACE_ID": header}) == root
