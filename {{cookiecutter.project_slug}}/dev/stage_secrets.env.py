"""The stage's secrets, from ``.env`` (which ``make`` loads) or the environment, never on a command line.
{%- if has('sam_deploys') %}

    python -m dev.stage_secrets deploy dev --sam .venv-sam/bin/sam

``make stack`` (and so ``make deploy``): ``sam deploy --config-env dev`` with
the stage's ``parameter_overrides`` from samconfig.toml, and its secrets,
which are ``NoEcho`` stack parameters, in a file only you can read (mode 0600,
in a directory of its own) that is removed when ``sam deploy`` ends, whichever
way it ends. ``sam deploy`` runs without them in its environment.
{%- elif has('cloudformation_deploys') %}

    python -m dev.stage_secrets stack Stage=dev -- aws cloudformation deploy ... --parameter-overrides file:///dev/stdin

``make stack`` (and so ``make deploy``): runs the command with the stack's
parameters on its standard input, as ``aws cloudformation deploy`` reads them
from a file: those given, and the secrets among them{% if has('sql_store') %} (the database's
password, ``DatabaseMasterPassword``){% endif %}. Every secret is checked first, so a missing
one stops the deploy before anything changes; Zappa gives the function its
secrets (dev/zappa_stage.py). The command runs without them in its environment.
{%- elif has('pipeline_deploys') %}

    python -m dev.stage_secrets store dev

``make secrets``: the stage's secrets, as JSON in the Secrets Manager secret
``{{ cookiecutter.project_slug }}-<stage>/stack-parameters``, created or updated, sent in the
request's body. The pipeline's build reads them from there into its
environment, and dev/template_configuration.py makes them the stack's
``NoEcho`` parameters.
{%- endif %}

A command line is no place for a secret: every user of the machine can read a
process's arguments (``ps``), and a value that begins with ``-`` is taken for
an option. A missing secret stops with the name of the variable to set.
"""

from __future__ import annotations

{% if has('sam_deploys') -%}
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dev.samconfig import SamconfigError, stage_overrides
{%- elif has('cloudformation_deploys') -%}
import argparse
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
{%- elif has('pipeline_deploys') -%}
import argparse
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
{%- endif %}


@dataclass(frozen=True)
class Secret:
    variable: str  # in .env or the environment
{%- if has('zappa_built') %}
    parameter: str | None  # the NoEcho stack parameter it is; None: Zappa gives it to the function only
{%- elif has('sam_built') %}
    parameter: str  # the NoEcho stack parameter it is
{%- endif %}
    optional: bool = False  # may be empty


SECRETS = (
{%- if has('zappa_built') %}
    Secret("CURSOR_SIGNING_KEY", None),
    Secret("ADMIN_TOKEN", None, optional=True),
{%- elif has('sam_built') %}
    Secret("CURSOR_SIGNING_KEY", "CursorSigningKey"),
    Secret("ADMIN_TOKEN", "AdminToken", optional=True),
{%- endif %}
{%- if has('sql_store') %}
    Secret("DATABASE_PASSWORD", "DatabaseMasterPassword"),
{%- endif %}
)
{%- if has('sam_deploys') %}
PROJECT = Path(__file__).resolve().parent.parent
{%- elif has('pipeline_deploys') %}
REGION = "{{ cookiecutter.aws_region }}"
{%- endif %}


class SecretsError(Exception):
    """A secret or a setting the command needs is missing or malformed."""


def read(environ: Mapping[str, str], source: str) -> dict[str, str]:
    """Each secret's value by its variable; ``source`` says where to set a missing one."""
    values = {}
    for secret in SECRETS:
        value = environ.get(secret.variable, "")
        if not value and not secret.optional:
            raise SecretsError(f"{secret.variable} is not set: put it in {source}")
        values[secret.variable] = value
    return values


def stack_parameters(values: Mapping[str, str]) -> dict[str, str]:
    """The secrets that are stack parameters, by parameter."""
{%- if has('zappa_built') %}
    return {secret.parameter: values[secret.variable] for secret in SECRETS if secret.parameter is not None}
{%- elif has('sam_built') %}
    return {secret.parameter: values[secret.variable] for secret in SECRETS}
{%- endif %}


def env_file_source(env_file: str) -> str:
    return f"{env_file} (see .env.example) or the environment"
{%- if has('sam_deploys') %}


