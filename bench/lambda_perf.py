"""Cold start, warm request cost, memory and package size of a generated project's Lambda artifact.

Each figure is measured side by side with its baseline in the same run, and
printed as a ratio:

* cold start: a fresh interpreter (``python -I -S -B``, only the artifact and
  the runtime's boto3 on ``sys.path``, as in the Lambda runtime) imports the
  handler and serves one event, against the floor "Flask + apig-wsgi + boto3,
  with .pyc" serving the same route. Timed twice: the whole process from start
  to exit, as Lambda's init and first invoke see it, and from inside it (from
  the first line of the script, so without the interpreter's own start-up).
  Routes: ``GET /health`` (no AWS call; goal <= 0.90x), and the first data
  request ``GET /questions`` against a DynamoDB emulator, the floor then
  making the same Query with a plain boto3 client (goal <= 1.05x). Runs are
  interleaved, each side first in turn; figures are medians;
* memory: the peak resident set size of each after its first request;
* warm request: the Lambda handler (apig-wsgi, path fixes, logging context)
  against calling the Flask WSGI app directly (goal <= 1.20x);
* size: the zipped artifact (goal <= 3 MB), beside the zipped floor;
* SnapStart, simulated in-process: the import and ``snapshot.prime`` that move
  before the snapshot, and ``snapshot.refresh`` with the first ``GET /questions``
  that a restored environment still pays.

boto3 is precompiled on both sides: compiled from source on every run it would
add the same few hundred milliseconds to both and hide the difference. Usage::

    uv run python -m bench.lambda_perf [--runs 15] [--python-version 3.13]
        [--storage dynamodb|rds] [--rds-engine postgres|mysql]

With ``--storage rds`` (and ``secrets=env``) the floor is "Flask + apig-wsgi +
the project's driver, with .pyc" reading the same first page without
SQLAlchemy (goal <= 1.15x), and the artifact's goal 5 MB.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from tests.support import render_project  # the template tests' renderer: one way to render

REPO = Path(__file__).resolve().parent.parent
HOST_ARCH = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine()]

FLOOR_HANDLER = """
import json
import os

import apig_wsgi
import boto3
from flask import Flask

app = Flask(__name__)


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/questions")
def questions():
    result = boto3.client("dynamodb").query(
        TableName=os.environ["TABLE_NAME"],
        IndexName="ByCreatedAt",
        KeyConditionExpression="GSI1PK = :p",
        ExpressionAttributeValues={":p": {"S": "QUESTIONS"}},
        ScanIndexForward=False,
        Limit=20,
    )
    return {"items": result["Items"]}


handler = apig_wsgi.make_lambda_handler(app)
"""

# For storage=rds (with secrets=env: the credentials in DATABASE_URL, as the app reads them): the
# same first page, through the driver the project locks, with no SQLAlchemy.
FLOOR_SQL_HANDLER = """
import os
from urllib.parse import urlsplit

import apig_wsgi
import {driver}
from flask import Flask

app = Flask(__name__)
url = urlsplit(os.environ["DATABASE_URL"])
connection = None


@app.get("/health")
def health():
    return {{"status": "ok"}}


@app.get("/questions")
def questions():
    global connection
    if connection is None:
        connection = {driver}.connect(
            host=url.hostname, port=url.port, user=url.username, password=url.password or "",
            {database}=url.path.lstrip("/"),
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, text, created_at, answer_count FROM questions"
            " ORDER BY created_at DESC, id DESC LIMIT 20"
        )
        rows = cursor.fetchall()
    return {{"items": [[str(value) for value in row] for row in rows]}}


handler = apig_wsgi.make_lambda_handler(app)
"""
# Each SQL engine's driver: its packages, its module, what it calls the database.
SQL_DRIVERS = {
    "postgres": (("psycopg", "psycopg-binary"), "psycopg", "dbname"),
    "mysql": (("pymysql",), "pymysql", "database"),
}

# The project's own local stand-ins (its AWS emulator, a database of its own on the local
# server, migrated), run in the project's environment until told to stop; the stage's
# environment is written to a file.
STAND_INS = """
import json, signal, sys
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/src"]
from dev import local
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
with local.services("test"):
    with open(sys.argv[2], "w") as written:
        json.dump(local.environment("bench"), written)
    signal.sigwait({signal.SIGTERM})
