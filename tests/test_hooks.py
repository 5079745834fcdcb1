"""Hooks tier: every answer rule, the option-owned file table, and bad answers
through real generation (one line naming the key, no directory left behind)."""

from __future__ import annotations

import fnmatch
import json
import keyword
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2
import pytest
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

import serverless_flask_jinja as extension
from tests import backends, locks, options, template_stats
from tests.combinations import ALL_COMBINATIONS, COMBINATIONS, COOKIECUTTER_JSON, TEMPLATE_DIR, load_options
from tests.support import (
    PACKAGE_TEMPLATE,
    PROJECT_TEMPLATE,
    jinja_literal,
    load_hook,
    load_structured,
    render_project,
)

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


def test_the_answers_are_checked_after_the_last_question() -> None:
    """cookiecutter renders the keys in order: the check must see every answer, derived ones too."""
    keys = list(COOKIECUTTER)
    questions = [key for key in keys if not key.startswith("_")]
    assert COOKIECUTTER["__answers_checked"] == "{{ cookiecutter | check_answers }}"
    assert keys.index("__answers_checked") > keys.index(questions[-1])
    assert "serverless_flask_jinja.AnswersExtension" in COOKIECUTTER["_extensions"]


# --- pre_gen_project rules -----------------------------------------------------------------------


def message(check: Callable[[str], str | None], value: str) -> str:
    result = check(value)
    assert result is not None, f"{check.__name__} accepted {value!r}"
    assert "\n" not in result, "an error is one line"
    return result


# Characters no free-text answer may hold, one of each refused kind (unicodedata category).
UNPRINTABLE = {
    "line feed": "\n",
    "carriage return": "\r",
    "tab (C0)": "\t",
    "NUL (C0)": "\x00",
    "DEL": "\x7f",
    "NEL (C1)": "\x85",
    "C1 control": "\x9b",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "right-to-left override (Cf)": "\u202e",
    "zero-width joiner (Cf)": "\u200d",
    "byte order mark (Cf)": "\ufeff",
    "noncharacter U+FFFE": "\ufffe",
    "noncharacter U+FFFF": "\uffff",
    "noncharacter U+FDD0": "\ufdd0",
    "unassigned": "\U000e0080",
    "lone surrogate": "\ud800",
    "private use": "\ue000",
    "no-break space": "\u00a0",
    "ideographic space": "\u3000",
}
# What cookiecutter reads as Jinja when it renders the answers again (`cruft update`).
JINJA_OPENERS = ["{{ x }}", "{% raw %}", "{# note #}", "${{ github.ref }}"]
# Harder-but-valid text every free-text answer takes.
PRINTABLE = [
    "Zoë O'Brien",
    'The "Best" App',
    "back\\slash",
    "ends with a backslash\\",
    'three """ quotes',
    "“Quiz” – Zoë’s",
    "日本語のサービス",
    "שלום עולם",
    "e\u0301t\u00e9 🚀",
    "key: value # not a comment",
    "- not a list & *not* an alias !tag | > %",
    "50% faster; (really) @here",
    "{single} braces }}",
]
FREE_TEXT_CHECKS = ["check_project_name", "check_description", "check_author_name"]


def key_of(check_name: str) -> str:
    return check_name.removeprefix("check_")


@pytest.mark.parametrize("check_name", FREE_TEXT_CHECKS)
@pytest.mark.parametrize("value", ["Serverless Flask App", "Quiz Board Service", "x", *PRINTABLE])
def test_free_text_accepts(check_name: str, value: str) -> None:
    assert getattr(pre_gen, check_name)(value) is None


@pytest.mark.parametrize("check_name", FREE_TEXT_CHECKS)
@pytest.mark.parametrize(("kind", "char"), UNPRINTABLE.items(), ids=list(UNPRINTABLE))
def test_free_text_rejects_control_and_non_printable_characters(
    check_name: str, kind: str, char: str
) -> None:
    for value in (f"fuzz{char}", f"a{char}b", char):
        error = message(getattr(pre_gen, check_name), value)
        assert error.startswith(f"{key_of(check_name)}: must be one line of printable text"), (kind, error)
        assert f"U+{ord(char):04X}" in error, error


