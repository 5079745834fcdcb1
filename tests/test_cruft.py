"""Cruft tier: a generated project follows its template.

A copy of the template (its working tree, as ``git ls-files`` sees it) becomes
a fresh git repository in a temporary directory; ``cruft create`` makes the
default project from it, the user commits it and changes it, the template
gets a commit in files the user did not touch, and ``cruft update`` brings
that change in without a conflict and without touching the user's work.
Everything is local: cruft clones the template copy by its path.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.combinations import TEMPLATE_DIR, load_options
from tests.support import Result, check, clean_environ, run

PROJECT = "serverless-flask-app"  # the default project_slug
PACKAGE = "serverless_flask_app"
# A template change in files the default project has and the user leaves alone.
TEMPLATE_IGNORE = "{{cookiecutter.project_slug}}/.gitignore"
TEMPLATE_NEW_FILE = "{{cookiecutter.project_slug}}/docs/operations.md"
IGNORED_LINE = "# Local scratch space\n/scratch/\n"
NEW_FILE_TEXT = "# Operating {{ cookiecutter.project_name }}\n\nRunbooks for the service.\n"
# The user's changes: a route module of their own, and a section in the README.
USER_MODULE = f"src/{PACKAGE}/api/ping.py"
USER_MODULE_TEXT = (
    '"""A route the team added."""\n\nfrom flask import Blueprint\n\nping = Blueprint("ping", __name__)\n\n\n'
    '@ping.get("/ping")\ndef pong() -> dict[str, str]:\n    return {"ping": "pong"}\n'
)
USER_README_SECTION = "\n## Team notes\n\nOn call: the platform team.\n"
CONFLICT_MARKER = re.compile(r"^(<{7}|>{7}|={7})( |$)", re.MULTILINE)


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    """No user or system git config, a fixed identity, cookiecutter's files kept in ``tmp_path``."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".cookiecutterrc").write_text(
        f"cookiecutters_dir: {json.dumps(str(home / 'cookiecutters'))}\n"
        f"replay_dir: {json.dumps(str(home / 'replay'))}\n",
        encoding="utf-8",
    )
    return clean_environ(
        HOME=str(home),
        COOKIECUTTER_CONFIG=str(home / ".cookiecutterrc"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME="Template Tests",
        GIT_AUTHOR_EMAIL="template-tests@example.org",
        GIT_COMMITTER_NAME="Template Tests",
        GIT_COMMITTER_EMAIL="template-tests@example.org",
        GIT_TERMINAL_PROMPT="0",
    )


def git(cwd: Path, env: dict[str, str], *args: str) -> Result:
    return check(
        run(["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args], cwd=cwd, env=env),
        f"git {' '.join(args)}",
    )


def cruft(cwd: Path, env: dict[str, str], *args: str | Path) -> Result:
    return run([Path(sys.prefix) / "bin" / "cruft", *args], cwd=cwd, env=env, timeout=300)


def template_copy(destination: Path, env: dict[str, str]) -> Path:
    """The template's working tree (tracked and new files, nothing ignored) as a one-commit repository."""
    listed = check(
        run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=TEMPLATE_DIR,
            env=env,
        ),
        "git ls-files",
    ).output
    for relative in filter(None, listed.split("\0")):
        source = TEMPLATE_DIR / relative
        if source.is_file():  # a file deleted in the working tree is still listed as tracked
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git(destination, env, "init", "--quiet")
    git(destination, env, "add", "--all")
    git(destination, env, "commit", "--quiet", "--message", "Template as tested")
    return destination


def test_cruft_update_brings_template_changes_and_keeps_the_users(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    template = template_copy(tmp_path / "template", environ)
    projects = tmp_path / "projects"
    projects.mkdir()
    check(
        cruft(projects, environ, "create", "--no-input", "--output-dir", projects, template),
        "cruft create",
    )
    project = projects / PROJECT
    assert (project / ".cruft.json").is_file(), "cruft create wrote no .cruft.json"

    # The answers are recorded twice: by cruft (to re-render) and by the template itself.
    defaults = {key: values[0] for key, values in load_options().items()}
    cruft_state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    recorded = json.loads((project / ".cookiecutter.json").read_text(encoding="utf-8"))
    first_commit = git(template, environ, "rev-parse", "HEAD").output.strip()
    assert cruft_state["template"] == str(template)
    assert cruft_state["commit"] == first_commit
    for answers in (cruft_state["context"]["cookiecutter"], recorded):
        assert {key: answers.get(key) for key in defaults} == defaults
        assert (answers["project_slug"], answers["package_name"]) == (PROJECT, PACKAGE)

    git(project, environ, "init", "--quiet")
    git(project, environ, "add", "--all")
    git(project, environ, "commit", "--quiet", "--message", "Generated with cruft")
    check(cruft(project, environ, "check"), "cruft check on the new project")

    # The user's work: a new module and an edited README, committed.
    (project / USER_MODULE).write_text(USER_MODULE_TEXT, encoding="utf-8")
    readme = project / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + USER_README_SECTION, encoding="utf-8")
    user_readme = readme.read_text(encoding="utf-8")
    git(project, environ, "add", "--all")
    git(project, environ, "commit", "--quiet", "--message", "Add a ping route and team notes")

    # The template moves on, in files the user did not touch.
    ignore = template / TEMPLATE_IGNORE
    ignore.write_text(ignore.read_text(encoding="utf-8") + IGNORED_LINE, encoding="utf-8")
    (template / TEMPLATE_NEW_FILE).parent.mkdir(parents=True, exist_ok=True)
    (template / TEMPLATE_NEW_FILE).write_text(NEW_FILE_TEXT, encoding="utf-8")
    git(template, environ, "add", "--all")
    git(template, environ, "commit", "--quiet", "--message", "Ignore scratch files; add an operations page")
    second_commit = git(template, environ, "rev-parse", "HEAD").output.strip()

    stale = cruft(project, environ, "check")
    assert stale.returncode != 0, f"cruft check passed on a project behind its template:\n{stale.describe()}"
    check(cruft(project, environ, "update", "--skip-apply-ask", "--project-dir", project), "cruft update")

    assert (project / ".gitignore").read_text(encoding="utf-8").endswith(IGNORED_LINE)
    assert (
        (project / "docs" / "operations.md")
        .read_text(encoding="utf-8")
        .startswith("# Operating Serverless Flask App\n")
    )
    assert (project / USER_MODULE).read_text(encoding="utf-8") == USER_MODULE_TEXT
    assert readme.read_text(encoding="utf-8") == user_readme
    rejected = sorted(str(path.relative_to(project)) for path in project.rglob("*.rej"))
    assert not rejected, f"cruft update left rejected hunks: {rejected}"
    conflicted = sorted(
        str(path.relative_to(project))
        for path in project.rglob("*")
        if ".git" not in path.relative_to(project).parts
        and path.is_file()
        and CONFLICT_MARKER.search(path.read_text(encoding="utf-8", errors="replace"))
    )
    assert not conflicted, f"conflict markers after cruft update: {conflicted}"
    assert json.loads((project / ".cruft.json").read_text(encoding="utf-8"))["commit"] == second_commit
    check(cruft(project, environ, "check"), "cruft check after the update")
    changed = git(project, environ, "status", "--porcelain").output.split("\n")
    assert sorted(line[3:] for line in changed if line) == [
        ".cruft.json",
        ".gitignore",
        "docs/operations.md",
    ], changed
