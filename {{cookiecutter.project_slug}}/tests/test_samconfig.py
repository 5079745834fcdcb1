"""The stage's parameters in samconfig.toml (dev/samconfig.py), which a deploy adding its own gives first."""

from __future__ import annotations

import pytest

from dev.samconfig import SamconfigError, main, stage_overrides


def test_each_stage_keeps_its_own_overrides() -> None:
    assert stage_overrides("dev") == ["Stage=dev"]
{%- if has('sql_store') %}
    assert stage_overrides("prod") == [
        "Stage=prod TrafficShifting=Canary10Percent10Minutes DatabaseMultiAz=true"
    ]
{%- elif has('key_value_store') %}
    assert stage_overrides("prod") == ["Stage=prod TrafficShifting=Canary10Percent10Minutes"]
{%- endif %}


def test_a_stage_without_settings_is_refused() -> None:
    with pytest.raises(SamconfigError, match=r"samconfig\.toml has no \[qa\.deploy\.parameters\]"):
        stage_overrides("qa")


def test_the_command_prints_them_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dev"]) == 0
    assert capsys.readouterr().out == "Stage=dev\n"
    assert main(["qa"]) == 1
    assert "samconfig.toml has no [qa.deploy.parameters]" in capsys.readouterr().err
