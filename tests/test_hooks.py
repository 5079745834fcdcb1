"""Hooks tier: every answer rule, the option-owned file table, and bad answers
through real generation (one line naming the key, no directory left behind)."""

from __future__ import annotations

import fnmatch
import json
import keyword
import re
import shutil
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

from tests import locks, options
from tests.combinations import ALL_COMBINATIONS, COMBINATIONS, COOKIECUTTER_JSON, TEMPLATE_DIR, load_options
from tests.support import PACKAGE_TEMPLATE, PROJECT_TEMPLATE, load_hook, render_project

pre_gen: Any = load_hook("pre_gen_project")
post_gen: Any = options.post_gen

COOKIECUTTER: dict[str, Any] = json.loads(COOKIECUTTER_JSON.read_text(encoding="utf-8"))


def valid_answers(**changes: str) -> dict[str, object]:
    """Rendered default answers, as the hook receives them, with ``changes``."""
    answers: dict[str, object] = {**options.default_answers(), **changes}
    answers["_cookiecutter"] = {key: value for key, value in COOKIECUTTER.items() if not key.startswith("_")}
    return answers


# --- cookiecutter.json ---------------------------------------------------------------------------


def test_every_option_has_a_prompt() -> None:
    keys = {key for key in COOKIECUTTER if not key.startswith("_")}
    prompts = set(COOKIECUTTER["__prompts__"])
    assert keys - prompts == set(), "options without a question in __prompts__"
    assert prompts - keys == set(), "questions for options that do not exist"
    assert all(isinstance(text, str) and "\n" not in text for text in COOKIECUTTER["__prompts__"].values())


def test_choice_values_are_unique_and_filename_safe() -> None:
    for option, values in load_options().items():
        assert len(values) == len(set(values)), f"{option} lists a value twice"
        for value in values:
            assert value, option
            assert not set(value) & set(" /\\"), f"{option}: {value!r} cannot be part of a file name"


def test_every_answer_has_a_rule() -> None:
    """Each free-text answer is checked by a rule; choice answers by check_choices."""
    free_text = {
        key for key, value in COOKIECUTTER.items() if not key.startswith("_") and isinstance(value, str)
    }
    assert free_text == set(pre_gen.FIELD_CHECKS)


# --- pre_gen_project rules -----------------------------------------------------------------------


def message(check: Callable[[str], str | None], value: str) -> str:
    result = check(value)
    assert result is not None, f"{check.__name__} accepted {value!r}"
    assert "\n" not in result, "an error is one line"
    return result


@pytest.mark.parametrize("value", ["Serverless Flask App", "Quiz Board Service", "Zoë's API", "x"])
def test_project_name_accepts(value: str) -> None:
    assert pre_gen.check_project_name(value) is None


@pytest.mark.parametrize("value", ["", "   ", 'say "hi"', "back\\slash", "two\nlines", "tab\there"])
def test_project_name_rejects(value: str) -> None:
    assert message(pre_gen.check_project_name, value).startswith("project_name: ")


@pytest.mark.parametrize("value", ["a", "my-app", "app2", "a1-b2-c3", "a" * pre_gen.SLUG_MAX])
def test_project_slug_accepts(value: str) -> None:
    assert pre_gen.check_project_slug(value) is None


@pytest.mark.parametrize(
    "value",
    ["", "My-App", "my_app", "-app", "app-", "a--b", "1app", "my app", "app.x", "a" * (pre_gen.SLUG_MAX + 1)],
)
def test_project_slug_rejects(value: str) -> None:
    error = message(pre_gen.check_project_slug, value)
    assert error.startswith("project_slug: ")
    assert "lowercase letters" in error, "the message says what is allowed"


@pytest.mark.parametrize("value", ["my_app", "quiz_board_service", "app2", "a"])
def test_package_name_accepts(value: str) -> None:
    assert pre_gen.check_package_name(value) is None


@pytest.mark.parametrize("value", ["", "My_App", "my-app", "1app", "_private", "app.x", "ä"])
def test_package_name_rejects_invalid_identifiers(value: str) -> None:
    assert "lowercase letters" in message(pre_gen.check_package_name, value)


