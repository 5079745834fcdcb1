"""Shape the rendered project to the answers.

``OWNED_PATHS`` is the one table of option-owned files: for each option value,
the paths (relative to the project, ``{pkg}`` standing for the package
directory) that exist only when that value is chosen. Paths of values that
were not chosen are deleted, unless a chosen value owns them too (a path listed
under several values is kept when any of them is chosen). A path whose file
name carries the value just before its suffix (``secrets.ssm.py``) is one of
several alternatives for the same file and is renamed to its plain name
(``secrets.py``) when its value is chosen. An option in ``APPLIES_WHEN`` has
no chosen value unless another option has a given one (``rds_engine`` means
nothing without ``storage=rds``): then none of its values' paths is kept.
Everything not in the table is shared by every combination.

``locks/`` holds one ``uv.lock`` per set of dependencies the answers can ask
for, made by the template's ``make lock`` (tests/locks.py) and copied without
rendering: ``locks/index.json`` names the one for these answers, which becomes
the project's ``uv.lock`` under the project's own name (``with_project_name``),
and the rest goes.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

OWNED_PATHS: dict[str, dict[str, list[str]]] = {
    "deployment": {
        "sam": [
            "template.yaml",
            "samconfig.toml",
            "deploy.sam.mk",
            "sam.mk",
            "src/{pkg}/handler.py",
            "src/{pkg}/apigateway.py",
            "src/{pkg}/snapshot.py",
            "tests/test_handler.py",
            "tests/test_snapshot.py",
            "dev/samconfig.py",
            "tests/test_samconfig.py",
            "cicd",
            ".github/workflows/deploy.yml",
            ".github/workflows/deploy-stage.yml",
        ],
        "zappa": [
            "deploy.zappa.mk",
            "zappa_settings.json",
            "infra",
            "src/{pkg}/wsgi.py",
            "dev/zappa_package.py",
            "dev/zappa_stage.py",
            "tests/zappa_handler.py",
            "tests/test_zappa_handler.py",
            "tests/test_zappa_stage.py",
            "cicd",
            ".github/workflows/deploy.yml",
            ".github/workflows/deploy-stage.yml",
        ],
        "codestar": [
            "deploy.codestar.mk",
            "sam.mk",
            "src/{pkg}/handler.py",
            "src/{pkg}/apigateway.py",
            "src/{pkg}/snapshot.py",
            "tests/test_handler.py",
            "tests/test_snapshot.py",
            "template.yml",
            "buildspec.yml",
            "template-configuration.dev.json",
            "template-configuration.prod.json",
            "pipeline",
            "dev/template_configuration.py",
            "tests/test_template_configuration.py",
        ],
    },
    "storage": {
        "dynamodb": [
            "src/{pkg}/storage/dynamodb.py",
            "src/{pkg}/storage/factory.dynamodb.py",
            "dev/local_store.dynamodb.py",
            "dev/local_aws.py",
            "tests/test_dynamodb.py",
        ],
        "rds": [
            "src/{pkg}/storage/database.py",
            "src/{pkg}/storage/factory.rds.py",
            "src/{pkg}/storage/migrations",
            "src/{pkg}/storage/sql.py",
            "src/{pkg}/storage/tables.py",
            "src/{pkg}/migrate.py",
            "alembic.ini",
            "dev/local_store.rds.py",
            "dev/migrate.py",
            "tests/test_database.py",
            "tests/test_migrations.py",
            "tests/test_sql.py",
        ],
    },
    "rds_engine": {
        "postgres": [
            "src/{pkg}/storage/dialect.postgres.py",
            "dev/local_database.postgres.py",
            "tests/test_dialect.postgres.py",
        ],
        "mysql": [
            "src/{pkg}/storage/dialect.mysql.py",
            "dev/local_database.mysql.py",
            "tests/test_dialect.mysql.py",
        ],
    },
    "secrets": {
        "ssm": [
            "src/{pkg}/secrets.ssm.py",
            "dev/local_secrets.ssm.py",
            "dev/local_aws.py",
            "dev/stage_secrets.ssm.py",
            "tests/test_secrets.ssm.py",
            "tests/test_stage_secrets.ssm.py",
        ],
        "env": [
            "src/{pkg}/secrets.env.py",
            "dev/local_secrets.env.py",
            "dev/stage_secrets.env.py",
            "tests/test_secrets.env.py",
            "tests/test_stage_secrets.env.py",
            ".env.example",
        ],
    },
    "frontend": {
        "none": [],
        "spa": [
            "frontend",
            "dev/local_aws.py",
            "src/{pkg}/cors.py",
            "tests/test_cors.py",
            "tests/test_site_deploy.py",
        ],
    },
}


# option -> (option it depends on, value that makes it meaningful). The
# template's tests hold the same table (tests/combinations.py) and check they agree.
APPLIES_WHEN: dict[str, tuple[str, str]] = {
    "rds_engine": ("storage", "rds"),
}


def chosen(option: str, answers: Mapping[str, str]) -> str | None:
    """The value chosen for ``option``; None when the option does not apply to these answers."""
    if option in APPLIES_WHEN:
        parent, value = APPLIES_WHEN[option]
        if answers.get(parent) != value:
            return None
    return answers[option]


def settled_name(path: Path, value: str) -> Path:
    """``secrets.ssm.py`` -> ``secrets.py`` for value ``ssm``; other names unchanged.

    The value must sit just before the last suffix and after a name of its
    own, so ``.env.example`` stays as it is.
    """
    marker = f".{value}"
    if path.stem.endswith(marker) and len(path.stem) > len(marker):
        return path.with_name(path.stem[: -len(marker)] + path.suffix)
    return path


def shape(project: Path, answers: Mapping[str, str]) -> None:
    pkg = answers["package_name"]
    choices = {option: chosen(option, answers) for option in OWNED_PATHS}
    kept = {
        relative
        for option, owners in OWNED_PATHS.items()
        for relative in owners.get(choices[option] or "", [])
    }
    for option, owners in OWNED_PATHS.items():
        for value, paths in owners.items():
            if value == choices[option]:
                continue
            for relative in paths:
                if relative not in kept:
                    remove(project / relative.format(pkg=pkg))
    for option, owners in OWNED_PATHS.items():
        choice = choices[option]
        if choice is None:
            continue
        for relative in owners.get(choice, []):
            path = project / relative.format(pkg=pkg)
            target = settled_name(path, choice)
            if target != path and path.exists():
                path.rename(target)


LOCKS = "locks"
LOCK_INDEX = "index.json"
PACKAGE_TABLE = "\n[[package]]\n"
# The project itself in its lock: not a package (tool.uv.package = false).
ROOT_SOURCE = 'source = { virtual = "." }'


class LockError(Exception):
    """The answers have no lock, or a name the lock cannot take."""


def lock_key(answers: Mapping[str, str], options: list[str]) -> str:
    """The answers to ``options`` as locks/index.json keys them (``-``: the option does not apply)."""
    return "/".join(chosen(option, answers) or "-" for option in options)


def install_lock(project: Path, answers: Mapping[str, str]) -> None:
    """The lock of these answers' dependencies as ``uv.lock``; ``locks/`` removed."""
    locks = project / LOCKS
    index = json.loads((locks / LOCK_INDEX).read_text(encoding="utf-8"))
    key = lock_key(answers, index["options"])
    name = index["locks"].get(key)
    if name is None:
        raise LockError(
            f"no uv.lock for {key} ({'/'.join(index['options'])}): run `make lock` in the template"
        )
    lock = (locks / name / "uv.lock").read_text(encoding="utf-8")
    (project / "uv.lock").write_text(with_project_name(lock, answers["project_slug"]), encoding="utf-8")
    shutil.rmtree(locks)


