"""``make deploy-check``: what the stack gives the function in its environment, against what the app reads.

    python -m dev.deploy_check            # the project's own stack
    python -m dev.deploy_check --template other.yaml{% if has('zappa_built') %} --settings other.json{% endif %}

Read statically, in well under a second, so that an edit of {{ cookiecutter.__stack_template }}{% if has('zappa_built') %}
(or of zappa_settings.json, or of what dev/zappa_stage.py takes from the stack's outputs){% endif %}
is caught before a deploy: every variable the app's package reads
(``os.environ.get("X")``, ``environ["X"]``, ``os.getenv("X")``{% if has('secrets_in_environment') %}, and each
secret it asks for, as ``secrets.variable_name`` names it{% endif %}) must be
set on the function, from a parameter or resource the stack defines; every
variable set must be read. Each problem is one line; the exit status is 1
when there is any.
"""

from __future__ import annotations

import argparse
{%- if has('zappa_built') %}
import json
{%- endif %}
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
{%- if has('zappa_built') %}

from dev.zappa_stage import stage_settings
{%- endif %}
{%- if has('secrets_in_environment') %}

from {{ cookiecutter.package_name }}.secrets import variable_name
{%- endif %}

PROJECT = Path(__file__).resolve().parent.parent
PACKAGE = PROJECT / "src" / "{{ cookiecutter.package_name }}"
TEMPLATE = PROJECT / "{{ cookiecutter.__stack_template }}"
{%- if has('zappa_built') %}
SETTINGS_FILE = PROJECT / "zappa_settings.json"
# The stage whose settings are checked: the stages differ in values, not in variables.
STAGE = "dev"
{%- endif %}

_SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9:]+)(?:\.[A-Za-z0-9.]+)?\}")
# os.environ.get("X"), environ["X"] (not assigned to), os.getenv("X").
_ENV_READ = re.compile(r"""(?:environ(?:\.get\(|\[)|getenv\()\s*"([A-Z_][A-Z0-9_]*)"(?!\]\s*=[^=])""")
{%- if has('secrets_in_environment') %}
# A secret asked for by name: its value is the variable variable_name(name).
_SECRET_READ = re.compile(r"""\b(?:get_secret|find_secret)\(\s*"([a-z0-9-]+)"\)""")
{%- endif %}
{%- if has('sam_built') %}
FUNCTION_TYPE = "AWS::Serverless::Function"
API = "ApiFunction"
{%- elif has('zappa_built') %}
# Zappa's function: it runs the app{% if has('sql_store') %}, and migrate.py's code (zappa invoke){% endif %}.
API = "zappa"
{%- endif %}

# Variables the app reads that no stack needs to set.
NOT_SET_BY_THE_STACK = {
    "_X_AMZN_TRACE_ID": "Lambda sets it for each invocation",
    "MAX_BODY_BYTES": "a limit with a default (settings.py)",
{%- if has('sql_store') %}
    "DATABASE_CA_FILE": "authorities of one's own for verify-full; else the system's (storage/database.py)",
{%- endif %}
}
{%- if has('secrets_service') %}
# Variables a stack sets for a library the app uses, not for its own code.
READ_BY_LIBRARIES = {"POWERTOOLS_PARAMETERS_MAX_AGE": "Powertools Parameters: how long a secret is cached"}
{%- endif %}


@dataclass(frozen=True)
class Read:
    name: str
    where: str  # module:line


def reads(package: Path = PACKAGE) -> list[Read]:
    """Every environment variable the package's code reads by a constant name.

    Read from the source text: the check needs neither the app's settings nor its dependencies.
    """
    found: list[Read] = []
    for path in sorted(package.rglob("*.py")):
        where = str(path.relative_to(package.parent))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            names = _ENV_READ.findall(line)
{%- if has('secrets_in_environment') %}
            names += [variable_name(secret) for secret in _SECRET_READ.findall(line)]
{%- endif %}
            found += [Read(name, f"{where}:{number}") for name in names]
    return found


