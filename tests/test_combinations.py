"""The combination list: complete, named stably, printable for a CI matrix, and selectable one by one.

Also: the template's CI workflow builds its matrix from that list.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import combinations as combos
from tests.combinations import BUILD_KEYS, TEMPLATE_DIR, VARIANT_OPTIONS, load_options
from tests.support import collect_only

# The whole list, whatever SERVERLESS_FLASK_COMBINATION narrows a run to.
COMBINATIONS = combos.ALL_COMBINATIONS
WORKFLOW = TEMPLATE_DIR / ".github" / "workflows" / "ci.yml"

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


SMALL_GROUPS = {**FUTURE, "secrets": ["ssm"], "frontend": ["none"]}


@pytest.mark.parametrize(
    "options", [load_options(), FUTURE, SMALL_GROUPS], ids=["cookiecutter.json", "future", "small-groups"]
)
def test_each_variant_pair_is_built_with_each_backend_and_store(options: dict[str, list[str]]) -> None:
    """Every python_version x architecture, which fix an artifact's wheels, in every build group."""
    result = combos.combinations(options)
    pairs = set(itertools.product(*(options[option] for option in VARIANT_OPTIONS)))
    structural: dict[tuple[str | None, ...], int] = {}
    for answers in combos.structural_answers(options):
        group = tuple(answers.get(key) for key in BUILD_KEYS)
        structural[group] = structural.get(group, 0) + 1
    for group, size in structural.items():
        members = [c for c in result if tuple(c.get(key) for key in BUILD_KEYS) == group]
        assert {tuple(c[option] for option in VARIANT_OPTIONS) for c in members} == pairs, group
        # Padded to one combination per pair where it is smaller, never beyond.
        assert len(members) == max(size, len(pairs)), (group, [c.name for c in members])


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


def run_module(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if key != combos.SELECT_ENV}
    return subprocess.run(
        [sys.executable, "-m", "tests.combinations", *args],
        cwd=TEMPLATE_DIR,
        env={**environ, **env},
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


# --- one combination: make validate ---------------------------------------------------------------


def test_answers_name_a_listed_combination() -> None:
    for combination in COMBINATIONS:
        assert combos.from_answers(combination.answers) is combination
    assert combos.select(json.dumps({"deployment": COMBINATIONS[0]["deployment"]})) is COMBINATIONS[0]


def test_answers_fill_in_defaults_and_may_name_an_unlisted_pair() -> None:
    options = load_options()
    pairs = itertools.product(options["python_version"], options["architecture"])
    made = [combos.from_answers({"storage": "rds", "python_version": p, "architecture": a}) for p, a in pairs]
    for combination in made:
        assert combination["deployment"] == options["deployment"][0]
        assert combination["rds_engine"] == options["rds_engine"][0]
        assert set(combination.answers) == {*COMBINATIONS[0].answers, "rds_engine"}
    names = {combination.name for combination in made}
    listed = {combination.name for combination in COMBINATIONS}
    assert len(names) == len(made)
    assert names & listed, "the default pair is listed"
    assert names - listed, "the other pairs of this group are not listed, and can be validated all the same"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("no-such-combination", "no combination named 'no-such-combination'"),
        ('{"deployment": "kubernetes"}', 'deployment="kubernetes" is not one of'),
        ('{"python_version": 3.12}', "python_version=3.12 is not one of"),
        ('{"region": "eu-west-1"}', "unknown option(s) region"),
        ('{"rds_engine": "mysql"}', "rds_engine only applies with storage=rds"),
        ('{"deployment": "sam",', "the answers are not valid JSON"),
        ('["sam"]', "the answers must be a JSON object"),
    ],
)
def test_a_bad_selection_is_one_line(given: str, message: str) -> None:
    with pytest.raises(combos.SelectionError, match=re.escape(message)):
        combos.select(given)
    result = run_module("--selected", **{combos.SELECT_ENV: given})
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr


def test_the_environment_narrows_every_tier() -> None:
    """What `make validate` sets: pytest collects the tiers for that one combination only."""
    answers = {
        "deployment": COMBINATIONS[-1]["deployment"],
        "python_version": "3.12",
        "architecture": "arm64",
    }
    selected = combos.from_answers(answers)
    env = {combos.SELECT_ENV: json.dumps(answers)}
    assert json.loads(run_module("--selected", "--json", **env).stdout) == [selected.to_json()]
    collected = collect_only("tests/test_render.py", env=env)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    ids = set(re.findall(r"\[([^\]]+)\]$", collected.stdout, re.MULTILINE))
    assert ids == {selected.name}, ids
    refused = collect_only("tests/test_render.py", env={combos.SELECT_ENV: "no-such-combination"})
    assert refused.returncode == pytest.ExitCode.USAGE_ERROR, refused.stdout + refused.stderr
    assert "no combination named 'no-such-combination'" in refused.stderr


# --- the template's CI workflow ------------------------------------------------------------------


def load_workflow() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return loaded


def test_the_workflow_matrix_is_the_combination_list() -> None:
    """The matrix comes from `python -m tests.combinations --json` at run time: no copy to drift."""
    jobs = load_workflow()["jobs"]
    listing = jobs["combinations"]
    commands = "\n".join(step.get("run", "") for step in listing["steps"])
    assert re.search(r"python -m tests\.combinations --json\b", commands), commands
    output = re.search(r"\$\{\{ *steps\.(\w+)\.outputs\.(\w+) *\}\}", listing["outputs"]["matrix"])
    assert output, listing["outputs"]
    step = next(step for step in listing["steps"] if step.get("id") == output.group(1))
    assert f"{output.group(2)}=" in step["run"], step["run"]
    assert "$GITHUB_OUTPUT" in step["run"], step["run"]

    validate = jobs["validate"]
    assert "combinations" in validate["needs"]
    strategy = validate["strategy"]
    assert strategy["fail-fast"] is False
    matrix = strategy["matrix"]
    assert list(matrix) == ["combination"], "the matrix has one axis, the combination list"
    assert re.fullmatch(
        r"\$\{\{ *fromJSON\(needs\.combinations\.outputs\.matrix\) *\}\}", matrix["combination"]
    )
    text = WORKFLOW.read_text(encoding="utf-8")
    named = [c.name for c in COMBINATIONS if c.name in text]
    assert not named, f"combination names written into the workflow: {named}"
    # Each matrix job validates its combination with the same command a developer runs.
    runs = "\n".join(step.get("run", "") for step in validate["steps"])
    assert "make validate" in runs, runs
    assert validate["env"]["COMBINATION"] == "${{ matrix.combination.name }}"


def test_the_workflow_is_least_privilege_pinned_and_cancels_superseded_runs() -> None:
    workflow = load_workflow()
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"]["cancel-in-progress"] is True
    assert {"combinations", "fast", "validate"} <= set(workflow["jobs"])
    for name, job in workflow["jobs"].items():
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), (name, step["uses"])


def test_the_workflow_passes_actionlint() -> None:
    actionlint = Path(sys.prefix) / "bin" / "actionlint"
    result = subprocess.run(
        [actionlint, "-shellcheck=", "-pyflakes=", str(WORKFLOW)],
        cwd=TEMPLATE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
