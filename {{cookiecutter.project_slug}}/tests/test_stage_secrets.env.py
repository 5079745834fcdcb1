"""The stage's secrets (dev/stage_secrets.py): read from the environment, never on a command line."""

from __future__ import annotations

import json
{%- if has('machine_deploys') %}
import stat
import sys
from pathlib import Path
{%- endif %}
from typing import Any

{% if has('pipeline_deploys') -%}
import boto3
{% endif -%}
import pytest
{%- if has('pipeline_deploys') %}
from botocore.stub import Stubber
{%- endif %}

from dev import stage_secrets
from dev.stage_secrets import SecretsError, read, stack_parameters

# A value that begins with "-", which a command line would take for an option.
SECRETS = {
    "CURSOR_SIGNING_KEY": "-k" + "k" * 46,
    "ADMIN_TOKEN": "an admin's token",
{%- if has('sql_store') %}
    "DATABASE_PASSWORD": "pass.word_with~marks",
{%- endif %}
}
SOURCE = ".env (see .env.example) or the environment"


def test_every_secret_is_read_and_the_admin_token_may_be_empty() -> None:
    assert read(SECRETS, SOURCE) == SECRETS
    without_token = {key: value for key, value in SECRETS.items() if key != "ADMIN_TOKEN"}
    assert read(without_token, SOURCE)["ADMIN_TOKEN"] == ""


def test_a_missing_secret_names_its_variable_and_where_to_set_it() -> None:
    missing = {key: value for key, value in SECRETS.items() if key != "CURSOR_SIGNING_KEY"}
    with pytest.raises(SecretsError, match=r"CURSOR_SIGNING_KEY is not set: put it in \.env \(see"):
        read(missing, SOURCE)


def test_the_stack_parameters_among_the_secrets() -> None:
{%- if has('zappa_built') and has('key_value_store') %}
    # Zappa gives the function every secret: the stack takes none.
    assert stack_parameters(SECRETS) == {}
{%- else %}
    assert stack_parameters(SECRETS) == {
{%- if has('sam_built') %}
        "CursorSigningKey": SECRETS["CURSOR_SIGNING_KEY"],
        "AdminToken": SECRETS["ADMIN_TOKEN"],
{%- endif %}
{%- if has('sql_store') %}
        "DatabaseMasterPassword": SECRETS["DATABASE_PASSWORD"],
{%- endif %}
    }
{%- endif %}
{%- if has('machine_deploys') %}


# Stands in for the deploy tool: records its arguments, environment, standard input (when
# READ_STDIN is set) and any file:// argument's content and mode, then exits with EXIT.
RECORDER = """
import json, os, stat, sys
record = {"argv": sys.argv[1:], "environ": dict(os.environ)}
if os.environ.get("READ_STDIN"):
    record["stdin"] = sys.stdin.read()
for argument in sys.argv[1:]:
    path = argument.removeprefix("file://")
    if argument.startswith("file://") and os.path.isfile(path):
        record["file"] = {
            "path": path,
            "mode": stat.S_IMODE(os.stat(path).st_mode),
            "directory_mode": stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode),
            "content": open(path, encoding="utf-8").read(),
        }
json.dump(record, open(os.environ["RECORD"], "w", encoding="utf-8"))
sys.exit(int(os.environ.get("EXIT", "0")))
"""


@pytest.fixture
def recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """An executable that records how it was run, and where its record goes; the secrets set."""
    executable = tmp_path / "recorder"
    executable.write_text(f"#!{sys.executable}\n{RECORDER}", encoding="utf-8")
    executable.chmod(executable.stat().st_mode | stat.S_IXUSR)
    record = tmp_path / "record.json"
    monkeypatch.setenv("RECORD", str(record))
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    return executable, record


def assert_no_secret_in(record: dict[str, Any]) -> None:
    for value in SECRETS.values():
        assert not any(value in argument for argument in record["argv"]), f"a secret in {record['argv']}"
        assert value not in record["environ"].values(), "a secret in the tool's environment"
    assert not set(SECRETS) & set(record["environ"]), "the secrets' variables in the tool's environment"
{%- endif %}
{%- if has('sam_deploys') %}


@pytest.mark.parametrize("exit_status", [0, 3], ids=["deployed", "failed"])
def test_sam_gets_the_secrets_in_a_private_file_that_is_then_removed(
    recorder: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, exit_status: int
) -> None:
    sam, record_file = recorder
    monkeypatch.setenv("EXIT", str(exit_status))

    assert stage_secrets.main(["deploy", "dev", "--sam", str(sam)]) == exit_status

    record = json.loads(record_file.read_text(encoding="utf-8"))
    assert record["argv"][:5] == ["deploy", "--config-env", "dev", "--parameter-overrides", "Stage=dev"]
    assert record["argv"][5] == f"file://{record['file']['path']}"
    assert_no_secret_in(record)
    assert record["file"]["mode"] == 0o600
    assert record["file"]["directory_mode"] == 0o700
    assert json.loads(record["file"]["content"]) == stack_parameters(SECRETS)
    assert not Path(record["file"]["path"]).parent.exists(), "the secrets' file outlives the deploy"