@pytest.mark.parametrize("value", ["class", "import", "lambda", "match", "case", "async"])
def test_package_name_rejects_keywords(value: str) -> None:
    assert keyword.iskeyword(value) or keyword.issoftkeyword(value)
    assert "keyword" in message(pre_gen.check_package_name, value)


@pytest.mark.parametrize("value", ["json", "email", "secrets", "logging", "http", "string"])
def test_package_name_rejects_stdlib_modules(value: str) -> None:
    assert "standard library" in message(pre_gen.check_package_name, value)


@pytest.mark.parametrize("value", sorted(pre_gen.DEPENDENCY_MODULES - set(sys.stdlib_module_names)))
def test_package_name_rejects_dependencies(value: str) -> None:
    assert "shadow a dependency" in message(pre_gen.check_package_name, value)


@pytest.mark.parametrize("value", sorted(pre_gen.PROJECT_PACKAGES))
def test_package_name_rejects_the_projects_own_packages(value: str) -> None:
    assert "directory of the generated project" in message(pre_gen.check_package_name, value)


def test_database_name_limit_applies_to_rds_only() -> None:
    long_name = "a" * (pre_gen.DATABASE_NAME_MAX + 1)
    assert pre_gen.check_database_name({"storage": "dynamodb", "package_name": long_name}) is None
    assert (
        pre_gen.check_database_name({"storage": "rds", "package_name": "a" * pre_gen.DATABASE_NAME_MAX})
        is None
    )
    error = pre_gen.check_database_name({"storage": "rds", "package_name": long_name})
    assert error is not None
    assert error.startswith("package_name: at most 63 characters with storage=rds")


@pytest.mark.parametrize("check_name", ["check_description", "check_author_name"])
@pytest.mark.parametrize("value", ['a "quoted" word', "a\\b", "line\nbreak", "nul\x00", "del\x7f"])
def test_free_text_rejects_quotes_backslashes_and_control_characters(check_name: str, value: str) -> None:
    key = check_name.removeprefix("check_")
    assert message(getattr(pre_gen, check_name), value).startswith(f"{key}: ")


@pytest.mark.parametrize("check_name", ["check_description", "check_author_name"])
@pytest.mark.parametrize("value", ["", "Answers the team's questions", "Zoë O'Brien", "50% faster; (really)"])
def test_free_text_accepts(check_name: str, value: str) -> None:
    assert getattr(pre_gen, check_name)(value) is None


@pytest.mark.parametrize("value", ["you@example.com", "first.last+tag@mail.example.org", "a@b.co"])
def test_author_email_accepts(value: str) -> None:
    assert pre_gen.check_author_email(value) is None


@pytest.mark.parametrize(
    "value", ["", "no-at-sign", "a@b", "a@b.", "@example.com", "a b@example.com", "a@@b.com"]
)
def test_author_email_rejects(value: str) -> None:
    assert message(pre_gen.check_author_email, value).startswith("author_email: ")


@pytest.mark.parametrize("value", ["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"])
def test_aws_region_accepts(value: str) -> None:
    assert pre_gen.check_aws_region(value) is None


@pytest.mark.parametrize(
    "value", ["", "us-east-9", "US-EAST-1", "mars-north-1", "us-east-1 ", "us-gov-west-1x"]
)
def test_aws_region_rejects(value: str) -> None:
    error = message(pre_gen.check_aws_region, value)
    assert error.startswith("aws_region: ")
    assert "us-east-1" in error, "the message lists the allowed regions"


def test_regions_are_region_shaped_and_include_the_default() -> None:
    assert COOKIECUTTER["aws_region"] in pre_gen.AWS_REGIONS
    for region in pre_gen.AWS_REGIONS:
        assert region.count("-") == 2, region
        assert region.split("-")[-1].isdigit(), region


def test_check_choices_accepts_listed_values() -> None:
    for combination in COMBINATIONS:
        # As the hook gets them: every answer, an inapplicable option at its default.
        answers = {**options.default_answers(), **combination.answers}
        assert pre_gen.check_choices(answers, COOKIECUTTER) is None