def test_line_breaks_are_named_as_such() -> None:
    for char in "\n\r\x85\u2028\u2029":
        assert "(a line break) at character 9" in message(pre_gen.check_description, f"fuzz-pro{char}")


@pytest.mark.parametrize("check_name", FREE_TEXT_CHECKS)
@pytest.mark.parametrize("value", JINJA_OPENERS)
def test_free_text_rejects_jinja_markup(check_name: str, value: str) -> None:
    assert "cookiecutter reads it as Jinja" in message(getattr(pre_gen, check_name), f"a {value} b")


@pytest.mark.parametrize("check_name", FREE_TEXT_CHECKS)
@pytest.mark.parametrize("value", [" leading", "trailing ", "  "])
def test_free_text_rejects_surrounding_spaces(check_name: str, value: str) -> None:
    assert message(getattr(pre_gen, check_name), value).startswith(f"{key_of(check_name)}: must not ")


@pytest.mark.parametrize(
    ("check_name", "limit"),
    [
        ("check_project_name", pre_gen.NAME_MAX),
        ("check_description", pre_gen.DESCRIPTION_MAX),
        ("check_author_name", pre_gen.AUTHOR_NAME_MAX),
    ],
)
def test_free_text_length_limits(check_name: str, limit: int) -> None:
    check = getattr(pre_gen, check_name)
    assert check("é" * limit) is None
    error = message(check, "é" * (limit + 1))
    assert error == f"{key_of(check_name)}: at most {limit} characters ({limit + 1} given)"


def test_only_the_project_name_is_required() -> None:
    assert message(pre_gen.check_project_name, "") == "project_name: must not be empty"
    assert pre_gen.check_description("") is None
    assert pre_gen.check_author_name("") is None


def test_author_name_takes_no_comma() -> None:
    assert "comma" in message(pre_gen.check_author_name, "Doe, Jane")


@pytest.mark.parametrize("value", ["a", "my-app", "app2", "a1-b2-c3", "a" * pre_gen.SLUG_MAX])
def test_project_slug_accepts(value: str) -> None:
    assert pre_gen.check_project_slug(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "My-App",
        "my_app",
        "-app",
        "app-",
        "a--b",
        "1app",
        "my app",
        "app.x",
        "a/b",
        ".",
        "..",
        "/tmp/app",
        "fuzz-proj\n",
        "fuzz-proj\r\n",
        "app\u2028",
        "ä",
        "a" * (pre_gen.SLUG_MAX + 1),
    ],
)
def test_project_slug_rejects(value: str) -> None:
    error = message(pre_gen.check_project_slug, value)
    assert error.startswith("project_slug: ")
    assert "lowercase letters" in error, "the message says what is allowed"


@pytest.mark.parametrize("value", ["my_app", "quiz_board_service", "app2", "a", "a" * pre_gen.PACKAGE_MAX])
def test_package_name_accepts(value: str) -> None:
    assert pre_gen.check_package_name(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "My_App",
        "my-app",
        "1app",
        "_private",
        "app.x",
        "ä",
        "pkg\n",
        "a/b",
        "a" * (pre_gen.PACKAGE_MAX + 1),
    ],
)
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


@pytest.mark.parametrize(
    ("package", "engine", "refused"),
    [
        ("order", "postgres", True),
        ("user", "postgres", True),
        ("user", "mysql", False),
        ("key", "mysql", True),
        ("key", "postgres", False),
        ("orders", "postgres", False),
    ],
)
def test_reserved_words_cannot_name_the_database(package: str, engine: str, refused: bool) -> None:
    rds = {"storage": "rds", "rds_engine": engine, "package_name": package}
    assert pre_gen.check_package_name(package) is None, "a valid package name otherwise"
    assert pre_gen.check_database_name({**rds, "storage": "dynamodb"}) is None
    error = pre_gen.check_database_name(rds)
    assert (error is not None) is refused
    if error:
        assert error.startswith(f"package_name: {package!r} is a reserved word of ")


