"""``make deploy``'s second step: a stage's function, deployed by Zappa with what its stack says.

    python -m dev.zappa_stage deploy dev --package .zappa/dev.zip
    python -m dev.zappa_stage settings dev      # what Zappa would get{% if has('secrets_in_environment') %}, secrets masked{% endif %}

The stage's stack ({{ cookiecutter.project_slug }}-<stage>, infra/stack.yaml, deployed first)
holds the function's role, its store, what its secrets allow and the bucket
Zappa uploads to. Zappa gets zappa_settings.json's stage plus, from the
stack's outputs, ``role_arn``, ``s3_bucket``{% if has('in_vpc') %}, ``vpc_config``{% endif %} and the function's
environment{% if has('secrets_in_environment') %} (with the secrets, from the environment: ``make deploy`` reads
``.env``){% endif %}, in a settings file of its own that is removed afterwards: nothing
is copied by hand. Then ``zappa deploy`` creates the function and its HTTP
API, or ``zappa update`` gives it the new package and settings, and the API's
URL is recorded in the stack (its ``ApiUrl`` output).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
{%- if has('sql_store') and has('secrets_in_environment') %}
from urllib.parse import quote
{%- endif %}

from botocore.exceptions import BotoCoreError, ClientError

PROJECT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = PROJECT / "zappa_settings.json"
STACK_PREFIX = "{{ cookiecutter.project_slug }}"
REGION = "{{ cookiecutter.aws_region }}"
# The resource of Zappa's own stack (named like the function) that is its HTTP API.
ZAPPA_API_RESOURCE = "ApiV2"
{%- if has('secrets_in_environment') %}
SECRETS = ("CURSOR_SIGNING_KEY", "ADMIN_TOKEN"{% if has('sql_store') %}, "DATABASE_URL"{% endif %})
{%- endif %}


def stack_name(stage: str) -> str:
    return f"{STACK_PREFIX}-{stage}"


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


def function_environment(outputs: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """The function's environment variables that come from the stack{% if has('secrets_in_environment') %}, and its secrets{% endif %}."""
    return {
{%- if has('key_value_store') %}
        "TABLE_NAME": outputs["TableName"],
{%- elif has('sql_store') %}
        "DATABASE_TLS": outputs["DatabaseTls"],
        "DATABASE_POOL_SIZE": outputs["DatabasePoolSize"],
{%- if has('secrets_service') %}
        # Without credentials: the function reads them from the secret RDS keeps.
        "DATABASE_URL": outputs["DatabaseUrl"],
        "DATABASE_SECRET_ARN": outputs["DatabaseSecretArn"],
{%- elif has('secrets_in_environment') %}
        "DATABASE_URL": with_credentials(
            outputs["DatabaseUrl"], outputs["DatabaseUsername"], environ["DATABASE_PASSWORD"]
        ),
{%- endif %}
{%- endif %}
{%- if has('secrets_service') %}
        "SECRETS_PATH": outputs["SecretsPath"],
        # Seconds a fetched secret is reused by the container before it is read again.
        "POWERTOOLS_PARAMETERS_MAX_AGE": "300",
{%- elif has('secrets_in_environment') %}
        "CURSOR_SIGNING_KEY": environ["CURSOR_SIGNING_KEY"],
        "ADMIN_TOKEN": environ.get("ADMIN_TOKEN", ""),
{%- endif %}
{%- if has('site') %}
        # The one origin whose pages may call the API (CORS): this stage's site.
        "SITE_ORIGINS": outputs["SiteUrl"],
{%- endif %}
    }
{%- if has('sql_store') and has('secrets_in_environment') %}


def with_credentials(url: str, username: str, password: str) -> str:
    """``scheme://host...`` -> ``scheme://username:password@host...``."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{quote(username, safe='')}:{quote(password, safe='')}@{rest}"
{%- endif %}


def resolved(settings: Mapping[str, Any], stage: str) -> dict[str, Any]:
    """A stage's settings with those of the stages it extends, as Zappa reads them."""
    if stage not in settings:
        raise KeyError(f"zappa_settings.json has no stage {stage!r}")
    own = dict(settings[stage])
    parent = own.pop("extends", None)
    return {**resolved(settings, parent), **own} if parent else own


def stage_settings(
    settings: Mapping[str, Any], stage: str, outputs: Mapping[str, str], environ: Mapping[str, str]
) -> dict[str, Any]:
    """zappa_settings.json with ``stage`` completed from its stack's outputs."""
    config = resolved(settings, stage)
    config.update(
        role_arn=outputs["FunctionRoleArn"],
        s3_bucket=outputs["DeploymentBucketName"],
{%- if has('in_vpc') %}
        vpc_config={
            "SubnetIds": outputs["PrivateSubnetIds"].split(","),
            "SecurityGroupIds": [outputs["FunctionSecurityGroupId"]],
        },
{%- endif %}
        aws_environment_variables={
            **config.get("aws_environment_variables", {}),
            **function_environment(outputs, environ),
        },
    )
    return {**settings, stage: config}


