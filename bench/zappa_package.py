"""Zappa's default package of a generated project, beside the one its ``make build`` makes.

One project (``deployment=zappa``, this machine's architecture so both
packages run here), packed two ways in one run:

* default: ``zappa package`` as the Zappa docs have it, run in the project's
  development virtualenv (what ``make install`` makes: the app's dependencies,
  Zappa, the tools) with the app at the project's root and Zappa's default
  settings (no ``exclude``; ``use_precompiled_packages`` on, ``slim_handler`` off);
* ours: the project's ``make build`` (a virtualenv laid out for Lambda, wheels
  for its platform, unchecked-hash bytecode, ``exclude``).

``--architecture`` another than this machine's compares the packages
without running them. Printed side by side, with ratios: the zip's size, its files, its native
libraries (and how many are not for the Lambda platform), its Python sources,
and the cold start (a fresh ``python -I -S`` imports Zappa's handler and
serves ``GET /health``, with only the package and boto3 on ``sys.path``, the
package directory read-only as Lambda's ``/var/task`` is). Usage::

    uv run python -m bench.zappa_package [--runs 9] [--python-version 3.13]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from tests.build_support import ARCHITECTURES, runtime_sdk
from tests.build_zappa import BUILD_STAGE, build_with_zappa
from tests.combinations import Combination
from tests.support import IDENTITY_PACKAGE, find_python, project_env

HOST_ARCH = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine()]
# Settings of the project's that only `make build` relies on: left out of the default.
OURS_ONLY = ("exclude", "use_precompiled_packages", "slim_handler")

INVOKE = """
import json, sys, time
started = time.perf_counter()
sys.path[:0] = [sys.argv[1], sys.argv[2]]
class Context:
    function_name = "bench"; function_version = "$LATEST"; memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"; log_group_name = "/aws/lambda/bench"
    def get_remaining_time_in_millis(self): return 30000
import handler
response = handler.lambda_handler(json.loads(sys.argv[3]), Context())
elapsed = time.perf_counter() - started
assert response["statusCode"] == 200, response
print(elapsed)
"""

HEALTH = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/health",
    "rawQueryString": "",
    "headers": {"host": "abc.execute-api.us-east-1.amazonaws.com", "x-forwarded-proto": "https"},
    "requestContext": {
        "domainName": "abc.execute-api.us-east-1.amazonaws.com",
        "http": {"method": "GET", "path": "/health", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7"},
        "requestId": "bench",
        "stage": "$default",
    },
    "isBase64Encoded": False,
}


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"bench: {' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def default_package(project: Path, venv: Path, work: Path) -> Path:
    """``zappa package`` with Zappa's defaults, in the development virtualenv, the app at the root."""
    copy = work / "default-project"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns(".zappa"))
    shutil.move(copy / "src" / IDENTITY_PACKAGE, copy / IDENTITY_PACKAGE)
    settings_file = copy / "zappa_settings.json"
    settings = json.loads(settings_file.read_text())
    for stage in settings.values():
        for key in OURS_ONLY:
            stage.pop(key, None)
    settings_file.write_text(json.dumps(settings, indent=4))
    env = {"PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "VIRTUAL_ENV": str(venv), "HOME": str(work)}
    run([str(venv / "bin" / "zappa"), "package", BUILD_STAGE, "--output", "default.zip"], copy, env)
    return copy / "default.zip"


def unpacked(package: Path, directory: Path) -> Path:
    """The zip unpacked and made read-only, as Lambda's /var/task."""
    with zipfile.ZipFile(package) as archive:
        archive.extractall(directory)
    for path in directory.rglob("*"):
        path.chmod(path.stat().st_mode & ~0o222)
    return directory


def contents(package: Path, architecture: str, python_version: str) -> dict[str, int]:
    machine = ARCHITECTURES[architecture]["machine"]
    tag = f".cpython-{python_version.replace('.', '')}-"
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
        libraries = [name for name in names if name.endswith(".so") or ".so." in name]
        foreign = 0
        for name in libraries:
            header = archive.read(name)[:20]
            wrong_machine = header[:4] != b"\x7fELF" or struct.unpack_from("<H", header, 18)[0] != machine
            wrong_python = ".cpython-" in name and tag not in name
            foreign += wrong_machine or wrong_python
    return {
        "zip bytes": package.stat().st_size,
        "files": len(names),
        "native libraries": len(libraries),
        "  not for the Lambda platform": foreign,
        "Python sources (.py)": sum(name.endswith(".py") for name in names),
        "  of them boto3/botocore": sum(name.startswith(("boto3/", "botocore/")) for name in names),
    }


def cold(python: Path, code: Path, sdk: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    run([str(python), "-I", "-S", "-c", INVOKE, str(code), str(sdk), json.dumps(HEALTH)], code, env)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--python-version", default="3.13")
    parser.add_argument(
        "--architecture",
        default=HOST_ARCH,
        choices=sorted(ARCHITECTURES),
        help="the Lambda architecture (default: this machine's; another's packages are compared, not run)",
    )
    args = parser.parse_args()
    version = args.python_version
    architecture = args.architecture
    runs = args.runs if architecture == HOST_ARCH else 0
    python = find_python(version)
    answers = {
        "deployment": "zappa",
        "storage": "dynamodb",
        "secrets": "ssm",
        "frontend": "none",
        "python_version": version,
        "architecture": architecture,
    }
    with tempfile.TemporaryDirectory(prefix="sf-bench-zappa-") as tmp:
        work = Path(tmp)
        artifact = build_with_zappa(
            Combination(f"zappa-bench-py{version}-{architecture}", answers), work / "ours"
        )
        ours_zip = artifact.project / ".zappa" / f"{BUILD_STAGE}.zip"
        environment = project_env(artifact.project, version)
        default_zip = default_package(artifact.project, environment.path, work)
        sdk = runtime_sdk(artifact.project, environment.python)

        ours_figures = contents(ours_zip, architecture, version)
        default_figures = contents(default_zip, architecture, version)
        ours_code = unpacked(ours_zip, work / "ours-task")
        default_code = unpacked(default_zip, work / "default-task")
        env = {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "TZ": ":UTC"}
        ours_runs: list[float] = []
        default_runs: list[float] = []
        for _ in range(runs):  # interleaved, so load on the machine hits both alike
            ours_runs.append(cold(python, ours_code, sdk, env))
            default_runs.append(cold(python, default_code, sdk, env))
        for directory in (ours_code, default_code):  # read-only: give write back so it can be removed
            for path in directory.rglob("*"):
                path.chmod(path.stat().st_mode | 0o200)

    print(f"python{version}, {architecture}, median of {runs} cold starts (GET /health)")
    print(f"{'':34}{'default':>14}{'make build':>14}{'ratio':>9}")
    rows = {name: (default_figures[name], ours_figures[name]) for name in ours_figures}
    if runs:
        rows["cold start (ms)"] = (
            round(statistics.median(default_runs) * 1000),
            round(statistics.median(ours_runs) * 1000),
        )
    for name, (default, ours) in rows.items():
        ratio = f"{ours / default:.2f}x" if default else "-"
        print(f"{name:34}{default:>14,}{ours:>14,}{ratio:>9}")


if __name__ == "__main__":
    main()
