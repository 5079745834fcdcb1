"""``make deploy-check`` (dev/deploy_check.py): the stack's variables against what the app reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dev import deploy_check


def checked(capsys: pytest.CaptureFixture[str], *arguments: str | Path) -> tuple[int, list[str]]:
    status = deploy_check.main([str(argument) for argument in arguments])
    return status, capsys.readouterr().err.splitlines()


def test_the_stack_sets_what_the_app_reads(capsys: pytest.CaptureFixture[str]) -> None:
    assert checked(capsys) == (0, [])
    read = {item.name for item in deploy_check.reads()}
    assert {"STAGE", "SERVICE_NAME"} <= read, "the app's reads went unseen"


def changed(tmp_path: Path, path: Path, old: str, new: str) -> Path:
    """A copy of ``path`` with each ``old`` replaced."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path.name}"
    copy = tmp_path / path.name
    copy.write_text(text.replace(old, new), encoding="utf-8")
    return copy
{%- if has('sam_built') %}


def test_a_renamed_variable_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = changed(tmp_path, deploy_check.TEMPLATE, "SERVICE_NAME:", "SERVICE:")
    status, problems = checked(capsys, "--template", template)
    assert status == 1
    assert "deploy-check: ApiFunction sets SERVICE, which nothing in the package reads" in problems
    unset = "deploy-check: ApiFunction does not set SERVICE_NAME, read at"
    assert any(problem.startswith(unset) for problem in problems)


def test_a_reference_to_nothing_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = changed(tmp_path, deploy_check.TEMPLATE, "STAGE: !Ref Stage", "STAGE: !Ref Stag")
    status, problems = checked(capsys, "--template", template)
    assert status == 1
    assert "deploy-check: ApiFunction: STAGE refers to Stag, which the template does not define" in problems


def test_the_api_function_is_required() -> None:
    template = deploy_check.load_template(deploy_check.TEMPLATE)
    template["Resources"]["Api"] = template["Resources"].pop(deploy_check.API)
    problems = deploy_check.wiring_problems(deploy_check.sam_wiring(template), deploy_check.reads())
    assert problems[-1] == f"the template defines no function {deploy_check.API}"
{%- elif has('zappa_built') %}


def test_a_renamed_variable_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = changed(tmp_path, deploy_check.SETTINGS_FILE, '"STAGE": "dev"', '"STAGES": "dev"')
    status, problems = checked(capsys, "--settings", settings)
    assert status == 1
    assert "deploy-check: zappa sets STAGES, which nothing in the package reads" in problems
    unset = "deploy-check: zappa does not set STAGE, read at"
    assert any(problem.startswith(unset) for problem in problems)


def test_a_missing_output_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = changed(tmp_path, deploy_check.TEMPLATE, "  FunctionRoleArn:", "  RoleArn:")
    status, problems = checked(capsys, "--template", template)
    assert status == 1
    assert problems == ["deploy-check: the deploy reads the stack's output FunctionRoleArn, which it lacks"]
{%- endif %}


def test_a_sub_naming_nothing_is_named() -> None:
    template: dict[str, Any] = {"Parameters": {"Stage": {}}, "Resources": {"Table": {}}}
    value = {"Sub": ["/${Stage}/${Missing}/${Table.Arn}/${Given}", {"Given": {"GetAtt": "Tabel.Arn"}}]}
    assert deploy_check.dangling(template, value) == ["Missing", "Tabel"]
    assert deploy_check.dangling(template, {"Ref": "AWS::Region"}) == []
