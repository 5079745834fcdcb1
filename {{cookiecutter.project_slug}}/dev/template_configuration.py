"""``make stage-configuration``: the template-configuration.json the pipeline deploys with.

    python -m dev.template_configuration dev

CodePipeline's CloudFormation action reads one template configuration file:
the stack's parameters and tags. Each stage's committed values are in
``template-configuration.<stage>.json``; the stage's permissions boundary,
which every role of the stack must carry (the deploy role may create no role
without it), is the pipeline's, and CodeBuild has its ARN in
``PERMISSIONS_BOUNDARY_ARN``;
{%- if has('secrets_in_environment') %} the secrets, ``NoEcho`` parameters, are
never committed: CodeBuild reads them from the stage's Secrets Manager secret
(``make secrets``) into its environment, and they are added here.
{%- elif has('secrets_service') %} the secrets stay in SSM, where the
function reads them at run time.
{%- endif %} An empty value
stops the build with the name of the file and key to fill in.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
{%- if has('secrets_in_environment') %}

from dev.stage_secrets import SecretsError, read, stack_parameters
{%- endif %}

PROJECT = Path(__file__).resolve().parent.parent
OUTPUT = "template-configuration.json"
# Set by the pipeline's build project (pipeline/pipeline.yml): the stage's permissions boundary.
BOUNDARY_VARIABLE = "PERMISSIONS_BOUNDARY_ARN"


class ConfigurationError(Exception):
    pass


def stage_file(stage: str, project: Path = PROJECT) -> Path:
    return project / f"template-configuration.{stage}.json"


def configuration(
    stage: str, environ: Mapping[str, str], project: Path = PROJECT
) -> dict[str, dict[str, str]]:
    """The stage's parameters and tags, with its permissions boundary{% if has('secrets_in_environment') %} and secrets{% endif %} from ``environ``."""
    source = stage_file(stage, project)
    if not source.is_file():
        raise ConfigurationError(f"no {source.name}: each stage has a template-configuration.<stage>.json")
    committed = json.loads(source.read_text(encoding="utf-8"))
    parameters: dict[str, str] = dict(committed.get("Parameters", {}))
    empty = [key for key, value in parameters.items() if value == ""]
    if empty:
        raise ConfigurationError(f"set {', '.join(empty)} in {source.name}")
    if parameters.get("Stage") != stage:
        raise ConfigurationError(f"{source.name} deploys Stage={parameters.get('Stage')!r}, not {stage!r}")
    boundary = environ.get(BOUNDARY_VARIABLE, "")
    if not boundary:
        raise ConfigurationError(
            f"{BOUNDARY_VARIABLE} is not set: the pipeline's build gives the stage's permissions boundary"
        )
    parameters["PermissionsBoundaryArn"] = boundary
{%- if has('secrets_in_environment') %}
    try:
        parameters.update(stack_parameters(read(environ, "the stage's secret, with `make secrets`")))
    except SecretsError as error:
        raise ConfigurationError(str(error)) from error
{%- endif %}
    return {"Parameters": parameters, "Tags": dict(committed.get("Tags", {}))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("stage", help="the stage to deploy (dev, prod)")
    args = parser.parse_args(argv)
    try:
        document = configuration(args.stage, os.environ, PROJECT)
    except ConfigurationError as error:
        print(f"template configuration: {error}", file=sys.stderr)
        return 1
    (PROJECT / OUTPUT).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"{OUTPUT}: stage {args.stage}, parameters {', '.join(sorted(document['Parameters']))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
