"""Run the API locally with no AWS account.

``python -m dev.local serve --port PORT`` (what ``make dev`` runs) starts the
local stand-ins of what the app uses (``local_store``, ``local_secrets``), sets
up the ``local`` stage in them, adds two example questions when there are none,
and serves the app on ``http://127.0.0.1:PORT``, restarted whenever its code
changes: werkzeug's reloader serves it from a child process, and starts a new
one when a Python file it watches (the project's, and every module imported)
changes. The stand-ins and the stage are set up once, in the reloader's own
process, which outlives every child: so the AWS emulator keeps its data across
restarts (it runs in that process), and so does the local database (a file).

The same two steps serve ``make invoke`` and the tests: ``services(purpose)``
runs the stand-ins for a block (``dev``: shared with other local commands;
``test``: a run's own), ``environment(stage)`` sets up a stage in them and
returns the environment the app needs for it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import is_running_from_reloader

from . import local_secrets, local_store

STAGE = "local"
HOST = "127.0.0.1"
EXAMPLE_QUESTIONS = (
    "How do I replace the example resource with my own?",
    "Why does the Lambda artifact ship precompiled bytecode?",
)


@contextmanager
def services(purpose: str) -> Iterator[None]:
    """The local stand-ins of the store and the secrets, running for the block."""
    with local_store.services(purpose), local_secrets.services(purpose):
        yield


def environment(stage: str) -> dict[str, str]:
    """Set up ``stage`` in the running stand-ins; everything the app needs to run as it."""
    return {
        "STAGE": stage,
        "SERVICE_NAME": "{{ cookiecutter.project_slug }}",
        **local_store.configure(stage),
        **local_secrets.configure(stage),
    }


def add_examples() -> None:
    from {{ cookiecutter.package_name }}.storage.factory import make_repository

    repository = make_repository()
    if not repository.list_questions(limit=1, after=None).items:
        for text in EXAMPLE_QUESTIONS:
            repository.add_question(text)


def serve(port: int) -> None:
    if is_running_from_reloader():
        # A restarted child: the stand-ins are its parent's, the stage in its inherited environment.
        serve_app(port)
        return
    with services("dev"):
        os.environ.update(environment(STAGE))
        add_examples()
        print(f"Admin token for DELETE /questions/<id>: {local_secrets.ADMIN_TOKEN}")
        serve_app(port)


def serve_app(port: int) -> None:
    """The app on ``port``, under werkzeug's reloader.

    In the reloader's own process this binds the port and runs children, each the same command;
    in a child it serves the app until a watched file changes, then exits for the next child.
    """
    from {{ cookiecutter.package_name }}.app import create_app

    create_app().run(host=HOST, port=port, use_reloader=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["serve"])
    # No default: the Makefile's PORT is the one place that names the port.
    parser.add_argument("--port", type=int, required=True, help="serve the API on this port of 127.0.0.1")
    args = parser.parse_args()
    serve(args.port)


if __name__ == "__main__":
    main()
