"""Fuzz tier: schemathesis against each store's API, over HTTP, with every check, finds nothing.

For each store a generated project runs on (DynamoDB on the emulator, SQLite
as ``make dev`` runs it, a real PostgreSQL and a real MySQL or MariaDB, each
with a database of its own), the project's app is served from its own cached
environment on a free port (``tests/fuzz_server.py``) and schemathesis runs
every phase (examples, coverage, fuzzing, stateful, with the links it infers)
in both modes (schema-valid and schema-invalid data) with every check, from
its ``/openapi.json``. Once more, on DynamoDB, through the project's Lambda
handler: each request becomes an API Gateway HTTP API event.

Each run is seeded (``SEED``), so a failure replays; it prints what it sent
and found. One check is told one thing the schema cannot say: a cursor of the
documented form that the API did not sign is refused (400).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.combinations import COMBINATIONS, Combination
from tests.support import FUZZ, IDENTITY_PACKAGE, ProjectEnv, RenderedProject, project_env, run

SERVER = Path(__file__).resolve().parent / "fuzz_server.py"
SEED = 20261207
# Cases per operation and phase: about 1,400 requests, 20-50 seconds on a 2-core machine
# (the run grows faster than this number: 500 took three times as long);
# fewer through the Lambda handler, which adds the event and little else to fuzz.
MAX_EXAMPLES = 300
MAX_EXAMPLES_THROUGH_LAMBDA = 100
SECONDS_TO_LISTEN = 120
# What positive_data_acceptance takes from a schema-valid request by default, plus 400 for
# GET /questions: a cursor of the documented form is still refused unless this API signed it.
ACCEPTED_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
CONFIG = f"""\
[[operations]]
include-path = "/questions"
include-method = "GET"
checks.positive_data_acceptance.expected-statuses = {json.dumps([*ACCEPTED_STATUSES, "400"])}
"""


@dataclass(frozen=True)
class FuzzRun:
    """One schemathesis run: ``store`` served by ``combination``'s project, through ``entry``."""

    store: str  # DynamoDB, SQLite, PostgreSQL, MySQL
    combination: Combination
    entry: str = "app"  # or "lambda": the project's Lambda handler

    @property
    def max_examples(self) -> int:
        return MAX_EXAMPLES if self.entry == "app" else MAX_EXAMPLES_THROUGH_LAMBDA

    @property
    def name(self) -> str:
        return self.store if self.entry == "app" else f"{self.store}-through-lambda"

    @property
    def server_store(self) -> str:
        """fuzz_server.py's STORE: ``make dev``'s for SQLite, else the one the project's tests use."""
        return "dev" if self.store == "SQLite" else "configured"


def serves(combination: Combination, store: str) -> bool:
    if store == "DynamoDB":
        return combination["storage"] == "dynamodb"
    engine = {"SQLite": None, "PostgreSQL": "postgres", "MySQL": "mysql"}[store]
    return combination["storage"] == "rds" and engine in (None, combination["rds_engine"])


def first_serving(store: str, lambda_handler: bool = False) -> Combination | None:
    """The combination to fuzz ``store`` with: secrets in the environment (no emulator to start) and
    SAM's handler (``handler.py``) where there is a choice."""
    candidates = [
        combination
        for combination in COMBINATIONS
        if serves(combination, store) and (not lambda_handler or combination["deployment"] != "zappa")
    ]
    ranked = sorted(candidates, key=lambda c: (c["secrets"] != "env", c["deployment"] != "sam"))
    return ranked[0] if ranked else None


def fuzz_runs() -> list[FuzzRun]:
    runs = [
        FuzzRun(store, combination)
        for store in ("DynamoDB", "SQLite", "PostgreSQL", "MySQL")
        if (combination := first_serving(store)) is not None
    ]
    through_lambda = first_serving("DynamoDB", lambda_handler=True)
    if through_lambda is not None:
        runs.append(FuzzRun("DynamoDB", through_lambda, entry="lambda"))
    return runs


