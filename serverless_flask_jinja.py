"""The template's Jinja extension: how an answer is checked, derived, and written into each file.

cookiecutter.json loads it (``_extensions``); cookiecutter puts the template's directory on
``sys.path`` while it prompts and renders, so it is imported from here.

* ``check_answers``, rendered by cookiecutter.json's last key (``__answers_checked``) after the
  last question, applies the rules of ``hooks/pre_gen_project.py``: bad answers stop generation
  with the hook's one-line message before cookiecutter creates the project directory, which it
  otherwise does before the pre-generation hook runs.
* ``project_slug`` derives the default slug from the project name (the same module's
  ``derive_slug``).
* The other filters write a string as a literal of one format, escaped, so that any answer
  the rules accept reads back as itself: ``toml_string``, ``yaml_string``, ``python_string``,
  ``python_docstring``, ``markdown_text`` and ``html_text``.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from cookiecutter.exceptions import FailedHookException
from jinja2 import Environment
from jinja2.ext import Extension
from markupsafe import escape

TEMPLATE_DIR = Path(__file__).resolve().parent


def _load_rules() -> ModuleType:
    """``hooks/pre_gen_project.py``, importable as it is (the hooks directory is no package)."""
    path = TEMPLATE_DIR / "hooks" / "pre_gen_project.py"
    spec = importlib.util.spec_from_file_location("serverless_flask_answer_rules", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import the answer rules from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


rules: Any = _load_rules()


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
        )