def test_reserved_words_are_the_engines_lists() -> None:
    names = pre_gen.RESERVED_DATABASE_NAMES
    assert set(names) == set(load_options()["rds_engine"])
    assert {"order", "user", "table", "system_user"} <= names["postgres"]
    assert {"order", "key", "database", "range"} <= names["mysql"]
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", word) for words in names.values() for word in words)


def test_the_stack_description_fits_cloudformations_1024_bytes() -> None:
    name = "Quiz Board Service"
    fits = "é" * ((pre_gen.STACK_DESCRIPTION_BYTES - len(name) - 3) // 2)
    assert pre_gen.check_description(fits) is None
    assert pre_gen.check_stack_description({"project_name": name, "description": fits}) is None
    error = pre_gen.check_stack_description({"project_name": name, "description": fits + "é"})
    assert error is not None
    assert error.startswith("description: ")
    assert "1024" in error


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Serverless Flask App", "serverless-flask-app"),
        ("Zoë's Orders", "zoe-s-orders"),
        ("“Quiz” Board Service", "quiz-board-service"),
        ("2048 Game", "game"),
        ("3D Printer Queue", "printer-queue"),
        ("Привет мир", "privet-mir"),
        ("a/b", "a-b"),
        ("fuzz-proj\n", "fuzz-proj"),
        ("The Quick Brown Fox Jumps Over The Lazy Dog Again", "the-quick-brown-fox-jumps-over-the-lazy"),
        ("x" * 70, "x" * pre_gen.SLUG_MAX),
        ("!!!", ""),
        ("🚀🚀", ""),
        ("2048", ""),
        ("", ""),
    ],
)
def test_derive_slug(name: str, slug: str) -> None:
    assert pre_gen.derive_slug(name) == slug
    assert slug == "" or pre_gen.check_project_slug(slug) is None


@pytest.mark.parametrize(
    "value",
    [
        "you@example.com",
        "first.last+tag@mail.example.org",
        "a@b.co",
        "zoe.o'brien@example.org",
        "x@xn--bcher-kva.example",
        "a" * pre_gen.EMAIL_LOCAL_MAX + "@example.com",
    ],
)
def test_author_email_accepts(value: str) -> None:
    assert pre_gen.check_author_email(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "no-at-sign",
        "a@b",
        "a@b.",
        "@example.com",
        "a b@example.com",
        "a@@b.com",
        'a"b@c.de',
        "a\\b@c.de",
        "you@example.com\n",
        "a\x08b@c.de",
        "a..b@c.de",
        ".a@c.de",
        "zoë@example.org",
        "{{a}}@b.co",
        "a@-b.co",
        "a" * (pre_gen.EMAIL_LOCAL_MAX + 1) + "@example.com",
        "a@" + "b." * 130 + "co",
    ],
)
def test_author_email_rejects(value: str) -> None:
    assert message(pre_gen.check_author_email, value).startswith("author_email: ")


@pytest.mark.parametrize("value", ["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"])
def test_aws_region_accepts(value: str) -> None:
    assert pre_gen.check_aws_region(value) is None


@pytest.mark.parametrize(
    "value", ["", "us-east-9", "US-EAST-1", "mars-north-1", "us-east-1 ", "us-east-1\n", "us-gov-west-1x"]
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


# The resource types behind each service REGIONS_WITHOUT names.
SERVICE_RESOURCE_TYPES = {
    "CodeConnections": ["AWS::CodeConnections::Connection"],
    "CodeBuild": ["AWS::CodeBuild::Project"],
    "RDS Proxy": ["AWS::RDS::DBProxy", "AWS::RDS::DBProxyTargetGroup"],
}


def test_regions_without_a_service_are_those_cfn_lint_knows() -> None:
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    def exists(region: str, resource_type: str) -> bool:
        try:
            PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type)
        except Exception:  # cfn-lint raises its own ResourceNotFoundError
            return False
        return True

    for lacking in pre_gen.REGIONS_WITHOUT.values():
        for service, regions in lacking.items():
            without = {
                region
                for region in pre_gen.AWS_REGIONS
                if not all(exists(region, kind) for kind in SERVICE_RESOURCE_TYPES[service])
            }
            assert regions == without, service