def test_a_missing_secret_stops_before_sam_runs(
    recorder: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sam, record_file = recorder
    monkeypatch.delenv("CURSOR_SIGNING_KEY")
    assert stage_secrets.main(["deploy", "dev", "--sam", str(sam), "--env-file", ".env.prod"]) == 1
    assert "CURSOR_SIGNING_KEY is not set: put it in .env.prod" in capsys.readouterr().err
    assert not record_file.exists()
{%- elif has('cloudformation_deploys') %}


def test_the_parameters_document_is_what_cloudformation_deploy_reads() -> None:
    document = stage_secrets.parameters_document(["Stage=prod", "DatabaseMultiAz=true"], SECRETS)
    given = {"Stage": "prod", "DatabaseMultiAz": "true"}
    assert document == {"Parameters": {**given, **stack_parameters(SECRETS)}}


def test_a_malformed_parameter_is_refused() -> None:
    with pytest.raises(SecretsError, match="'Stage' is no stack parameter: Name=value"):
        stage_secrets.parameters_document(["Stage"], SECRETS)


@pytest.mark.parametrize("exit_status", [0, 3], ids=["deployed", "failed"])
def test_the_command_gets_the_parameters_on_its_standard_input(
    recorder: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, exit_status: int
) -> None:
    aws, record_file = recorder
    monkeypatch.setenv("READ_STDIN", "1")
    monkeypatch.setenv("EXIT", str(exit_status))
    command = [str(aws), "cloudformation", "deploy", "--parameter-overrides", "file:///dev/stdin"]

    assert stage_secrets.main(["stack", "Stage=dev", "--", *command]) == exit_status

    record = json.loads(record_file.read_text(encoding="utf-8"))
    assert record["argv"] == command[1:]
    assert_no_secret_in(record)
    assert json.loads(record["stdin"]) == {"Parameters": {"Stage": "dev", **stack_parameters(SECRETS)}}


def test_a_missing_secret_stops_before_the_command_runs(
    recorder: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws, record_file = recorder
    monkeypatch.delenv("CURSOR_SIGNING_KEY")
    assert stage_secrets.main(["stack", "Stage=dev", "--", str(aws)]) == 1
    assert "CURSOR_SIGNING_KEY is not set" in capsys.readouterr().err
    assert not record_file.exists()


def test_without_a_command_it_stops_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        stage_secrets.main(["stack", "Stage=dev"])
    assert stopped.value.code == 2
    assert "give the command to run after --" in capsys.readouterr().err
{%- elif has('pipeline_deploys') %}


@pytest.fixture
def secretsmanager() -> Any:
    """A client that calls nothing: the calls it should make are stubbed, and checked."""
    return boto3.client(
        "secretsmanager",
        region_name="{{ cookiecutter.aws_region }}",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def test_the_first_store_creates_the_secret(secretsmanager: Any) -> None:
    name = "{{ cookiecutter.project_slug }}-dev/stack-parameters"
    with Stubber(secretsmanager) as stub:
        stub.add_client_error(
            "put_secret_value",
            service_error_code="ResourceNotFoundException",
            expected_params={"SecretId": name, "SecretString": json.dumps(SECRETS)},
        )
        stub.add_response(
            "create_secret",
            {"Name": name},
            expected_params={
                "Name": name,
                "Description": "The dev stack's NoEcho parameters, which its pipeline's build reads",
                "SecretString": json.dumps(SECRETS),
            },
        )
        assert stage_secrets.store(secretsmanager, "dev", SECRETS) == "created"
        stub.assert_no_pending_responses()


def test_a_later_store_updates_it(secretsmanager: Any) -> None:
    name = "{{ cookiecutter.project_slug }}-prod/stack-parameters"
    with Stubber(secretsmanager) as stub:
        stub.add_response(
            "put_secret_value",
            {"Name": name},
            expected_params={"SecretId": name, "SecretString": json.dumps(SECRETS)},
        )
        assert stage_secrets.store(secretsmanager, "prod", SECRETS) == "updated"
        stub.assert_no_pending_responses()


def test_a_missing_secret_stores_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("CURSOR_SIGNING_KEY")
    monkeypatch.setattr(stage_secrets, "store", lambda *_: pytest.fail("stored without every secret"))
    assert stage_secrets.main(["store", "dev"]) == 1
    assert "CURSOR_SIGNING_KEY is not set" in capsys.readouterr().err
{%- endif %}
