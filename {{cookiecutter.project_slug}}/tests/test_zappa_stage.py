"""``make deploy``'s Zappa step (dev/zappa_stage.py): the settings Zappa gets from the stack, the calls."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dev import zappa_stage

SETTINGS = json.loads(zappa_stage.SETTINGS_FILE.read_text())
OUTPUTS = {
    "FunctionName": "{{ cookiecutter.project_slug }}-api-dev",
    "FunctionRoleArn": "arn:aws:iam::123456789012:role/{{ cookiecutter.project_slug }}-dev-FunctionRole-1A2B",
    "DeploymentBucketName": "{{ cookiecutter.project_slug }}-dev-deploymentbucket-1a2b",
{%- if has('key_value_store') %}
    "TableName": "{{ cookiecutter.project_slug }}-dev-Table-1A2B",
{%- elif has('sql_store') %}
    "FunctionSecurityGroupId": "sg-0123456789abcdef0",
    "PrivateSubnetIds": "subnet-0aaa,subnet-0bbb",
    "DatabaseUrl": "{% if has('postgresql_database') %}postgresql+psycopg{% elif has('mysql_database') %}mysql+pymysql{% endif %}://db.example.internal:5432/app?connect_timeout=5",
    "DatabaseTls": "require",
    "DatabasePoolSize": "1",
{%- if has('secrets_service') %}
    "DatabaseSecretArn": "arn:aws:secretsmanager:{{ cookiecutter.aws_region }}:123456789012:secret:rds!db-1a2b",
{%- elif has('secrets_in_environment') %}
    "DatabaseUsername": "dbadmin",
{%- endif %}
{%- endif %}
{%- if has('secrets_service') %}
    "SecretsPath": "/{{ cookiecutter.project_slug }}/dev/",
{%- endif %}
{%- if has('site') %}
    "SiteUrl": "https://d111111abcdef8.cloudfront.net",
{%- endif %}
}
{%- if has('secrets_in_environment') %}
SECRETS = {
    "CURSOR_SIGNING_KEY": "k" * 40,
    "ADMIN_TOKEN": "a-token",
{%- if has('sql_store') %}
    "DATABASE_PASSWORD": "pass.word_with~marks",
{%- endif %}
}
{%- elif has('secrets_service') %}
SECRETS: dict[str, str] = {}
{%- endif %}


def test_stage_settings_come_from_the_stack() -> None:
    settings = zappa_stage.stage_settings(SETTINGS, "dev", OUTPUTS, SECRETS)
    dev = settings["dev"]
    assert dev["role_arn"] == OUTPUTS["FunctionRoleArn"]
    assert dev["s3_bucket"] == OUTPUTS["DeploymentBucketName"]
    assert dev["manage_roles"] is False, "Zappa would attach its broad default policy"
    environment = dev["aws_environment_variables"]
    assert environment["SERVICE_NAME"] == "{{ cookiecutter.project_slug }}"
    assert environment["LOG_LEVEL"] == "DEBUG"
{%- if has('key_value_store') %}
    assert environment["TABLE_NAME"] == OUTPUTS["TableName"]
    assert "vpc_config" not in dev
{%- elif has('sql_store') %}
    assert dev["vpc_config"] == {
        "SubnetIds": ["subnet-0aaa", "subnet-0bbb"],
        "SecurityGroupIds": ["sg-0123456789abcdef0"],
    }
    assert environment["DATABASE_TLS"] == "require"
    assert environment["DATABASE_POOL_SIZE"] == "1"
{%- if has('secrets_service') %}
    assert environment["DATABASE_URL"] == OUTPUTS["DatabaseUrl"]
    assert environment["DATABASE_SECRET_ARN"] == OUTPUTS["DatabaseSecretArn"]
{%- elif has('secrets_in_environment') %}
    scheme, _, rest = OUTPUTS["DatabaseUrl"].partition("://")
    assert environment["DATABASE_URL"] == f"{scheme}://dbadmin:pass.word_with~marks@{rest}"
{%- endif %}
{%- endif %}
{%- if has('secrets_service') %}
    assert environment["SECRETS_PATH"] == "/{{ cookiecutter.project_slug }}/dev/"
{%- elif has('secrets_in_environment') %}
    assert environment["CURSOR_SIGNING_KEY"] == SECRETS["CURSOR_SIGNING_KEY"]
    assert environment["ADMIN_TOKEN"] == "a-token"
{%- endif %}
{%- if has('site') %}
    assert environment["SITE_ORIGINS"] == OUTPUTS["SiteUrl"]
{%- endif %}
    assert settings["prod"] == SETTINGS["prod"], "another stage's settings are left as they are"


def test_a_stage_that_extends_another_keeps_its_own_values() -> None:
    prod = zappa_stage.stage_settings(SETTINGS, "prod", OUTPUTS, SECRETS)["prod"]
    assert "extends" not in prod
    assert prod["app_function"] == SETTINGS["dev"]["app_function"]
    assert prod["keep_warm"] is True
    assert prod["aws_environment_variables"]["LOG_LEVEL"] == "INFO"


def test_the_settings_name_what_the_package_is_built_for() -> None:
    dev = SETTINGS["dev"]
    assert dev["runtime"] == "python{{ cookiecutter.python_version }}"
    assert dev["architecture"] == "{{ cookiecutter.architecture }}"
    assert dev["app_function"] == "{{ cookiecutter.package_name }}.wsgi.app"
    assert (dev["use_precompiled_packages"], dev["slim_handler"]) == (False, False)
    assert {"tests", "dev", "src", "boto3", "botocore"} <= set(dev["exclude"])
{%- if has('secrets_in_environment') %}


def test_printed_settings_mask_the_secrets() -> None:
    settings = zappa_stage.stage_settings(SETTINGS, "dev", OUTPUTS, SECRETS)
    printed = json.dumps(zappa_stage.shown(settings, "dev"))
    assert SECRETS["CURSOR_SIGNING_KEY"] not in printed
    assert "a-token" not in printed
{%- if has('sql_store') %}
    assert "pass.word_with~marks" not in printed
{%- endif %}
{%- endif %}


class FakeCloudFormation:
    def __init__(self, api_url: str = "") -> None:
        self.parameters = [{"ParameterKey": "Stage", "ParameterValue": "dev"}]
        self.parameters.append({"ParameterKey": "ApiUrl", "ParameterValue": api_url})
        self.updates: list[dict[str, Any]] = []

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        outputs = [{"OutputKey": key, "OutputValue": value} for key, value in OUTPUTS.items()]
        return {"Stacks": [{"StackName": StackName, "Outputs": outputs, "Parameters": self.parameters}]}

    def describe_stack_resource(self, StackName: str, LogicalResourceId: str) -> dict[str, Any]:
        assert (StackName, LogicalResourceId) == (OUTPUTS["FunctionName"], "ApiV2")
        return {"StackResourceDetail": {"PhysicalResourceId": "a1b2c3d4e5"}}

    def update_stack(self, **request: Any) -> None:
        self.updates.append(request)

    def get_waiter(self, name: str) -> Any:
        assert name == "stack_update_complete"
        return type("Waiter", (), {"wait": lambda self, **_: None})()


class FakeLambda:
    def __init__(self, exists: bool) -> None:
        self.exists = exists

    def get_function(self, FunctionName: str) -> dict[str, Any]:
        if not self.exists:
            error = {"Error": {"Code": "ResourceNotFoundException", "Message": FunctionName}}
            raise ClientError(error, "GetFunction")  # type: ignore[arg-type]
        return {}


# Stands in for Zappa: records its arguments, the settings file's mode and content.
FAKE_ZAPPA = """
import json, os, stat, sys
settings = sys.argv[sys.argv.index("--settings_file") + 1]
mode = stat.S_IMODE(os.stat(settings).st_mode)
record = {"argv": sys.argv[1:], "mode": mode, "settings": json.load(open(settings))}
json.dump(record, open(os.environ["ZAPPA_RECORD"], "w"))
"""


@pytest.mark.parametrize("exists", [False, True], ids=["first deploy", "update"])
def test_deploy_runs_zappa_with_the_stack_settings_and_records_the_api_url(
    exists: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    zappa = tmp_path / "zappa"
    zappa.write_text(f"#!{sys.executable}\n{FAKE_ZAPPA}")
    zappa.chmod(zappa.stat().st_mode | stat.S_IXUSR)
    record = tmp_path / "record.json"
    monkeypatch.setenv("ZAPPA_RECORD", str(record))
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    cloudformation = FakeCloudFormation()
    clients = {"cloudformation": cloudformation, "lambda": FakeLambda(exists)}

    assert zappa_stage.deploy("dev", Path(".zappa/dev.zip"), str(zappa), clients.__getitem__) == 0

    called = json.loads(record.read_text())
    settings_file = called["argv"][called["argv"].index("--settings_file") + 1]
    assert called["argv"][:2] == ["update" if exists else "deploy", "dev"]
    assert called["argv"][-2:] == ["--zip", ".zappa/dev.zip"]
    assert called["mode"] == 0o600
    assert not Path(settings_file).exists(), "the settings file outlives the deploy"
    assert called["settings"]["dev"]["role_arn"] == OUTPUTS["FunctionRoleArn"]
    (update,) = cloudformation.updates
    assert update["UsePreviousTemplate"] is True
    assert update["Parameters"] == [
        {"ParameterKey": "Stage", "UsePreviousValue": True},
        {
            "ParameterKey": "ApiUrl",
            "ParameterValue": "https://a1b2c3d4e5.execute-api.{{ cookiecutter.aws_region }}.amazonaws.com/dev/",
        },
    ]


def test_an_unchanged_api_url_leaves_the_stack_alone() -> None:
    url = "https://a1b2c3d4e5.execute-api.{{ cookiecutter.aws_region }}.amazonaws.com/dev/"
    cloudformation = FakeCloudFormation(api_url=url)
    zappa_stage.record_api_url(cloudformation, "{{ cookiecutter.project_slug }}-dev", url)
    assert cloudformation.updates == []
