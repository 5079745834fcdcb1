"""``make secrets`` (dev/stage_secrets.py): a stage's SecureStrings, against the AWS emulator."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from dev import local_aws, stage_secrets


@pytest.fixture
def ssm(local_services: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The emulator's SSM, which ``main`` reaches too."""
    for key, value in local_aws.client_environment().items():
        monkeypatch.setenv(key, value)
    return local_aws.client("ssm")


@pytest.fixture
def stage() -> str:
    """A stage no other test uses: its parameters start missing."""
    return f"secrets-{uuid.uuid4().hex[:12]}"


def value(ssm: Any, name: str) -> str:
    parameter = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert parameter["Type"] == "SecureString"
    return str(parameter["Value"])


def test_creates_a_random_cursor_signing_key(ssm: Any, stage: str) -> None:
    name = stage_secrets.parameter_name(stage, "cursor-signing-key")
    assert name == f"/{{ cookiecutter.project_slug }}/{stage}/cursor-signing-key"
    assert stage_secrets.create_if_missing(ssm, name) is True
    other = stage_secrets.parameter_name(f"{stage}-other", "cursor-signing-key")
    stage_secrets.create_if_missing(ssm, other)
    assert len(value(ssm, name)) == 64
    assert value(ssm, name) != value(ssm, other)


def test_an_existing_value_is_kept(ssm: Any, stage: str) -> None:
    name = stage_secrets.parameter_name(stage, "cursor-signing-key")
    ssm.put_parameter(Name=name, Value="chosen-by-hand", Type="SecureString")
    assert stage_secrets.create_if_missing(ssm, name) is False
    assert value(ssm, name) == "chosen-by-hand"


def test_a_value_that_starts_with_a_dash_is_stored_as_it_is(
    ssm: Any, stage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """About one random key in 64 starts with '-', which a command line would take for an option."""
    monkeypatch.setattr("secrets.token_urlsafe", lambda size: "-" + "k" * 63)
    name = stage_secrets.parameter_name(stage, "cursor-signing-key")
    assert stage_secrets.create_if_missing(ssm, name) is True
    assert value(ssm, name) == "-" + "k" * 63


def test_main_creates_what_is_missing_and_never_prints_a_value(
    ssm: Any, stage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert stage_secrets.main([stage]) == 0
    first = capsys.readouterr()
    key = value(ssm, stage_secrets.parameter_name(stage, "cursor-signing-key"))
    assert "cursor-signing-key created" in first.out
    assert "admin-token does not exist" in first.out, "the way to enable moderation is not shown"
    assert stage_secrets.main([stage, "--admin-token"]) == 0
    second = capsys.readouterr()
    token = value(ssm, stage_secrets.parameter_name(stage, "admin-token"))
    assert "cursor-signing-key exists, kept" in second.out
    assert "admin-token created" in second.out
    assert value(ssm, stage_secrets.parameter_name(stage, "cursor-signing-key")) == key
    printed = first.out + first.err + second.out + second.err
    assert key not in printed
    assert token not in printed


def test_a_bad_stage_name_stops_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        stage_secrets.main(["dev/other"])
    assert stopped.value.code == 2
    assert "'dev/other' is no stage name" in capsys.readouterr().err