@pytest.mark.parametrize(
    ("answers", "error"),
    [
        (
            {"deployment": "codestar", "aws_region": "mx-central-1"},
            "aws_region: 'mx-central-1' has no CodeConnections",
        ),
        ({"deployment": "sam", "aws_region": "mx-central-1"}, None),
        ({"storage": "rds", "aws_region": "ap-east-2"}, "aws_region: 'ap-east-2' has no RDS Proxy"),
        ({"storage": "dynamodb", "aws_region": "ap-east-2"}, None),
    ],
)
def test_the_region_has_what_the_options_need(answers: dict[str, str], error: str | None) -> None:
    found = pre_gen.check_region_services(answers)
    assert found == error if error is None else found is not None and found.startswith(error)


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
    # As cookiecutter renders them into the hook: every key, the private ones (__dev_ports) too.
    answers: dict[str, Any] = {**options.recorded_answers(), **COMBINATIONS[0].answers}
    all_owned_files(tmp_path, answers["package_name"])
    shutil.copytree(PROJECT_TEMPLATE / post_gen.LOCKS, tmp_path / post_gen.LOCKS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(post_gen, "ANSWERS_JSON", json.dumps(answers))
    monkeypatch.setattr(post_gen, "CAPABILITIES_JSON", json.dumps(extension.capabilities(answers)))
    assert post_gen.main() == 0
    out = capsys.readouterr().out
    assert f"cd {answers['project_slug']}" in out
    for command in ("make dev", "make test", "make hooks", "make audit"):
        assert command in out, f"{command} is not among the next steps:\n{out}"
    ports = json.loads(COOKIECUTTER_JSON.read_text(encoding="utf-8"))["__dev_ports"]
    assert re.findall(r"localhost:(\d+)", out) == [ports["api"]], out


def test_template_readme_names_make_devs_ports() -> None:
    """The template's README, which is not rendered, names the ports cookiecutter.json gives `make dev`."""
    ports = set(json.loads(COOKIECUTTER_JSON.read_text(encoding="utf-8"))["__dev_ports"].values())
    named = set(re.findall(r"localhost:(\d+)", (TEMPLATE_DIR / "README.md").read_text(encoding="utf-8")))
    assert named, "the README names no local address"
    assert named <= ports, f"the README names ports make dev does not use: {sorted(named - ports)}"


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
    pytest.param("project_slug", {"project_slug": "fuzz-proj\n"}, id="slug-trailing-newline"),
    pytest.param("project_slug", {"project_slug": "a/b"}, id="slug-path"),
    pytest.param("project_slug", {"project_slug": "../up"}, id="slug-parent-path"),
    pytest.param("project_slug", {"project_slug": ""}, id="slug-empty"),
    pytest.param("project_slug", {"project_name": "!!!"}, id="name-without-a-slug"),
    pytest.param("project_slug", {"project_name": "🚀🚀"}, id="emoji-name-without-a-slug"),
    pytest.param("package_name", {"package_name": "class"}, id="package-keyword"),
    pytest.param("package_name", {"package_name": "json"}, id="package-stdlib"),
    pytest.param("package_name", {"package_name": "flask"}, id="package-dependency"),
    pytest.param("package_name", {"package_name": "fuzz_proj\n"}, id="package-trailing-newline"),
    pytest.param("package_name", {"project_name": "Import"}, id="derived-package-keyword"),
    pytest.param("author_email", {"author_email": "not-an-email"}, id="bad-email"),
    pytest.param("author_email", {"author_email": "you@example.com\n"}, id="email-trailing-newline"),
    pytest.param("author_email", {"author_email": 'a"b@c.de'}, id="email-quote"),
    pytest.param("author_email", {"author_email": "a\\b@c.de"}, id="email-backslash"),
    pytest.param("aws_region", {"aws_region": "mars-north-1"}, id="unknown-region"),
    pytest.param(
        "aws_region", {"deployment": "codestar", "aws_region": "mx-central-1"}, id="region-without-codebuild"
    ),
    pytest.param("description", {"description": "two\nlines"}, id="description-newline"),
    pytest.param("description", {"description": "d" * 1100}, id="description-too-long"),
    pytest.param("description", {"description": "日本語" * 150}, id="stack-description-over-1024-bytes"),
    pytest.param("description", {"description": "c1 \x9b control"}, id="description-c1-control"),
    pytest.param("project_name", {"project_name": "Not\ufffe a character"}, id="name-noncharacter"),
    pytest.param("project_name", {"project_name": "{{ cookiecutter.x }}"}, id="name-jinja"),
    pytest.param("author_name", {"author_name": "Doe, Jane"}, id="author-comma"),
    pytest.param("package_name", {"package_name": "dev"}, id="package-project-directory"),
    # Refused after rendering: the post-gen hook finds it among the lock's packages.
    pytest.param("project_slug", {"project_slug": "six"}, id="slug-of-a-dependency"),
    pytest.param(
        "package_name", {"storage": "rds", "package_name": "order"}, id="rds-reserved-database-name"
    ),
    pytest.param("package_name", {"package_name": "a" * 41}, id="package-too-long"),
]