@contextmanager
def private_file(name: str, content: str) -> Iterator[Path]:
    """``content`` in a file only this user can read, removed on leaving the block, whatever happens."""
    directory = Path(tempfile.mkdtemp(prefix="stage-secrets-"))  # mode 0700
    try:
        path = directory / name
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(content)
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def deploy(
    stage: str,
    sam: str,
    environ: Mapping[str, str],
    env_file: str,
    parameters: Sequence[str] = (),
    options: Sequence[str] = (),
) -> int:
    """``sam deploy`` of ``stage`` with its secrets, plus ``parameters`` and ``options``; its exit status."""
    values = read(environ, env_file_source(env_file))
    overrides = [*stage_overrides(stage), *parameters]
    without_secrets = {key: value for key, value in environ.items() if key not in values}
    # sam reads a file of overrides as YAML (JSON is YAML): a mapping of parameter to value.
    with private_file("secrets.yaml", json.dumps(stack_parameters(values))) as secrets_file:
        overrides_file = f"file://{secrets_file}"
        deploy = [sam, "deploy", "--config-env", stage, *options]
        command = [*deploy, "--parameter-overrides", *overrides, overrides_file]
        print(shlex.join(command))
        completed = subprocess.run(command, cwd=PROJECT, env=without_secrets, check=False)  # noqa: S603
    return completed.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["deploy"])
    parser.add_argument("stage", help="the stage to deploy (dev, prod)")
    parser.add_argument("--sam", default="sam", help="the SAM CLI (default: %(default)s)")
    parser.add_argument("--env-file", default=".env", help="where the secrets are set (default: %(default)s)")
    parser.add_argument(
        "--parameter", action="append", default=[], help="one more stack parameter, Name=value (repeatable)"
    )
    parser.add_argument("--sam-options", default="", help="more options of sam deploy, as one string")
    args = parser.parse_args(argv)
    try:
        return deploy(
            args.stage, args.sam, os.environ, args.env_file, args.parameter, shlex.split(args.sam_options)
        )
    except (SecretsError, SamconfigError) as error:
        print(f"Could not deploy stage {args.stage}: {error}", file=sys.stderr)
        return 1
{%- elif has('cloudformation_deploys') %}


def parameters_document(given: Sequence[str], values: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """``given`` (``Name=value``) and the secrets, as ``aws cloudformation deploy`` reads them from a file."""
    parameters = {}
    for assignment in given:
        name, equals, value = assignment.partition("=")
        if not name or not equals:
            raise SecretsError(f"{assignment!r} is no stack parameter: Name=value")
        parameters[name] = value
    return {"Parameters": {**parameters, **stack_parameters(values)}}


def stack(given: Sequence[str], command: Sequence[str], environ: Mapping[str, str], env_file: str) -> int:
    """Run ``command`` with the stack's parameters on its standard input; its exit status."""
    values = read(environ, env_file_source(env_file))
    document = parameters_document(given, values)
    without_secrets = {key: value for key, value in environ.items() if key not in values}
    print(shlex.join(command))
    completed = subprocess.run(  # noqa: S603
        command, input=json.dumps(document), text=True, env=without_secrets, check=False
    )
    return completed.returncode


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    # What follows "--" is the command, whatever its options.
    split = arguments.index("--") if "--" in arguments else len(arguments)
    ours, command = arguments[:split], arguments[split + 1 :]
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="%(prog)s stack [Name=value ...] [--env-file FILE] -- COMMAND ...",
    )
    parser.add_argument("action", choices=["stack"])
    parser.add_argument("parameters", nargs="*", metavar="Name=value", help="the stage's other parameters")
    parser.add_argument("--env-file", default=".env", help="where the secrets are set (default: %(default)s)")
    args = parser.parse_args(ours)
    if not command:
        parser.error("give the command to run after --")
    try:
        return stack(args.parameters, command, os.environ, args.env_file)
    except SecretsError as error:
        print(f"Could not deploy the stack: {error}", file=sys.stderr)
        return 1
{%- elif has('pipeline_deploys') %}


def secret_id(stage: str) -> str:
    return f"{{ cookiecutter.project_slug }}-{stage}/stack-parameters"


def store(secretsmanager: Any, stage: str, values: Mapping[str, str]) -> str:
    """Put ``values`` in the stage's secret, creating it the first time: "created" or "updated"."""
    name, document = secret_id(stage), json.dumps(dict(values))
    try:
        secretsmanager.put_secret_value(SecretId=name, SecretString=document)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        secretsmanager.create_secret(
            Name=name,
            Description=f"The {stage} stack's NoEcho parameters, which its pipeline's build reads",
            SecretString=document,
        )
        return "created"
    return "updated"


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["store"])
    parser.add_argument("stage", help="the stage whose pipeline reads them (dev, prod)")
    parser.add_argument("--env-file", default=".env", help="where the secrets are set (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        values = read(os.environ, env_file_source(args.env_file))
        outcome = store(boto3.client("secretsmanager", region_name=REGION), args.stage, values)
    except (SecretsError, BotoCoreError, ClientError) as error:
        print(f"Could not store stage {args.stage}'s secrets: {error}", file=sys.stderr)
        return 1
    print(f"{secret_id(args.stage)} {outcome}")
    return 0
{%- endif %}


if __name__ == "__main__":
    sys.exit(main())
