"""``make secrets``: a stage's SecureString parameters in SSM, created once.

    python -m dev.stage_secrets dev                 # cursor-signing-key, random, unless it exists
    python -m dev.stage_secrets dev --admin-token   # admin-token too (random): enables moderation

Each value is generated here and reaches SSM in the request's body only: it is
never on a command line (where every user of the machine can read it, and
where a value that starts with ``-`` is taken for an option), never printed
and never written to disk. A parameter that exists is left as it is
(``Overwrite=False``), so running this again changes nothing; to replace a
value, delete its parameter and run this again.
"""

from __future__ import annotations

import argparse
import re
import secrets
import sys
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

REGION = "{{ cookiecutter.aws_region }}"
CURSOR_SIGNING_KEY = "cursor-signing-key"
ADMIN_TOKEN = "admin-token"
# Random bytes per value: 48 make 64 URL-safe characters.
VALUE_BYTES = 48
STAGE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def parameter_name(stage: str, secret: str) -> str:
    return f"/{{ cookiecutter.project_slug }}/{stage}/{secret}"


def create_if_missing(ssm: Any, name: str) -> bool:
    """Create ``name`` with a random value; False when it exists already (and is kept)."""
    try:
        ssm.put_parameter(
            Name=name, Value=secrets.token_urlsafe(VALUE_BYTES), Type="SecureString", Overwrite=False
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ParameterAlreadyExists":
            return False
        raise
    return True


def exists(ssm: Any, name: str) -> bool:
    """Whether ``name`` exists; its value is not decrypted."""
    try:
        ssm.get_parameter(Name=name, WithDecryption=False)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return False
        raise
    return True


def stage_name(value: str) -> str:
    if not STAGE_NAME.match(value):
        raise argparse.ArgumentTypeError(f"{value!r} is no stage name: letters, digits, '_', '.' and '-'")
    return value


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("stage", type=stage_name, help="the stage (dev, prod)")
    parser.add_argument(
        "--admin-token", action="store_true", help="also create admin-token, which enables moderation"
    )
    args = parser.parse_args(argv)
    ssm = boto3.client("ssm", region_name=REGION)
    wanted = [CURSOR_SIGNING_KEY, ADMIN_TOKEN] if args.admin_token else [CURSOR_SIGNING_KEY]
    try:
        for secret in wanted:
            name = parameter_name(args.stage, secret)
            print(f"{name} {'created' if create_if_missing(ssm, name) else 'exists, kept'}")
        admin_token = parameter_name(args.stage, ADMIN_TOKEN)
        if not args.admin_token and not exists(ssm, admin_token):
            print(
                f"{admin_token} does not exist: moderation (DELETE /questions/<id>) stays disabled "
                f"until `make secrets STAGE={args.stage} MODERATION=1` creates it"
            )
    except (BotoCoreError, ClientError) as error:
        print(f"Could not create stage {args.stage}'s secrets: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
