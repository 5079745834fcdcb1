"""Validate the answers before anything is written.

Each rule is a function that returns an error message or ``None``; ``main``
prints the first error as one line and exits non-zero, and cookiecutter then
removes the half-made project directory. The functions are imported by the
template's own tests, so this file must stay importable before rendering:
the only Jinja in it is the string literal below.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

# Commercial AWS regions that offer Lambda, API Gateway HTTP APIs and DynamoDB.
AWS_REGIONS = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    }
)

# Distributions the generated project imports: a package of the same name
# would shadow them.
DEPENDENCY_MODULES = frozenset(
    {
        "alembic",
        "apig_wsgi",
        "aws_lambda_powertools",
        "boto3",
        "botocore",
        "flask",
        "flask_cors",
        "flask_smorest",
        "marshmallow",
        "moto",
        "psycopg",
        "pymysql",
        "pytest",
        "pythonjsonlogger",
        "sqlalchemy",
        "webargs",
        "werkzeug",
        "zappa",
    }
)

# Top-level directories of the generated project that are Python packages
# themselves (pytest and `python -m dev...` import them): the package under
# src/ must not share a name with one.
PROJECT_PACKAGES = frozenset({"dev", "tests", "frontend"})

# storage=rds names the database after the package; PostgreSQL caps
# identifiers at 63 characters (MySQL at 64).
DATABASE_NAME_MAX = 63

NAME_MAX = 60
SLUG_MAX = 40  # leaves room for "-<stage>-<resource>" in stack and bucket names
SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
PACKAGE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
FORBIDDEN_TEXT_RE = re.compile(r'["\\\x00-\x1f\x7f]')


def check_project_name(value: str) -> str | None:
    if not value.strip():
        return "project_name: must not be empty"
    if len(value) > NAME_MAX:
        return f"project_name: must be at most {NAME_MAX} characters"
    if FORBIDDEN_TEXT_RE.search(value):
        return "project_name: must be one line without double quotes or backslashes"
    return None


def check_project_slug(value: str) -> str | None:
    if not SLUG_RE.match(value) or len(value) > SLUG_MAX:
        return (
            f"project_slug: {value!r} is not allowed; use lowercase letters, digits and "
            f"single hyphens, starting with a letter, at most {SLUG_MAX} characters"
        )
    return None


def check_package_name(value: str) -> str | None:
    if not PACKAGE_RE.match(value):
        return (
            f"package_name: {value!r} is not allowed; use lowercase letters, digits and "
            "underscores, starting with a letter"
        )
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        return f"package_name: {value!r} is a Python keyword; choose another name"
    if value in sys.stdlib_module_names:
        return f"package_name: {value!r} is a standard library module; choose another name"
    if value in DEPENDENCY_MODULES:
        return f"package_name: {value!r} would shadow a dependency; choose another name"
    if value in PROJECT_PACKAGES:
        return f"package_name: {value!r} is a directory of the generated project; choose another name"
    return None


def check_description(value: str) -> str | None:
    if FORBIDDEN_TEXT_RE.search(value):
        return "description: must be one line without double quotes or backslashes"
    return None


def check_author_name(value: str) -> str | None:
    if FORBIDDEN_TEXT_RE.search(value):
        return "author_name: must be one line without double quotes or backslashes"
    return None


def check_author_email(value: str) -> str | None:
    if not EMAIL_RE.match(value):
        return f"author_email: {value!r} is not an email address like name@example.com"
    return None


def check_aws_region(value: str) -> str | None:
    if value not in AWS_REGIONS:
        return f"aws_region: {value!r} is not an AWS region; one of: {', '.join(sorted(AWS_REGIONS))}"
    return None


FIELD_CHECKS: dict[str, Callable[[str], str | None]] = {
    "project_name": check_project_name,
    "project_slug": check_project_slug,
    "package_name": check_package_name,
    "description": check_description,
    "author_name": check_author_name,
    "author_email": check_author_email,
    "aws_region": check_aws_region,
}


def check_choices(answers: Mapping[str, object], options: Mapping[str, object]) -> str | None:
    """Every list-valued option in cookiecutter.json only takes one of its values."""
    for key, allowed in options.items():
        if key.startswith("_") or not isinstance(allowed, list):
            continue
        value = answers.get(key)
        if value not in allowed:
            return f"{key}: {value!r} is not allowed; one of: {', '.join(map(str, allowed))}"
    return None


def check_database_name(answers: Mapping[str, object]) -> str | None:
    """With storage=rds the package name is the database's name too."""
    package = str(answers.get("package_name", ""))
    if answers.get("storage") == "rds" and len(package) > DATABASE_NAME_MAX:
        return (
            f"package_name: at most {DATABASE_NAME_MAX} characters with storage=rds, "
            f"where it names the database ({len(package)} given)"
        )
    return None


def validate(answers: Mapping[str, object]) -> str | None:
    """Return the first problem with the answers, or None when they are all valid."""
    for key, check in FIELD_CHECKS.items():
        error = check(str(answers.get(key, "")))
        if error:
            return error
    error = check_database_name(answers)
    if error:
        return error
    options = choice_options(answers)
    if options is not None:
        return check_choices(answers, options)
    return None


def choice_options(answers: Mapping[str, object]) -> Mapping[str, object] | None:
    """The template's options with their allowed values.

    Cookiecutter (2.x) does not pass ``_cookiecutter`` inside the answers a
    hook renders, so read cookiecutter.json from the template directory it
    does pass; a replay or an old project's answers reach the hook unchecked
    by cookiecutter itself.
    """
    options = answers.get("_cookiecutter")
    if isinstance(options, Mapping):
        return options
    repo_dir = answers.get("_repo_dir")
    if isinstance(repo_dir, str):
        path = Path(repo_dir) / "cookiecutter.json"
        if path.is_file():
            loaded = json.loads(path.read_text(encoding="utf-8"))
            return loaded if isinstance(loaded, Mapping) else None
    return None


# Rendered by cookiecutter. JSON never holds three unescaped double quotes in a row,
# so the raw string cannot end early.
ANSWERS_JSON = r"""{{ cookiecutter | jsonify }}"""


def main() -> int:
    error = validate(json.loads(ANSWERS_JSON))
    if error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
