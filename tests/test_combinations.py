"""The combination list: complete, named stably, and printable for a CI matrix."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pytest

from tests import combinations as combos
from tests.combinations import BUILD_KEYS, COMBINATIONS, TEMPLATE_DIR, VARIANT_OPTIONS, load_options

# A future cookiecutter.json, to show the rules on options this one does not have yet.
FUTURE = {
    "python_version": ["3.13", "3.12"],
    "architecture": ["arm64", "x86_64"],
    "deployment": ["sam", "zappa"],
    "storage": ["dynamodb", "rds"],
    "rds_engine": ["postgres", "mysql"],
    "secrets": ["ssm", "env"],
    "frontend": ["none", "spa"],
}


def test_names_are_unique() -> None:
    names = [combination.name for combination in COMBINATIONS]
    assert len(names) == len(set(names))


def test_first_combination_is_the_default_project() -> None:
    defaults = {option: values[0] for option, values in load_options().items()}
    first = COMBINATIONS[0]
    assert first.answers == {key: defaults[key] for key in first.answers}
    assert first.name == "sam-dynamodb-ssm-none-py313-arm64"


def test_answers_use_only_listed_values() -> None:
    choices = load_options()
    for combination in COMBINATIONS:
        for option, value in combination.answers.items():
            assert value in choices[option], (combination.name, option, value)


def test_every_structural_assignment_is_covered() -> None:
    choices = load_options()
    structural = [option for option in choices if option not in VARIANT_OPTIONS]
    expected = set()
    for values in itertools.product(*(choices[option] for option in structural)):
        answers = dict(zip(structural, values, strict=True))
        expected.add(tuple((k, v) for k, v in answers.items() if combos.applies(k, answers)))
    covered = {tuple((k, v) for k, v in c.answers.items() if k not in VARIANT_OPTIONS) for c in COMBINATIONS}
    assert covered == expected


@pytest.mark.parametrize("options", [load_options(), FUTURE], ids=["cookiecutter.json", "future"])
def test_each_variant_value_is_built_with_each_backend(options: dict[str, list[str]]) -> None:
    result = combos.combinations(options)
    for option in VARIANT_OPTIONS:
        for group in {tuple(c.get(key) for key in BUILD_KEYS) for c in result}:
            seen = {c[option] for c in result if tuple(c.get(key) for key in BUILD_KEYS) == group}
            assert seen == set(options[option]), (group, option, seen)


def test_a_dependent_option_varies_only_where_it_applies() -> None:
    result = combos.combinations(FUTURE)
    for combination in result:
        assert ("rds_engine" in combination.answers) == (combination["storage"] == "rds"), combination.name
    names = {c.name for c in result}
    assert any(name.startswith("sam-rds-postgres-") for name in names)
    assert any(name.startswith("zappa-rds-mysql-") for name in names)
    assert not any("postgres" in name or "mysql" in name for name in names if "-dynamodb-" in name)
    structural = {tuple((k, v) for k, v in c.answers.items() if k not in VARIANT_OPTIONS) for c in result}
    # 2 deployments x (dynamodb + rds with 2 engines) x 2 secrets x 2 frontends
    assert len(structural) == 2 * 3 * 2 * 2


def test_a_new_value_is_picked_up_without_an_edit() -> None:
    grown = {**FUTURE, "secrets": [*FUTURE["secrets"], "vault"]}
    assert any(c["secrets"] == "vault" for c in combos.combinations(grown))


def test_incompatible_answers_are_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(combos, "INCOMPATIBLE", [{"deployment": "zappa", "frontend": "spa"}])
    result = combos.combinations(FUTURE)
    assert result
    assert not any(c["deployment"] == "zappa" and c["frontend"] == "spa" for c in result)
    assert any(c["deployment"] == "zappa" for c in result)


def test_variant_order_covers_every_value_first() -> None:
    order = combos.variant_order({"python_version": ["3.13", "3.12"], "architecture": ["arm64", "x86_64"]})
    assert order[:2] == [("3.13", "arm64"), ("3.12", "x86_64")]
    assert sorted(order) == sorted(itertools.product(["3.13", "3.12"], ["arm64", "x86_64"]))


def test_by_name() -> None:
    assert combos.by_name(COMBINATIONS[-1].name) is COMBINATIONS[-1]
    with pytest.raises(KeyError, match="no combination named"):
        combos.by_name("no-such-combination")


def run_module(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.combinations", *args],
        cwd=TEMPLATE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


def test_json_for_a_ci_matrix() -> None:
    result = run_module("--json")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1, "one line, for $GITHUB_OUTPUT"
    assert json.loads(result.stdout) == [c.to_json() for c in COMBINATIONS]


def test_names_and_lookup_on_the_command_line() -> None:
    assert run_module().stdout.split() == [c.name for c in COMBINATIONS]
    one = run_module("--json", "--name", COMBINATIONS[0].name)
    assert json.loads(one.stdout) == [COMBINATIONS[0].to_json()]
    unknown = run_module("--name", "no-such-combination")
    assert unknown.returncode == 2
    assert "no combination named" in unknown.stderr