def generate(tmp_path: Path, **kwargs: Any) -> Path:
    """Real generation into ``tmp_path/out``; no_input unless replaying (cookiecutter forbids both).

    Free-text answers go in as typed (``jinja_literal``): cookiecutter renders ``extra_context``.
    """
    output = tmp_path / "out"
    output.mkdir(exist_ok=True)
    config = tmp_path / "config.yaml"
    config.write_text(f"replay_dir: {json.dumps(str(tmp_path / 'replay'))}\n", encoding="utf-8")
    kwargs.setdefault("no_input", "replay" not in kwargs)
    if "extra_context" in kwargs:
        kwargs["extra_context"] = as_typed(kwargs["extra_context"])
    cookiecutter(str(TEMPLATE_DIR), output_dir=str(output), config_file=str(config), **kwargs)
    return output


def as_typed(answers: dict[str, str]) -> dict[str, str]:
    """Free-text answers as a user types them; choices as they are (cookiecutter checks them)."""
    return {
        key: jinja_literal(value) if key in pre_gen.FIELD_CHECKS else value for key, value in answers.items()
    }


def populated_output(tmp_path: Path) -> Path:
    """An output directory that already holds a file and an empty directory ``a`` (``a/b`` is a slug)."""
    output = tmp_path / "out"
    (output / "a").mkdir(parents=True)
    (output / "notes.txt").write_bytes(b"kept\n")
    return output


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for a directory)."""
    return {
        str(path.relative_to(root)): None if path.is_dir() else path.read_bytes() for path in root.rglob("*")
    }


def refusal(error: BaseException, stderr: str) -> list[str]:
    """The ``ERROR:`` lines of a refusal: the exception's message (answers refused at prompt time)
    or the pre-generation hook's output."""
    return [line for line in f"{error}\n{stderr}".splitlines() if line.startswith("ERROR: ")]


def assert_one_line_naming(key: str, lines: list[str]) -> None:
    assert len(lines) == 1, f"expected one ERROR line, got: {lines}"
    assert lines[0].startswith(f"ERROR: {key}: "), lines[0]


