"""How much of the template is Jinja, and how much of it tests an option's value.

``python -m tests.template_stats`` (``make stats``) prints, for the skeleton
(``{{cookiecutter.project_slug}}/``, without its plain locks and the files
cookiecutter copies without rendering) and the shared fragments in ``templates/``:

* the number of Jinja tags (``{{ }}``, ``{% %}``, ``{# #}``) in the files' text;
* per option, the conditions that test its value (``cookiecutter.storage == 'rds'``,
  ``!=``, ``in``, ``not in``), and how many files hold them;
* per option, the tables looked up by its value (``{...}[cookiecutter.rds_engine]``): no
  condition (a value missing from one fails the render), but a place a new value must fill.

Conditions belong on capabilities (``has("sql_store")``, serverless_flask_jinja.CAPABILITIES):
a value test in a shared file makes a new value silently take one side of it.
``value_tests()`` is what the hooks tier holds at zero.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.combinations import TEMPLATE_DIR, load_options
from tests.options import copied_without_rendering
from tests.support import PROJECT_TEMPLATE

FRAGMENTS = TEMPLATE_DIR / "templates"
# Data the post-gen hook installs, copied without rendering.
LOCKS = "locks"

JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


def value_test(option: str) -> re.Pattern[str]:
    """A comparison of ``option``'s value."""
    return re.compile(rf"cookiecutter\.{option}\b\s*(?:==|!=|not\s+in\b|in\b)")


def value_lookup(option: str) -> re.Pattern[str]:
    """A table looked up by ``option``'s value."""
    return re.compile(rf"\[\s*cookiecutter\.{option}\s*\]")


@dataclass(frozen=True)
class ValueTest:
    option: str
    path: str  # relative to the template's root
    line: int
    text: str


def rendered_files() -> Iterator[Path]:
    """Every file cookiecutter renders: the skeleton's and the fragments'."""
    for path in sorted(PROJECT_TEMPLATE.rglob("*")):
        relative = path.relative_to(PROJECT_TEMPLATE).as_posix()
        if path.is_file() and relative.split("/")[0] != LOCKS and not copied_without_rendering(relative):
            yield path
    yield from (path for path in sorted(FRAGMENTS.rglob("*")) if path.is_file())


def jinja_tags() -> int:
    return sum(len(JINJA_TAG.findall(path.read_text(encoding="utf-8"))) for path in rendered_files())


def value_tests(options: Sequence[str] | None = None, *, lookups: bool = False) -> list[ValueTest]:
    """Every condition on an option's value (with ``lookups``: every table looked up by one instead)."""
    found = []
    for option in options if options is not None else load_options():
        pattern = value_lookup(option) if lookups else value_test(option)
        for path in rendered_files():
            text = path.read_text(encoding="utf-8")
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                relative = path.relative_to(TEMPLATE_DIR).as_posix()
                found.append(ValueTest(option, relative, line, text.splitlines()[line - 1].strip()))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.template_stats", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--list", action="store_true", help="also print every value test, path:line: text")
    args = parser.parse_args(argv)
    print(f"Jinja tags: {jinja_tags()}")
    for what, tests in (("conditions", value_tests()), ("lookups", value_tests(lookups=True))):
        print(f"{what} on an option's value:")
        for option in load_options():
            mine = [test for test in tests if test.option == option]
            print(f"  {option}: {len(mine)} in {len({test.path for test in mine})} files")
        print(f"  all options: {len(tests)} in {len({test.path for test in tests})} files")
        if args.list:
            for test in tests:
                print(f"    {test.path}:{test.line}: {test.text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