"""

# Run in the clean interpreter: import the handler, serve one event, report the time since the
# script started (in-process: what a clock inside the handler module sees, without the
# interpreter's own start-up) and the peak resident set size so far: the address space's high-water
# mark (getrusage's ru_maxrss would count the bench's own memory, kept across the fork and exec).
INVOKE = """
import json, sys, time
started = time.perf_counter()
sys.path[:0] = [sys.argv[1], sys.argv[2]]
class Context:
    function_name = "bench"; function_version = "$LATEST"; memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"; log_group_name = "/aws/lambda/bench"
    def get_remaining_time_in_millis(self): return 30000
module = __import__(sys.argv[3], fromlist=["handler"])
response = module.handler(json.loads(sys.argv[4]), Context())
elapsed = time.perf_counter() - started
assert response["statusCode"] == 200, response
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps([elapsed, int(peak.split()[1]) * 1024]))
"""


# Each route's cold-start goal against the floor, and the warm handler's against the WSGI app.
COLD_GOALS = {"dynamodb": {"/health": 0.90, "/questions": 1.05}, "rds": {"/health": 0.90, "/questions": 1.15}}
ZIP_GOAL_BYTES = {"dynamodb": 3_000_000, "rds": 5_000_000}
WARM_GOAL = 1.20


def event(path: str) -> dict[str, object]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "abc.execute-api.us-east-1.amazonaws.com", "x-forwarded-proto": "https"},
        "requestContext": {
            "domainName": "abc.execute-api.us-east-1.amazonaws.com",
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7"},
            "requestId": "bench",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }


def interpreter(version: str) -> str:
    """The Python ``version`` itself, not a version manager's shim: runs get a minimal environment."""
    shim = shutil.which(f"python{version}")
    found = shim and subprocess.run(
        [shim, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True, check=False
    )
    if not found or found.returncode != 0:  # none, or an inactive pyenv shim
        sys.exit(f"bench: python{version} is not on PATH (PYENV_VERSION=3.11.7:3.12.1:3.13.0)")
    return found.stdout.strip()


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"bench: {' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def build_artifact(project: Path, python: str) -> Path:
    """The generated project's own `make build` (sam build)."""
    run(["make", "build"], cwd=project)
    return project / ".aws-sam" / "build" / "ApiFunction"


def pip_target(python: str, target: Path, requirements: list[str]) -> None:
    run(
        [python, "-m", "pip", "install", "--quiet", "--target", str(target), *requirements], cwd=target.parent
    )
    run(
        [python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(target)],
        cwd=target.parent,
    )


def pinned(project: Path, names: tuple[str, ...]) -> list[str]:
    """``name==version`` of ``names`` as the project's uv.lock pins them among its runtime dependencies."""
    exported = run(["uv", "export", "--frozen", "--no-dev", "--no-hashes", "--no-annotate"], cwd=project)
    pins = [line.split(";")[0].strip() for line in exported.splitlines() if "==" in line]
    return [pin for pin in pins if pin.split("==")[0].lower() in names]


def zipped_size(directory: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory))
    return buffer.tell()


@dataclass(frozen=True)
class Cold:
    """One cold start: the whole process (start to exit, as Lambda's init plus first invoke sees
    it), the part a clock inside the process sees, and the peak resident set size in bytes."""

    whole: float
    in_process: float
    peak_rss: int


def cold(python: str, artifact: Path, sdk: Path, module: str, path: str, env: dict[str, str]) -> Cold:
    started = time.perf_counter()
    output = run(
        [python, "-I", "-S", "-B", "-c", INVOKE, str(artifact), str(sdk), module, json.dumps(event(path))],
        artifact,
        env,
    )
    whole = time.perf_counter() - started
    in_process, peak_rss = json.loads(output.strip().splitlines()[-1])
    return Cold(whole, in_process, peak_rss)


# SnapStart, simulated: initialise and prime (what moves before the snapshot), then restore and
# serve the first request (what a restored environment still pays).
SNAPSHOT = """
import json, sys, time
started = time.perf_counter()
sys.path[:0] = [sys.argv[1], sys.argv[2]]
class Context:
    function_name = "bench"; function_version = "1"; memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench:live"
    aws_request_id = "bench"; log_group_name = "/aws/lambda/bench"
    def get_remaining_time_in_millis(self): return 30000
package = sys.argv[3]
module = __import__(package + ".handler", fromlist=["handler"])
snapshot = __import__(package + ".snapshot", fromlist=["prime"])
snapshot.prime(module.app)
primed = time.perf_counter()
snapshot.refresh(module.app)
response = module.handler(json.loads(sys.argv[4]), Context())
assert response["statusCode"] == 200, response
print(json.dumps([primed - started, time.perf_counter() - primed]))
"""


