"""The template configuration the pipeline deploys with (dev/template_configuration.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dev import template_configuration
from dev.template_configuration import ConfigurationError, configuration

PROJECT = Path(__file__).resolve().parent.parent
{%- if has('secrets_in_environment') %}
SECRETS = {
    "CURSOR_SIGNING_KEY": "k" * 48,
    "ADMIN_TOKEN": "admin-token",
{%- if has('sql_store') %}
    "DATABASE_PASSWORD": "p" * 24,
{%- endif %}
}
{%- elif has('secrets_service') %}
SECRETS: dict[str, str] = {}
{%- endif %}
# What CodeBuild's environment holds: the pipeline's permissions boundary{% if has('secrets_in_environment') %} and the stage's secrets{% endif %}.
BOUNDARY = "arn:aws:iam::123456789012:policy/{{ cookiecutter.project_slug }}-dev-permissions-boundary"
ENVIRON = {"PERMISSIONS_BOUNDARY_ARN": BOUNDARY, **SECRETS}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the committed stage files{% if has('sql_store') %}, with the network filled in as a user would{% endif %}."""
    for stage in ("dev", "prod"):
        name = f"template-configuration.{stage}.json"
        shutil.copy(PROJECT / name, tmp_path / name)
{%- if has('in_vpc') %}
        document = json.loads((tmp_path / name).read_text(encoding="utf-8"))
        network = {"VpcId": "vpc-0a1b2c3d", "PrivateSubnetIds": "subnet-0a1b2c3d,subnet-4e5f6a7b"}
        document["Parameters"].update(network)
        (tmp_path / name).write_text(json.dumps(document), encoding="utf-8")
{%- endif %}
    return tmp_path


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_each_stage_deploys_its_own_stack_parameters_and_tags(project: Path, stage: str) -> None:
    document = configuration(stage, ENVIRON, project)
    assert document["Parameters"]["Stage"] == stage
    assert document["Parameters"]["PermissionsBoundaryArn"] == BOUNDARY
    assert document["Tags"] == {"project": "{{ cookiecutter.project_slug }}", "stage": stage}
{%- if has('secrets_in_environment') %}
    assert document["Parameters"]["CursorSigningKey"] == SECRETS["CURSOR_SIGNING_KEY"]
    assert document["Parameters"]["AdminToken"] == SECRETS["ADMIN_TOKEN"]
{%- if has('sql_store') %}
    assert document["Parameters"]["DatabaseMasterPassword"] == SECRETS["DATABASE_PASSWORD"]
{%- endif %}


def test_committed_files_hold_no_secret() -> None:
    for stage in ("dev", "prod"):
        committed = (PROJECT / f"template-configuration.{stage}.json").read_text(encoding="utf-8")
        assert "CursorSigningKey" not in committed
        assert "AdminToken" not in committed


def test_a_missing_secret_stops_the_build(project: Path) -> None:
    secrets = {key: value for key, value in ENVIRON.items() if key != "CURSOR_SIGNING_KEY"}
    with pytest.raises(ConfigurationError, match="CURSOR_SIGNING_KEY is not set"):
        configuration("dev", secrets, project)


def test_moderation_may_stay_disabled(project: Path) -> None:
    secrets = {key: value for key, value in ENVIRON.items() if key != "ADMIN_TOKEN"}
    assert configuration("dev", secrets, project)["Parameters"]["AdminToken"] == ""
{%- elif has('secrets_service') %}


def test_secrets_stay_out_of_the_configuration(project: Path) -> None:
    parameters = configuration("dev", {**ENVIRON, "CURSOR_SIGNING_KEY": "leaked"}, project)["Parameters"]
    assert "leaked" not in parameters.values()
{%- endif %}
{%- if has('sql_store') %}


def test_the_network_must_be_filled_in(project: Path) -> None:
    name = "template-configuration.dev.json"
    document = json.loads((project / name).read_text(encoding="utf-8"))
    document["Parameters"].update(VpcId="", PrivateSubnetIds="")  # as generated
    (project / name).write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(
        ConfigurationError, match=r"set VpcId, PrivateSubnetIds in template-configuration\.dev\.json"
    ):
        configuration("dev", ENVIRON, project)
{%- endif %}


def test_no_deploy_without_the_permissions_boundary(project: Path) -> None:
    """The deploy role creates no role without it: the build stops here, not half-way through a deploy."""
    environ = {key: value for key, value in ENVIRON.items() if key != "PERMISSIONS_BOUNDARY_ARN"}
    with pytest.raises(ConfigurationError, match="PERMISSIONS_BOUNDARY_ARN is not set"):
        configuration("dev", environ, project)


def test_an_unknown_stage_is_refused(project: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"no template-configuration\.qa\.json"):
        configuration("qa", ENVIRON, project)


def test_a_file_for_another_stage_is_refused(project: Path) -> None:
    (project / "template-configuration.qa.json").write_text(
        (project / "template-configuration.dev.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    with pytest.raises(ConfigurationError, match="deploys Stage='dev', not 'qa'"):
        configuration("qa", ENVIRON, project)


def test_main_writes_template_configuration_json(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(template_configuration, "PROJECT", project)
    for key, value in ENVIRON.items():
        monkeypatch.setenv(key, value)
    assert template_configuration.main(["dev"]) == 0
    written = json.loads((project / "template-configuration.json").read_text(encoding="utf-8"))
    assert written == configuration("dev", ENVIRON, project)
    assert "stage dev" in capsys.readouterr().out
