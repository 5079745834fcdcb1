"""The migrations: they match the tables the code uses, go down and up again, and run from
Lambda (migrate.py) and from ``make migrate`` (dev/migrate.py), never through the API."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.engine import Engine

from dev import migrate as make_migrate
from dev.local_store import migrate

from {{ cookiecutter.package_name }} import migrate as migration_function
from {{ cookiecutter.package_name }}.storage import new_id
from {{ cookiecutter.package_name }}.storage.factory import container_engine
from {{ cookiecutter.package_name }}.storage.sql import SqlQuestionRepository
from {{ cookiecutter.package_name }}.storage.tables import answers, metadata, questions

from .events import FakeLambdaContext

PROJECT = Path(__file__).resolve().parent.parent
TABLES = {"questions", "answers"}


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) & TABLES


def differences(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path / 'dev.sqlite3'}"
    engine = create_engine(url)
    yield url, engine
    engine.dispose()


def test_migrated_schema_is_the_one_the_code_uses(stage: str) -> None:
    assert differences(container_engine()) == []


def test_migrations_go_down_and_up_again(stage: str) -> None:
    engine = container_engine()
    head = migration_function.handler({"command": "current"}, FakeLambdaContext())["after"]
    try:
        down = migration_function.handler({"command": "downgrade", "revision": "base"}, FakeLambdaContext())
        assert (down["before"], down["after"]) == (head, [])
        assert tables(engine) == set()
    finally:
        up = migration_function.handler({}, FakeLambdaContext())
    assert (up["command"], up["before"], up["after"]) == ("upgrade", [], head)
    assert tables(engine) == TABLES
    assert differences(engine) == []


def test_rows_keep_their_ids_when_ids_become_exact(stage: str) -> None:
    """Migration 0002 changes the id columns' type under existing rows, and the foreign key between them."""
    engine = container_engine()
    asked = SqlQuestionRepository(engine).add_question("asked before 0002")
    migration_function.handler({"command": "downgrade", "revision": "0001"}, FakeLambdaContext())
    try:
        answer_id = new_id()
        with engine.begin() as connection:
            connection.execute(
                answers.insert().values(
                    id=answer_id, question_id=asked.id, text="answered before", created_at=asked.created_at
                )
            )
    finally:
        migration_function.handler({}, FakeLambdaContext())
    read = SqlQuestionRepository(engine).get_question(asked.id)
    assert (read.text, [answer.id for answer in read.answers]) == ("asked before 0002", [answer_id])
    with engine.connect() as connection:
        upper_cased = connection.execute(select(questions.c.id).where(questions.c.id == asked.id.upper()))
        assert upper_cased.all() == []


def test_sqlite_is_migrated_by_the_same_migrations(sqlite: tuple[str, Engine]) -> None:
    url, engine = sqlite
    migrate(url)
    assert tables(engine) == TABLES
    assert differences(engine) == []
    migrate(url, "base", downgrade=True)
    assert tables(engine) == set()


def test_migration_function_refuses_unknown_and_unbounded_commands(stage: str) -> None:
    with pytest.raises(ValueError, match="not one of"):
        migration_function.handler({"command": "stamp"}, FakeLambdaContext())
    with pytest.raises(ValueError, match="needs a revision"):
        migration_function.handler({"command": "downgrade"}, FakeLambdaContext())


def test_alembic_prints_the_sql_for_review(stage: str) -> None:
    """``alembic upgrade head --sql``: the DDL, for review, without a connection."""
    output = io.StringIO()
    config = Config(str(PROJECT / "alembic.ini"), output_buffer=output)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head", sql=True)
    assert "CREATE TABLE questions" in output.getvalue()
    assert "CREATE INDEX ix_questions_created_at_id" in output.getvalue()


class FakeLambda:
    """boto3's CloudFormation and Lambda clients, as far as ``make migrate-stage STAGE=...`` uses them."""

    def __init__(self, function_error: str | None = None) -> None:
        self.function_error = function_error
        self.invoked: list[dict[str, Any]] = []

    def __call__(self, service: str) -> FakeLambda:
        return self

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        outputs = [{"OutputKey": "MigrateFunctionName", "OutputValue": f"{StackName}-MigrateFunction-1"}]
        return {"Stacks": [{"Outputs": outputs}]}

    def invoke(self, **call: Any) -> dict[str, Any]:
        self.invoked.append(call)
        payload = {"errorMessage": "boom"} if self.function_error else {"command": "upgrade"}
        response: dict[str, Any] = {"Payload": io.BytesIO(json.dumps(payload).encode()), "LogResult": ""}
        if self.function_error:
            response["FunctionError"] = self.function_error
        return response


def test_make_migrate_invokes_the_stages_migration_function_once() -> None:
    fake = FakeLambda()
    assert make_migrate.migrate_stage("dev", {"command": "upgrade"}, fake) == 0
    stack = "{{ cookiecutter.project_slug }}-dev"
    assert [call["FunctionName"] for call in fake.invoked] == [f"{stack}-MigrateFunction-1"]
    assert json.loads(fake.invoked[0]["Payload"]) == {"command": "upgrade"}


def test_make_migrate_fails_when_the_migration_fails() -> None:
    assert make_migrate.migrate_stage("dev", {"command": "upgrade"}, FakeLambda("Unhandled")) == 1
{%- if has('pre_traffic_hook') %}


class FakeDeploy(FakeLambda):
    """The Lambda and CodeDeploy clients of CodeDeploy's hook before traffic (migrate.before_traffic)."""

    def __init__(self, function_error: str | None = None, unreachable: bool = False) -> None:
        super().__init__(function_error)
        self.unreachable = unreachable
        self.verdicts: list[dict[str, str]] = []

    def invoke(self, **call: Any) -> dict[str, Any]:
        if self.unreachable:
            self.invoked.append(call)
            raise TimeoutError("the migrations outlasted the hook")
        return super().invoke(**call)

    def put_lifecycle_event_hook_execution_status(self, **verdict: str) -> None:
        self.verdicts.append(verdict)


HOOK_EVENT = {"DeploymentId": "d-EXAMPLE", "LifecycleEventHookExecutionId": "hook-execution-1"}


@pytest.mark.parametrize(
    ("fake", "status"),
    [
        (FakeDeploy(), "Succeeded"),
        (FakeDeploy("Unhandled"), "Failed"),
        (FakeDeploy(unreachable=True), "Failed"),
    ],
    ids=["migrated", "migration-failed", "migration-outlasted-the-hook"],
)
def test_the_hook_before_traffic_migrates_then_reports(
    fake: FakeDeploy, status: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Traffic moves to a release only once its migrations ran: CodeDeploy gets the verdict every time."""
    monkeypatch.setenv("MIGRATE_FUNCTION", "stack-MigrateFunction-1")
    if fake.unreachable:
        with pytest.raises(TimeoutError):
            migration_function.before_traffic(HOOK_EVENT, FakeLambdaContext(), fake)
    else:
        migration_function.before_traffic(HOOK_EVENT, FakeLambdaContext(), fake)
    assert [call["FunctionName"] for call in fake.invoked] == ["stack-MigrateFunction-1"]
    assert json.loads(fake.invoked[0]["Payload"]) == {"command": "upgrade"}
    assert fake.verdicts == [
        {"deploymentId": "d-EXAMPLE", "lifecycleEventHookExecutionId": "hook-execution-1", "status": status}
    ]
{%- endif %}