def snapshotted(
    python: str, artifact: Path, sdk: Path, package: str, env: dict[str, str], runs: int
) -> tuple[float, float]:
    """Medians of: the import and prime moved before the snapshot; the restore and first request."""
    moved, left = [], []
    command = [python, "-I", "-S", "-B", "-c", SNAPSHOT, str(artifact), str(sdk), package]
    for _ in range(runs):
        output = run([*command, json.dumps(event("/questions"))], artifact, env)
        before, after = json.loads(output.strip().splitlines()[-1])
        moved.append(before)
        left.append(after)
    return statistics.median(moved), statistics.median(left)


def warm(
    python: str, artifact: Path, sdk: Path, package: str, runs: int, env: dict[str, str]
) -> tuple[float, float]:
    """Per-request seconds through the handler and through the WSGI app, same process, same route."""
    script = textwrap.dedent(f"""
        import json, sys, timeit
        sys.path[:0] = [{str(artifact)!r}, {str(sdk)!r}]
        from {package} import handler as module
        class Context:
            function_name = "bench"; function_version = "$LATEST"; memory_limit_in_mb = 512
            invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
            aws_request_id = "bench"; log_group_name = "/aws/lambda/bench"
        event = json.loads({json.dumps(json.dumps(event("/health")))})
        context = Context()
        app = module.app  # the handler's own app: the two paths differ only by the adapter
        environ = {{
            "REQUEST_METHOD": "GET", "PATH_INFO": "/health", "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "abc.execute-api.us-east-1.amazonaws.com", "SERVER_PORT": "443",
            "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "https", "wsgi.input": None,
            "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False,
            "wsgi.run_once": False, "wsgi.version": (1, 0),
            "HTTP_HOST": "abc.execute-api.us-east-1.amazonaws.com",
        }}
        def direct():
            import io
            env = dict(environ, **{{"wsgi.input": io.BytesIO()}})
            body = b"".join(app(env, lambda status, headers, exc_info=None: None))
            assert b"ok" in body
        def through_handler():
            assert module.handler(event, context)["statusCode"] == 200
        number = 500
        for fn in (direct, through_handler):
            fn()
        direct_runs, handler_runs = [], []
        for _ in range({runs}):  # interleaved, so load on the machine hits both alike
            direct_runs.append(timeit.timeit(direct, number=number) / number)
            handler_runs.append(timeit.timeit(through_handler, number=number) / number)
        print(json.dumps([min(handler_runs), min(direct_runs)]))
    """)
    quiet = dict(env, POWERTOOLS_LOG_LEVEL="WARNING")
    result = run([python, "-I", "-S", "-c", script], artifact, quiet)
    handler_s, direct_s = json.loads(result.strip().splitlines()[-1])
    return handler_s, direct_s


@contextmanager
def local_stage(project: Path, work: Path) -> Iterator[dict[str, str]]:
    """The environment of a stage in the project's local stand-ins, running for the block."""
    written = work / "stage.json"
    command = ["uv", "run", "--frozen", "python", "-c", STAND_INS, str(project), str(written)]
    stand_ins = subprocess.Popen(command, cwd=project)
    try:
        while not written.exists() or not written.read_text():
            if stand_ins.poll() is not None:
                sys.exit("bench: the project's local stand-ins stopped before the stage was ready")
            time.sleep(0.2)
        yield {**json.loads(written.read_text()), "PATH": os.environ["PATH"]}
    finally:
        stand_ins.terminate()
        stand_ins.wait()


def median_pair(runs: int, ours: Callable[[], Cold], floor: Callable[[], Cold]) -> tuple[Cold, Cold]:
    a: list[Cold] = []
    b: list[Cold] = []
    for round_ in range(runs):  # interleaved, each first in turn, so load hits both alike
        if round_ % 2:
            b.append(floor())
        a.append(ours())
        if not round_ % 2:
            b.append(floor())
    return median_cold(a), median_cold(b)


