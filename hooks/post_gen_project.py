"""Shape the rendered project to the answers.

``OWNED_PATHS`` is the one table of option-owned files: for each option value,
the paths (relative to the project, ``{pkg}`` standing for the package
directory) that exist only when that value is chosen. Paths of values that
were not chosen are deleted, unless a chosen value owns them too (a path listed
under several values is kept when any of them is chosen). A path whose file
name carries the value just before its suffix (``secrets.ssm.py``) is one of
several alternatives for the same file and is renamed to its plain name
(``secrets.py``) when its value is chosen. Everything not in the table is
shared by every combination.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

OWNED_PATHS: dict[str, dict[str, list[str]]] = {
    "deployment": {
        "sam": ["template.yaml", "samconfig.toml"],
    },
    "storage": {
        "dynamodb": [
            "src/{pkg}/storage/dynamodb.py",
            "src/{pkg}/storage/factory.dynamodb.py",
            "dev/local_store.dynamodb.py",
            "tests/test_dynamodb.py",
        ],
    },
    "secrets": {
        "ssm": [
            "src/{pkg}/secrets.ssm.py",
            "dev/local_secrets.ssm.py",
            "tests/test_secrets.ssm.py",
        ],
        "env": [
            "src/{pkg}/secrets.env.py",
            "dev/local_secrets.env.py",
            "tests/test_secrets.env.py",
            ".env.example",
        ],
    },
    "frontend": {
        "none": [],
    },
}


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
    kept = {
        relative
        for option, owners in OWNED_PATHS.items()
        for relative in owners.get(answers[option], [])
    }
    for option, owners in OWNED_PATHS.items():
        for value, paths in owners.items():
            if value == answers[option]:
                continue
            for relative in paths:
                if relative not in kept:
                    remove(project / relative.format(pkg=pkg))
    for option, owners in OWNED_PATHS.items():
        value = answers[option]
        for relative in owners.get(value, []):
            path = project / relative.format(pkg=pkg)
            target = settled_name(path, value)
            if target != path and path.exists():
                path.rename(target)


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


NEXT_STEPS = """
Created {project_slug}/ (deployment {deployment}, storage {storage}, secrets {secrets}, frontend {frontend}).

Next steps:
  cd {project_slug}
  make dev     # the API on http://localhost:5000, no AWS account needed
  make test    # the tests

README.md explains deploying, operating and tearing down.
"""

# Rendered by cookiecutter. JSON never holds three unescaped double quotes in a row,
# so the raw string cannot end early.
ANSWERS_JSON = r"""{{ cookiecutter | jsonify }}"""


def main() -> int:
    answers = json.loads(ANSWERS_JSON)
    shape(Path.cwd(), answers)
    print(NEXT_STEPS.format(**answers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
