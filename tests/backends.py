"""A new deployment backend, added to a copy of the template through its documented interface.

The template README's "Adding a deployment backend" lists what a backend provides: its files
(named by its value, or listed as its own in ``OWNED_PATHS``) and one entry in each of a few
tables. ``add_backend`` writes exactly that into a copy of the template, for a backend that
declares the capabilities of an existing one (``like``) and brings copies of its files. Rendered,
such a backend must give that backend's project byte for byte: any shared file still testing
which backend was chosen, rather than what it can do, would tell them apart.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import serverless_flask_jinja as extension
from tests.options import post_gen
from tests.support import PROJECT_TEMPLATE

# The files a backend brings under its own name, as template paths with VALUE for the value.
BACKEND_FILES = (
    f"{PROJECT_TEMPLATE.name}/deploy.VALUE.mk",
    "templates/readme/deployment-VALUE.md",
)

EXTENSION = "serverless_flask_jinja.py"
POST_GEN = "hooks/post_gen_project.py"
COOKIECUTTER_JSON = "cookiecutter.json"
LOCK_INDEX = f"{PROJECT_TEMPLATE.name}/locks/index.json"


def _insert_entry(path: Path, table: str, option: str, entry: str) -> None:
    """Add ``entry`` (one line of Python) to ``table[option]`` in the source at ``path``."""
    text = path.read_text(encoding="utf-8")
    opening = re.search(rf"^{table}\b.*= \{{\n    {json.dumps(option)}: \{{\n", text, re.MULTILINE)
    if opening is None:
        raise ValueError(f"{path.name} has no {table}[{option!r}] table")
    path.write_text(text[: opening.end()] + f"        {entry}\n" + text[opening.end() :], encoding="utf-8")


def add_backend(template: Path, name: str, like: str) -> list[str]:
    """Give the template at ``template`` (a copy) the deployment value ``name``, built as ``like``.

    Returns the places touched: each file added, and each table given an entry. The tables are
    read from this process's modules (the copy's are the same until now): importing the copy's
    would leave cookiecutter, which imports the extension by name, with the wrong one later.
    """
    places = []
    for pattern in BACKEND_FILES:
        shutil.copyfile(template / pattern.replace("VALUE", like), template / pattern.replace("VALUE", name))
        places.append(pattern.replace("VALUE", name))

    config_path = template / COOKIECUTTER_JSON
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["deployment"].append(name)
    places.append(f"{COOKIECUTTER_JSON}: deployment")
    stack_template = re.search(rf"'{like}': '([^']+)'", config["__stack_template"])
    if stack_template is None:
        raise ValueError(f"__stack_template names no template for {like}")
    config["__stack_template"] = config["__stack_template"].replace(
        "{'", f"{{'{name}': '{stack_template.group(1)}', '", 1
    )
    places.append(f"{COOKIECUTTER_JSON}: __stack_template")
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")

    capabilities = extension.PROVIDES["deployment"][like]
    _insert_entry(
        template / EXTENSION, "PROVIDES", "deployment", f'"{name}": frozenset({sorted(capabilities)}),'
    )
    places.append(f"{EXTENSION}: PROVIDES")

    owned = [path.replace(f".{like}.", f".{name}.") for path in post_gen.OWNED_PATHS["deployment"][like]]
    _insert_entry(template / POST_GEN, "OWNED_PATHS", "deployment", f'"{name}": {json.dumps(owned)},')
    places.append(f"{POST_GEN}: OWNED_PATHS")

    # What `make lock` would write: the dependencies are those of the backend it is built as.
    index_path = template / LOCK_INDEX
    index = json.loads(index_path.read_text(encoding="utf-8"))
    column = index["options"].index("deployment")
    for key, lock in list(index["locks"].items()):
        parts = key.split("/")
        if parts[column] == like:
            parts[column] = name
            index["locks"]["/".join(parts)] = lock
    index_path.write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    places.append(f"{LOCK_INDEX} (make lock)")
    return places