def median_cold(runs: list[Cold]) -> Cold:
    return Cold(
        statistics.median(r.whole for r in runs),
        statistics.median(r.in_process for r in runs),
        int(statistics.median(r.peak_rss for r in runs)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--python-version", default="3.13")
    parser.add_argument("--storage", choices=("dynamodb", "rds"), default="dynamodb")
    parser.add_argument("--rds-engine", choices=tuple(SQL_DRIVERS), default="postgres")
    args = parser.parse_args()
    python = interpreter(args.python_version)

    with tempfile.TemporaryDirectory(prefix="sf-bench-") as tmp:
        work = Path(tmp)
        answers = {"python_version": args.python_version, "architecture": HOST_ARCH, "storage": args.storage}
        if args.storage == "rds":
            answers |= {"rds_engine": args.rds_engine, "secrets": "env"}
        project = render_project(answers, work / "render")
        package = json.loads((project / ".cookiecutter.json").read_text())["package_name"]
        artifact = build_artifact(project, python)

        # boto3 as the Lambda runtime provides it, at the project's pins (its `make runtime-sdk`).
        # Precompiled for both sides (see the module's docstring).
        run(["make", "runtime-sdk"], cwd=project)
        sdk = work / "runtime-sdk"
        shutil.copytree(project / ".aws-sam" / "runtime-sdk", sdk)
        run([python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(sdk)], work)

        floor = work / "floor"
        floor.mkdir()
        if args.storage == "rds":
            packages, driver, database = SQL_DRIVERS[args.rds_engine]
            pip_target(python, floor, pinned(project, ("flask", "apig-wsgi", *packages)))
            handler_code = FLOOR_SQL_HANDLER.format(driver=driver, database=database)
        else:
            pip_target(python, floor, pinned(project, ("flask", "apig-wsgi")))
            handler_code = FLOOR_HANDLER
        (floor / "floor_handler.py").write_text(handler_code)
        run([python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(floor)], work)

        with local_stage(project, work) as env:
            module = f"{package}.handler"
            rows: list[tuple[str, float, float, float]] = []
            memory: list[tuple[str, int, int]] = []
            for path, goal in COLD_GOALS[args.storage].items():
                ours, base = median_pair(
                    args.runs,
                    partial(cold, python, artifact, sdk, module, path, env),
                    partial(cold, python, floor, sdk, "floor_handler", path, env),
                )
                rows.append((f"cold GET {path}, whole process", ours.whole, base.whole, goal))
                rows.append((f"cold GET {path}, in-process", ours.in_process, base.in_process, goal))
                memory.append((f"peak RSS after GET {path}", ours.peak_rss, base.peak_rss))
            handler_s, direct_s = warm(python, artifact, sdk, package, 5, env)
            moved, left = snapshotted(python, artifact, sdk, package, env, args.runs)
            rows.append(("warm GET /health per request", handler_s, direct_s, WARM_GOAL))

        size, floor_size = zipped_size(artifact), zipped_size(floor)
        store = args.storage + (f" ({args.rds_engine}, secrets=env)" if args.storage == "rds" else "")
        print(f"\n{store}, Python {args.python_version}, {HOST_ARCH}; cold starts: medians of {args.runs}")
        print(f"artifact {artifact}")
        print(f"{'measure':45} {'ours':>10} {'floor':>10} {'ratio':>7}  goal")
        for name, ours_s, base_s, goal in rows:
            scale, label = (1000, "ms") if base_s > 0.001 else (1_000_000, "us")
            ratio = ours_s / base_s
            verdict = "met" if ratio <= goal else "MISSED"
            times = f"{ours_s * scale:8.1f}{label} {base_s * scale:8.1f}{label}"
            print(f"{name:45} {times} {ratio:6.2f}x  <= {goal:.2f}x {verdict}")
        for name, ours_b, base_b in memory:
            print(f"{name:45} {ours_b / 2**20:8.1f}MB {base_b / 2**20:8.1f}MB {ours_b / base_b:6.2f}x")
        print(f"\nSnapStart (simulated, GET /questions, in-process, medians of {args.runs}):")
        print(f"{'import + prime, moved before the snapshot':45} {moved * 1000:8.1f}ms")
        print(f"{'restore hook + first request, still paid':45} {left * 1000:8.1f}ms")
        goal_bytes = ZIP_GOAL_BYTES[args.storage]
        verdict = "met" if size <= goal_bytes else "MISSED"
        ratio = size / floor_size
        sizes = f"{size / 1e6:8.2f}MB {floor_size / 1e6:8.2f}MB"
        print(f"{'artifact zipped':45} {sizes} {ratio:6.2f}x  <= {goal_bytes / 1e6:.0f} MB {verdict}")


if __name__ == "__main__":
    main()
