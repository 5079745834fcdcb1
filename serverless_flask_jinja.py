"""The template's Jinja extension: how an answer is checked, derived, and written into each file.

cookiecutter.json loads it (``_extensions``); cookiecutter puts the template's directory on
``sys.path`` while it prompts and renders, so it is imported from here.

* ``check_answers``, rendered by cookiecutter.json's last key (``__answers_checked``) after the
  last question, applies the rules of ``hooks/pre_gen_project.py``: bad answers stop generation
  with the hook's one-line message before cookiecutter creates the project directory, which it
  otherwise does before the pre-generation hook runs.
* ``project_slug`` derives the default slug from the project name (the same module's
  ``derive_slug``).
* ``has("sql_store")`` (a global) says whether the answers have a capability: the files test
  what a project can do, never which value was chosen, so a new value takes no side of a
  condition by accident. ``CAPABILITIES`` names each, with its meaning; ``PROVIDES`` says which
  option values give it; ``DERIVED`` holds the ones that follow from others. The post-generation
  hook and the template's tests read the same tables (``capabilities``, also a filter).
* The other filters write a string as a literal of one format, escaped, so that any answer
  the rules accept reads back as itself: ``toml_string``, ``yaml_string``, ``python_string``,
  ``python_docstring``, ``markdown_text`` and ``html_text``.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from cookiecutter.exceptions import FailedHookException
from jinja2 import Environment, pass_context
from jinja2.ext import Extension
from jinja2.runtime import Context
from markupsafe import escape

TEMPLATE_DIR = Path(__file__).resolve().parent


def _load_hook(name: str, module_name: str) -> ModuleType:
    """``hooks/<name>.py``, importable as it is (the hooks directory is no package)."""
    path = TEMPLATE_DIR / "hooks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# The answer rules, and the table of which options apply when (post_gen_project.APPLIES_WHEN).
rules: Any = _load_hook("pre_gen_project", "serverless_flask_answer_rules")
post_gen: Any = _load_hook("post_gen_project", "serverless_flask_post_gen")


class AnswerRefused(FailedHookException):  # type: ignore[misc]  # cookiecutter ships no types
    """Answers the pre-generation hook would refuse, refused before anything is written.

    A FailedHookException, as the hook's refusal is: cookiecutter's command line prints it as
    one line and exits 1, and its API raises it.
    """


def check_answers(answers: Mapping[str, object]) -> str:
    """Raise AnswerRefused with the hook's message for the first bad answer; else ``"yes"``."""
    error = rules.validate({**answers, "_repo_dir": str(TEMPLATE_DIR)})
    if error:
        raise AnswerRefused(f"ERROR: {error}")
    return "yes"


def project_slug(name: str) -> str:
    return str(rules.derive_slug(name))


# --- capabilities --------------------------------------------------------------------------------

# What a project can do, by name: the conditions of the template's files test these.
CAPABILITIES: dict[str, str] = {
    # how the service is built and deployed
    "sam_built": "the SAM CLI builds the function (sam.mk, .aws-sam/) around apig-wsgi's handler",
    "zappa_built": "Zappa packages the function, with its own handler (.zappa/)",
    "sam_deploys": "`sam deploy` from the developer's machine deploys the stack",
    "cloudformation_deploys": "`aws cloudformation deploy` from the developer's machine deploys the stack",
    "pipeline_deploys": "a CodePipeline of the project's own builds and deploys each stage",
    "pre_traffic_hook": "a release takes traffic through CodeDeploy, whose hook runs the migration "
    "function first",
    # the data store
    "key_value_store": "the data lives in a DynamoDB table",
    "sql_store": "the data lives in a SQL database (Amazon RDS), migrated by Alembic",
    "in_vpc": "the functions run in the VPC's private subnets, beside the database",
    "postgresql_database": "the SQL database is PostgreSQL",
    "mysql_database": "the SQL database is MySQL (MariaDB locally)",
    # the secrets
    "secrets_service": "secrets are read at run time from a service (SSM Parameter Store)",
    "secrets_in_environment": "secrets are NoEcho stack parameters, given to the function as environment "
    "variables",
    # the site
    "site": "a single-page app served by S3 and CloudFront, calling the API",
    # the Lambda platform
    "arm_cpu": "the functions run on arm64 (Graviton)",
    # derived (DERIVED)
    "machine_deploys": "`make deploy` on the developer's machine deploys the stack",
    "app_on_aws_emulator": "`make dev` runs the app against the local AWS emulator",
    "aws_emulator": "the project runs the local AWS emulator (moto) for `make dev` or its tests",
    "post_deploy_steps": "a deploy has steps after the stack's update: migrations, the site's upload",
}

