"""What counting a business metric costs a cold start, by the way it is written.

A generated project counts what users do (``src/<package>/metrics.py``) as
CloudWatch embedded-metric-format records. Each way to write one is measured
as Lambda would start it, a fresh interpreter from start to exit
(``python -I -S -B``, only the code on ``sys.path``, dependencies as
precompiled bytecode), importing the app's logging and writing one request
line, as every request does, then one metric:

* ``before``: the request line only, what the app wrote before it counted anything;
* ``EMF via the app's logger``: the project's own ``metrics.count`` (no dependency);
* ``aws-embedded-metrics``: the library AWS publishes for EMF;
* ``Powertools Metrics``: ``aws_lambda_powertools.metrics``.

Runs are interleaved, each round in a new order, so the machine's load hits
every way alike; the figures are medians, printed beside ``before`` as a ratio
and as milliseconds added. Usage::

    uv run python -m bench.metrics_cost [--runs 41] [--python-version 3.13]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from bench.lambda_perf import interpreter
from tests.support import render_project  # the template tests' renderer: one way to render

# The libraries weighed against the app's own writer, pinned so runs compare alike.
AWS_EMBEDDED_METRICS = "aws-embedded-metrics==3.5.0"
POWERTOOLS = "aws-lambda-powertools"  # at the version the project pins (uv.lock)

# Every way starts as a request does: the app's logging, one request line.
PRELUDE = """
import sys
sys.path[:0] = {path!r}
from {package}.log import logger
logger.info("request", extra={{"method": "POST", "path": "/questions", "status": 201, "duration_ms": 3.1}})
"""
WAYS = {
    "before": "",
    "EMF via the app's logger": """
from {package} import metrics
metrics.count(metrics.QUESTIONS_CREATED)
""",
    "aws-embedded-metrics": """
import asyncio
from aws_embedded_metrics.logger.metrics_logger_factory import create_metrics_logger
from aws_embedded_metrics.storage_resolution import StorageResolution
emf = create_metrics_logger()
emf.set_namespace({namespace!r})
emf.set_dimensions({{"service": "bench", "stage": "bench"}})
emf.put_metric("QuestionsCreated", 1, "Count", StorageResolution.STANDARD)
asyncio.run(emf.flush())
""",
    "Powertools Metrics": """
from aws_lambda_powertools.metrics import Metrics, MetricUnit
emf = Metrics(namespace={namespace!r}, service="bench")
emf.add_dimension(name="stage", value="bench")
emf.add_metric(name="QuestionsCreated", unit=MetricUnit.Count, value=1)
emf.flush_metrics()
""",
}
# As in Lambda: the libraries pick their output (stdout) from the environment they find.
ENVIRONMENT = {
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "AWS_EMF_ENVIRONMENT": "Lambda",
    "AWS_REGION": "us-east-1",
    "STAGE": "bench",
    "SERVICE_NAME": "bench",
    "LOG_LEVEL": "INFO",
}


def run(command: list[str], cwd: Path) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"bench: {' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def install(python: str, target: Path, requirements: list[str]) -> Path:
    """``requirements`` into ``target`` as a Lambda artifact holds them: no dependencies but these
    and theirs, compiled ahead with unchecked hashes."""
    target.mkdir(parents=True)
    run([python, "-m", "pip", "install", "--quiet", "--target", str(target), *requirements], target)
    compile_ahead(python, target)
    return target


def compile_ahead(python: str, directory: Path) -> None:
    compileall = [python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash"]
    run([*compileall, str(directory)], directory)


def pinned(project: Path, name: str) -> str:
    """``name==version`` as the project's uv.lock pins it among its runtime dependencies."""
    exported = run(["uv", "export", "--frozen", "--no-dev", "--no-hashes", "--no-annotate"], project)
    for line in exported.splitlines():
        pin = line.split(";")[0].strip()
        if pin.split("==")[0].lower() == name:
            return pin
    sys.exit(f"bench: the generated project's uv.lock pins no {name}")


def whole_process(python: str, script: str, cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [python, "-I", "-S", "-B", "-c", script], cwd=cwd, env=ENVIRONMENT, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"bench: a run failed:\n{script}\n{result.stderr[-3000:]}")
    return elapsed, result.stdout


def counted(output: str) -> bool:
    """Whether ``output`` holds an EMF record of QuestionsCreated."""
    for line in output.splitlines():
        record = json.loads(line) if line.startswith("{") else {}
        directives = record.get("_aws", {}).get("CloudWatchMetrics", [])
        if any(m["Name"] == "QuestionsCreated" for d in directives for m in d["Metrics"]):
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=41)
    parser.add_argument("--python-version", default="3.13")
    args = parser.parse_args()
    python = interpreter(args.python_version)

    with tempfile.TemporaryDirectory(prefix="sf-bench-metrics-") as tmp:
        work = Path(tmp)
        project = render_project({"python_version": args.python_version}, work / "render")
        answers = json.loads((project / ".cookiecutter.json").read_text())
        package, namespace = answers["package_name"], answers["project_slug"]
        app = install(python, work / "app", [pinned(project, "python-json-logger")])
        shutil.copytree(project / "src" / package, app / package)
        compile_ahead(python, app / package)
        libraries = {
            "aws-embedded-metrics": install(python, work / "aws-embedded-metrics", [AWS_EMBEDDED_METRICS]),
            "Powertools Metrics": install(python, work / "powertools", [pinned(project, POWERTOOLS)]),
        }
        scripts = {
            way: textwrap.dedent(PRELUDE + body).format(
                path=[str(app), *([str(libraries[way])] if way in libraries else [])],
                package=package,
                namespace=namespace,
            )
            for way, body in WAYS.items()
        }
        for way, script in scripts.items():  # each writes what it should, and its imports are warm on disk
            _, output = whole_process(python, script, work)
            if counted(output) != (way != "before"):
                sys.exit(f"bench: {way} did not write what it should:\n{output}")

        seconds: dict[str, list[float]] = {way: [] for way in scripts}
        order = list(scripts)
        for _ in range(args.runs):
            random.shuffle(order)
            for way in order:
                seconds[way].append(whole_process(python, scripts[way], work)[0])

    medians = {way: statistics.median(times) for way, times in seconds.items()}
    base = medians["before"]
    print(f"\nPython {args.python_version}; whole process, median of {args.runs} interleaved runs")
    print(f"{'writing one metric':32} {'median':>9} {'vs before':>10} {'added':>9}")
    for way, median in medians.items():
        print(f"{way:32} {median * 1000:7.1f}ms {median / base:9.2f}x {(median - base) * 1000:+7.1f}ms")


if __name__ == "__main__":
    main()