def function_exists(lambda_client: Any, name: str) -> bool:
    try:
        lambda_client.get_function(FunctionName=name)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise
    return True


def api_url(cloudformation: Any, function: str, stage: str) -> str:
    """The URL of the HTTP API Zappa made for ``function``, with its named stage."""
    resource = cloudformation.describe_stack_resource(
        StackName=function, LogicalResourceId=ZAPPA_API_RESOURCE
    )
    api_id = resource["StackResourceDetail"]["PhysicalResourceId"]
    return f"https://{api_id}.execute-api.{REGION}.amazonaws.com/{stage}/"


def record_api_url(cloudformation: Any, stack: str, url: str) -> None:
    """Set the stack's ApiUrl parameter (its output), keeping everything else as it is."""
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    current = {parameter["ParameterKey"] for parameter in described.get("Parameters", [])}
    if {"ParameterKey": "ApiUrl", "ParameterValue": url} in described.get("Parameters", []):
        return
    parameters = [
        {"ParameterKey": key, "UsePreviousValue": True} for key in sorted(current) if key != "ApiUrl"
    ]
    cloudformation.update_stack(
        StackName=stack,
        UsePreviousTemplate=True,
        Parameters=[*parameters, {"ParameterKey": "ApiUrl", "ParameterValue": url}],
        Capabilities=["CAPABILITY_IAM"],
        Tags=described.get("Tags", []),
    )
    cloudformation.get_waiter("stack_update_complete").wait(StackName=stack)


def deploy(stage: str, package: Path, zappa: str, clients: Any) -> int:
    """Deploy or update ``stage``'s function from ``package``; 0 when it worked."""
    stack = stack_name(stage)
    cloudformation = clients("cloudformation")
    outputs = stack_outputs(cloudformation, stack)
    settings = stage_settings(json.loads(SETTINGS_FILE.read_text()), stage, outputs, os.environ)
    function = outputs["FunctionName"]
    action = "update" if function_exists(clients("lambda"), function) else "deploy"
    with tempfile.TemporaryDirectory(prefix="zappa-settings-") as directory:
        path = Path(directory) / "zappa_settings.json"
        path.touch(mode=0o600)
        path.write_text(json.dumps(settings, indent=4))
        command = [zappa, action, stage, "--settings_file", str(path), "--zip", str(package)]
        print(" ".join(command[:3]) + f" (the settings of {stack}'s outputs) --zip {package}")
        completed = subprocess.run(command, cwd=PROJECT, check=False)  # noqa: S603
    if completed.returncode != 0:
        return completed.returncode
    url = api_url(cloudformation, function, stage)
    record_api_url(cloudformation, stack, url)
    print(f"{stage}: {url}")
    return 0


def shown(settings: Mapping[str, Any], stage: str) -> dict[str, Any]:
{%- if has('secrets_in_environment') %}
    """The stage's settings as printed: secrets masked."""
    config = dict(settings[stage])
    config["aws_environment_variables"] = {
        name: "***" if name in SECRETS and value else value
        for name, value in config["aws_environment_variables"].items()
    }
    return config
{%- elif has('secrets_service') %}
    """The stage's settings as printed."""
    return dict(settings[stage])
{%- endif %}


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["deploy", "settings"])
    parser.add_argument("stage")
    parser.add_argument("--package", type=Path, help="the zip `make build` wrote (deploy)")
    parser.add_argument("--zappa", default="zappa", help="the Zappa command (default: %(default)s)")
    args = parser.parse_args(argv)
    session = boto3.Session(region_name=REGION)
    try:
        if args.command == "settings":
            outputs = stack_outputs(session.client("cloudformation"), stack_name(args.stage))
            settings = stage_settings(json.loads(SETTINGS_FILE.read_text()), args.stage, outputs, os.environ)
            print(json.dumps(shown(settings, args.stage), indent=4))
            return 0
        if args.package is None:
            parser.error("deploy needs --package")
        return deploy(args.stage, args.package, args.zappa, session.client)
    except (BotoCoreError, ClientError) as error:
        print(f"Could not {args.command} stage {args.stage}: {error}", file=sys.stderr)
        return 1
    except KeyError as missing:
        print(
            f"Could not {args.command} stage {args.stage}: no {missing} in its stack's outputs"
            "{% if has('secrets_in_environment') %} or the environment (.env){% endif %}, or in zappa_settings.json",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