# option -> value -> the capabilities the value gives. A value with none is listed with none.
PROVIDES: dict[str, dict[str, frozenset[str]]] = {
    "deployment": {
        "sam": frozenset({"sam_built", "sam_deploys", "pre_traffic_hook"}),
        "zappa": frozenset({"zappa_built", "cloudformation_deploys"}),
        "codestar": frozenset({"sam_built", "pipeline_deploys", "pre_traffic_hook"}),
    },
    "storage": {
        "dynamodb": frozenset({"key_value_store"}),
        "rds": frozenset({"sql_store", "in_vpc"}),
    },
    "rds_engine": {
        "postgres": frozenset({"postgresql_database"}),
        "mysql": frozenset({"mysql_database"}),
    },
    "secrets": {
        "ssm": frozenset({"secrets_service"}),
        "env": frozenset({"secrets_in_environment"}),
    },
    "frontend": {
        "none": frozenset(),
        "spa": frozenset({"site"}),
    },
    "architecture": {
        "arm64": frozenset({"arm_cpu"}),
        "x86_64": frozenset(),
    },
}

# capability -> the capabilities any one of which gives it.
DERIVED: dict[str, frozenset[str]] = {
    "machine_deploys": frozenset({"sam_deploys", "cloudformation_deploys"}),
    "app_on_aws_emulator": frozenset({"key_value_store", "secrets_service"}),
    "aws_emulator": frozenset({"app_on_aws_emulator", "site"}),
    "post_deploy_steps": frozenset({"sql_store", "site"}),
}


def capabilities(answers: Mapping[str, object]) -> list[str]:
    """The capabilities these answers give, sorted. An option that does not apply gives none
    (``post_gen_project.chosen``: rds_engine without storage=rds)."""
    held = {
        capability
        for option, values in PROVIDES.items()
        if option in answers
        for capability in values.get(str(post_gen.chosen(option, answers)), frozenset())
    }
    for capability, sources in DERIVED.items():  # in order: a derived one may build on another
        if held & sources:
            held.add(capability)
    return sorted(held)


def options_behind(capability: str) -> set[str]:
    """The options whose answers decide ``capability`` (through DERIVED, and APPLIES_WHEN)."""
    options = {option for option, values in PROVIDES.items() if any(capability in v for v in values.values())}
    for source in DERIVED.get(capability, frozenset()):
        options |= options_behind(source)
    return options | {
        post_gen.APPLIES_WHEN[option][0] for option in options if option in post_gen.APPLIES_WHEN
    }


# How a template tests a capability, as options_behind's callers find it in a file.
HAS_CALL = re.compile(r"""\bhas\(['"](\w+)['"]\)""")


@pass_context
def has(context: Context, capability: str) -> bool:
    """Whether the answers being rendered (``cookiecutter``) give ``capability``."""
    if capability not in CAPABILITIES:
        raise KeyError(f"no capability {capability!r}: see CAPABILITIES in {Path(__file__).name}")
    return capability in capabilities(context["cookiecutter"])


# --- literals ------------------------------------------------------------------------------------


def _escaped(char: str, escapes: Mapping[str, str], *, printable: bool) -> str:
    """``char`` as one format writes it: its own escape, else a ``\\u`` escape when it is not
    printable (and ``printable`` says the format needs one), else as it is."""
    if char in escapes:
        return escapes[char]
    if printable and not char.isprintable() and char != " ":
        code = ord(char)
        return f"\\x{code:02X}" if code <= 0xFF else f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"
    return char


