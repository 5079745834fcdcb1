"""The generated projects' uv.lock files, one per set of dependencies: ``make lock``.

A project's dependencies are in its ``pyproject.toml`` (``[project]`` and
``[dependency-groups]``), which Jinja renders from the answers; its lock is
plain data. For every meaningful assignment of the options ``pyproject.toml``
tests, this module renders it, locks it with uv as the project's own ``make
lock`` does (``uv lock``, starting from the lock it has, so pins move only
when they must), and keeps one lock per distinct result in the project
template, where cookiecutter copies them without rendering:

    locks/<name>/uv.lock    a lock, named after the first assignment it is for
    locks/index.json        which lock each assignment gets

The post-gen hook installs the project's as ``uv.lock``
(``hooks/post_gen_project.py``): every lock is made for the default project
name, and the hook gives it the project's own. The render tier checks each
rendered lock is exactly what its ``pyproject.toml`` asks for (``uv lock
--check``, offline).

    uv run python -m tests.locks                                  # re-lock every set (needs the index)
    uv run python -m tests.locks --upgrade                        # the newest versions allowed
    uv run python -m tests.locks --upgrade-package ruff==0.17.6   # one pin only
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import serverless_flask_jinja as extension
from tests.combinations import COOKIECUTTER_JSON, applies, load_options
from tests.options import default_answers, post_gen
from tests.support import PROJECT_TEMPLATE

LOCKS_DIR = PROJECT_TEMPLATE / post_gen.LOCKS
INDEX = LOCKS_DIR / post_gen.LOCK_INDEX
# What a project's lock is made from: its dependencies, and the Python uv finds for them.
LOCKED_FROM = ("pyproject.toml", ".python-version")
_OPTION = re.compile(r"cookiecutter\.(\w+)")
# uv lock runs in parallel: it waits mostly on the index.
WORKERS = 4

Assignment = tuple[tuple[str, str], ...]


def depended_options() -> list[str]:
    """The choice options the files a lock is made from test, directly or through a capability,
    in cookiecutter.json's order."""
    named: set[str] = set()
    for source in LOCKED_FROM:
        text = (PROJECT_TEMPLATE / source).read_text(encoding="utf-8")
        named |= set(_OPTION.findall(text))
        for capability in extension.HAS_CALL.findall(text):
            named |= extension.options_behind(capability)
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


def lock_name(assignment: Assignment) -> str:
    """``3.13-sam-rds-postgres-ssm-none``: the values that apply, in option order."""
    answers = {**default_answers(), **dict(assignment)}
    return "-".join(value for option, value in assignment if applies(option, answers))


def index_key(assignment: Assignment) -> str:
    """The key of ``assignment`` in locks/index.json, as the post-gen hook computes it."""
    answers = {**default_answers(), **dict(assignment)}
    return str(post_gen.lock_key(answers, [option for option, _ in assignment]))


def render(assignment: Assignment) -> dict[str, str]:
    """The files a lock is made from, rendered for ``assignment`` as cookiecutter renders them."""
    from cookiecutter.environment import StrictEnvironment

    context = json.loads(COOKIECUTTER_JSON.read_text(encoding="utf-8"))
    answers = {**default_answers(), **dict(assignment)}
    environment = StrictEnvironment(context={"cookiecutter": context}, keep_trailing_newline=True)
    return {
        source: environment.from_string((PROJECT_TEMPLATE / source).read_text(encoding="utf-8")).render(
            cookiecutter=answers
        )
        for source in LOCKED_FROM
    }


def lock(files: Mapping[str, str], previous: str | None, uv: Path, upgrade: Sequence[str]) -> str:
    """``uv lock`` of a project made of ``files``, from its ``previous`` lock (``upgrade``: what may move)."""
    with tempfile.TemporaryDirectory(prefix="sf-lock-") as directory:
        work = Path(directory)
        for name, text in files.items():
            (work / name).write_text(text, encoding="utf-8")
        if previous is not None:
            (work / "uv.lock").write_text(previous, encoding="utf-8")
        command = [str(uv), "lock", "--quiet", *upgrade]
        result = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"uv lock failed:\n{result.stderr}")
        return (work / "uv.lock").read_text(encoding="utf-8")


def previous_locks() -> dict[str, str]:
    """index.json key -> the lock the template has for it now."""
    if not INDEX.is_file():
        return {}
    index: dict[str, Any] = json.loads(INDEX.read_text(encoding="utf-8"))
    return {
        key: (LOCKS_DIR / name / "uv.lock").read_text(encoding="utf-8")
        for key, name in index["locks"].items()
        if (LOCKS_DIR / name / "uv.lock").is_file()
    }


def check_uv(uv: Path) -> None:
    """The locks are made by the uv the generated projects pin (cookiecutter.json's ``__uv_version``)."""
    pinned = json.loads(COOKIECUTTER_JSON.read_text(encoding="utf-8"))["__uv_version"]
    version = subprocess.run(
        [str(uv), "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    if version != pinned:
        sys.exit(
            f"error: uv {version} is on PATH; the projects pin uv {pinned} (__uv_version): lock with that"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.locks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--upgrade", action="store_true", help="take the newest versions the projects allow")
    parser.add_argument(
        "--upgrade-package", action="append", default=[], metavar="NAME[==VERSION]", help="move one pin only"
    )
    args = parser.parse_args(argv)
    found = shutil.which("uv")
    if found is None:
        parser.error("uv is not on PATH")
    uv = Path(found)
    check_uv(uv)
    upgrade = [
        *(["--upgrade"] if args.upgrade else []),
        *(f"--upgrade-package={p}" for p in args.upgrade_package),
    ]
    options = depended_options()
    combos = assignments(options)
    # Assignments that render the same files (sam and codestar) share one lock run.
    by_files: dict[tuple[tuple[str, str], ...], list[Assignment]] = {}
    for assignment in combos:
        by_files.setdefault(tuple(sorted(render(assignment).items())), []).append(assignment)
    previous = previous_locks()
    print(
        f"locking {len(by_files)} dependency sets for {len(combos)} assignments of {', '.join(options)}",
        file=sys.stderr,
    )
    with ThreadPoolExecutor(WORKERS) as pool:
        results = pool.map(
            lambda item: lock(dict(item[0]), previous.get(index_key(item[1][0])), uv, upgrade),
            by_files.items(),
        )
        locked = dict(zip(by_files, results, strict=True))
    # One lock per distinct text, named after its first assignment.
    names: dict[str, str] = {}
    index: dict[str, str] = {}
    for files, members in by_files.items():
        text = locked[files]
        name = names.setdefault(text, lock_name(members[0]))
        index.update({index_key(assignment): name for assignment in members})
    slug = default_answers()["project_slug"]
    for text in names:
        if post_gen.with_project_name(text, slug) != text:
            raise AssertionError("the post-gen hook would not give back a lock its own name")
    shutil.rmtree(LOCKS_DIR, ignore_errors=True)
    for text, name in names.items():
        (LOCKS_DIR / name).mkdir(parents=True)
        (LOCKS_DIR / name / "uv.lock").write_text(text, encoding="utf-8")
    INDEX.write_text(
        json.dumps({"options": options, "locks": dict(sorted(index.items()))}, indent=2) + "\n",
        encoding="utf-8",
    )
    total = sum(len(text.encode()) for text in names)
    print(f"wrote {len(names)} locks ({total:,} bytes) and {INDEX.name} to {LOCKS_DIR}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
