"""What a stack gives each function in its environment, against what the app's code reads, read statically.

For the stacks the AWS emulator cannot create (a SQL store's database, the
site's distribution, the pipeline), and cheaply for every combination: the
variables a function's template sets, and what each value refers to; the
variables the app's package reads (``os.environ.get("X")``, ``environ["X"]``,
``os.getenv("X")``, and with secrets=env each secret the code asks for,
named as its ``secrets.variable_name`` names it).

Templates are read with the short-form loader (``tests.support.load_structured``):
intrinsics appear as ``{"Ref": ...}``, ``{"GetAtt": ...}``, ``{"Sub": ...}``.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import load_structured

ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9:]+)(?:\.[A-Za-z0-9.]+)?\}")
FUNCTION_TYPES = {"AWS::Serverless::Function", "AWS::Lambda::Function"}


@dataclass(frozen=True)
class Read:
    name: str
    where: str  # module:line


# os.environ.get("X"), environ["X"] (not assigned to), os.getenv("X"); and a secret asked for by name.
_ENV_READ = re.compile(r"""(?:environ(?:\.get\(|\[)|getenv\()\s*"([A-Z_][A-Z0-9_]*)"(?!\]\s*=[^=])""")
_SECRET_READ = re.compile(r"""\b(?:get_secret|find_secret)\(\s*"([a-z0-9-]+)"\)""")


def reads(package: Path) -> list[Read]:
    """Every environment variable the package's code reads by a constant name.

    Read from the source text, not parsed: the package may use syntax newer
    than the interpreter running the tests.
    """
    found: list[Read] = []
    secret_variable = _secret_variable_name(package)
    for path in sorted(package.rglob("*.py")):
        where = str(path.relative_to(package.parent))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            names = _ENV_READ.findall(line)
            if secret_variable is not None:
                names += [secret_variable(secret) for secret in _SECRET_READ.findall(line)]
            found += [Read(name, f"{where}:{number}") for name in names]
    return found


def secret_names(package: Path) -> set[str]:
    """The secrets the package's code asks for by name."""
    return {
        name
        for path in package.rglob("*.py")
        for name in _SECRET_READ.findall(path.read_text(encoding="utf-8"))
    }


def _secret_variable_name(package: Path) -> Callable[[str], str] | None:
    """``secrets.variable_name`` of a package whose secrets are environment variables, else None."""
    path = package / "secrets.py"
    if "def variable_name" not in path.read_text(encoding="utf-8"):
        return None
    variable_name: Callable[[str], str] = _load(path, f"{package.name}_secrets").variable_name
    return variable_name


def _load(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the template's side -------------------------------------------------------------------------


def function_environments(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each function's environment variables (the serverless Globals' included), by logical ID."""
    shared = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    return {
        name: {**shared, **resource.get("Properties", {}).get("Environment", {}).get("Variables", {})}
        for name, resource in template.get("Resources", {}).items()
        if resource.get("Type") in FUNCTION_TYPES
    }


def references(value: Any) -> Iterator[str]:
    """The parameters and resources a value refers to (Ref, GetAtt, Sub), by name."""
    if isinstance(value, list):
        for item in value:
            yield from references(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref":
                yield str(item)
            elif key == "GetAtt":
                yield str(item).split(".")[0] if isinstance(item, str) else str(item[0])
            elif key == "Sub":
                text, variables = (item, {}) if isinstance(item, str) else item
                yield from (name for name in _SUB_REFERENCE.findall(text) if name not in variables)
                yield from references(variables)
            else:
                yield from references(item)


def dangling(template: Mapping[str, Any], value: Any) -> list[str]:
    """What ``value`` refers to that is neither a parameter, a resource nor a pseudo parameter.

    A SAM function's generated alias (``Function.Alias``) counts as its function.
    """
    known = set(template.get("Parameters", {})) | set(template.get("Resources", {}))
    return sorted(
        name
        for name in set(references(value))
        if not name.startswith("AWS::") and name.split(".")[0] not in known
    )


# --- Zappa's side --------------------------------------------------------------------------------


class _Recording(dict[str, str]):
    """A mapping that answers every key with a stand-in, and remembers which were asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return f"stand-in-{key.lower()}"


# --- the check -----------------------------------------------------------------------------------

# Variables the app reads that no stack needs to set.
NOT_SET_BY_THE_STACK = {
    "_X_AMZN_TRACE_ID": "Lambda sets it for each invocation",
    "MAX_BODY_BYTES": "a limit with a default (settings.py)",
    "DATABASE_CA_FILE": "authorities of one's own for verify-full; else the system's (storage/database.py)",
}
# Variables a stack sets for a library the app uses, not for its own code.
READ_BY_LIBRARIES = {"POWERTOOLS_PARAMETERS_MAX_AGE": "Powertools Parameters: how long a secret is cached"}
API = "ApiFunction"


@dataclass(frozen=True)
class Wiring:
    """What a deploy gives each function in its environment, and where the values come from."""

    template: Mapping[str, Any]  # the stack the values refer to
    environments: dict[str, dict[str, Any]]  # function -> its variables
    handlers: dict[str, str]  # function -> the file of its handler's module
    api: str  # the function that serves the API
    outputs_used: frozenset[str] = frozenset()  # outputs of the stack a deploy script reads


def sam_wiring(template: Mapping[str, Any]) -> Wiring:
    environments = function_environments(template)
    handlers = {
        name: template["Resources"][name]["Properties"]["Handler"].split(".")[-2] + ".py"
        for name in environments
    }
    return Wiring(template, environments, handlers, API)


def zappa_wiring(project: Path, stage: str) -> Wiring:
    """The function's environment ``make deploy`` gives Zappa for ``stage``, from the infra stack.

    zappa_settings.json's own variables, plus what the project's
    ``dev/zappa_stage.py`` takes from the stack's outputs (and, for secrets
    in the environment, from the deploying shell).
    """
    module = _load(project / "dev" / "zappa_stage.py", "zappa_stage")
    outputs = _Recording()
    settings = json.loads((project / "zappa_settings.json").read_text(encoding="utf-8"))
    completed = module.stage_settings(settings, stage, outputs, _Recording())
    return Wiring(
        template=load_structured(project / "infra" / "stack.yaml"),
        environments={"zappa": completed[stage]["aws_environment_variables"]},
        # Zappa's handler runs the app; migrate.py's runs on the same function (zappa invoke).
        handlers={"zappa": "handler.py"},
        api="zappa",
        outputs_used=frozenset(outputs.asked),
    )


def wiring_problems(wiring: Wiring, read: list[Read]) -> list[str]:
    """Variables set that nothing reads or that refer to nothing, and variables read that are not set.

    The API's function runs nearly all the code: it must set every variable
    read, but those read only in the other functions' handler modules (a SQL
    store's migrations). The other functions' variables must be read and
    refer to what exists.
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
            if name not in names and name not in READ_BY_LIBRARIES:
                problems.append(f"{function} sets {name}, which nothing in the package reads")
            problems += [
                f"{function}: {name} refers to {target}, which the template does not define"
                for target in dangling(wiring.template, value)
            ]
    others = {module for name, module in wiring.handlers.items() if name != wiring.api}
    others.discard(wiring.handlers[wiring.api])
    api_variables = wiring.environments[wiring.api]
    problems += [
        f"{wiring.api} does not set {item.name}, read at {item.where}"
        for item in read
        if item.name not in api_variables
        and item.name not in NOT_SET_BY_THE_STACK
        and Path(item.where.split(":")[0]).name not in others
    ]
    return problems