TOML_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(value: str) -> str:
    """A TOML basic string. TOML has no ``\\x`` escape, and no escape at all for a surrogate."""
    out = []
    for char in value:
        if "\ud800" <= char <= "\udfff":
            raise ValueError(f"{value!r} holds a surrogate, which TOML cannot hold")
        if char in TOML_ESCAPES:
            out.append(TOML_ESCAPES[char])
        elif not char.isprintable() and char != " ":
            code = ord(char)
            out.append(f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


YAML_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\0": "\\0",
    "\t": "\\t",
    "\n": "\\n",
    "\r": "\\r",
    "\x85": "\\N",
    "\u2028": "\\L",
    "\u2029": "\\P",
}


def yaml_string(value: str) -> str:
    """A YAML double-quoted scalar on one line: whatever follows a ``: `` or starts with ``- ``,
    ``#``, ``&``, ``*``, ``!``, ``|``, ``>``, ``%``, ``@`` or a space is text inside quotes."""
    return '"' + "".join(_escaped(char, YAML_ESCAPES, printable=True) for char in value) + '"'


def _python_escaped(char: str, quote: str) -> str:
    if char in ("\\", quote):
        return "\\" + char
    if not char.isprintable() and char != " ":
        return repr(char)[1:-1]  # \n, \x85, \u2028, \U000e0001: lowercase hex, as ruff format writes it
    return char


def python_string(value: str) -> str:
    """A one-line Python string literal, quoted as ruff format quotes it: double quotes unless
    the value holds more of them than single quotes."""
    quote = "'" if value.count('"') > value.count("'") else '"'
    return quote + "".join(_python_escaped(char, quote) for char in value) + quote


# The generated project's ruff line length.
LINE_LENGTH = 110


def _columns(text: str) -> int:
    """An upper bound of ruff's width of ``text``: no character is wider than two columns."""
    return sum(1 if char.isascii() else 2 for char in text)


def python_docstring(value: str, width: int = LINE_LENGTH) -> str:
    """A module docstring holding ``value``, wrapped at spaces to ``width`` columns.

    Every backslash and double quote is escaped, so no ``\"\"\"`` ends it early and no trailing
    backslash escapes its closing quotes. A word longer than a line stays whole on a line of its
    own, which ruff's line-length rule lets pass.
    """
    words = "".join(_python_escaped(char, '"') for char in value).split(" ")
    lines: list[str] = []
    line = ""
    for word in (word for word in words if word):
        candidate = f"{line} {word}" if line else word
        opening = 3 if not lines else 0  # the first line starts with the opening quotes
        if line and _columns(candidate) + opening > width:
            lines.append(line)
            candidate = word
        line = candidate
    lines.append(line)
    quotes = 6 if len(lines) == 1 else 3  # the last line ends with the closing quotes
    if _columns(line) + quotes > width and " " in line:
        # Move the last word down to a line of its own.
        head, _, last = line.rpartition(" ")
        lines[-1:] = [head, last]
    return '"""' + "\n".join(lines) + '"""'


# CommonMark (and GitHub's additions: strikethrough, math, tables) gives these meaning anywhere
# in a line; a backslash before an ASCII punctuation character makes it plain text.
MARKDOWN_INLINE = frozenset("\\`*_[]<&~$#")
# At the start of a paragraph these open a block: a quote, a list, a heading underline, a table.
MARKDOWN_LINE_START = frozenset(">-+=|")


def markdown_text(value: str) -> str:
    """``value`` as Markdown text that renders as itself, on a heading line or as a paragraph."""
    out = ["\\" + char if char in MARKDOWN_INLINE else char for char in value]
    if value[:1] in MARKDOWN_LINE_START:
        out[0] = "\\" + value[0]
    # An ordered list item: up to nine digits, then "." or ")".
    digits = len(value) - len(value.lstrip("0123456789"))
    if 0 < digits <= 9 and value[digits : digits + 1] in (".", ")"):
        out[digits] = "\\" + value[digits]
    return "".join(out)


def html_text(value: str) -> str:
    """HTML-escaped text; ``%`` too, which Vite would otherwise read as ``%ENV_NAME%`` in index.html."""
    return str(escape(value)).replace("%", "&#37;")


class AnswersExtension(Extension):
    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters.update(
            check_answers=check_answers,
            project_slug=project_slug,
            toml_string=toml_string,
            yaml_string=yaml_string,
            python_string=python_string,
            python_docstring=python_docstring,
            markdown_text=markdown_text,
            html_text=html_text,
            capabilities=capabilities,
        )
        environment.globals.update(has=has)