class _CloudFormationLoader(yaml.SafeLoader):
    """CloudFormation YAML: a short-form function (!Ref X) loads as its long form's mapping ({"Ref": X})."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path) -> dict[str, Any]:
    template: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=_CloudFormationLoader)  # noqa: S506
    return template


def references(value: Any) -> Iterator[str]:
    """The parameters and resources a value refers to (Ref, GetAtt, Sub), by name."""
    if isinstance(value, list):
        for item in value:
            yield from references(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref":
                yield str(item)
            elif key in {"GetAtt", "Fn::GetAtt"}:
                yield str(item).split(".")[0] if isinstance(item, str) else str(item[0])
            elif key in {"Sub", "Fn::Sub"}:
                text, variables = (item, {}) if isinstance(item, str) else item
                yield from (name for name in _SUB_REFERENCE.findall(text) if name not in variables)
                yield from references(variables)
            else:
                yield from references(item)


def dangling(template: Mapping[str, Any], value: Any) -> list[str]:
    """What ``value`` refers to that is neither a parameter, a resource nor a pseudo parameter.{% if has('sam_built') %}

    A SAM function's generated alias (``Function.Alias``) counts as its function.
    {% endif %}"""
    known = set(template.get("Parameters", {})) | set(template.get("Resources", {}))
    return sorted(
        name
        for name in set(references(value))
        if not name.startswith("AWS::") and name.split(".")[0] not in known
    )


@dataclass(frozen=True)
class Wiring:
    """What a deploy gives each function in its environment, and where the values come from."""

    template: Mapping[str, Any]  # the stack the values refer to
    environments: dict[str, dict[str, Any]]  # function -> its variables
    handlers: dict[str, str]  # function -> the file of its handler's module
    outputs_used: frozenset[str] = frozenset()  # outputs of the stack the deploy reads
{%- if has('sam_built') %}


def sam_wiring(template: Mapping[str, Any]) -> Wiring:
    """Each function's variables (the Globals' included) and its handler's module, by logical ID."""
    shared = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    functions = {
        name: resource.get("Properties", {})
        for name, resource in template.get("Resources", {}).items()
        if resource.get("Type") == FUNCTION_TYPE
    }
    return Wiring(
        template,
        {
            name: {**shared, **properties.get("Environment", {}).get("Variables", {})}
            for name, properties in functions.items()
        },
        {name: properties["Handler"].split(".")[-2] + ".py" for name, properties in functions.items()},
    )
{%- elif has('zappa_built') %}


class _Recording(dict[str, str]):
    """A mapping that answers every key with a stand-in, and remembers which were asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return f"stand-in-{key.lower()}"


def zappa_wiring(template: Mapping[str, Any], settings: Mapping[str, Any]) -> Wiring:
    """The function's environment ``make deploy`` gives Zappa: zappa_settings.json's, and the stack's.

    dev/zappa_stage.py completes the stage's settings from the stack's outputs{% if has('secrets_in_environment') %}
    (and its secrets from the deploying shell){% endif %}: each output it asks for
    must exist.
    """
    outputs = _Recording()
    completed = stage_settings(settings, STAGE, outputs, _Recording())
    return Wiring(
        template,
        {API: completed[STAGE]["aws_environment_variables"]},
        {},  # one function: no handler's module is another's
        frozenset(outputs.asked),
    )
{%- endif %}


def wiring_problems(wiring: Wiring, read: list[Read]) -> list[str]:
    """Variables set that nothing reads or that refer to nothing, and variables read that are not set.

    The API's function runs nearly all the code: it must set every variable
    read, but those read only in the other functions' handler modules. The
    other functions' variables must be read and refer to what exists.
    """
    problems = []
    outputs = wiring.template.get("Outputs", {})
    for output in sorted(wiring.outputs_used):
        if output not in outputs:
            problems.append(f"the deploy reads the stack's output {output}, which it lacks")
        else:
            problems += [
                f"output {output} refers to {name}, which the stack does not define"
                for name in dangling(wiring.template, outputs[output]["Value"])
            ]
    names = {item.name for item in read}
    for function, variables in sorted(wiring.environments.items()):
        for name, value in sorted(variables.items()):
            if name not in names{% if has('secrets_service') %} and name not in READ_BY_LIBRARIES{% endif %}:
                problems.append(f"{function} sets {name}, which nothing in the package reads")
            problems += [
                f"{function}: {name} refers to {target}, which the template does not define"
                for target in dangling(wiring.template, value)
            ]
    if API not in wiring.environments:
        return [*problems, f"the template defines no function {API}"]
    others = set(wiring.handlers.values()) - {wiring.handlers.get(API, "")}
    problems += [
        f"{API} does not set {item.name}, read at {item.where}"
        for item in read
        if item.name not in wiring.environments[API]
        and item.name not in NOT_SET_BY_THE_STACK
        and Path(item.where.split(":")[0]).name not in others
    ]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, default=TEMPLATE, help="the stack's template")
{%- if has('zappa_built') %}
    parser.add_argument("--settings", type=Path, default=SETTINGS_FILE, help="Zappa's settings")
{%- endif %}
    arguments = parser.parse_args(argv)
    read = reads()
{%- if has('sam_built') %}
    wiring = sam_wiring(load_template(arguments.template))
{%- elif has('zappa_built') %}
    settings = json.loads(arguments.settings.read_text(encoding="utf-8"))
    wiring = zappa_wiring(load_template(arguments.template), settings)
{%- endif %}
    problems = wiring_problems(wiring, read)
    for problem in problems:
        print(f"deploy-check: {problem}", file=sys.stderr)
    if problems:
        return 1
    variables = sum(len(variables) for variables in wiring.environments.values())
    print(
        f"{arguments.template.name}: {variables} variables of {len(wiring.environments)} function(s) "
        f"set from what the stack defines, and read; {len({item.name for item in read})} read by the app"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
