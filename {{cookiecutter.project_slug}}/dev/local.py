"""Run the API locally with no AWS account.

``python -m dev.local serve`` (what ``make dev`` runs) starts the AWS
emulator (or reuses one already listening on ``LOCAL_AWS_PORT``), creates the
table and secrets of the ``local`` stage, adds two example questions when the
table is empty, and serves the app on ``http://127.0.0.1:${PORT:-5000}``.
The emulator keeps data in memory: it is gone when the command stops.
"""

from __future__ import annotations

import argparse
import os

from . import local_secrets, local_store
from .local_aws import CLIENT_ENVIRONMENT, LocalAws, endpoint_url, is_listening

STAGE = "local"
DEFAULT_PORT = 5000
DEFAULT_LOCAL_AWS_PORT = 5001
EXAMPLE_QUESTIONS = (
    "How do I replace the example resource with my own?",
    "Why does the Lambda artifact ship precompiled bytecode?",
)


def environment(stage: str, aws_url: str) -> dict[str, str]:
    """Everything the app needs to run against the emulator at ``aws_url`` as ``stage``."""
    return {
        **CLIENT_ENVIRONMENT,
        "AWS_ENDPOINT_URL": aws_url,
        "STAGE": stage,
        "SERVICE_NAME": "{{ cookiecutter.project_slug }}",
        **local_store.configure(stage, aws_url),
        **local_secrets.configure(stage, aws_url),
    }


def add_examples() -> None:
    from {{ cookiecutter.package_name }}.storage.factory import make_repository

    repository = make_repository()
    if not repository.list_questions(limit=1, after=None).items:
        for text in EXAMPLE_QUESTIONS:
            repository.add_question(text)


def serve(port: int, aws_port: int) -> None:
    emulator = None
    os.environ.update(CLIENT_ENVIRONMENT)
    if not is_listening(aws_port):
        emulator = LocalAws(aws_port).start()
    os.environ.update(environment(STAGE, endpoint_url(aws_port)))
    add_examples()

    from {{ cookiecutter.package_name }}.app import create_app

    print(f"AWS emulator: {endpoint_url(aws_port)}")
    print(f"Admin token for DELETE /questions/<id>: {local_secrets.ADMIN_TOKEN}")
    try:
        create_app().run(host="127.0.0.1", port=port)
    finally:
        if emulator is not None:
            emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", DEFAULT_PORT)))
    parser.add_argument(
        "--aws-port", type=int, default=int(os.environ.get("LOCAL_AWS_PORT", DEFAULT_LOCAL_AWS_PORT))
    )
    args = parser.parse_args()
    serve(args.port, args.aws_port)


if __name__ == "__main__":
    main()
