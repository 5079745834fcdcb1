"""``make migrate`` and ``make migrate-stage``: database migrations, locally or on a deployed stage.

    python -m dev.migrate                   # the local database (see local_store.py)
    python -m dev.migrate --stage dev       # dev's database, through its migration function
    python -m dev.migrate --stage dev --downgrade -1

A stage's database is in private subnets, out of this machine's reach: its
migration function (``MigrateFunction`` in {{ cookiecutter.__stack_template }}, ``migrate.py`` in
the app) runs the migrations inside the VPC. It is invoked directly with
your AWS credentials, once and without retries, and waited for as long as
it may run; a failed migration fails this command.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections.abc import Callable
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .local_store import dev_database_url, migrate

STACK_PREFIX = "{{ cookiecutter.project_slug }}"
REGION = "{{ cookiecutter.aws_region }}"
FUNCTION_OUTPUT = "MigrateFunctionName"
# The migration function's timeout ({{ cookiecutter.__stack_template }}), plus time for the call itself.
FUNCTION_TIMEOUT_SECONDS = 900
CLIENT_CONFIG = Config(
    region_name=REGION,
    read_timeout=FUNCTION_TIMEOUT_SECONDS + 60,
    # A retried invoke would run the migrations a second time.
    retries={"total_max_attempts": 1},
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stage", help="migrate this deployed stage's database (default: the local one)")
    parser.add_argument("--downgrade", metavar="REVISION", help="undo migrations down to REVISION (-1)")
    args = parser.parse_args(argv)
    if args.stage is None:
        if args.downgrade is None:
            migrate(dev_database_url())
        else:
            migrate(dev_database_url(), args.downgrade, downgrade=True)
        print("The local database is migrated.")
        return 0
    event = {"command": "downgrade", "revision": args.downgrade} if args.downgrade else {"command": "upgrade"}
    try:
        return migrate_stage(args.stage, event)
    except (BotoCoreError, ClientError) as error:
        print(f"Could not migrate stage {args.stage}: {error}", file=sys.stderr)
        return 1


def migrate_stage(stage: str, event: dict[str, str], client: Callable[[str], Any] | None = None) -> int:
    """Invoke ``stage``'s migration function with ``event``; 0 when it succeeded."""
    import boto3

    if client is None:
        # boto3's type stubs know clients by literal service names only.
        make_client: Any = boto3.client
        client = lambda service: make_client(service, config=CLIENT_CONFIG)  # noqa: E731
    stack = f"{STACK_PREFIX}-{stage}"
    outputs = client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    names = [output["OutputValue"] for output in outputs if output["OutputKey"] == FUNCTION_OUTPUT]
    if not names:
        print(f"Stack {stack} has no {FUNCTION_OUTPUT} output: deploy it first (make deploy STAGE={stage})")
        return 1
    print(f"Invoking {names[0]} with {json.dumps(event)} (up to {FUNCTION_TIMEOUT_SECONDS // 60} minutes)...")
    response = client("lambda").invoke(
        FunctionName=names[0], Payload=json.dumps(event).encode(), LogType="Tail"
    )
    print(base64.b64decode(response.get("LogResult", "")).decode(errors="replace"), file=sys.stderr)
    print(response["Payload"].read().decode())
    if "FunctionError" in response:
        print(f"The migration failed ({response['FunctionError']}): see its logs above.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
