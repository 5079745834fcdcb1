"""What a rendered project may contain, derived from the template's own tables.

* Files: ``post_gen_project.OWNED_PATHS`` says which paths each option value
  owns. A project has the (settled) paths of its chosen values and none of
  the others.
* References ("the forbidden-words rule"): a project names no option value it
  did not choose. The words that betray a value are its own name (unless the
  name is an ordinary word, ``GENERIC_VALUES``), the names of the files it
  owns, and the words in ``REFERENCE_WORDS``. Add words there when a new value
  brings identifiers of its own.

Ownership may be shared: a path or word listed under several values (the AWS
emulator, for ``storage=dynamodb``, ``secrets=ssm`` and ``frontend=spa``) is
expected when any of them is chosen and forbidden only when none is.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import serverless_flask_jinja as extension
from tests.combinations import COOKIECUTTER_JSON, applies, load_options
from tests.support import PROJECT_TEMPLATE, load_hook

post_gen: Any = load_hook("post_gen_project")
OWNED_PATHS: dict[str, dict[str, list[str]]] = post_gen.OWNED_PATHS

# Words that name an option value besides its own name and its files' names.
# Matched case-insensitively as whole words.
REFERENCE_WORDS: dict[str, dict[str, list[str]]] = {
    "storage": {
        "dynamodb": ["ByCreatedAt", "GSI1PK", "moto"],
        "rds": [
            "SQLAlchemy",
            "Alembic",
            "DATABASE_URL",
            "SQLite",
            "RDS Proxy",
            "VpcConfig",
            "MigrateFunction",
        ],
    },
    "rds_engine": {
        "postgres": ["PostgreSQL", "psycopg", "libpq"],
        "mysql": ["PyMySQL", "MariaDB"],
    },
    "secrets": {
        "ssm": ["Parameter Store", "SecureString", "SECRETS_PATH", "get_parameter", "moto"],
        "env": ["NoEcho"],
    },
    # frontend=none brings nothing of its own: it is the absence of these.
    "frontend": {
        "spa": ["single-page app", "CloudFront", "Vite", "flask_cors", "SITE_ORIGINS", "npm", "moto"],
    },
}

# Values whose name is an ordinary word ("none", "env"): their name alone is
# no reference, only their files and REFERENCE_WORDS are.
GENERIC_VALUES = frozenset({"none", "env"})

# Words a capability uses although they name an option value (serverless_flask_jinja.CAPABILITIES):
# capability -> words.
SHARED_WORDS: dict[str, frozenset[str]] = {
    # A backend the SAM CLI builds names it, and its build writes .aws-sam/build/template.yaml.
    "sam_built": frozenset({"sam", "template.yaml"}),
    # Alembic imports SQLAlchemy's PostgreSQL dialect whatever the database: the artifact keeps it.
    "mysql_database": frozenset({"PostgreSQL"}),
}

# Files that record every choice by design (the recorded answers for cruft).
RECORDS = frozenset({".cookiecutter.json"})

# Text that names a value without referring to the option: an environment
# marker's machine (pyproject.toml's ``[tool.uv] environments``) is one the
# lock covers for developers, whatever the function's architecture.
NOT_REFERENCES = re.compile(r"platform_machine == '\w+'")

# Lock files are data that pyproject.toml and package.json determine: they
# name packages, their files and every platform's wheels (an unchosen option's
# word may be part of one: moto needs flask-cors, whose wheel is
# flask_cors-...whl). The render tier checks each is exactly what its source
# asks for, and the sources are checked here.
LOCK_FILE = re.compile(r"(^|/)(uv\.lock|package-lock\.json)$")

# Files cookiecutter copies without rendering (cookiecutter.json's
# _copy_without_render, matched against the path in the project): the
# frontend's sources, whose JSX and template literals are not Jinja.
COPY_WITHOUT_RENDER: tuple[str, ...] = tuple(
    json.loads(COOKIECUTTER_JSON.read_text(encoding="utf-8")).get("_copy_without_render", [])
)


def copied_without_rendering(relative: str) -> bool:
    """Whether cookiecutter copies ``relative`` (or a directory above it) verbatim."""
    return any(
        fnmatch.fnmatch(prefix, pattern) for prefix in _prefixes(relative) for pattern in COPY_WITHOUT_RENDER
    )


SAM_TRANSFORM = "AWS::Serverless-2016-10-31"


def template_source(relative: str) -> Path:
    """A path in the project template (``{pkg}`` written as the package's Jinja directory name)."""
    return PROJECT_TEMPLATE / relative


def is_sam_template(path: Path) -> bool:
    return SAM_TRANSFORM in path.read_text(encoding="utf-8")


def settled(relative: str, value: str) -> str:
    return str(PurePosixPath(post_gen.settled_name(Path(relative), value)))


def owned(option: str, value: str, package: str) -> list[str]:
    """The paths ``value`` of ``option`` owns, as written in the template (infix names)."""
    return [path.format(pkg=package) for path in OWNED_PATHS.get(option, {}).get(value, [])]


def chosen_value(option: str, answers: Mapping[str, str]) -> str | None:
    """The value a project has for ``option``; None when the option does not apply to it."""
    return answers.get(option) if applies(option, answers) else None


def unchosen(answers: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    for option, values in load_options().items():
        chosen = chosen_value(option, answers)
        for value in values:
            if value != chosen:
                yield option, value


@dataclass(frozen=True)
class PathRule:
    """``path`` must exist (``present``) or must not, because of ``option=value``."""

    path: str
    present: bool
    option: str
    value: str


def chosen_paths(answers: Mapping[str, str]) -> set[str]:
    """Every path a chosen value owns, under its settled name."""
    package = answers["package_name"]
    found = set()
    for option in OWNED_PATHS:
        chosen = chosen_value(option, answers)
        if chosen:
            found |= {settled(path, chosen) for path in owned(option, chosen, package)}
    return found


def path_rules(answers: Mapping[str, str]) -> list[PathRule]:
    package = answers["package_name"]
    everywhere_kept = chosen_paths(answers)
    rules: list[PathRule] = []
    for option, owners in OWNED_PATHS.items():
        chosen = chosen_value(option, answers)
        kept = {settled(path, chosen) for path in owned(option, chosen, package)} if chosen else set()
        for value in owners:
            for path in owned(option, value, package):
                if value == chosen:
                    rules.append(PathRule(settled(path, value), True, option, value))
                    continue
                if path in everywhere_kept:  # another chosen value owns it too
                    continue
                rules.append(PathRule(path, False, option, value))
                # An alternative's plain name is the chosen value's file, if it has one.
                plain = settled(path, value)
                if plain != path and plain not in kept:
                    rules.append(PathRule(plain, False, option, value))
    return rules


def unsettled_names(relative_paths: list[str]) -> list[tuple[str, str, str]]:
    """``(path, option, value)`` for files still carrying a value infix (``secrets.ssm.py``)."""
    found = []
    for relative in relative_paths:
        for option, owners in OWNED_PATHS.items():
            for value in owners:
                if any(settled(part, value) != part for part in _prefixes(relative)):
                    found.append((relative, option, value))
    return found


def _prefixes(relative: str) -> list[str]:
    parts = PurePosixPath(relative).parts
    return [str(PurePosixPath(*parts[: index + 1])) for index in range(len(parts))]


@dataclass(frozen=True)
class ForbiddenWord:
    word: str
    option: str
    value: str
    pattern: re.Pattern[str]


def word_pattern(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(word) + r"(?!\w)", re.IGNORECASE)


def forbidden_words(answers: Mapping[str, str]) -> list[ForbiddenWord]:
    """Every word that would refer to an option value this project did not choose."""
    package = answers["package_name"]
    # Words and file names a chosen value brings are never forbidden, whoever else owns them too.
    allowed = {PurePosixPath(path).name.lower() for path in chosen_paths(answers)}
    for option in OWNED_PATHS:
        chosen_here = chosen_value(option, answers)
        allowed |= {word.lower() for word in REFERENCE_WORDS.get(option, {}).get(chosen_here or "", [])}
    shared = {
        word for capability in extension.capabilities(answers) for word in SHARED_WORDS.get(capability, ())
    }
    result: dict[tuple[str, str, str], ForbiddenWord] = {}
    for option, value in unchosen(answers):
        chosen = chosen_value(option, answers)
        words: set[str] = set()
        if option == "python_version":
            words |= {f"python{value}", "py" + value.replace(".", "")}
        elif value not in GENERIC_VALUES:
            words.add(value)
        words.update(REFERENCE_WORDS.get(option, {}).get(value, []))
        kept = (
            {PurePosixPath(settled(p, chosen)).name for p in owned(option, chosen, package)}
            if chosen
            else set()
        )
        for path in owned(option, value, package):
            name = PurePosixPath(settled(path, value)).name
            if name not in kept:
                words.add(name)
        words -= shared
        words = {word for word in words if word.lower() not in allowed}
        for word in words:
            result[(word.lower(), option, value)] = ForbiddenWord(word, option, value, word_pattern(word))
    return list(result.values())


def references(relative: str, text: str, words: list[ForbiddenWord]) -> Iterator[str]:
    """``path:line: 'word' (option=value)`` for each forbidden word in a file."""
    if relative in RECORDS or LOCK_FILE.search(relative):
        return
    text = NOT_REFERENCES.sub(lambda found: " " * len(found.group()), text)  # same offsets, same lines
    for word in words:
        for match in word.pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            yield f"{relative}:{line}: {match.group(0)!r} refers to {word.option}={word.value}"


@cache
def default_answers() -> dict[str, str]:
    """What ``cookiecutter --no-input`` answers: every default, derived keys rendered."""
    from cookiecutter.generate import generate_context
    from cookiecutter.prompt import prompt_for_config

    context = generate_context(context_file=str(COOKIECUTTER_JSON))
    answers = prompt_for_config(context, no_input=True)
    return {key: str(value) for key, value in answers.items() if not key.startswith("_")}


def recorded_answers() -> dict[str, object]:
    """What cookiecutter records for ``--no-input`` (a replay file): every key, rendered private ones too."""
    from cookiecutter.generate import generate_context
    from cookiecutter.prompt import prompt_for_config

    return dict(prompt_for_config(generate_context(context_file=str(COOKIECUTTER_JSON)), no_input=True))
