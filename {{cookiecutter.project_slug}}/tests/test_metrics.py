"""The business metrics: each record the app writes is one CloudWatch would read as EMF.

``emf_problems`` checks a record against what the embedded metric format
specification requires, so a record CloudWatch would drop (silently: a bad
record stays a log line and makes no metric) fails here instead.
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from dev.local_secrets import ADMIN_TOKEN

from {{ cookiecutter.package_name }} import metrics
from {{ cookiecutter.package_name }}.log import logger

# The specification's limits and units.
NAME_LENGTH = range(1, 1025)
MAX_DIMENSIONS_PER_SET = 30
MAX_METRICS_PER_DIRECTIVE = 100
MAX_VALUES_PER_METRIC = 100
STORAGE_RESOLUTIONS = (1, 60)
SIZES = ("Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes")
BITS = ("Bits", "Kilobits", "Megabits", "Gigabits", "Terabits")
UNITS = {
    *("Seconds", "Microseconds", "Milliseconds", "Percent", "Count", "None"),
    *SIZES,
    *BITS,
    *(f"{unit}/Second" for unit in (*SIZES, *BITS, "Count")),
}


def emf_problems(record: dict[str, Any]) -> list[str]:
    """What keeps ``record`` from being a valid EMF record; empty when it is one."""
    metadata = record.get("_aws")
    if not isinstance(metadata, dict):
        return ["no _aws object"]
    problems = []
    timestamp = metadata.get("Timestamp")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or timestamp <= 0:
        problems.append(f"_aws.Timestamp {timestamp!r} is not milliseconds since the epoch")
    directives = metadata.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        return [*problems, "_aws.CloudWatchMetrics is not a non-empty array"]
    for directive in directives:
        namespace = directive.get("Namespace")
        if not isinstance(namespace, str) or len(namespace) not in NAME_LENGTH:
            problems.append(f"Namespace {namespace!r} is not a string of 1 to 1024 characters")
        dimension_sets = directive.get("Dimensions")
        if not isinstance(dimension_sets, list):
            problems.append("Dimensions is not an array of dimension sets")
            dimension_sets = []
        for dimension_set in dimension_sets:
            if not isinstance(dimension_set, list) or len(dimension_set) > MAX_DIMENSIONS_PER_SET:
                problems.append(f"dimension set {dimension_set!r} is not an array of at most 30 names")
                continue
            problems += [
                f"dimension {name!r} names no string member of the record"
                for name in dimension_set
                if not isinstance(record.get(name), str)
            ]
        definitions = directive.get("Metrics")
        if not isinstance(definitions, list) or len(definitions) > MAX_METRICS_PER_DIRECTIVE:
            problems.append("Metrics is not an array of at most 100 metric definitions")
            definitions = []
        for definition in definitions:
            name = definition.get("Name")
            if not isinstance(name, str) or len(name) not in NAME_LENGTH:
                problems.append(f"metric Name {name!r} is not a string of 1 to 1024 characters")
                continue
            if "Unit" in definition and definition["Unit"] not in UNITS:
                problems.append(f"metric {name}: Unit {definition['Unit']!r} is not one CloudWatch knows")
            if definition.get("StorageResolution", 60) not in STORAGE_RESOLUTIONS:
                problems.append(f"metric {name}: StorageResolution is neither 1 nor 60")
            value = record.get(name)
            values = value if isinstance(value, list) else [value]
            numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
            if not numeric or not values or len(values) > MAX_VALUES_PER_METRIC:
                problems.append(f"metric {name}: the record's {name!r} is {value!r}, not a number")
    return problems


def metric_records(output: str) -> Iterator[dict[str, Any]]:
    for line in output.splitlines():
        record = json.loads(line)
        if "_aws" in record:
            yield record


def test_a_count_is_one_valid_emf_record(capsys: pytest.CaptureFixture[str]) -> None:
    before = int(time.time() * 1000)
    metrics.count(metrics.QUESTIONS_CREATED, 3)
    (record,) = metric_records(capsys.readouterr().out)
    assert emf_problems(record) == []
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == metrics.NAMESPACE
    assert directive["Dimensions"] == [list(metrics.DIMENSIONS)]
    assert directive["Metrics"] == [{"Name": metrics.QUESTIONS_CREATED, "Unit": "Count"}]
    assert record[metrics.QUESTIONS_CREATED] == 3
    assert record["service"] == "{{ cookiecutter.project_slug }}"
    assert before <= record["_aws"]["Timestamp"] <= int(time.time() * 1000)


def test_the_checker_refuses_what_cloudwatch_would_drop() -> None:
    """emf_problems finds each way a record can fail the specification."""
    good = {
        "_aws": {
            "Timestamp": 1,
            "CloudWatchMetrics": [
                {"Namespace": "n", "Dimensions": [["service"]], "Metrics": [{"Name": "M", "Unit": "Count"}]}
            ],
        },
        "service": "s",
        "M": 1,
    }
    assert emf_problems(good) == []
    directive = good["_aws"]["CloudWatchMetrics"][0]  # type: ignore[index]

    def changed(**directive_changes: Any) -> dict[str, Any]:
        return {**good, "_aws": {"Timestamp": 1, "CloudWatchMetrics": [{**directive, **directive_changes}]}}

    broken = [
        {**good, "_aws": {**good["_aws"], "Timestamp": "now"}},  # type: ignore[dict-item]
        {**good, "M": "1"},
        {**good, "service": 5},
        {key: value for key, value in good.items() if key != "M"},
        changed(Namespace=""),
        changed(Metrics=[{"Name": "M", "Unit": "Apples"}]),
        changed(Dimensions=[["stage"]]),
        {**good, "_aws": {"Timestamp": 1, "CloudWatchMetrics": []}},
    ]
    for record in broken:
        assert emf_problems(record), record


def test_metrics_are_written_whatever_the_log_level(capsys: pytest.CaptureFixture[str]) -> None:
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        metrics.count(metrics.ANSWERS_CREATED)
    finally:
        logger.setLevel(level)
    assert [record[metrics.ANSWERS_CREATED] for record in metric_records(capsys.readouterr().out)] == [1]


def test_the_api_counts_what_it_does(client: FlaskClient, capsys: pytest.CaptureFixture[str]) -> None:
    """Asking, answering and deleting each write their metric once, with the stage's dimensions."""
    capsys.readouterr()
    question = client.post("/questions", json={"text": "Counted?"}).get_json()
    assert client.post(f"/questions/{question['id']}/answers", json={"text": "Yes."}).status_code == 201
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert client.delete(f"/questions/{question['id']}", headers=admin).status_code == 204
    # What fails counts nothing: a missing question is neither answered nor deleted.
    assert client.post(f"/questions/{question['id']}/answers", json={"text": "Late."}).status_code == 404
    assert client.delete(f"/questions/{question['id']}", headers=admin).status_code == 404
    records = list(metric_records(capsys.readouterr().out))
    assert [problems for problems in map(emf_problems, records) if problems] == []
    counted = [name for record in records for name in metrics.METRICS if name in record]
    assert counted == [metrics.QUESTIONS_CREATED, metrics.ANSWERS_CREATED, metrics.QUESTIONS_DELETED]
    assert {record["stage"] for record in records} == {client.application.extensions["settings"].stage}