# Each run is a unit of work of its own (tests/conftest.py schedules it).
FUZZ_RUNS = [
    pytest.param(fuzz, id=fuzz.name, marks=pytest.mark.xdist_group(f"{FUZZ}:{fuzz.name}"))
    for fuzz in fuzz_runs()
]


@contextmanager
def serving(
    project: RenderedProject, env: ProjectEnv, fuzz: FuzzRun, work: Path
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The project's API on a free port for the block: its base URL, and what the server told."""
    ready = work / "server.json"
    log = (work / "server.log").open("w", encoding="utf-8")
    database = {"DATABASE_URL": f"sqlite:///{work / 'dev.sqlite3'}"} if fuzz.store == "SQLite" else {}
    server = subprocess.Popen(
        [env.python, SERVER, IDENTITY_PACKAGE, fuzz.server_store, fuzz.entry, ready],
        cwd=project.path,
        env=env.environ(**database),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + SECONDS_TO_LISTEN
        while not ready.exists():
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                output = (work / "server.log").read_text(encoding="utf-8")[-3000:]
                pytest.fail(f"the API did not start:\n{output}", pytrace=False)
            time.sleep(0.1)
        told = json.loads(ready.read_text(encoding="utf-8"))
        yield f"http://127.0.0.1:{told['port']}", told
    finally:
        # SIGTERM: the server leaves its store's blocks, which drop its database.
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.mark.fuzz
@pytest.mark.parametrize("fuzz", FUZZ_RUNS)
def test_schemathesis_finds_nothing(
    fuzz: FuzzRun,
    rendered: Callable[[Combination], RenderedProject],
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    project = rendered(fuzz.combination)
    env = project_env(project.path, fuzz.combination["python_version"])
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG, encoding="utf-8")
    report = tmp_path / "report.json"
    schemathesis = Path(sys.prefix) / "bin" / "st"
    with serving(project, env, fuzz, tmp_path) as (base_url, told):
        result = run(
            [
                schemathesis,
                "--config-file",
                config,
                "run",
                f"{base_url}/openapi.json",
                "--checks",
                "all",
                "--mode",
                "all",
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--max-examples",
                str(fuzz.max_examples),
                "--seed",
                str(SEED),
                "--generation-database",
                "none",
                "--header",
                f"Authorization: Bearer {told['admin_token']}",
                "--report",
                "json",
                "--report-json-path",
                report,
                "--no-color",
            ],
            cwd=tmp_path,
            timeout=600,
        )
    assert report.is_file(), f"schemathesis wrote no report:\n{result.describe()}"
    outcome = json.loads(report.read_text(encoding="utf-8"))
    cases = outcome["test_cases"]
    phases = {name: phase["status"] for name, phase in outcome["phases"].items()}
    summary = (
        f"{fuzz.name} ({fuzz.combination.name}): {cases['generated']} cases sent, "
        f"{cases['with_failures']} failed, {len(outcome['errors'])} errors, seed {SEED}, "
        f"{outcome['running_time']:.0f} s; phases {phases}"
    )
    print(summary)
    record_property("fuzz_cases", f"{cases['generated']} sent, {cases['with_failures']} failed")
    assert outcome["complete"], f"{summary}\n{result.describe()}"
    assert outcome["operations"]["tested"] == outcome["operations"]["total"] > 0, result.describe()
    # Every phase ran; examples only where the schema has some (it has none).
    ran = {name: status for name, status in phases.items() if name != "examples"}
    assert set(ran.values()) == {"success"}, f"{summary}\n{result.describe()}"
    unusable = {name: found for name, found in outcome["warnings"].items() if found}
    assert not unusable, f"schemathesis could not use the schema as written: {unusable}\n{result.describe()}"
    assert (cases["with_failures"], outcome["errors"]) == (0, []), f"{summary}\n{result.describe(200)}"
    assert result.returncode == 0, result.describe()