@pytest.mark.parametrize(("key", "answers"), BAD_ANSWERS)
def test_bad_answer_stops_generation(
    key: str, answers: dict[str, str], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    output = populated_output(tmp_path)
    before = snapshot(output)
    with pytest.raises(FailedHookException) as refused:
        generate(tmp_path, extra_context=answers)
    captured = capfd.readouterr()
    assert_one_line_naming(key, refusal(refused.value, captured.err))
    assert captured.err == "", "refused before the hook: nothing else is printed"
    assert snapshot(output) == before, "the output directory changed"
    assert not (tmp_path / "replay").exists(), "refused before cookiecutter records a replay"


CLI_BAD_ANSWERS = [
    pytest.param("project_slug", {"project_slug": "a/b"}, id="slug-path"),
    pytest.param("project_slug", {"project_slug": "fuzz-proj\n"}, id="slug-trailing-newline"),
    pytest.param("project_slug", {"project_name": "!!!"}, id="name-without-a-slug"),
    pytest.param("author_email", {"author_email": "a\\b@c.de"}, id="email-backslash"),
    pytest.param("description", {"description": "d" * 1100}, id="description-too-long"),
]


@pytest.mark.parametrize(("key", "answers"), CLI_BAD_ANSWERS)
def test_bad_answer_on_the_command_line_stops_generation(
    key: str, answers: dict[str, str], tmp_path: Path
) -> None:
    """``cookiecutter --no-input`` as a user runs it: exit 1, one line naming the key, no traceback."""
    output = populated_output(tmp_path)
    before = snapshot(output)
    config = tmp_path / "config.yaml"
    config.write_text(f"replay_dir: {json.dumps(str(tmp_path / 'replay'))}\n", encoding="utf-8")
    pairs = [f"{key}={value}" for key, value in as_typed(answers).items()]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            *("--config-file", str(config), "--output-dir", str(output)),
            str(TEMPLATE_DIR),
            *pairs,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert_one_line_naming(key, [line for line in result.stdout.splitlines() if line.startswith("ERROR: ")])
    assert result.stderr == "", result.stderr
    assert snapshot(output) == before, "the output directory changed"


def test_unlisted_choice_on_the_command_line_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"choice variable secrets, but the choices are"):
        generate(tmp_path, extra_context={"secrets": "vault"})
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize(
    ("key", "answers"),
    [
        pytest.param("secrets", {"secrets": "vault"}, id="unlisted-choice"),
        pytest.param("description", {"description": "two\nlines"}, id="description-newline"),
    ],
)
def test_bad_answer_in_a_replay_stops_generation(
    key: str, answers: dict[str, str], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A replay (or an old project's answers) skips the questions, and the check after them:
    the pre-generation hook catches it, and cookiecutter removes the directory it made for it."""
    replay = tmp_path / "answers.json"
    # A replay file holds every key, the rendered private ones (__answers_checked) too.
    recorded = {**options.recorded_answers(), **answers}
    replay.write_text(json.dumps({"cookiecutter": recorded}), encoding="utf-8")
    output = populated_output(tmp_path)
    before = snapshot(output)
    with pytest.raises(FailedHookException) as refused:
        generate(tmp_path, replay=str(replay))
    assert not isinstance(refused.value, extension.AnswerRefused), "the hook refused, not the prompt"
    assert_one_line_naming(key, refusal(refused.value, capfd.readouterr().err))
    assert snapshot(output) == before


def test_good_answers_generate(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    project = render_project({"project_name": "Zoë's Orders", "author_name": "Zoë O'Brien"}, tmp_path / "out")
    assert project.name == "zoe-s-orders"
    assert (project / "src" / "zoe_s_orders" / "__init__.py").is_file()
    assert "ERROR" not in capfd.readouterr().err


def test_a_long_name_derives_a_shortened_slug(tmp_path: Path) -> None:
    name = "The Quick Brown Fox Jumps Over The Lazy Dog Again"
    output = generate(tmp_path, extra_context={"project_name": name})
    assert [path.name for path in output.iterdir()] == ["the-quick-brown-fox-jumps-over-the-lazy"]
    assert (
        output / "the-quick-brown-fox-jumps-over-the-lazy" / "src" / "the_quick_brown_fox_jumps_over_the_lazy"
    ).is_dir()


def test_the_hooks_hold_no_jinja_but_their_answers() -> None:
    """Cookiecutter renders the hooks before running them: only the answers' JSON may change."""
    environment = jinja2.Environment(keep_trailing_newline=True)  # noqa: S701 -- Python, not HTML
    environment.filters["jsonify"] = json.dumps
    environment.filters["capabilities"] = lambda answers: []
    rendered_lines = {
        f'{name} = r"""{{{{ cookiecutter{filters} }}}}"""': f'{name} = r"""{empty}"""'
        for name, filters, empty in [
            ("ANSWERS_JSON", " | jsonify", "{}"),
            ("CAPABILITIES_JSON", " | capabilities | jsonify", "[]"),
        ]
    }
    for name in ("pre_gen_project", "post_gen_project"):
        source = (TEMPLATE_DIR / "hooks" / f"{name}.py").read_text(encoding="utf-8")
        rendered = environment.from_string(source).render(cookiecutter={})
        changed = [
            (before, after)
            for before, after in zip(source.splitlines(), rendered.splitlines(), strict=True)
            if before != after
        ]
        assert changed, f"{name}.py holds no answers"
        assert all(rendered_lines.get(before) == after for before, after in changed), changed


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


# --- capabilities ----------------------------------------------------------------------------------


def test_every_option_value_declares_its_capabilities() -> None:
    """PROVIDES lists each value of each option it covers, and only capabilities CAPABILITIES names."""
    choices = load_options()
    for option, values in extension.PROVIDES.items():
        assert list(values) == choices[option], f"PROVIDES[{option!r}] and cookiecutter.json disagree"
        for value, given in values.items():
            assert given <= set(extension.CAPABILITIES), f"{option}={value} gives unknown {given}"
    derived = list(extension.DERIVED)
    for capability, sources in extension.DERIVED.items():
        assert {capability, *sources} <= set(extension.CAPABILITIES), capability
        # capabilities() derives in DERIVED's order.
        later = [source for source in sources if source in derived[derived.index(capability) :]]
        assert not later, f"{capability} is derived from {later}, derived after it"


def test_every_capability_is_held_by_some_combination_and_missed_by_another() -> None:
    held = [set(extension.capabilities(combination.answers)) for combination in ALL_COMBINATIONS]
    for capability in extension.CAPABILITIES:
        assert any(capability in each for each in held), f"no combination has {capability}"
        assert not all(capability in each for each in held), f"every combination has {capability}"


def test_an_option_that_does_not_apply_gives_no_capability() -> None:
    answers = {"storage": "dynamodb", "rds_engine": "postgres", "deployment": "sam"}
    assert "postgresql_database" not in extension.capabilities(answers)
    assert "postgresql_database" in extension.capabilities({**answers, "storage": "rds"})


def test_has_refuses_an_unknown_capability() -> None:
    environment = jinja2.Environment(extensions=[extension.AnswersExtension])  # noqa: S701 -- not HTML
    template = environment.from_string("{{ has('sql_store') }} {{ has('sqlstore') }}")
    with pytest.raises(KeyError, match="no capability 'sqlstore'"):
        template.render(cookiecutter={"storage": "rds"})


def test_no_file_tests_an_options_value() -> None:
    """Conditions test capabilities (has("sql_store")): a new value silently takes a side of any other."""
    found = template_stats.value_tests()
    assert not found, "test a capability instead (serverless_flask_jinja.CAPABILITIES):\n" + "\n".join(
        f"{test.path}:{test.line}: {test.text}" for test in found
    )


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("{% if cookiecutter.storage == 'rds' %}", True),
        ("{%- if cookiecutter.storage != 'rds' -%}", True),
        ("{{ 'x' if cookiecutter.storage in ('rds', 'dynamodb') }}", True),
        ("{% if cookiecutter.storage not in ['rds'] %}", True),
        ("{% if has('sql_store') %}", False),
        ('{% import "cfn/storage-" ~ cookiecutter.storage ~ ".yaml" as storage %}', False),
        ("{{ cookiecutter.storage_class == 'x' }}", False),
    ],
)
def test_a_condition_on_a_value_is_found(text: str, found: bool) -> None:
    assert bool(template_stats.value_test("storage").search(text)) is found