@pytest.mark.parametrize("option", list(load_options()))
def test_check_choices_rejects_unlisted_values(option: str) -> None:
    answers = {**options.default_answers(), option: "no-such-value"}
    error = pre_gen.check_choices(answers, COOKIECUTTER)
    assert error is not None
    assert error.startswith(f"{option}: 'no-such-value' is not allowed; one of: ")
    assert all(value in error for value in load_options()[option])


def test_validate_accepts_the_defaults_and_every_combination() -> None:
    assert pre_gen.validate(valid_answers()) is None
    for combination in COMBINATIONS:
        assert pre_gen.validate(valid_answers(**combination.answers)) is None, combination.name


def test_validate_reports_the_first_problem_only() -> None:
    error = pre_gen.validate(valid_answers(project_slug="Bad Slug", author_email="nope"))
    assert error is not None
    assert error.startswith("project_slug: ")


def test_validate_checks_choices() -> None:
    error = pre_gen.validate(valid_answers(secrets="vault"))
    assert error is not None
    assert error.startswith("secrets: ")


def test_validate_reads_the_choices_from_the_template_directory() -> None:
    """Cookiecutter passes the hook its template directory, not the options: the hook reads them there."""
    answers = {**options.default_answers(), "secrets": "vault", "_repo_dir": str(TEMPLATE_DIR)}
    error = pre_gen.validate(answers)
    assert error is not None
    assert error.startswith("secrets: 'vault' is not allowed")


@pytest.mark.parametrize(
    ("answers", "exit_code", "stderr"),
    [
        ({}, 0, ""),
        ({"package_name": "json"}, 1, "ERROR: package_name: 'json' is a standard library module"),
    ],
)
def test_pre_gen_main_exit_code_and_message(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answers: dict[str, str],
    exit_code: int,
    stderr: str,
) -> None:
    monkeypatch.setattr(pre_gen, "ANSWERS_JSON", json.dumps(valid_answers(**answers)))
    assert pre_gen.main() == exit_code
    captured = capsys.readouterr()
    assert captured.err.startswith(stderr)
    assert len(captured.err.splitlines()) == (1 if stderr else 0)


# --- post_gen_project ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "settled"),
    [
        ("secrets.ssm.py", "ssm", "secrets.py"),
        ("test_secrets.env.py", "env", "test_secrets.py"),
        ("factory.dynamodb.py", "dynamodb", "factory.py"),
        ("secrets.env.py", "ssm", "secrets.env.py"),
        (".env.example", "env", ".env.example"),
        ("ssm.py", "ssm", "ssm.py"),
        ("template.yaml", "sam", "template.yaml"),
        ("samconfig.toml", "sam", "samconfig.toml"),
    ],
)
def test_settled_name(name: str, value: str, settled: str) -> None:
    assert post_gen.settled_name(Path("a/b") / name, value) == Path("a/b") / settled


def all_owned_files(root: Path, package: str) -> None:
    """Every path of OWNED_PATHS as a file whose lines name its owners (``option=value``)."""
    owners_of: dict[Path, list[str]] = {}
    for option, owners in post_gen.OWNED_PATHS.items():
        for value, paths in owners.items():
            for relative in paths:
                owners_of.setdefault(root / relative.format(pkg=package), []).append(f"{option}={value}")
    for path, owners in owners_of.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(owners), encoding="utf-8")


@pytest.mark.parametrize("combination", COMBINATIONS, ids=lambda combination: combination.name)
def test_shape_keeps_exactly_the_chosen_files(combination: Any, tmp_path: Path) -> None:
    answers = {**options.default_answers(), **combination.answers}
    all_owned_files(tmp_path, answers["package_name"])
    (tmp_path / "README.md").write_text("shared", encoding="utf-8")

    post_gen.shape(tmp_path, answers)

    left = {str(path.relative_to(tmp_path)): path for path in tmp_path.rglob("*") if path.is_file()}
    expected = {rule.path for rule in options.path_rules(answers) if rule.present}
    assert set(left) == expected | {"README.md"}
    for relative in expected:
        # The kept file is a chosen value's own, under its plain name.
        owners = left[relative].read_text(encoding="utf-8").splitlines()
        chosen = [
            f"{option}={value}"
            for option, _, value in (owner.partition("=") for owner in owners)
            if options.chosen_value(option, answers) == value
        ]
        assert chosen, f"{relative} is the file of {owners}, none of them chosen"