def with_project_name(lock: str, name: str) -> str:
    """``lock``, made for a project of another name, as ``uv lock`` writes it for ``name``.

    The project is one package entry of the lock (the one whose source is the
    project's directory), where uv keeps its entries: sorted by name. So the
    entry is renamed and moved to its place; nothing else in the lock names
    the project.
    """
    head, *packages = lock.split(PACKAGE_TABLE)
    roots = [index for index, entry in enumerate(packages) if ROOT_SOURCE in entry.splitlines()]
    if len(roots) != 1:
        raise LockError(f"the lock has {len(roots)} entries for the project itself, not one")
    root = packages.pop(roots[0])
    if any(entry_name(entry) == name for entry in packages):
        raise LockError(
            f"project_slug: {name!r} is the name of one of the project's dependencies; choose another"
        )
    _, rest = root.split("\n", 1)
    place = next((index for index, entry in enumerate(packages) if entry_name(entry) > name), len(packages))
    packages.insert(place, f'name = "{name}"\n{rest}')
    return PACKAGE_TABLE.join([head, *packages])


def entry_name(entry: str) -> str:
    """The name of a lock's package entry, from its first line (``name = "..."``)."""
    first = entry.split("\n", 1)[0]
    if not (first.startswith('name = "') and first.endswith('"')):
        raise LockError(f"a package entry of the lock does not start with its name: {first!r}")
    return first.removeprefix('name = "').removesuffix('"')


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


NEXT_STEPS = """
Created {project_slug}/ (deployment {deployment}, storage {store}, secrets {secrets}, frontend {frontend}).

Next steps:
  cd {project_slug}
  make dev     # {served}, no AWS account needed;
               # restarted when the code changes (make dev PORT=... for another port)
  make test    # the tests
  make hooks   # in a git repository: ruff, ruff format, mypy and actionlint on each commit
  make audit   # known vulnerabilities in the locked dependencies

README.md explains deploying, operating and tearing down.
"""

# What `make dev` serves, with a site and without; the ports are cookiecutter.json's __dev_ports.
SERVED_SITE = "the app on http://localhost:{site}, its API on http://localhost:{api}"
SERVED_API = "the API on http://localhost:{api}"

# Rendered by cookiecutter: the answers, and the capabilities they give (the template's
# Jinja extension, serverless_flask_jinja.py, derives them). JSON never holds three
# unescaped double quotes in a row, so the raw strings cannot end early.
ANSWERS_JSON = r"""{{ cookiecutter | jsonify }}"""
CAPABILITIES_JSON = r"""{{ cookiecutter | capabilities | jsonify }}"""


def main() -> int:
    answers = json.loads(ANSWERS_JSON)
    held = set(json.loads(CAPABILITIES_JSON))
    shape(Path.cwd(), answers)
    try:
        install_lock(Path.cwd(), answers)
    except LockError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    store = answers["storage"] + (f" ({answers['rds_engine']})" if chosen("rds_engine", answers) else "")
    served = (SERVED_SITE if "site" in held else SERVED_API).format(**answers["__dev_ports"])
    print(NEXT_STEPS.format(**answers, store=store, served=served))
    return 0


if __name__ == "__main__":
    sys.exit(main())