# --- a new deployment backend --------------------------------------------------------------------

# One project per store, engine, secrets and frontend value, dynamodb with env too (where a
# backend's condition meets the store's), and the other architecture and Python.
BACKEND_ANSWERS: list[dict[str, str]] = [
    {"storage": "dynamodb", "secrets": "ssm", "frontend": "none"},
    {"storage": "dynamodb", "secrets": "env", "frontend": "spa", "architecture": "x86_64"},
    {
        "storage": "rds",
        "rds_engine": "postgres",
        "secrets": "env",
        "frontend": "none",
        "python_version": "3.12",
    },
    {"storage": "rds", "rds_engine": "mysql", "secrets": "ssm", "frontend": "spa"},
]
# Renders in a fresh interpreter, so that cookiecutter imports the copy's Jinja extension.
RENDER_EACH = """
import json, sys
from pathlib import Path
from tests.support import render_project
for name, answers in json.loads(sys.argv[1]).items():
    render_project(answers, Path(sys.argv[2]) / name, template=Path.cwd())
"""
MOST_PLACES = 8


def tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_a_new_backend_touches_a_few_places_and_no_shared_file(tmp_path: Path) -> None:
    """A backend declaring an existing one's capabilities, with copies of its files, renders its
    projects byte for byte: no shared file asks which backend was chosen."""
    template = tmp_path / "template"
    shutil.copytree(
        TEMPLATE_DIR, template, ignore=shutil.ignore_patterns(".git", ".*cache", ".venv", "node_modules")
    )
    deployments = load_options()["deployment"]
    places = {like: backends.add_backend(template, f"fake{like}", like) for like in deployments}
    for like, touched in places.items():
        assert len(touched) <= MOST_PLACES, f"a backend like {like} touches {len(touched)} places: {touched}"
    before, after = tree(TEMPLATE_DIR / "templates"), tree(template / "templates")
    assert {path for path in after if before.get(path) != after[path]} == {
        f"readme/deployment-fake{like}.md" for like in deployments
    }, "a new backend changed a shared fragment"
    before, after = tree(PROJECT_TEMPLATE), tree(template / PROJECT_TEMPLATE.name)
    assert {path for path in after if before.get(path) != after[path]} == {
        *(f"deploy.fake{like}.mk" for like in deployments),
        "locks/index.json",
    }, "a new backend changed a shared file of the project"

    jobs = {
        f"{like}-{index}": {**answers, "deployment": f"fake{like}"}
        for like in deployments
        for index, answers in enumerate(BACKEND_ANSWERS)
    }
    rendered = subprocess.run(
        [sys.executable, "-c", RENDER_EACH, json.dumps(jobs), str(tmp_path / "fake")],
        cwd=template,
        capture_output=True,
        text=True,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr[-3000:]
    for job, answers in jobs.items():
        like = job.rsplit("-", 1)[0]
        real = render_project({**answers, "deployment": like}, tmp_path / "real" / job)
        fake = tmp_path / "fake" / job / real.name
        real_files, fake_files = tree(real), tree(fake)
        assert json.loads(fake_files.pop(".cookiecutter.json"))["deployment"] == f"fake{like}"
        real_files.pop(".cookiecutter.json")
        assert sorted(fake_files) == sorted(real_files), f"fake{like} ({answers}) has other files than {like}"
        differing = [path for path in real_files if fake_files[path] != real_files[path]]
        assert not differing, f"fake{like} ({answers}) renders these files unlike {like}: {differing}"
        for path in fake.rglob("*"):
            if path.suffix in {".yaml", ".yml", ".json", ".toml"} and "node_modules" not in path.parts:
                load_structured(path)


def test_the_readme_documents_every_capability() -> None:
    """The template README's capability table is CAPABILITIES: each name with its meaning."""
    readme = (TEMPLATE_DIR / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Capabilities", 1)[1].split("\n### ", 1)[0]
    documented = dict(re.findall(r"^\| `(\w+)` \| (.+?) \| .+ \|$", section, re.MULTILINE))
    assert documented == extension.CAPABILITIES
