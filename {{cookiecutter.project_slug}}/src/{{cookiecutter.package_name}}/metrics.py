"""Business metrics as CloudWatch embedded metric format (EMF) records: log lines, no API call.

CloudWatch Logs reads each record the function writes and turns it into a metric
value, in the namespace below, by ``service`` and ``stage``; the stack's
dashboard charts them. A record is one more JSON line through ``log.logger``,
so counting costs no import and no request: no client library, no flush.
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

from __future__ import annotations

import logging
import os
import time

from .log import EMF_METADATA, logger
from .settings import Settings

NAMESPACE = "{{ cookiecutter.project_slug }}"
# Every record's dimensions: members of the record, as EMF requires ("service" is in every log line).
DIMENSIONS = ("service", "stage")

QUESTIONS_CREATED = "QuestionsCreated"
ANSWERS_CREATED = "AnswersCreated"
QUESTIONS_DELETED = "QuestionsDeleted"
# What the app counts; the dashboard charts each of them.
METRICS = (QUESTIONS_CREATED, ANSWERS_CREATED, QUESTIONS_DELETED)

# Metric records are written whatever LOG_LEVEL says: they are data, not diagnostics.
_metrics_logger = logger.getChild("metrics")
_metrics_logger.setLevel(logging.INFO)


def count(name: str, value: int = 1) -> None:
    """Add ``value`` to the metric ``name`` (one of ``METRICS``), as one EMF record."""
    directive = {
        "Namespace": NAMESPACE,
        "Dimensions": [list(DIMENSIONS)],
        "Metrics": [{"Name": name, "Unit": "Count"}],
    }
    _metrics_logger.info(
        "metric",
        extra={
            EMF_METADATA: {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [directive]},
            "stage": os.environ.get("STAGE", Settings.stage),
            name: value,
        },
    )
