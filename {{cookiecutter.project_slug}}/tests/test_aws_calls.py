"""The record of AWS calls: what each call acts on, none of the data it carries."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
from botocore.stub import Stubber

from .aws_calls import naming_params, recording


def invoke_a_function() -> None:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1"
    )
    client = session.client("lambda")
    with Stubber(client) as stub:
        stub.add_response("invoke", {"StatusCode": 200})
        client.invoke(FunctionName="worker", Qualifier="live", Payload=b'{"note": "a secret payload"}')


def test_records_what_each_call_acts_on(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    with recording(log):
        invoke_a_function()
    text = log.read_text(encoding="utf-8")
    assert [json.loads(line) for line in text.splitlines()] == [
        {
            "service": "lambda",
            "operation": "Invoke",
            "params": {"FunctionName": "worker", "Qualifier": "live"},
            "caller": __name__,
        }
    ]
    assert "secret" not in text


def test_records_nothing_once_stopped(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    with recording(log):
        pass
    invoke_a_function()
    assert not log.exists()


def test_batch_and_transaction_items_are_named_by_their_tables() -> None:
    item = {"Key": {"PK": {"S": "a secret key"}}}
    params = {
        "RequestItems": {"answers": [{"DeleteRequest": item}], "questions": [{"DeleteRequest": item}]},
        "TransactItems": [
            {"Put": {"TableName": "questions", **item}},
            {"Update": {"TableName": "counts", **item}},
        ],
    }
    assert naming_params(params) == {
        "RequestItems": ["answers", "questions"],
        "TransactItems": [{"Put": {"TableName": "questions"}}, {"Update": {"TableName": "counts"}}],
    }