def test_post_gen_main_prints_next_steps(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    answers = {**options.default_answers(), **COMBINATIONS[0].answers}
    all_owned_files(tmp_path, answers["package_name"])
    shutil.copytree(PROJECT_TEMPLATE / post_gen.LOCKS, tmp_path / post_gen.LOCKS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(post_gen, "ANSWERS_JSON", json.dumps(answers))
    assert post_gen.main() == 0
    out = capsys.readouterr().out
    assert f"cd {answers['project_slug']}" in out
    assert "make dev" in out
    assert "make test" in out


# --- the locks ----------------------------------------------------------------------------------

LOCKS_DIR = PROJECT_TEMPLATE / post_gen.LOCKS
LOCK_INDEX: dict[str, Any] = json.loads((LOCKS_DIR / post_gen.LOCK_INDEX).read_text(encoding="utf-8"))
JINJA_TAG = re.compile(r"\{\{|\{%|\{#")


def test_every_combination_has_a_lock_and_every_lock_a_combination() -> None:
    """locks/index.json keys every assignment of the options pyproject.toml tests (make lock writes it)."""
    assert LOCK_INDEX["options"] == locks.depended_options(), (
        "pyproject.toml tests other options: `make lock`"
    )
    assert set(LOCK_INDEX["locks"]) == {
        locks.index_key(assignment) for assignment in locks.assignments(LOCK_INDEX["options"])
    }, "locks/index.json is not for today's options and values: `make lock`"
    for combination in ALL_COMBINATIONS:
        answers = {**options.default_answers(), **combination.answers}
        assert post_gen.lock_key(answers, LOCK_INDEX["options"]) in LOCK_INDEX["locks"], combination.name
    named = set(LOCK_INDEX["locks"].values())
    present = {path.parent.name for path in LOCKS_DIR.glob("*/uv.lock")}
    assert named == present, f"locks without an answer, or answers without a lock: {sorted(named ^ present)}"


def test_locks_are_data_copied_as_they_are() -> None:
    """No lock holds a Jinja tag, and cookiecutter copies them without rendering."""
    files = [path for path in LOCKS_DIR.rglob("*") if path.is_file()]
    assert files, f"no lock under {LOCKS_DIR}"
    tagged = [str(path.relative_to(LOCKS_DIR)) for path in files if JINJA_TAG.search(path.read_text("utf-8"))]
    assert not tagged, f"Jinja tags in lock files: {tagged}"
    uncopied = [
        str(path.relative_to(PROJECT_TEMPLATE))
        for path in files
        if not options.copied_without_rendering(str(path.relative_to(PROJECT_TEMPLATE)))
    ]
    assert not uncopied, f"lock files cookiecutter would render: {uncopied}"


@pytest.mark.parametrize("lock_file", sorted(LOCKS_DIR.glob("*/uv.lock")), ids=lambda path: path.parent.name)
def test_each_lock_is_made_for_the_default_project_name(lock_file: Path) -> None:
    lock = lock_file.read_text(encoding="utf-8")
    slug = options.default_answers()["project_slug"]
    roots = [entry for entry in tomllib.loads(lock)["package"] if entry["source"] == {"virtual": "."}]
    assert [root["name"] for root in roots] == [slug]
    assert post_gen.with_project_name(lock, slug) == lock


SMALL_LOCK = """\
version = 1
requires-python = "==3.13.*"

[[package]]
name = "alpha"
version = "1.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "mango"
version = "2.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "alpha" },
]

[[package]]
name = "serverless-flask-app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "mango" },
]

[[package]]
name = "zulu"
version = "3.0"
source = { registry = "https://pypi.org/simple" }
"""


@pytest.mark.parametrize(
    ("name", "order"),
    [
        ("aardvark-api", ["aardvark-api", "alpha", "mango", "zulu"]),
        ("quiz-board", ["alpha", "mango", "quiz-board", "zulu"]),
        ("zz-top", ["alpha", "mango", "zulu", "zz-top"]),
    ],
)
def test_a_lock_takes_the_projects_name_where_uv_sorts_it(name: str, order: list[str]) -> None:
    renamed = post_gen.with_project_name(SMALL_LOCK, name)
    packages = tomllib.loads(renamed)["package"]
    assert [package["name"] for package in packages] == order
    (project,) = (package for package in packages if package["name"] == name)
    assert project == {**tomllib.loads(SMALL_LOCK)["package"][2], "name": name}
    assert post_gen.with_project_name(renamed, "serverless-flask-app") == SMALL_LOCK


def test_a_project_named_like_its_dependency_is_refused() -> None:
    with pytest.raises(post_gen.LockError, match=r"^project_slug: 'mango' is the name of one of"):
        post_gen.with_project_name(SMALL_LOCK, "mango")


def test_the_hook_installs_the_answers_lock_and_removes_the_others(tmp_path: Path) -> None:
    answers = {**options.default_answers(), **COMBINATIONS[0].answers, "project_slug": "quiz-board"}
    shutil.copytree(LOCKS_DIR, tmp_path / post_gen.LOCKS)
    post_gen.install_lock(tmp_path, answers)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["uv.lock"]
    name = LOCK_INDEX["locks"][post_gen.lock_key(answers, LOCK_INDEX["options"])]
    made = (LOCKS_DIR / name / "uv.lock").read_text(encoding="utf-8")
    assert (tmp_path / "uv.lock").read_text(encoding="utf-8") == post_gen.with_project_name(
        made, "quiz-board"
    )


def test_answers_without_a_lock_are_refused(tmp_path: Path) -> None:
    answers = {**options.default_answers(), "python_version": "3.99"}
    shutil.copytree(LOCKS_DIR, tmp_path / post_gen.LOCKS)
    with pytest.raises(post_gen.LockError, match=r"^no uv.lock for 3\.99/.*: run `make lock`"):
        post_gen.install_lock(tmp_path, answers)


# --- OWNED_PATHS against the template tree -------------------------------------------------------


def template_files() -> list[str]:
    """Files of the project template, relative to it, with ``{pkg}`` for the package directory."""
    return sorted(
        str(path.relative_to(PROJECT_TEMPLATE)).replace(PACKAGE_TEMPLATE, "{pkg}")
        for path in PROJECT_TEMPLATE.rglob("*")
        if path.is_file()
    )


def test_owned_paths_cover_exactly_the_options_values() -> None:
    choices = load_options()
    for option, owners in post_gen.OWNED_PATHS.items():
        assert option in choices, f"OWNED_PATHS has {option!r}, which is not a choice in cookiecutter.json"
        assert list(owners) == choices[option], (
            f"OWNED_PATHS[{option!r}] must list every value of cookiecutter.json in the same order"
        )


def test_owned_paths_exist_in_the_template() -> None:
    missing = [
        f"{option}={value}: {relative}"
        for option, owners in post_gen.OWNED_PATHS.items()
        for value, paths in owners.items()
        for relative in paths
        if not (PROJECT_TEMPLATE / relative.format(pkg=PACKAGE_TEMPLATE)).exists()
    ]
    assert not missing, "OWNED_PATHS lists paths the template does not have:\n" + "\n".join(missing)


def test_every_infix_file_is_owned_by_its_value() -> None:
    owned = {
        (option, value): set(paths)
        for option, owners in post_gen.OWNED_PATHS.items()
        for value, paths in owners.items()
    }
    unlisted = []
    for relative in template_files():
        for (option, value), paths in owned.items():
            parts = PurePosixPath(relative).parts
            prefixes = [str(PurePosixPath(*parts[: i + 1])) for i in range(len(parts))]
            carries_infix = any(options.settled(prefix, value) != prefix for prefix in prefixes)
            if carries_infix and not any(prefix in paths for prefix in prefixes):
                unlisted.append(f"{relative} (infix of {option}={value})")
    assert not unlisted, "template files with a value infix missing from OWNED_PATHS:\n" + "\n".join(unlisted)


def test_no_value_lists_a_path_twice() -> None:
    twice = [
        f"{option}={value}: {relative}"
        for option, values in post_gen.OWNED_PATHS.items()
        for value, paths in values.items()
        for relative in set(paths)
        if paths.count(relative) > 1
    ]
    assert twice == []


SHARED_PATH = "dev/local_aws.py"  # the AWS emulator: storage=dynamodb, secrets=ssm, frontend=spa


@pytest.mark.parametrize(
    ("answers", "kept"),
    [
        ({"storage": "dynamodb", "secrets": "env", "frontend": "none"}, True),
        ({"storage": "rds", "secrets": "ssm", "frontend": "none"}, True),
        ({"storage": "rds", "secrets": "env", "frontend": "spa"}, True),
        ({"storage": "rds", "secrets": "env", "frontend": "none"}, False),
    ],
    ids=["dynamodb-env", "rds-ssm", "rds-env-spa", "rds-env"],
)
def test_a_path_of_several_values_stays_when_any_of_them_is_chosen(
    answers: dict[str, str], kept: bool, tmp_path: Path
) -> None:
    owners = [
        f"{option}={value}"
        for option, values in post_gen.OWNED_PATHS.items()
        for value, paths in values.items()
        if SHARED_PATH in paths
    ]
    assert len(owners) > 1, f"{SHARED_PATH} is no longer shared: {owners}"
    full = {**options.default_answers(), **answers}
    all_owned_files(tmp_path, full["package_name"])
    post_gen.shape(tmp_path, full)
    assert (tmp_path / SHARED_PATH).is_file() is kept
    # Its removal drops every file that would run the emulator: with rds and env nothing needs it.
    if not kept:
        leftovers = [
            p for p in tmp_path.rglob("*") if p.is_file() and "local_aws" in p.read_text(encoding="utf-8")
        ]
        assert leftovers == []


def test_an_option_that_does_not_apply_keeps_none_of_its_files(tmp_path: Path) -> None:
    """rds_engine means nothing with storage=dynamodb: neither engine's files stay, whatever the answer."""
    answers = {**options.default_answers(), "storage": "dynamodb", "rds_engine": "mysql"}
    all_owned_files(tmp_path, answers["package_name"])
    post_gen.shape(tmp_path, answers)
    engine_files = [
        path
        for values in post_gen.OWNED_PATHS["rds_engine"].values()
        for relative in values
        for path in (tmp_path / relative.format(pkg=answers["package_name"]),)
    ]
    assert [path for path in engine_files if path.exists()] == []
    assert not list(tmp_path.rglob("dialect.py"))


def test_the_hook_and_the_combinations_agree_on_what_applies_when() -> None:
    from tests.combinations import APPLIES_WHEN

    assert post_gen.APPLIES_WHEN == APPLIES_WHEN


# --- bad answers through real generation ---------------------------------------------------------

BAD_ANSWERS = [
    pytest.param("project_slug", {"project_slug": "Bad_Slug"}, id="bad-slug"),
    pytest.param("package_name", {"package_name": "class"}, id="package-keyword"),
    pytest.param("package_name", {"package_name": "json"}, id="package-stdlib"),
    pytest.param("package_name", {"package_name": "flask"}, id="package-dependency"),
    pytest.param("package_name", {"project_name": "Import"}, id="derived-package-keyword"),
    pytest.param("author_email", {"author_email": "not-an-email"}, id="bad-email"),
    pytest.param("aws_region", {"aws_region": "mars-north-1"}, id="unknown-region"),
    pytest.param("description", {"description": "two\nlines"}, id="description-newline"),
    pytest.param("description", {"description": 'a "quoted" word'}, id="description-quote"),
    pytest.param("project_name", {"project_name": 'The "Best" App'}, id="name-quote"),
    pytest.param("package_name", {"package_name": "dev"}, id="package-project-directory"),
    # Refused after rendering: the post-gen hook finds it among the lock's packages.
    pytest.param("project_slug", {"project_slug": "six"}, id="slug-of-a-dependency"),
    pytest.param(
        "package_name", {"storage": "rds", "package_name": "a" * 64}, id="rds-database-name-too-long"
    ),
]


def generate(tmp_path: Path, **kwargs: Any) -> Path:
    """Real generation into ``tmp_path/out``; no_input unless replaying (cookiecutter forbids both)."""
    output = tmp_path / "out"
    output.mkdir()
    config = tmp_path / "config.yaml"
    config.write_text(f"replay_dir: {json.dumps(str(tmp_path / 'replay'))}\n", encoding="utf-8")
    kwargs.setdefault("no_input", "replay" not in kwargs)
    cookiecutter(str(TEMPLATE_DIR), output_dir=str(output), config_file=str(config), **kwargs)
    return output


def assert_one_line_naming(key: str, stderr: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    assert lines[0].startswith(f"ERROR: {key}: "), lines[0]


@pytest.mark.parametrize(("key", "answers"), BAD_ANSWERS)
def test_bad_answer_stops_generation(
    key: str, answers: dict[str, str], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(FailedHookException):
        generate(tmp_path, extra_context=answers)
    assert_one_line_naming(key, capfd.readouterr().err)
    assert list((tmp_path / "out").iterdir()) == [], "a directory was left behind"


def test_unlisted_choice_on_the_command_line_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"choice variable secrets, but the choices are"):
        generate(tmp_path, extra_context={"secrets": "vault"})
    assert list((tmp_path / "out").iterdir()) == []


def test_unlisted_choice_in_a_replay_stops_generation(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A replay (or an old project's answers) skips cookiecutter's own choice check; the hook catches it."""
    replay = tmp_path / "answers.json"
    # A replay file holds every key, the rendered private ones (__stack_template) too.
    answers = {**options.recorded_answers(), "secrets": "vault"}
    replay.write_text(json.dumps({"cookiecutter": answers}), encoding="utf-8")
    with pytest.raises(FailedHookException):
        generate(tmp_path, replay=str(replay))
    assert_one_line_naming("secrets", capfd.readouterr().err)
    assert list((tmp_path / "out").iterdir()) == []


def test_good_answers_generate(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    project = render_project({"project_name": "Zoë's Orders", "author_name": "Zoë O'Brien"}, tmp_path / "out")
    assert project.name == "zoe-s-orders"
    assert (project / "src" / "zoe_s_orders" / "__init__.py").is_file()
    assert "ERROR" not in capfd.readouterr().err


# --- files cookiecutter copies without rendering -------------------------------------------------

# Sources whose braces are code (JSX, template literals), never Jinja.
NOT_JINJA = re.compile(r"\.(ts|tsx|js|jsx|mjs|css)$")


def test_code_with_braces_is_copied_without_rendering() -> None:
    """Every frontend source is under cookiecutter's _copy_without_render, so `{{`/`{#` in it stay code."""
    rendered = [
        relative
        for relative in template_files()
        if NOT_JINJA.search(relative) and not options.copied_without_rendering(relative)
    ]
    assert not rendered, "add these to _copy_without_render in cookiecutter.json:\n" + "\n".join(rendered)


def test_copy_without_render_patterns_match_files() -> None:
    unused = [
        pattern
        for pattern in options.COPY_WITHOUT_RENDER
        if not any(fnmatch.fnmatch(relative, pattern + "*") for relative in template_files())
    ]
    assert not unused, f"_copy_without_render patterns that match nothing: {unused}"


def test_braces_in_frontend_sources_survive_generation(tmp_path: Path) -> None:
    """JSX `{{ }}`, `{#`, `{%` and Actions' `${{ }}` in a frontend source reach the project verbatim."""
    template = tmp_path / "template"
    skipped = shutil.ignore_patterns(".git", ".*cache", ".venv", "node_modules")
    shutil.copytree(TEMPLATE_DIR, template, ignore=skipped)
    source = "const style = {{ color: 'red' }} // {% raw %} {# not Jinja #} ${{ github.ref }}\n"
    sources = template / PROJECT_TEMPLATE.name / "frontend" / "src"
    (sources / "braces.tsx").write_text(source, encoding="utf-8")
    project = render_project({"frontend": "spa"}, tmp_path / "out", template=template)
    assert (project / "frontend" / "src" / "braces.tsx").read_text(encoding="utf-8") == source
