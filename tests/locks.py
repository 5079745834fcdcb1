"""The generated project's lock files, for every combination: ``make lock``.

``requirements.txt`` and ``requirements-dev.txt`` in the project template are
Jinja templates. Rendered for a combination, each must be what the project's
own ``make lock`` (``uv pip compile``) writes for it, so a project starts from
uv's resolution and re-locking it changes nothing but newer versions. This
module keeps them so: for every assignment of the options the ``.in`` files
depend on, it renders the ``.in`` files, compiles them with uv as the
project's Makefile does, and merges the outputs into one template, with a
Jinja condition around each entry that not every assignment shares.

    uv run python -m tests.locks            # rewrite both lock templates (needs the package index)

The render tier checks the result offline: each rendered lock installs
without resolving (``--no-deps``) into a consistent environment.
"""

from __future__ import annotations

import argparse
import itertools
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import jinja2

from tests.combinations import applies, load_options
from tests.options import default_answers
from tests.support import PROJECT_TEMPLATE

# requirement file -> the lock compiled from it, in the order the project compiles them.
LOCKS = {"requirements.in": "requirements.txt", "requirements-dev.in": "requirements-dev.txt"}
# The oldest runtime the template offers: the universal lock holds for the newer ones too.
PYTHON_VERSION = "3.12"
HEADER_LINES = 2
_OPTION = re.compile(r"cookiecutter\.(\w+)")

Assignment = tuple[tuple[str, str], ...]


def depended_options() -> list[str]:
    """The options the ``.in`` files test, in cookiecutter.json's order."""
    named = set()
    for source in LOCKS:
        named |= set(_OPTION.findall((PROJECT_TEMPLATE / source).read_text(encoding="utf-8")))
    return [option for option in load_options() if option in named]


def assignments(options: Sequence[str]) -> list[Assignment]:
    """Each meaningful assignment of ``options`` once (an option that does not apply keeps its default)."""
    choices = load_options()
    defaults = default_answers()
    seen: dict[Assignment, None] = {}
    for values in itertools.product(*(choices[option] for option in options)):
        answers = {**defaults, **dict(zip(options, values, strict=True))}
        key = tuple(
            (option, answers[option] if applies(option, answers) else defaults[option]) for option in options
        )
        seen.setdefault(key)
    return list(seen)


def compile_locks(assignment: Assignment, uv: Path) -> dict[str, list[str]]:
    """uv's lock files for one assignment: file name -> lines."""
    answers = {**default_answers(), **dict(assignment)}
    environment = jinja2.Environment(keep_trailing_newline=True, autoescape=False)  # noqa: S701 -- not HTML
    with tempfile.TemporaryDirectory(prefix="sf-lock-") as directory:
        work = Path(directory)
        for source, lock in LOCKS.items():
            text = (PROJECT_TEMPLATE / source).read_text(encoding="utf-8")
            (work / source).write_text(environment.from_string(text).render(cookiecutter=answers))
            compile_command: list[str | Path] = [
                uv,
                "pip",
                "compile",
                "--quiet",
                "--universal",
                "--python-version",
                PYTHON_VERSION,
                "--custom-compile-command",
                "make lock",
                source,
                "-o",
                lock,
            ]
            subprocess.run(compile_command, cwd=work, check=True)
        return {lock: (work / lock).read_text(encoding="utf-8").splitlines() for lock in LOCKS.values()}


def entries(lines: Sequence[str]) -> dict[str, str]:
    """A lock's entries (a pin and its ``# via`` lines) by package name, in the file's order."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines[HEADER_LINES:]:
        if line.startswith(" "):
            if current is None:
                raise ValueError(f"an annotation before any requirement: {line!r}")
            current.append(line)
            continue
        name = re.split(r"[=<>!~ ;\[]", line, maxsplit=1)[0].lower()
        current = found[name] = [line]
    return {name: "\n".join(block) for name, block in found.items()}


def condition(members: set[Assignment], universe: Sequence[Assignment]) -> str:
    """A Jinja condition true for exactly ``members`` among ``universe``: a short OR of ANDs."""
    order = list(load_options())
    atoms = sorted(
        {pair for assignment in universe for pair in assignment},
        key=lambda pair: (order.index(pair[0]), pair[1]),
    )
    terms: list[tuple[tuple[str, str], ...]] = []
    for size in range(1, len(universe[0]) + 1):
        for term in itertools.combinations(atoms, size):
            if len({option for option, _ in term}) < size:
                continue
            covered = {a for a in universe if set(term) <= set(a)}
            if covered and covered <= members:
                terms.append(term)
    uncovered, chosen = set(members), []
    while uncovered:  # greedy set cover, the widest term first, then the shortest
        best = max(terms, key=lambda t: (len(uncovered & {a for a in universe if set(t) <= set(a)}), -len(t)))
        chosen.append(best)
        uncovered -= {a for a in universe if set(best) <= set(a)}
    rendered = [
        " and ".join(f"cookiecutter.{option} == '{value}'" for option, value in term) for term in chosen
    ]
    if len(rendered) == 1:
        return rendered[0]
    return " or ".join(f"({text})" if " and " in text else text for text in rendered)


def merge(outputs: Mapping[Assignment, Sequence[str]]) -> str:
    """One Jinja template rendering to each assignment's lock."""
    universe = list(outputs)
    headers = {tuple(lines[:HEADER_LINES]) for lines in outputs.values()}
    if len(headers) != 1:
        raise ValueError(f"the locks' headers differ: {headers}")
    parsed = {assignment: entries(lines) for assignment, lines in outputs.items()}
    names = sorted({name for found in parsed.values() for name in found})
    lines = list(next(iter(headers)))
    for name in names:
        texts: dict[str, set[Assignment]] = {}
        for assignment in universe:
            text = parsed[assignment].get(name)
            if text is not None:
                texts.setdefault(text, set()).add(assignment)
        if len(texts) == 1 and len(next(iter(texts.values()))) == len(universe):
            lines.append(next(iter(texts)))
            continue
        keyword = "if"
        for text, members in sorted(texts.items(), key=lambda item: -len(item[1])):
            lines.append(f"{{%- {keyword} {condition(members, universe)} %}}")
            lines.append(text)
            keyword = "elif"
        lines.append("{%- endif %}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.locks", description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    found = shutil.which("uv")
    if found is None:
        parser.error("uv is not on PATH")
    uv = Path(found)
    options = depended_options()
    combos = assignments(options)
    print(f"compiling {len(combos)} assignments of {', '.join(options)}", file=sys.stderr)
    compiled = {assignment: compile_locks(assignment, uv) for assignment in combos}
    environment = jinja2.Environment(keep_trailing_newline=True, autoescape=False)  # noqa: S701 -- not HTML
    for lock in LOCKS.values():
        template = merge({assignment: locks[lock] for assignment, locks in compiled.items()})
        for assignment, locks in compiled.items():
            rendered = environment.from_string(template).render(
                cookiecutter={**default_answers(), **dict(assignment)}
            )
            if rendered.splitlines() != locks[lock]:
                raise AssertionError(
                    f"{lock}: the merged template does not render uv's lock for {assignment}"
                )
        (PROJECT_TEMPLATE / lock).write_text(template, encoding="utf-8")
        print(f"wrote {PROJECT_TEMPLATE.name}/{lock}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
